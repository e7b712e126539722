"""The escalation radar's store side: recompute reach, velocity and heat of the threads that are moving.

Run on the writer thread (``StoreWriter.call(update_spread, ...)``) after sync passes and once a minute, because
velocity decays with time even when nothing new arrives. Bounded: only threads whose counts changed in the last day,
threads still warm, and threads still marked escalating are read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from console.domain import iso_utc, parse_iso
from console.domain.spread import (
    DAY,
    DEFAULT_THRESHOLD,
    CountSample,
    PostSeries,
    is_escalating,
    reshares_text,
    thread_heat,
)
from console.store.inbox import ChangeSet, Inbox
from console.store.thread_rows import refresh_priority

# Customer words -> 0 (calm) .. 1 (furious); the service passes the tone model (console/replies/tone.py).
Negativity = Callable[[Sequence[str]], float]

TONE_POSTS = 3  # the customer's latest words say how they feel now


@dataclass(frozen=True, slots=True)
class Escalation:
    """A thread that has just started escalating: what the notification says."""

    thread_id: str
    network: str
    heat: int
    reshares_last_hour: int
    reach: int
    author_name: str
    author_handle: str
    author_followers: int
    text: str
    carrier_name: str = ""
    carrier_followers: int = 0

    def summary(self) -> str:
        who = self.author_name or self.author_handle or "A customer"
        carried = (
            f", reshared by {self.carrier_name} ({self.carrier_followers:,} followers)" if self.carrier_name else ""
        )
        return (
            f"{who}'s post is spreading: {reshares_text(self.reshares_last_hour)} in the last hour{carried}, "
            f"up to {self.reach:,} people reached."
        )


@dataclass(frozen=True, slots=True)
class SpreadUpdate:
    changes: ChangeSet
    escalations: tuple[Escalation, ...] = ()


# Threads whose reshares or quotes were seen in the last day, still warm, or escalating, plus those just synced.
# A sample with no reshares or quotes moves nothing (every new post gets a first sample, likes get samples too):
# counting those made each pass re-score every thread synced that day, seconds of work per pass on a busy day.
_CANDIDATES = """
SELECT p.thread_id FROM count_samples s JOIN posts p ON p.id = s.post_id
WHERE s.observed_at >= :since AND s.reshare_count + s.quote_count > 0
UNION SELECT id FROM threads WHERE heat > 0
UNION SELECT id FROM threads WHERE escalating_since IS NOT NULL
UNION SELECT value FROM json_each(:extra)
"""

_SAMPLES = """
SELECT p.thread_id, p.id, p.created_at, s.observed_at, s.reshare_count + s.quote_count
FROM posts p JOIN count_samples s ON s.post_id = p.id
WHERE p.thread_id IN (SELECT value FROM json_each(?)) AND p.direction = 'in'
"""

_AUDIENCES = """
SELECT p.thread_id, a.id, a.followers_count FROM posts p JOIN authors a ON a.id = p.author_id
WHERE p.thread_id IN (SELECT value FROM json_each(:ids)) AND p.direction = 'in'
UNION
SELECT p.thread_id, a.id, a.followers_count FROM posts p
JOIN reshares r ON r.post_id = p.id JOIN authors a ON a.id = r.author_id
WHERE p.thread_id IN (SELECT value FROM json_each(:ids))
"""

_LATEST_WORDS = """
SELECT thread_id, text FROM (
    SELECT thread_id, text, row_number() OVER (PARTITION BY thread_id ORDER BY created_at DESC) AS n
    FROM posts WHERE thread_id IN (SELECT value FROM json_each(?)) AND direction = 'in' AND deleted_at IS NULL)
