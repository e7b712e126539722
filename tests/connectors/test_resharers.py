"""The bound on asking who reshared: the most reshared posts first, a few per refresh, never twice at one count."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.connectors import resharers
from console.connectors.resharers import ResharerReads
from console.domain import Post


def post(n: int, reshares: int) -> Post:
    return Post(id=f"mastodon:h/{n}", network="mastodon", account_id="a", thread_id="t", author_id="p", text="",
                created_at="2026-11-25T09:00:00.000Z", observed_at="2026-11-25T09:00:00.000Z",
                reshare_count=reshares)


@given(st.lists(st.integers(0, 50), max_size=30), st.data())
def test_due_posts_are_the_most_reshared_moved_ones_and_bounded(counts: list[int], data: st.DataObject) -> None:
    posts = [post(n, c) for n, c in enumerate(counts)]
    reads = ResharerReads()
    remembered = data.draw(st.lists(st.sampled_from(posts), unique_by=lambda p: p.id) if posts else st.just([]))
    reads.remember(remembered)

    due = reads.due(posts)
    candidates = [p for p in posts if p.reshare_count > 0 and p not in remembered]
    assert len(due) == min(len(candidates), resharers.POSTS_PER_REFRESH)
    assert [p.reshare_count for p in due] == sorted((p.reshare_count for p in candidates), reverse=True)[:len(due)]
    assert all(p in candidates for p in due)

    moved = [post(int(p.id.rsplit("/", 1)[1]), p.reshare_count + 1) for p in remembered]
    assert {p.id for p in reads.due(moved)} == {p.id for p in sorted(moved, key=lambda p: -p.reshare_count)
                                                 [:resharers.POSTS_PER_REFRESH]}
