"""Turning what an owner types into a safe FTS5 query.

FTS5 has its own query language (``"``, ``*``, ``NEAR(``, ``OR``, column filters); raw input such as ``"`` or
``OR OR`` is a syntax error. We take the words the owner typed, quote each one, and let the last act as a prefix so
results appear while typing. Operators are deliberately not offered: owners search for words, not expressions.
"""

from __future__ import annotations

import re

# Letters, digits and marks (so accents and scripts without spaces survive), plus apostrophes inside words.
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
MAX_TERMS = 12


def fts_query(text: str) -> str | None:
    """Return an FTS5 MATCH expression for ``text``, or ``None`` when it holds no searchable word."""
    words = _WORD.findall(text)[:MAX_TERMS]
    if not words:
        return None
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)
