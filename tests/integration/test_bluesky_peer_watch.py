"""Brand watches against a real local Bluesky network (the official PDS and AppView, run by ``bluesky-peer``).

Customers talk about a bakery without tagging it; Tend's connector searches the network through the shop's PDS
(``app.bsky.feed.searchPosts``) and must keep exactly the posts that name the bakery as whole words: not the shop's
own, not the one that tags it (a mention reaches the shop anyway), not excluded words or muted people, not a longer
word that merely contains the name (the reference AppView matches substrings, case-sensitively, and ignores
``since``). Kept posts carry the AppView's counts and follower figures and sit in their conversation.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest
from bluesky_peer import PDS_URL, Bluesky, Person, bluesky, bluesky_process  # noqa: F401  (fixtures by name)

from console.connectors.bluesky import BlueskyConnector
from console.domain import Account, Batch
from console.domain.watches import WATCH_STREAM, BrandWatch

pytestmark = pytest.mark.integration


def tend_id(uri_or_did: str) -> str:
    return f"bluesky:{uri_or_did}"


def connector_for(net: Bluesky, shop: Person) -> BlueskyConnector:
    """Signed in as Tend is after ``tend account add bluesky``: with an app password's refresh token."""
    app_password = net.app_password(shop)
    session = net.call("com.atproto.server.createSession", body={"identifier": shop.handle, "password": app_password})
    account = Account(tend_id(shop.did), "bluesky", f"@{shop.handle}", PDS_URL, remote_id=shop.did, char_limit=300)
    return BlueskyConnector(account, session["refreshJwt"])


async def watch_once(connector: BlueskyConnector, watch: BrandWatch, cursor: str | None) -> list[Batch]:
    return [batch async for batch in connector.fetch_watch(watch, cursor)]


def test_the_watch_keeps_exactly_the_posts_that_name_the_bakery(bluesky: Bluesky) -> None:  # noqa: F811
    net = bluesky
    brand = f"Loafery{secrets.token_hex(3)}"  # one word, unique to this run: the network is shared
    shop, alice, bob, carol, dave, erin = (net.person(n) for n in ("shop", "alice", "bob", "carol", "dave", "erin"))
    net.follow(bob, alice)
    net.follow(carol, alice)

    praise = net.post(alice, f"Best rye in town at {brand}, no contest")
    agreed = net.post(bob, f"Agreed, {brand} never misses", reply_to=praise)
    net.post(carol, f"{brand} roadworks outside again")
    net.post(shop, f"Fresh loaves at {brand} today")
    net.post(dave, f"{brand}s are everywhere now")  # found by the search, not a whole-word match
    net.post(erin, f"{brand} again!")  # muted below
    net.post(alice, f"@{shop.handle} {brand} is great", mention=[shop])
    net.like(carol, praise)
    net.repost(dave, praise)
    net.process_all()

    watch = BrandWatch(terms=(brand,), exclude=("roadworks",), muted_author_ids=frozenset({tend_id(erin.did)}))
    connector = connector_for(net, shop)

    async def run() -> tuple[list[Batch], list[Batch], list[Batch]]:
        try:
            first = await watch_once(connector, watch, None)
            cursor = [b.cursor for b in first if b.cursor][-1]
            nothing = await watch_once(connector, watch, cursor)
            later = net.post(carol, f"Queue outside {brand} already")
            net.process_all()
            again = await watch_once(connector, watch, cursor)
            assert {p.id for b in again for p in b.posts} == {tend_id(later.uri)}
            return first, nothing, again
        finally:
            await connector.aclose()

    first, nothing, again = asyncio.run(run())
    assert nothing == []
    assert all((b.stream, b.source) == (WATCH_STREAM, "watch") for b in first + again)
    kept = {p.id: p for b in first for p in b.posts}
    assert set(kept) == {tend_id(praise.uri), tend_id(agreed.uri)}

    truth = net.posts([praise.uri, agreed.uri])
    first_post = kept[tend_id(praise.uri)]
    assert first_post.thread_id == first_post.id and first_post.parent_id is None
    assert (first_post.like_count, first_post.reshare_count, first_post.reply_count) == (
        truth[praise.uri]["likeCount"], truth[praise.uri]["repostCount"], truth[praise.uri]["replyCount"]) == (1, 1, 1)
    reply = kept[tend_id(agreed.uri)]
    assert reply.thread_id == tend_id(praise.uri) and reply.parent_id == tend_id(praise.uri)
    assert reply.text == truth[agreed.uri]["record"]["text"]

    authors = {a.id: a for b in first for a in b.authors}
    assert set(authors) == {tend_id(alice.did), tend_id(bob.did)}
    profiles = net.profiles([alice.did, bob.did])
    assert authors[tend_id(alice.did)].followers_count == profiles[alice.did]["followersCount"] == 2
    assert authors[tend_id(bob.did)].following_count == profiles[bob.did]["followsCount"] == 1
