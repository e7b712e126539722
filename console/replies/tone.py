"""Is this draft heated? A small, explainable judgement an owner can trust and argue with.

VADER alone is a poor judge of a *business's* reply: an honest apology ("that's terrible, I'm so sorry") scores very
negative, while contempt ("thanks for nothing, typical entitled customer") scores positive. So VADER is one signal
among several, and the signals that matter most are the ones that read as an attack on the customer: blame words,
second-person accusations, shouting. A single emphasis ("We're SO excited", "Thanks!!") is never enough alone.

Scoring: *hostility* (blame words, accusations, negativity without an apology) and *emphasis* (capitals, ``!!``).
A draft is heated when hostility reaches 2 points, when some hostility meets emphasis, or when heavy emphasis comes
with no warmth at all ("WE NEVER SAID THAT. READ THE SIGN.").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Strong words attack the person; two points each, so one is enough to hold a public reply.
_STRONG_BLAME = (
    r"your (?:own )?fault", r"ridiculous", r"liars?", r"lie", r"lies", r"lying", r"pathetic", r"incompetent",
    r"stupid", r"idiots?", r"idiotic", r"morons?", r"disgusting", r"shame on you", r"how dare you",
    r"get over yourself", r"deal with it", r"learn to read", r"entitled", r"trolls?", r"clowns?", r"nonsense",
    r"don'?t bother coming back", r"go (?:somewhere|elsewhere) else", r"go elsewhere", r"grow up", r"shut up",
    r"thanks for nothing", r"absurd", r"delusional", r"are you (?:serious|kidding|joking)",
    r"what(?:'s| is) wrong with you",
    r"nobody forced you", r"ungrateful", r"get a life", r"waste of (?:our|my) time", r"cheapskates?",
    r"defamat\w*", r"slander\w*", r"pay attention",
)
# Weak words are charged but have innocent uses ("beware of scam messages"); one point each.
_WEAK_BLAME = (
    r"scams?", r"complain(?:ing|er|ers|s)?", r"not (?:our|my) (?:fault|problem)", r"nobody else", r"frankly",
    r"simple instructions", r"read the (?:sign|label|policy|description|website|menu)", r"rude", r"i'?m done",
)
# Second-person accusations: generalising about the customer ("you always", "you people").
_ACCUSATIONS = (
    r"you always", r"you never", r"you people", r"you clearly", r"you obviously", r"you didn'?t even",
    r"you can'?t even", r"maybe if you", r"if you had (?:bothered|read|listened)", r"people like you",
    r"customers like you", r"you(?:'re| are) the (?:one|problem)", r"you can'?t (?:follow|read)",
    r"you don'?t (?:listen|read|understand)", r"you just (?:want|like) to", r"you (?:only|just) (?:complain|moan)",
    r"who do you think", r"you wouldn'?t (?:know|be)",
)

_STRONG_RE = re.compile(r"\b(?:" + "|".join(_STRONG_BLAME) + r")\b", re.IGNORECASE)
_WEAK_RE = re.compile(r"\b(?:" + "|".join(_WEAK_BLAME) + r")\b", re.IGNORECASE)
_ACCUSATION_RE = re.compile(r"\b(?:" + "|".join(_ACCUSATIONS) + r")\b", re.IGNORECASE)
# An apology makes VADER's negativity mean empathy, not anger ("not our fault" is the opposite of an apology).
_APOLOGY_RE = re.compile(
    r"\b(?:sorry|apologi[sz]e\w*|apolog(?:y|ies)|(?<!not )our (?:fault|mistake)|we (?:messed|screwed) up|my bad"
    r"|(?<!not )my fault)\b",
    re.IGNORECASE,
)
_REPEATED_PUNCTUATION = re.compile(r"[!?]*(?:!!|\?!|!\?|\?\?\?)[!?]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*[A-Za-z]|[A-Za-z]")

# Short all-caps tokens that are names, not shouting.
ACRONYMS = frozenset({
    "DM", "DMS", "OK", "UPS", "USPS", "DHL", "FAQ", "ASAP", "USA", "UK", "EU", "AM", "PM", "ID", "PIN", "VAT",
    "SMS", "TV", "GPS", "PDF", "URL", "NHS", "BBQ", "BLT", "XL", "XXL", "FYI", "BTW", "LOL", "TBH", "IMO", "RSVP",
    "NB", "PS", "ETA", "TLC", "DIY", "MOT", "API", "EV", "CEO", "HR", "IT", "QR", "IBAN", "GDPR", "COVID",
})

SHOUT_RUN = 3  # this many capitalised words in a row read as shouting
HEAVY_SHOUT = 5
NEGATIVE_COMPOUND = -0.6  # VADER compound at or below which an un-apologetic draft counts as hostile
WARM_COMPOUND = 0.3

REASON_SHOUTING = "capitals read as shouting"
REASON_PUNCTUATION = "repeated ‘!!’ or ‘?!’ sounds agitated"
REASON_NEGATIVE = "the overall tone is strongly negative"


@dataclass(frozen=True, slots=True)
class ToneReport:
    """VADER's compound score (-1..1), the verdict, and the reasons in words an owner can act on."""

    compound: float
    heated: bool
    reasons: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    """Built once and only when first needed: loading the lexicon takes a noticeable moment at start-up."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def compound_score(text: str) -> float:
    """VADER's compound sentiment; 0.0 for empty text."""
    if not text.strip():
        return 0.0
    return float(_analyzer().polarity_scores(text)["compound"])