WHERE n <= ?
"""

_CURRENT = """
SELECT id, network, heat, reach, reshares_last_hour, reshares_last_day, escalating_since FROM threads
WHERE id IN (SELECT value FROM json_each(?))
"""

# Who started it (the thread's first customer post) and what they said; and the biggest audience among those
# carrying it.
_ESCALATION_DETAILS = """
SELECT coalesce(a.display_name, ''), coalesce(a.handle, ''), coalesce(a.followers_count, 0), coalesce(p.text, '')
FROM posts p LEFT JOIN authors a ON a.id = p.author_id
WHERE p.thread_id = ? AND p.direction = 'in'
ORDER BY p.created_at LIMIT 1
"""

_BIGGEST_CARRIER = """
SELECT coalesce(nullif(a.display_name, ''), a.handle), a.followers_count
FROM posts p JOIN reshares r ON r.post_id = p.id JOIN authors a ON a.id = r.author_id
WHERE p.thread_id = ? AND r.author_id != p.author_id
ORDER BY a.followers_count DESC LIMIT 1
"""


def _grouped(rows: Iterable[tuple[str, ...]]) -> dict[str, list[tuple[str, ...]]]:
    groups: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for row in rows:
        groups[row[0]].append(row[1:])
    return groups


def _series(rows: list[tuple[str, ...]]) -> list[PostSeries]:
    by_post: dict[str, tuple[str, list[CountSample]]] = {}
    for post_id, created_at, observed_at, reshares in rows:
        created, samples = by_post.setdefault(post_id, (created_at, []))
        samples.append(CountSample(parse_iso(observed_at), int(reshares)))
    return [PostSeries(parse_iso(created), tuple(samples)) for created, samples in by_post.values()]


def update_spread(
    inbox: Inbox,
    negativity: Negativity,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    thread_ids: Iterable[str] = (),
) -> SpreadUpdate:
    """Recompute heat for the threads that are moving; start and end escalations; re-rank what changed."""
    now = inbox.clock()
    stamp = iso_utc(now)
    with inbox.transaction() as db:
        extra = json.dumps(sorted(set(thread_ids)))
        candidates = [r[0] for r in db.execute(_CANDIDATES, {"since": iso_utc(now - DAY), "extra": extra}).fetchall()]
        if not candidates:
            return SpreadUpdate(ChangeSet())
        ids = json.dumps(candidates)
        samples = _grouped(db.execute(_SAMPLES, (ids,)).fetchall())
        audiences = _grouped(db.execute(_AUDIENCES, {"ids": ids}).fetchall())
        words = _grouped(db.execute(_LATEST_WORDS, (ids, TONE_POSTS)).fetchall())
        changed: set[str] = set()
        escalated: list[str] = []
        for thread_id, network, heat, reach, last_hour, last_day, escalating_since in db.execute(
            _CURRENT, (ids,)
        ).fetchall():
            texts = [row[0] for row in words.get(thread_id, [])]
            people = [(person, int(followers)) for person, followers in audiences.get(thread_id, [])]
            fresh = thread_heat(_series(samples.get(thread_id, [])), people, negativity(texts) if texts else 0.0, now)
            escalating = is_escalating(fresh.score, escalating_since is not None, threshold, last_hour=fresh.last_hour)
            since = (escalating_since or stamp) if escalating else None
            if since is not None and escalating_since is None:
                escalated.append(thread_id)
            if (heat, reach, last_hour, last_day, escalating_since) == (
                fresh.score, fresh.reach, fresh.last_hour, fresh.last_day, since
            ):
                continue
            db.execute(
                """UPDATE threads SET heat = ?, reach = ?, reshares_last_hour = ?, reshares_last_day = ?,
                                      spread_at = ?, escalating_since = ? WHERE id = ?""",
                (fresh.score, fresh.reach, fresh.last_hour, fresh.last_day, stamp, since, thread_id),
            )
            changed.add(thread_id)
        if changed:
            refresh_priority(db.conn, changed)
        escalations = tuple(_escalation(db, thread_id) for thread_id in escalated)
    return SpreadUpdate(ChangeSet(frozenset(changed)), escalations)


def _escalation(db: object, thread_id: str) -> Escalation:
    row = db.execute(  # type: ignore[attr-defined]
        "SELECT network, heat, reshares_last_hour, reach FROM threads WHERE id = ?", (thread_id,)
    ).fetchone()
    first = db.execute(_ESCALATION_DETAILS, (thread_id,)).fetchone()  # type: ignore[attr-defined]
    name, handle, followers, text = first or ("", "", 0, "")
    carrier = db.execute(_BIGGEST_CARRIER, (thread_id,)).fetchone()  # type: ignore[attr-defined]
    return Escalation(thread_id, row[0], row[1], row[2], row[3], name, handle, followers, text,
                      *(carrier or ("", 0)))

