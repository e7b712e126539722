"""How long a reply is, the way each network counts it, so the counter never says "fits" and the server says no.

- Mastodon: the server's own ``max_characters`` (500 by default); URLs count 23, mentions only their ``@user``.
- Bluesky: 300 grapheme clusters (what a reader sees as one character).
- X: 280 *weighted* characters (twitter-text v3): most Latin-script code points weigh 1, everything else (CJK, emoji)
  2; every URL counts 23; an emoji sequence (flag, family, skin tone) counts 2 however many code points it has.

Demo accounts carry their simulated network's name, so they follow that network's rule.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import regex

from console.connectors.bluesky_richtext import MAX_GRAPHEMES, grapheme_count
from console.connectors.mastodon_text import status_length

MASTODON_DEFAULT_LIMIT = 500
BLUESKY_LIMIT = MAX_GRAPHEMES
X_LIMIT = 280
X_URL_LENGTH = 23

# twitter-text v3 configuration: weight 100 (one character) in these ranges, 200 elsewhere; scale 100.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_X_URL = re.compile(
    r"(?<![\w@/.])(?:https?://[^\s<>\"'`]+|(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|org|net|io|co|uk|de|fr|nl|be|es|it|eu|ie|ca|au|us|shop|store|app|dev|me|info|biz|social|art)"
    r"(?:/[^\s<>\"'`]*)?)(?![\w-])",
    re.IGNORECASE,
)
_URL_TRAILING_PUNCTUATION = ".,:;!?)]}'\""
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|[\U0001F1E6-\U0001F1FF]")


def _x_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(low <= code <= high for low, high in _X_LIGHT_RANGES) else 2


def x_weighted_length(text: str) -> int:
    """twitter-text v3 ``weightedLength``: NFC-normalised, URLs 23, emoji sequences 2, other code points 1 or 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in _X_URL.finditer(text):
        url = match.group(0)
        stripped = url.rstrip(_URL_TRAILING_PUNCTUATION)
        total += _x_plain_length(text[position:match.start()]) + X_URL_LENGTH
        position = match.start() + len(stripped)
    return total + _x_plain_length(text[position:])


def _x_plain_length(text: str) -> int:
    total = 0
    for cluster in _GRAPHEME.findall(text):
        if _EMOJI.search(cluster):
            total += 2
        else:
            total += sum(_x_weight(char) for char in cluster)
    return total


def _mastodon_length(text: str) -> int:
    return status_length(text)


_COUNTERS: dict[str, Callable[[str], int]] = {
    "mastodon": _mastodon_length,
    "bluesky": grapheme_count,
    "x": x_weighted_length,
}
_FIXED_LIMITS = {"bluesky": BLUESKY_LIMIT, "x": X_LIMIT}


def network_rule_name(network: str) -> str:
    """The rule a network follows: ``demo-x``/``demo:x`` follow X; anything unknown is counted like Mastodon."""
    name = network.strip().lower()
    for prefix in ("demo-", "demo:", "demo_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if name in ("twitter",):
        name = "x"
    return name if name in _COUNTERS else "mastodon"


def count(network: str, text: str) -> int:
    """The length of ``text`` as ``network`` counts it."""
    return _COUNTERS[network_rule_name(network)](text)


def limit(network: str, account_char_limit: int | None = None) -> int:
    """The most a reply may hold; Mastodon uses the server's reported limit when known (a positive number)."""
    rule = network_rule_name(network)
    if rule in _FIXED_LIMITS:
        return _FIXED_LIMITS[rule]
    return account_char_limit if account_char_limit and account_char_limit > 0 else MASTODON_DEFAULT_LIMIT


def remaining(network: str, text: str, account_char_limit: int | None = None) -> int:
    """Characters left (negative when over): what the composer's counter shows."""
    return limit(network, account_char_limit) - count(network, text)


@dataclass(frozen=True, slots=True)
class LengthRule:
    """One account's rule, built once when the composer opens on a thread."""

    network: str
    max_length: int

    @classmethod
    def for_account(cls, network: str, account_char_limit: int | None = None) -> LengthRule:
        return cls(network=network, max_length=limit(network, account_char_limit))

    def count(self, text: str) -> int:
        return count(self.network, text)

    def remaining(self, text: str) -> int:
        return self.max_length - self.count(text)

    def fits(self, text: str) -> bool:
        return self.remaining(text) >= 0
