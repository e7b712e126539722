"""The sensitive-data guard: private details that must not go out in a public reply.

Every pattern is deliberately narrow and, where the data has a checksum, verified (Luhn for cards, mod-97 for IBANs),
because a guard that cries wolf on "Open 9-17" or "£12.50" trains owners to ignore it. The patterns live in a
``PatternSet`` the owner can edit (saved as JSON); the checks are named, so an edited pattern keeps its checksum.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

MAX_SCAN_CHARS = 50_000  # longer than any post; keeps a pasted novel from stalling the composer

CARD = "card"
IBAN = "iban"
EMAIL = "email"
PHONE = "phone"
ADDRESS = "address"
ORDER_NUMBER = "order_number"

#: Kinds a customer may expose about themselves, for the "ask them to delete it" banner.
SELF_EXPOSURE_KINDS = frozenset({CARD, IBAN, PHONE, EMAIL})


class PatternError(ValueError):
    """A pattern set that cannot be used, with the reason in words."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One private detail found in a reply: ``text[start:end] == excerpt``."""

    kind: str
    start: int
    end: int
    excerpt: str
    explanation: str


# ---------------------------------------------------------------------------------------------------- checks


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def luhn_valid(number: str) -> bool:
    digits = _digits(number)
    if not digits:
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _check_card(candidate: str) -> bool:
    digits = _digits(candidate)
    # Separators must be consistent groups, or it is more likely a list of numbers than a card.
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits)


def iban_valid(candidate: str) -> bool:
    compact = re.sub(r"\s", "", candidate).upper()
    if not 15 <= len(compact) <= 34 or not compact.isascii() or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


_DATE = re.compile(r"\d{1,4}([./ -])\d{1,2}\1\d{1,4}")


def _check_phone(candidate: str) -> bool:
    digits = _digits(candidate)
    if not 8 <= len(digits) <= 15 or len(set(digits)) == 1:
        return False
    return not _DATE.fullmatch(candidate.strip())


CHECKS: dict[str, Callable[[str], bool]] = {
    "luhn": _check_card,
    "iban": iban_valid,
    "phone": _check_phone,
}


# -------------------------------------------------------------------------------------------------- patterns


@dataclass(frozen=True, slots=True)
class NamedPattern:
    """One editable rule: a regex, the kind of data it finds, why it matters, and an optional named check."""

    name: str
    kind: str
    regex: str
    explanation: str
    check: str = ""
    flags: str = ""  # "i" for case-insensitive

    def compiled(self) -> re.Pattern[str]:
        return _compile(self.regex, self.flags)


_COMPILED: dict[tuple[str, str], re.Pattern[str]] = {}


def _compile(regex: str, flags: str) -> re.Pattern[str]:
    key = (regex, flags)
    if key not in _COMPILED:
        _COMPILED[key] = re.compile(regex, re.IGNORECASE if "i" in flags else 0)
    return _COMPILED[key]


