"""Bluesky rich text: facets (mentions, links, tags) read into plain text, and written for outgoing posts.

Facets point into the post's text by UTF-8 *byte* offsets (``byteStart`` inclusive, ``byteEnd`` exclusive), not by
characters: an emoji before a link shifts it by four bytes, not one character. Everything here works on the encoded
bytes, and nothing a server sends (offsets out of range, inside a character, overlapping, of the wrong type) can
make it raise: a facet that cannot be applied is ignored and the text is shown as written.

Post length is counted in grapheme clusters (what a reader sees as one character: a flag, a family emoji, an ``e``
with a combining accent), because that is what Bluesky's 300 limit counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from console.connectors.mastodon_text import neutralise

try:  # the `regex` module knows the full Unicode grapheme cluster rules (emoji ZWJ sequences, flags, Hangul)
    import regex as _regex

    _GRAPHEME = _regex.compile(r"\X")
except ImportError:  # pragma: no cover - exercised only in a build without the dependency
    _GRAPHEME = None

MAX_GRAPHEMES = 300
LINK = "app.bsky.richtext.facet#link"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"

# As Bluesky's own clients detect them: a mention is @ + a domain-like handle, a link starts with http(s)://.
_MENTION_RE = re.compile(r"(?:^|(?<=[\s(]))@(([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}"
                         r"[a-zA-Z0-9])?)")
_LINK_RE = re.compile(r"(?:^|(?<=[\s(]))https?://[^\s<>\"`]+", re.IGNORECASE)
_TAG_RE = re.compile(r"(?:^|(?<=\s))#([^\s#\d][^\s#]{0,63})")
_TRAILING_PUNCTUATION = ".,:;!?)]}'\""
_URI_SCHEMES = ("http://", "https://", "mailto:")


# ------------------------------------------------------------------------------------------------ length


def grapheme_count(text: str) -> int:
    """How many characters a reader sees."""
    if _GRAPHEME is not None:
        return len(_GRAPHEME.findall(text))
    return _fallback_grapheme_count(text)  # pragma: no cover


def _fallback_grapheme_count(text: str) -> int:
    """A careful approximation: combining marks, joiners, variation selectors, skin tones and flag pairs join."""
    count, previous, regional = 0, "", 0
    for char in text:
        code = ord(char)
        joins = (
            unicodedata.category(char) in ("Mn", "Me", "Mc")
            or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F
            or char == "\u200d" or previous == "\u200d"
            or (0x1F1E6 <= code <= 0x1F1FF and regional % 2 == 1)
        )
        regional = regional + 1 if 0x1F1E6 <= code <= 0x1F1FF else 0
        if not joins or not count:
            count += 1
        previous = char
    return count


# ------------------------------------------------------------------------------------------------ reading


def byte_slice(data: bytes, start: Any, end: Any) -> str | None:
    """The text between two byte offsets, or ``None`` when they are not a valid range on character boundaries."""
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        return None
    if not 0 <= start < end <= len(data):
        return None
    try:
        return data[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    replacement: str


def _link_target(feature: Mapping[str, Any]) -> str | None:
    uri = feature.get("uri")
    if not isinstance(uri, str):
        return None
    uri = "".join(c for c in uri.strip() if c.isprintable() and not c.isspace())
    return uri if uri.lower().startswith(_URI_SCHEMES) else None


def _same_target(shown: str, uri: str) -> bool:
    """Bluesky apps show ``example.com/page`` for ``https://example.com/page``: that needs no repeating."""
    bare = re.sub(r"^(https?://)?(www\.)?", "", uri, flags=re.IGNORECASE).rstrip("/")
    shown = re.sub(r"^(https?://)?(www\.)?", "", shown.strip(), flags=re.IGNORECASE).rstrip("/")
    return shown.lower() == bare.lower() or shown == uri


def _span_for(data: bytes, facet: Any) -> _Span | None:
    if not isinstance(facet, Mapping) or not isinstance(facet.get("index"), Mapping):
        return None
    index = facet["index"]
    start, end = index.get("byteStart"), index.get("byteEnd")
    shown = byte_slice(data, start, end)
    if shown is None:
        return None
    features = facet.get("features")
    for feature in features if isinstance(features, list) else []:
        if not isinstance(feature, Mapping):
            continue
        if feature.get("$type") == LINK or ("uri" in feature and "$type" not in feature):
            uri = _link_target(feature)
            if uri is not None and not _same_target(shown, uri):
                return _Span(start, end, f"{shown} ({uri})")
    return _Span(start, end, shown)  # mentions stay as @handle, tags as #tag, as written


def render_text(text: str, facets: Any) -> str:
    """The post as a reader sees it, with every link's real target kept next to its shortened text."""
    if not isinstance(text, str):
        return ""
    data = text.encode("utf-8", errors="replace")
    spans = sorted(
        (s for s in (_span_for(data, f) for f in (facets if isinstance(facets, list) else [])) if s is not None),
        key=lambda s: (s.start, s.end),
    )
    pieces: list[str] = []
    position = 0
    for span in spans:
        if span.start < position:  # overlapping facets: the first one wins
            continue
        pieces.append(data[position:span.start].decode("utf-8", errors="replace"))
        pieces.append(span.replacement)
        position = span.end
    pieces.append(data[position:].decode("utf-8", errors="replace"))
    return neutralise("".join(pieces))


# ------------------------------------------------------------------------------------------------ writing


def _byte_range(text: str, start: int, end: int) -> tuple[int, int]:
    byte_start = len(text[:start].encode("utf-8"))
    return byte_start, byte_start + len(text[start:end].encode("utf-8"))


def _facet(text: str, start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    byte_start, byte_end = _byte_range(text, start, end)
    return {"$type": "app.bsky.richtext.facet", "index": {"byteStart": byte_start, "byteEnd": byte_end},
            "features": [feature]}


def written_mentions(text: str) -> list[str]:
    """The handles written as @mentions in ``text`` (lower-case, in order, once each)."""
    return list(dict.fromkeys(m.group(1).lower() for m in _MENTION_RE.finditer(text)))


def build_facets(text: str, dids: Mapping[str, str] | Callable[[str], str | None]) -> list[dict[str, Any]]:
    """Facets for the mentions, links and tags in an outgoing post.

    ``dids`` maps a handle (lower-case) to its DID; a mention whose handle is unknown stays plain text, as it would
    in Bluesky's own app.
    """
    lookup = dids.get if isinstance(dids, Mapping) else dids
    facets: list[dict[str, Any]] = []
    for match in _MENTION_RE.finditer(text):
        did = lookup(match.group(1).lower())
        if did:
            facets.append(_facet(text, match.start(), match.end(), {"$type": MENTION, "did": did}))
    for match in _LINK_RE.finditer(text):
        uri = match.group(0)
        while uri and uri[-1] in _TRAILING_PUNCTUATION and not (uri[-1] == ")" and "(" in uri):
            uri = uri[:-1]
        if len(uri) > len("https://"):
            facets.append(_facet(text, match.start(), match.start() + len(uri), {"$type": LINK, "uri": uri}))
    for match in _TAG_RE.finditer(text):
        tag = match.group(1).rstrip(_TRAILING_PUNCTUATION)
        if tag:
            facets.append(_facet(text, match.start(), match.start() + 1 + len(tag), {"$type": TAG, "tag": tag}))
    facets.sort(key=lambda f: f["index"]["byteStart"])
    return facets


__all__ = [
    "MAX_GRAPHEMES", "build_facets", "byte_slice", "grapheme_count", "render_text", "written_mentions",
]
