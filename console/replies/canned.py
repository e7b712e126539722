"""Canned replies: the owner's own words for the answers they give every week, with variables and slots.

Rendering is one pass over the *template* only: a value taken from the thread (a customer's display name can hold
anything: braces, newlines, right-to-left text, a thousand characters) is inserted literally and never expanded
again, so a customer called ``{my_name}`` cannot make the reply say something the owner did not write.

``{customer_name}``, ``{customer_handle}``, ``{my_name}`` and ``{business}`` are filled from the thread; any other
``{name}`` (``{order number}``) is a *slot* the owner must fill: it stays visible in the text and blocks sending.
``{{`` and ``}}`` write literal braces.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

VARIABLES = ("customer_name", "customer_handle", "my_name", "business")

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]{1,40})\}")
_SLOT_IN_TEXT = re.compile(r"\{([^{}\n]{1,40})\}")
_SHORTCUT = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_WORDS = re.compile(r"[^\W_]+", re.UNICODE)

MAX_TITLE = 80
MAX_BODY = 5_000


class CannedError(ValueError):
    """A canned-reply library operation that cannot be done, explained for the owner."""


class DuplicateShortcut(CannedError):
    pass


class UnknownReply(CannedError):
    pass


class InvalidLibrary(CannedError):
    pass


# ------------------------------------------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class Slot:
    """An unfilled placeholder: ``text[start:end] == "{" + name + "}"``; the composer highlights it."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    slots: tuple[Slot, ...] = ()
    missing: tuple[str, ...] = ()  # slot names in order of first appearance, each once

    @property
    def ready(self) -> bool:
        """Sending is blocked while any slot is unfilled."""
        return not self.slots


def _slot_key(name: str) -> str:
    return " ".join(name.split()).lower()


def render(body: str, context: Mapping[str, str] | None = None) -> Rendered:
    """Fill the template's variables from ``context``; anything without a (non-blank) value stays a slot.

    Context keys match slot names ignoring case and extra spaces, so ``{Order Number}`` is filled by
    ``{"order number": "1234"}``.
    """
    values = {_slot_key(key): value for key, value in (context or {}).items()
              if isinstance(value, str) and value.strip()}
    parts: list[str] = []
    slots: list[Slot] = []
    length = 0
    position = 0
    for match in _TOKEN.finditer(body):
        literal = body[position:match.start()]
        parts.append(literal)
        length += len(literal)
        token = match.group(0)
        if token in ("{{", "}}"):
            piece = token[0]
        else:
            name = match.group(1)
            value = values.get(_slot_key(name))
            if value is None:
                piece = "{" + name + "}"
                slots.append(Slot(name, length, length + len(piece)))
            else:
                piece = value
        parts.append(piece)
        length += len(piece)
        position = match.end()
    parts.append(body[position:])
    missing = tuple(dict.fromkeys(slot.name for slot in slots))
    return Rendered("".join(parts), tuple(slots), missing)


def join(parts: Sequence[Rendered], separator: str = "\n\n") -> Rendered:
    """Several snippets combined in one reply, slots shifted to their place in the joined text."""
    texts: list[str] = []
    slots: list[Slot] = []
    offset = 0
    for index, part in enumerate(parts):
        if index:
            texts.append(separator)
            offset += len(separator)
        texts.append(part.text)
        slots += [Slot(s.name, s.start + offset, s.end + offset) for s in part.slots]
        offset += len(part.text)
    return Rendered("".join(texts), tuple(slots), tuple(dict.fromkeys(s.name for s in slots)))


def unfilled_slots(text: str) -> tuple[Slot, ...]:
    """Slots still in the composer's text after the owner edited it (the composer re-checks on every edit).

    Known variable names count too: a ``{customer_name}`` left in the text was not filled.
    """
    return tuple(Slot(m.group(1), m.start(), m.end()) for m in _SLOT_IN_TEXT.finditer(text))


def signature(text: str, first_name: str, visibility: object = "public") -> str:
    """Sign public replies "— Sam", once; DMs are already personal and stay unsigned."""
    name = " ".join(first_name.split())
    if not name or not text.strip() or str(getattr(visibility, "value", visibility)).lower() == "direct":
        return text
    mark = f"— {name}"
    body = text.rstrip()
    if body.endswith(mark):
        return text
    return f"{body}\n{mark}"


