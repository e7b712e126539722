"""Turning what an owner types into a safe FTS5 query.

FTS5 has its own query language (``"``, ``*``, ``NEAR(``, ``OR``, column filters); raw input such as ``"`` or
``OR OR`` is a syntax error. We take the words the owner typed, quote each one, and let the last act as a prefix so
results appear while typing. Operators are deliberately not offered: owners search for words, not expressions.
"""

from __future__ import annotations

import re

# Letters, digits and marks (so accents and scripts without spaces survive), plus apostrophes inside words.
# Combining diacritics are not word characters to ``re``, but FTS folds them into the letter before
# ("re\u0301sume\u0301" is the token "resume"), so they must not split a word. Normalising to NFC instead would
# not do: it also rewrites compatibility ideographs, which FTS then no longer matches against the text as stored.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_PART = rf"[^\W_](?:[^\W_]|[{_MARKS}])*"
_WORD = re.compile(rf"{_PART}(?:['’]{_PART})*", re.UNICODE)
MAX_TERMS = 12
# A one- or two-letter prefix matches most of the inbox ("p*" is in 90% of posts) and costs 50-140 ms at 200k posts
# for a result nobody reads; from three letters on it narrows. Scripts without spaces (CJK) keep short prefixes:
# there one or two characters are already a word.
MIN_PREFIX = 3


def fts_query(text: str) -> str | None:
    """Return an FTS5 MATCH expression for ``text``, or ``None`` when it holds no searchable word."""
    words = _WORD.findall(text)[:MAX_TERMS]
    if not words:
        return None
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    if len(words[-1]) >= MIN_PREFIX or not words[-1].isascii():
        quoted[-1] += "*"
    return " ".join(quoted)
