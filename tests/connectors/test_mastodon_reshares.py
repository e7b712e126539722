"""Who boosted what on Mastodon: boost notifications and ``reblogged_by`` as ``Reshare`` records with their people.

The ``reblogged_by`` answers are the recorded ones of a real Mastodon 4.6.4 server (``test_status_reblogged_by``);
boost notifications are composed from recorded objects (no recording holds one), and long booster lists from
recorded accounts with new ids, to page through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.connectors.errors import BadResponse
from console.connectors.mastodon_parse import PageBuilder, Scope
from console.domain import Reshare
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine
from tests.connectors.mastodon_server import (  # noqa: F401 - mastodon_server is a fixture
    ADMIN,
    BUSINESS,
    CUSTOMER,
    NOT_FOUND,
    TOKEN,
    Clock,
    make_account,
    make_connector,
    mastodon_server,
    new_inbox,
    notification,
    post_id,
    query,
    recorded,
    recorded_account,
)

CASSETTE = "test_status_reblogged_by"
TOOT = "117020585505579935"  # "Toot, finally!" by @mastodonpy_test_2, boosted once by its own author
BWOOH = "117020585724931720"  # the business's followers-only "bwooh!", boosted once; reblogged_by answered []


def boosted_status(native: str) -> dict[str, Any]:
    """The status as the recorded server reported it right after the boost (``reblogs_count`` 1)."""
    return recorded(CASSETTE, "POST", f"/api/v1/statuses/{native}/reblog")["reblog"]


def fans(count: int) -> list[dict[str, Any]]:
    """Remote accounts, each the recorded @mastodonpy_test_2 under another id and name."""
    return [recorded_account(CUSTOMER, id=str(300_000 + n), username=f"fan{n}", acct=f"fan{n}@elsewhere.example",
                             followers_count=n * 10) for n in range(count)]


async def notifications(connector: Any) -> list[Any]:
    return [batch async for batch in connector.fetch_since("notifications", None)]


# ------------------------------------------------------------------------------------------------ notifications


@pytest.mark.asyncio
async def test_a_boost_notification_names_the_booster_at_the_notifications_time(mastodon_server, fake_sleep):
    status = {**boosted_status(BWOOH)}  # the business's post
    mastodon_server.publish(status)
    booster = recorded_account(CUSTOMER, followers_count=4200)
    mastodon_server.timeline("/api/v1/notifications", [
        notification("40", "reblog", booster, status, "2026-08-01T15:00:00.123Z"),
        notification("41", "favourite", recorded_account(ADMIN), status, "2026-08-01T15:01:00.000Z"),
    ])
    connector = make_connector(mastodon_server, fake_sleep)
    [batch] = await notifications(connector)
    await connector.aclose()

    assert batch.reshares == (Reshare(post_id(mastodon_server, BWOOH), post_id(mastodon_server, CUSTOMER),
                                      "2026-08-01T15:00:00.123Z"),)  # a favourite is no reshare
    authors = {a.id: a for a in batch.authors}
    assert authors[post_id(mastodon_server, CUSTOMER)].followers_count == 4200
    assert [p.id for p in batch.posts] == [post_id(mastodon_server, BWOOH)]
    # A notification says who and when: nobody needs to be asked.
    assert not [r for r in mastodon_server.requests if r.path.endswith("/reblogged_by")]


# ------------------------------------------------------------------------------------------------ reblogged_by


@pytest.mark.asyncio
async def test_refreshing_a_thread_asks_who_boosted_and_reads_the_recorded_answer(mastodon_server, fake_sleep):
    mastodon_server.publish(boosted_status(TOOT), boosted_status(BWOOH))
    mastodon_server.replay(CASSETTE, only=lambda i: i.method == "GET" and i.path.endswith("/reblogged_by"))
    connector = make_connector(mastodon_server, fake_sleep)

    batch = await connector.refresh_thread(post_id(mastodon_server, TOOT))
    [post] = batch.posts
    assert batch.reshares == (Reshare(post.id, post_id(mastodon_server, CUSTOMER), post.observed_at),)
    [booster] = [a for a in batch.authors if a.id == post_id(mastodon_server, CUSTOMER)]
    assert booster.handle == f"@mastodonpy_test_2@{mastodon_server.host}" and booster.posts_count == 4

    # The recorded followers-only post: boosted once, but the server names nobody. Nothing to record, no error.
    quiet = await connector.refresh_thread(post_id(mastodon_server, BWOOH))
    assert quiet.reshares == () and quiet.posts[0].reshare_count == 1

    asked = [r for r in mastodon_server.requests if r.path.endswith("/reblogged_by")]
    # One request each: the recorded answer links only rel="prev" (newer boosts), so there is nothing older to read.
    assert [r.path for r in asked] == [f"/api/v1/statuses/{n}/reblogged_by" for n in (TOOT, BWOOH)]
    assert all(r.params == {"limit": ["40"]} and r.headers["authorization"] == f"Bearer {TOKEN}" for r in asked)

    # Asked again only when the count moves.
    await connector.refresh_thread(post_id(mastodon_server, TOOT))
    assert len(mastodon_server.requests_to(f"/api/v1/statuses/{TOOT}/reblogged_by")) == 1
    mastodon_server.publish({**boosted_status(TOOT), "reblogs_count": 2})
    await connector.refresh_thread(post_id(mastodon_server, TOOT))
    assert len(mastodon_server.requests_to(f"/api/v1/statuses/{TOOT}/reblogged_by")) == 2

    assert await connector.fetch_thread(post_id(mastodon_server, TOOT))  # posts only: nobody is asked
    assert len(mastodon_server.requests_to(f"/api/v1/statuses/{TOOT}/reblogged_by")) == 2
    await connector.aclose()


@pytest.mark.parametrize(("boosters", "requests", "named"), [
    (0, 1, 0), (39, 1, 39), (40, 2, 40), (41, 2, 41), (150, 2, 80),
])
@pytest.mark.asyncio
async def test_boosters_are_read_newest_first_and_at_most_two_pages(mastodon_server, fake_sleep, boosters,
                                                                    requests, named):
    mastodon_server.publish({**boosted_status(TOOT), "reblogs_count": max(boosters, 1)})
    everyone = fans(boosters)
    mastodon_server.boosted_by(TOOT, everyone)
    connector = make_connector(mastodon_server, fake_sleep)
    batch = await connector.refresh_thread(post_id(mastodon_server, TOOT))
    await connector.aclose()

    newest_first = sorted(everyone, key=lambda a: int(a["id"]), reverse=True)
    assert [r.author_id for r in batch.reshares] == [post_id(mastodon_server, a["id"]) for a in newest_first[:named]]
    assert {a.id for a in batch.authors} >= {r.author_id for r in batch.reshares}
    asked = mastodon_server.requests_to(f"/api/v1/statuses/{TOOT}/reblogged_by")
    assert len(asked) == requests
    assert asked[0].params == {"limit": ["40"]}
    if requests == 2:  # the second page is the one the first page's Link rel="next" names
        assert asked[1].params == {"limit": ["40"], "max_id": [newest_first[39]["id"]]}


@pytest.mark.asyncio
async def test_a_booster_list_linking_to_another_server_is_refused(mastodon_server, fake_sleep):
    mastodon_server.publish({**boosted_status(TOOT), "reblogs_count": 50})
    mastodon_server.respond("GET", f"/api/v1/statuses/{TOOT}/reblogged_by", mastodon_server.Response(
        json=fans(40), headers={"Link": '<https://elsewhere.example/api/v1/statuses/1/reblogged_by?max_id=1>; '
                                        'rel="next"'}))
    connector = make_connector(mastodon_server, fake_sleep)
    with pytest.raises(BadResponse):
        await connector.refresh_thread(post_id(mastodon_server, TOOT))
    await connector.aclose()
    assert len(mastodon_server.requests_to(f"/api/v1/statuses/{TOOT}/reblogged_by")) == 1


@pytest.mark.asyncio
async def test_a_post_deleted_before_its_boosters_are_read_is_no_error(mastodon_server, fake_sleep):
    mastodon_server.publish(boosted_status(TOOT))
    mastodon_server.respond("GET", f"/api/v1/statuses/{TOOT}/reblogged_by",
                            mastodon_server.Response(404, json=NOT_FOUND))
    connector = make_connector(mastodon_server, fake_sleep)
    batch = await connector.refresh_thread(post_id(mastodon_server, TOOT))
    await connector.aclose()
    assert batch.reshares == () and [p.id for p in batch.posts] == [post_id(mastodon_server, TOOT)]


# ------------------------------------------------------------------------------------------------ into the inbox


@pytest.mark.asyncio
async def test_the_sync_engine_stores_who_boosted_and_keeps_the_notifications_time(mastodon_server, fake_sleep,
                                                                                   tmp_path: Path):
    status = {**boosted_status(BWOOH), "reblogs_count": 2}
    mastodon_server.publish(status)
    notified = recorded_account(CUSTOMER, followers_count=4200)
    silent = fans(1)[0]  # boosted too, but only reblogged_by says so
    mastodon_server.timeline("/api/v1/notifications", [
        notification("40", "reblog", notified, status, "2026-08-01T15:00:00.000Z")])
    mastodon_server.boosted_by(BWOOH, [notified, silent])
    inbox_path = new_inbox(tmp_path / "inbox.db", make_account(mastodon_server))
    clock = Clock()
    writer = StoreWriter(Inbox.open(inbox_path))
    try:
        engine = SyncEngine(writer, [make_connector(mastodon_server, fake_sleep, clock=clock)], clock=clock)
        [result] = await engine.sync_once()
    finally:
        writer.close()

    assert result.error is None
    stored = query(inbox_path, "SELECT post_id, author_id, reshared_at FROM reshares ORDER BY reshared_at")
    refreshed_at = query(inbox_path, "SELECT observed_at FROM posts")[0][0]
    assert stored == [
        (post_id(mastodon_server, BWOOH), post_id(mastodon_server, CUSTOMER), "2026-08-01T15:00:00.000Z"),
        (post_id(mastodon_server, BWOOH), post_id(mastodon_server, silent["id"]), refreshed_at),
    ]
    assert query(inbox_path, "SELECT followers_count FROM authors WHERE id = ?",
                 post_id(mastodon_server, CUSTOMER)) == [(4200,)]
    assert len(mastodon_server.requests_to(f"/api/v1/statuses/{BWOOH}/reblogged_by")) == 1


# ------------------------------------------------------------------------------------------------ parsing

_SCOPE = Scope(account_id="mastodon:mastodonpy_test@localhost:3000", host="localhost:3000", business_id=BUSINESS,
               observed_at="2026-08-03T12:00:00.000Z")
_GARBAGE = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                     st.fixed_dictionaries({"id": st.one_of(st.text(max_size=8), st.integers())}))


@given(st.lists(st.one_of(st.integers(0, 5).map(lambda n: ("fan", n)), _GARBAGE), max_size=12))
def test_a_booster_list_names_each_readable_account_once_and_skips_the_rest(entries: list[Any]) -> None:
    """Whatever a ``reblogged_by`` list holds, one unreadable account never costs the others."""
    accounts = [fans(6)[e[1]] if isinstance(e, tuple) else e for e in entries]
    page = PageBuilder(_SCOPE)
    page.add_resharers(TOOT, accounts, _SCOPE.observed_at)
    readable = [f"mastodon:localhost:3000/{e['id']}" for e in accounts
                if isinstance(e, dict) and "acct" in e]
    assert [r.author_id for r in page.batch("threads").reshares] == list(dict.fromkeys(readable))
    assert all(r.post_id == f"mastodon:localhost:3000/{TOOT}" and r.reshared_at == _SCOPE.observed_at
               for r in page.reshares.values())
    assert set(page.authors) == set(readable)