# --------------------------------------------------------------------------------------------------- library


@dataclass(frozen=True, slots=True)
class CannedReply:
    id: str
    shortcut: str
    title: str
    category: str
    body: str

    @classmethod
    def create(cls, shortcut: str, title: str, category: str, body: str) -> CannedReply:
        return cls(id=uuid.uuid4().hex, shortcut=shortcut, title=title, category=category, body=body)

    def problems(self) -> list[str]:
        """Why this reply cannot be saved, in words; empty when it can."""
        found = []
        if not self.id:
            found.append("it has no id")
        if not _SHORTCUT.fullmatch(self.shortcut):
            found.append(f"the shortcut {self.shortcut!r} must be 1-32 lower-case letters, digits or dashes")
        if not self.title.strip() or len(self.title) > MAX_TITLE:
            found.append(f"the title must be 1-{MAX_TITLE} characters")
        if not self.body.strip() or len(self.body) > MAX_BODY:
            found.append(f"the text must be 1-{MAX_BODY} characters")
        if len(self.category) > MAX_TITLE:
            found.append(f"the category must be at most {MAX_TITLE} characters")
        return found


# A few words owners search by that the replies themselves may not contain.
_SYNONYMS = {
    "sorry": ("apology", "apologise", "apologize"), "apology": ("sorry",), "apologise": ("sorry",),
    "thanks": ("thank", "praise"), "thank": ("thanks",), "praise": ("thanks",), "call": ("phone",),
    "phone": ("call",), "dm": ("private", "message"), "hours": ("open", "opening"), "open": ("hours",),
    "order": ("status",), "fix": ("fixed", "followup"), "fixed": ("fix",),
}


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(text)]


