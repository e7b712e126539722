"""Brand watches: the words people use for the business when they do not tag it.

An owner lists the business's name, its misspellings, product names, hashtags and street; every connector that can
search its network looks for them on a schedule. This module is the shared, pure part: what a watch is, and whether
a post's text really matches it (networks' search is fuzzy: stemming, matching handles and URLs, ignoring
``#``), so a connector keeps only true matches and never the owner's excluded words or muted people.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

WATCH_STREAM = "watch"  # the sync stream (and cursor) name connectors use for brand-watch searches


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: "Café" and "cafe" match, as owners expect."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_SEPARATORS = r"[\s\-_]+"


def _term_pattern(term: str) -> str:
    """A term matches as whole words: "crumb" does not match "crumbs"; "mill lane" matches "Mill-Lane" too, and
    "Mill-Lane" matches "mill lane" (spaces, hyphens and underscores between words are interchangeable both ways).
    A term made only of separators ("-") stays literal rather than becoming an empty pattern that matches anything.
    """
    folded = _fold(term)
    words = [re.escape(w) for w in re.split(_SEPARATORS, folded) if w] or [re.escape(folded)]
    body = _SEPARATORS.join(words)
    return rf"(?<![\w#@]){body}(?!\w)" if not term.startswith("#") else rf"(?<![\w#]){body}(?!\w)"


@dataclass(frozen=True)  # not slots: the compiled patterns are cached on the instance
class BrandWatch:
    """What to look for and what to leave out.

    ``terms``: words or phrases ("Crumb & Co", "crumbandco", "#crumbandco", "Mill Lane"); a post matches if it
    contains any as whole words. ``exclude``: a post containing any of these is not a match ("crumb rubber").
    ``muted_author_ids``: inbox author ids whose posts never count (the neighbour who posts about the shop daily).
    """

    terms: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    muted_author_ids: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        clean = tuple(dict.fromkeys(t.strip() for t in self.terms if t.strip()))
        object.__setattr__(self, "terms", clean)
        object.__setattr__(self, "exclude", tuple(dict.fromkeys(t.strip() for t in self.exclude if t.strip())))

    @property
    def active(self) -> bool:
        return bool(self.terms)

    @cached_property
    def _include(self) -> re.Pattern[str] | None:
        if not self.terms:
            return None
        return re.compile("|".join(_term_pattern(t) for t in self.terms))

    @cached_property
    def _exclude(self) -> re.Pattern[str] | None:
        if not self.exclude:
            return None
        return re.compile("|".join(_term_pattern(t) for t in self.exclude))

    def matches(self, text: str, author_id: str | None = None) -> bool:
        """Whether a post with this (plain) text by this author is a brand-watch match."""
        if self._include is None or (author_id is not None and author_id in self.muted_author_ids):
            return False
        folded = _fold(text)
        if not self._include.search(folded):
            return False
        return not (self._exclude is not None and self._exclude.search(folded))

    def queries(self) -> list[str]:
        """The search strings to send to a network: one per term (networks differ in boolean syntax, so connectors
        combine or quote them as their API allows)."""
        return list(self.terms)