def _shouting(text: str) -> tuple[int, int]:
    """(longest run of shouted words, total shouted words). Acronyms and one-letter words neither count nor break."""
    longest = run = total = 0
    for match in _WORD.finditer(text):
        word = match.group(0).replace("’", "'")
        letters = word.replace("'", "")
        if len(letters) < 2 or word.upper().split("'")[0] in ACRONYMS:
            continue
        if letters.isupper():
            run += 1
            total += 1
            longest = max(longest, run)
        else:
            run = 0
    return longest, total


def _phrases(pattern: re.Pattern[str], text: str) -> list[str]:
    seen: list[str] = []
    for match in pattern.finditer(text):
        phrase = match.group(0).lower()
        if phrase not in seen:
            seen.append(phrase)
    return seen


def assess_tone(text: str) -> ToneReport:
    """Judge a draft. Never raises; empty text is calm."""
    compound = compound_score(text)
    apologetic = bool(_APOLOGY_RE.search(text))
    warm = compound >= WARM_COMPOUND or apologetic
    reasons: list[str] = []
    hostility = emphasis = 0

    strong = _phrases(_STRONG_RE, text)
    weak = _phrases(_WEAK_RE, text)
    accusations = _phrases(_ACCUSATION_RE, text)
    if strong or weak:
        hostility += 2 * len(strong) + len(weak)
        reasons.append("blaming words: " + ", ".join(f"‘{p}’" for p in strong + weak))
    if accusations:
        hostility += 2 * len(accusations)
        reasons.append("sounds like an accusation: " + ", ".join(f"‘{p}’" for p in accusations))
    if compound <= NEGATIVE_COMPOUND and not apologetic:
        hostility += 1
        reasons.append(REASON_NEGATIVE)

    longest, total = _shouting(text)
    if longest >= SHOUT_RUN:
        emphasis += 2 if total >= HEAVY_SHOUT else 1
        reasons.append(REASON_SHOUTING)
    if _REPEATED_PUNCTUATION.search(text):
        emphasis += 1
        reasons.append(REASON_PUNCTUATION)

    heated = (
        hostility >= 2
        or (hostility >= 1 and emphasis >= 1)
        or (emphasis >= 2 and not warm)
    )
    return ToneReport(compound=compound, heated=heated, reasons=tuple(reasons))