@dataclass(frozen=True, slots=True)
class PatternSet:
    """The guard's rules in priority order: where two overlap, the earlier one wins."""

    patterns: tuple[NamedPattern, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names: set[str] = set()
        for pattern in self.patterns:
            if not pattern.name.strip():
                raise PatternError("every pattern needs a name")
            if pattern.name in names:
                raise PatternError(f"two patterns are called {pattern.name!r}")
            names.add(pattern.name)
            if pattern.check and pattern.check not in CHECKS:
                raise PatternError(f"pattern {pattern.name!r} asks for an unknown check {pattern.check!r} "
                                   f"(known: {', '.join(sorted(CHECKS))})")
            try:
                pattern.compiled()
            except re.error as error:
                raise PatternError(f"pattern {pattern.name!r} is not a valid regular expression: {error}") from None

    def with_pattern(self, pattern: NamedPattern) -> PatternSet:
        """A copy with ``pattern`` added, or replacing the one of the same name."""
        kept = [p for p in self.patterns if p.name != pattern.name]
        if len(kept) == len(self.patterns):
            return PatternSet((*self.patterns, pattern))
        return PatternSet(tuple(pattern if p.name == pattern.name else p for p in self.patterns))

    def without(self, name: str) -> PatternSet:
        return PatternSet(tuple(p for p in self.patterns if p.name != name))

    def to_json(self) -> str:
        return json.dumps({"version": 1, "patterns": [
            {"name": p.name, "kind": p.kind, "regex": p.regex, "explanation": p.explanation,
             "check": p.check, "flags": p.flags} for p in self.patterns]}, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> PatternSet:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise PatternError(f"the pattern file is not valid JSON: {error}") from None
        if not isinstance(data, dict) or not isinstance(data.get("patterns"), list):
            raise PatternError("the pattern file needs a \"patterns\" list")
        patterns = []
        for index, item in enumerate(data["patterns"], start=1):
            if not isinstance(item, dict):
                raise PatternError(f"pattern {index} is not an object")
            values = {}
            for key in ("name", "kind", "regex", "explanation"):
                if not isinstance(item.get(key), str) or not item[key]:
                    raise PatternError(f"pattern {index} needs a non-empty text \"{key}\"")
                values[key] = item[key]
            for key in ("check", "flags"):
                if not isinstance(item.get(key, ""), str):
                    raise PatternError(f"pattern {index}: \"{key}\" must be text")
                values[key] = item.get(key, "")
            patterns.append(NamedPattern(**values))
        return cls(tuple(patterns))


_STREET_WORDS = (r"Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Close|Court|Ct|Place|Pl|"
                 r"Square|Sq|Terrace|Crescent|Cres|Gardens|Grove|Mews|Row|Parade|Highway|Hwy|Walk")
_NOT_AN_ADDRESS_AFTER = r"(?!\s*(?:bikes?|racing|race|races|trips?|works|closures?|signs?|maps?|tests?|safety)\b)"

DEFAULT_PATTERNS = PatternSet((
    NamedPattern(
        "email", EMAIL,
        # Not preceded by @: "@sam@mastodon.social" is a fediverse handle, not an address.
        r"(?<![@\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        "This is an email address. In a public reply anyone can read it and use it for spam; send it by DM."),
    NamedPattern(
        "iban", IBAN,
        r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
        "This looks like a bank account (IBAN). Bank details belong in a private message, never in public.",
        check="iban"),
    NamedPattern(
        "card", CARD,
        r"(?<![\d.,])\d(?:[ -]?\d){12,18}(?![\d]|[.,]\d)",
        "This looks like a payment card number (it passes the card checksum). Posting it publicly lets anyone "
        "use it.",
        check="luhn"),
    NamedPattern(
        "order or account number", ORDER_NUMBER,
        r"\b(?:order|account|acct|customer|invoice|booking|reference|ref|membership|member|policy|ticket|loyalty card)"
        r"(?:\s*(?:number|no\.?|num\.?|nr\.?|id|ref\.?|reference|code)(?:\s+is)?\s*[:#]?\s*#?|\s*[:#]\s*#?)"
        r"\s*(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{2,}"
        r"|\b(?:order|account|invoice|booking)\s+(?=[A-Z0-9-]*\d)[A-Z0-9]*\d[A-Z0-9-]{4,}",
        "This is an order or account number. In public it can help someone impersonate your customer; "
        "ask for it, and mention it, in a DM.",
        flags="i"),
    NamedPattern(
        "street address", ADDRESS,
        r"\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'’.-]*\s+){1,4}(?i:" + _STREET_WORDS + r")\b\.?"
        + _NOT_AN_ADDRESS_AFTER,
        "This looks like a street address. A customer's home address must never be posted publicly."),
    NamedPattern(
        "street address (continental)", ADDRESS,
        r"\b[A-ZÄÖÜ][\wäöüß'’-]*(?:straße|strasse|str\.|weg|gasse|allee|platz|straat|laan|gracht|plein|steeg)"
        r"\s+\d{1,4}[a-z]?\b"
        r"|\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|boulevard|bd|chemin|allée|impasse|quai)\s+"
        r"(?:(?:de|du|des|la|le|l'|d')\s*){0,3}[\w'’-]+"
        r"|\b(?:Calle|Avenida|Via|Viale|Piazza|Corso|Rua|Carrer)\s+(?:[A-Z][\w'’-]*\s+){1,3},?\s*\d{1,4}\b",
        "This looks like a street address. A customer's home address must never be posted publicly."),
    NamedPattern(
        "phone number (international)", PHONE,
        r"(?<![\w+])(?:\+|\b00)\d{1,4}(?:[ .-]?\(\d{1,4}\)[ .-]?\d+|[ .-]\d+)*(?:\d)?(?![\w])",
        "This is a phone number. In a public reply anyone can read it; share numbers by DM.",
        check="phone"),
    NamedPattern(
        "phone number (national)", PHONE,
        r"(?<![\w£$€¥.,:/+-])(?:\(0\d{1,4}\)[ .-]?\d+|0\d+)(?:[ .-]\d+)*(?![\w]|[.,:/-]\d)"
        r"|(?<![\w£$€¥.,:/+-])(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.,:/-]\d)",
        "This is a phone number. In a public reply anyone can read it; share numbers by DM.",
        check="phone"),
))


def scan(text: str, patterns: PatternSet = DEFAULT_PATTERNS) -> list[Finding]:
    """Private details in a public reply, in text order. Never raises on any input."""
    text = text[:MAX_SCAN_CHARS] if isinstance(text, str) else ""
    accepted: list[Finding] = []
    for pattern in patterns.patterns:
        check = CHECKS.get(pattern.check) if pattern.check else None
        for match in pattern.compiled().finditer(text):
            start, end = match.span()
            if start == end or (check is not None and not check(match.group(0))):
                continue
            if any(start < other.end and other.start < end for other in accepted):
                continue  # an earlier (higher-priority) rule already explains these characters
            accepted.append(Finding(pattern.kind, start, end, text[start:end], pattern.explanation))
    accepted.sort(key=lambda finding: (finding.start, finding.end))
    return accepted


def exposure_in_incoming(text: str, patterns: PatternSet = DEFAULT_PATTERNS) -> list[Finding]:
    """A customer's own card, bank account, phone or email posted in public: the owner may ask them to delete it."""
    return [finding for finding in scan(text, patterns) if finding.kind in SELF_EXPOSURE_KINDS]


_KIND_WORDS = {CARD: "a card number", IBAN: "bank details", PHONE: "a phone number", EMAIL: "an email address",
               ADDRESS: "a street address", ORDER_NUMBER: "an order or account number"}


def describe(findings: Iterable[Finding]) -> str:
    """"a card number and a phone number": for the block message and the incoming-post banner."""
    words: list[str] = []
    for finding in findings:
        word = _KIND_WORDS.get(finding.kind, finding.kind)
        if word not in words:
            words.append(word)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def exposure_banner(findings: Iterable[Finding]) -> str | None:
    """The banner text over an incoming public post, or ``None`` when there is nothing to warn about."""
    what = describe(f for f in findings if f.kind in SELF_EXPOSURE_KINDS)
    if not what:
        return None
    return (f"This customer posted {what} publicly. Consider asking them, by DM, to delete the post, and never "
            "repeat it in your reply.")