class CannedLibrary:
    """The owner's canned replies, in their chosen order; shortcuts are unique."""

    def __init__(self, replies: Iterable[CannedReply] = ()) -> None:
        self._replies: list[CannedReply] = []
        for reply in replies:
            self.add(reply)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._replies))

    def __len__(self) -> int:
        return len(self._replies)

    @property
    def replies(self) -> tuple[CannedReply, ...]:
        return tuple(self._replies)

    def get(self, reply_id: str) -> CannedReply:
        for reply in self._replies:
            if reply.id == reply_id:
                return reply
        raise UnknownReply(f"there is no canned reply with id {reply_id!r}")

    def by_shortcut(self, shortcut: str) -> CannedReply | None:
        key = shortcut.lstrip("/").lower()
        return next((r for r in self._replies if r.shortcut == key), None)

    def _validate(self, reply: CannedReply, replacing: str | None) -> None:
        problems = reply.problems()
        if problems:
            raise CannedError(f"“{reply.title or reply.shortcut}” cannot be saved: " + "; ".join(problems))
        for other in self._replies:
            if other.id == replacing:
                continue
            if other.shortcut == reply.shortcut:
                raise DuplicateShortcut(f"the shortcut /{reply.shortcut} is already used by “{other.title}”")
            if other.id == reply.id:
                raise CannedError(f"a canned reply with id {reply.id!r} already exists")

    def add(self, reply: CannedReply) -> CannedReply:
        self._validate(reply, replacing=None)
        self._replies.append(reply)
        return reply

    def update(self, reply: CannedReply) -> CannedReply:
        """Replace the reply with the same id, keeping its place in the list."""
        index = next((i for i, r in enumerate(self._replies) if r.id == reply.id), None)
        if index is None:
            raise UnknownReply(f"there is no canned reply with id {reply.id!r}")
        self._validate(reply, replacing=reply.id)
        self._replies[index] = reply
        return reply

    def delete(self, reply_id: str) -> CannedReply:
        reply = self.get(reply_id)
        self._replies.remove(reply)
        return reply

    def categories(self) -> list[str]:
        return sorted({r.category for r in self._replies if r.category}, key=str.lower)

    def find_shortcut(self, prefix: str) -> list[CannedReply]:
        """Completion for ``/apo``: the exact shortcut first, then prefix matches, then shortcuts containing it."""
        key = prefix.lstrip("/").strip().lower()
        if not key:
            return sorted(self._replies, key=lambda r: r.shortcut)
        exact = [r for r in self._replies if r.shortcut == key]
        starts = sorted((r for r in self._replies if r.shortcut.startswith(key) and r.shortcut != key),
                        key=lambda r: r.shortcut)
        inside = sorted((r for r in self._replies if key in r.shortcut and not r.shortcut.startswith(key)),
                        key=lambda r: r.shortcut)
        return exact + starts + inside

    def search(self, query: str) -> list[CannedReply]:
        """The palette's search: by words, in any order, ranked; ``say sorry`` finds the apology."""
        terms = [w for w in _words(query) if len(w) >= 2 or w.isdigit()]
        if not terms:
            return list(self._replies)
        scored: list[tuple[float, int, CannedReply]] = []
        for position, reply in enumerate(self._replies):
            fields = ((_words(reply.title), 3.0), (_words(reply.shortcut), 3.0), (_words(reply.category), 2.0),
                      (_words(reply.body), 1.0))
            score = 0.0
            matched_terms = 0
            for term in terms:
                best = 0.0
                for variant, factor in ((term, 1.0), *((s, 0.8) for s in _SYNONYMS.get(term, ()))):
                    for words, weight in fields:
                        if variant in words:
                            best = max(best, weight * factor)
                        elif len(variant) >= 3 and any(w.startswith(variant) for w in words):
                            best = max(best, weight * factor * 0.7)
                if best:
                    matched_terms += 1
                score += best
            if score:
                # Replies matching more of the words come first, whatever their weights.
                scored.append((matched_terms * 100 + score, -position, reply))
        scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [reply for _, _, reply in scored]

    # ------------------------------------------------------------------------------------------- JSON

    def to_json(self) -> str:
        return json.dumps({"version": 1, "replies": [
            {"id": r.id, "shortcut": r.shortcut, "title": r.title, "category": r.category, "body": r.body}
            for r in self._replies]}, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CannedLibrary:
        """Read an exported library; every problem is reported with the reply it concerns."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidLibrary(f"the file is not valid JSON (line {error.lineno}: {error.msg})") from None
        if isinstance(data, list):
            items = data
        elif isinstance(data, dict) and isinstance(data.get("replies"), list):
            if data.get("version", 1) != 1:
                raise InvalidLibrary(f"this file was written by a newer Tend (version {data.get('version')!r})")
            items = data["replies"]
        else:
            raise InvalidLibrary("the file needs a \"replies\" list of canned replies")
        library = cls()
        for index, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise InvalidLibrary(f"reply {index} is not an object")
            values = {}
            for key in ("shortcut", "title", "body"):
                if not isinstance(item.get(key), str):
                    raise InvalidLibrary(f"reply {index} needs a text \"{key}\"")
                values[key] = item[key]
            for key in ("id", "category"):
                if not isinstance(item.get(key, ""), str):
                    raise InvalidLibrary(f"reply {index}: \"{key}\" must be text")
            reply = CannedReply(id=item.get("id") or uuid.uuid4().hex, category=item.get("category", ""),
                                **values)
            try:
                library.add(reply)
            except CannedError as error:
                raise InvalidLibrary(f"reply {index}: {error}") from None
        return library

    def merged(self, other: CannedLibrary) -> CannedLibrary:
        """Import: replies from ``other`` are added; an imported shortcut already in use gets a ``-2`` suffix."""
        result = CannedLibrary(self._replies)
        ids = {r.id for r in self._replies}
        for reply in other:
            shortcut, suffix = reply.shortcut, 2
            while result.by_shortcut(shortcut) is not None:
                shortcut = f"{reply.shortcut[:29]}-{suffix}"
                suffix += 1
            result.add(replace(reply, shortcut=shortcut, id=reply.id if reply.id not in ids else uuid.uuid4().hex))
        return result


STARTER_FILE = "canned_replies.json"


def starter_library(path: Path | None = None) -> CannedLibrary:
    """The shipped starter set, a place to begin that the owner rewrites in their own voice."""
    if path is None:
        from console.paths import resource_path

        path = resource_path(STARTER_FILE)
    return CannedLibrary.from_json(path.read_text(encoding="utf-8"))
