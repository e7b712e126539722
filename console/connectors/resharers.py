"""How far a connector goes to learn who reshared a post, shared by the networks that can say it.

Asking costs one or two calls per post, on every refresh of an open thread, out of a budget of a few hundred calls
per five minutes. So only the most reshared posts of a thread are asked about, only a couple of pages each (enough to
find the big accounts among the resharers, never a crawl of a viral post's thousands), and a post is not asked
again while its reshare count stands still.
"""

from __future__ import annotations

from collections.abc import Iterable

from console.domain import Post

PAGE_SIZE = 40
MAX_PAGES = 2  # at most 80 resharers per post and refresh
POSTS_PER_REFRESH = 10


class ResharerReads:
    """Which posts' resharers are worth asking for now; remembers, per session, the count each was read at."""

    def __init__(self) -> None:
        self._read_at_count: dict[str, int] = {}

    def due(self, posts: Iterable[Post]) -> list[Post]:
        """The reshared posts whose count moved since their resharers were last read, most reshared first."""
        moved = [p for p in posts if p.reshare_count > 0 and self._read_at_count.get(p.id) != p.reshare_count]
        return sorted(moved, key=lambda p: -p.reshare_count)[:POSTS_PER_REFRESH]

    def remember(self, posts: Iterable[Post]) -> None:
        """Call once every read of a refresh succeeded, so a refresh that failed half way asks again next time."""
        self._read_at_count.update((p.id, p.reshare_count) for p in posts)
