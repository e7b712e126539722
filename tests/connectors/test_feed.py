"""The feed connector against a feed site on 127.0.0.1: records exactly, both sides of the wire, and every fault."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.connectors.base import Connector, OutgoingReply
from console.connectors.errors import ConnectorError, InsecureURL, ServerError
from console.connectors.feed import (
    MAX_SEEN,
    CappedTransport,
    FeedConnector,
    FeedCursor,
    FeedReadOnly,
    FeedUnreadable,
    InvalidFeedAddress,
    feed_account,
    feed_items,
    item_post_id,
    normalise_feed_url,
    parse_feed,
    probe_feed,
)
from console.domain import Author, Batch, Direction, Post, Visibility, parse_iso
from console.services.writer import StoreWriter
from console.store import Inbox
from console.sync import SyncEngine
from tests.connectors.feed_server import (
    BLOG_ATOM, REVIEWS_RSS, UNDATED_RSS, Fault, FeedSite, feed_site,  # noqa: F401
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
_TAG = re.compile(r"<\s*[A-Za-z/!?]")
SEEN_AT = "2026-11-25T10:00:00.000Z"


class Clock:
    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def connector(site: FeedSite, path: str, clock: Clock | None = None, **options: object) -> FeedConnector:
    options.setdefault("min_interval", 0)
    return FeedConnector(feed_account(site.at(path), "a feed"), clock=clock or Clock(), **options)  # type: ignore[arg-type]


async def batches(feed: FeedConnector, cursor: str | None = None) -> list[Batch]:
    return [batch async for batch in feed.fetch_since("items", cursor)]


def review(site: FeedSite, guid: str, *, author: str, text: str, created_at: str, url: str) -> Post:
    post_id = item_post_id(site.at("/reviews.rss"), f"id:{guid}")
    return Post(
        id=post_id, network="feed", account_id=feed_account(site.at("/reviews.rss")).id, thread_id=post_id,
        author_id=f"feed:127.0.0.1/{author}", text=text, created_at=created_at, observed_at=SEEN_AT, url=url,
        visibility=Visibility.PUBLIC, direction=Direction.IN,
    )


# -- records ---------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_review_sites_rss_items_become_read_only_posts_exactly(feed_site: FeedSite) -> None:
    feed = connector(feed_site, "/reviews.rss", first_sync_days=60)
    assert isinstance(feed, Connector) and feed.streams == ("items",)
    [batch] = await batches(feed)
    await feed.aclose()

    assert batch.account_id == feed.account.id and batch.stream == "items"
    assert list(batch.posts) == [  # oldest first, each its own thread, counts 0
        review(feed_site, "reviewhub-87002", author="Anon", created_at="2026-11-01T09:00:00.000Z",
               # an HTML title is read as HTML; the item's javascript: link is dropped for the site's own page
               text="★★★☆☆ Fine but pricey\n\nGood bread, but 6 euros for a loaf is a lot.",
               url="https://reviews.example/biz/crumb-and-co"),
        review(feed_site, "reviewhub-88190", author="Yusuf K.", created_at="2026-11-24T17:40:00.000Z",
               text="★★★★★ Best sourdough in town\n\nThe seeded sourdough is perfect. Claim your free loaf\n\n"
                    "[image: a sourdough loaf]",
               url="https://reviews.example/reviews/88190"),
        review(feed_site, "reviewhub-88213", author="Martine L.", created_at="2026-11-25T07:12:00.000Z",
               text="★★☆☆☆ Cold croissants and a long wait\n\nWaited 25 minutes on Saturday and the croissants "
                    "were cold.\n\nStaff were friendly though. 2 comments "
                    "(https://reviews.example/reviews/88213#comments)\n\n[image]",
               url="https://reviews.example/reviews/88213"),
    ]
    assert sorted(batch.authors, key=lambda a: a.id) == [
        Author(f"feed:127.0.0.1/{name}", "feed", name, name, observed_at=SEEN_AT)
        for name in ("Anon", "Martine L.", "Yusuf K.")
    ]
    document = feed_site.documents["/reviews.rss"]
    cursor = json.loads(batch.cursor or "")
    assert (cursor["etag"], cursor["modified"]) == (document.etag, document.last_modified)
    assert len(cursor["seen"]) == 3


@pytest.mark.asyncio
async def test_an_atom_blog_with_relative_links_html_titles_and_content_only_entries(feed_site: FeedSite) -> None:
    feed = connector(feed_site, "/feed.atom")
    [batch] = await batches(feed)
    await feed.aclose()
    url = feed_site.at("/feed.atom")
    market = item_post_id(url, "id:tag:flourandwater.example,2026-11-20:/2026/11/market-notes/")
    bakeries = item_post_id(url, "id:tag:flourandwater.example,2026-11-24:/2026/11/five-bakeries/")
    account_id = feed_account(url).id
    assert list(batch.posts) == [
        Post(market, "feed", account_id, market, "feed:127.0.0.1", "Market day notes\n\nCroix-Rousse market, "
             "stall by stall.", "2026-11-20T08:00:00.000Z", SEEN_AT, url=feed_site.at("/2026/11/market-notes/")),
        Post(bakeries, "feed", account_id, bakeries, "feed:127.0.0.1/Camille Roux",
             "Five bakeries worth the queue\n\nNumber three, Crumb & Co (https://crumb.example/), has the flakiest "
             "croissant I have had this year.\n\nRead more",
             "2026-11-24T20:00:00.000Z", SEEN_AT, url=feed_site.at("/2026/11/five-bakeries/")),
    ]
    site, camille = sorted(batch.authors, key=lambda a: a.id)
    # No author named: the site itself, under the feed's own (HTML-decoded) title.
    assert site == Author("feed:127.0.0.1", "feed", "127.0.0.1", "Flour & Water — a Lyon food blog",
                          url=feed_site.at("/"), observed_at=SEEN_AT)
    assert camille == Author("feed:127.0.0.1/Camille Roux", "feed", "Camille Roux", "Camille Roux",
                             url="https://flourandwater.example/about/", observed_at=SEEN_AT)


@pytest.mark.asyncio
async def test_undated_items_are_dated_when_first_seen_and_never_come_twice(feed_site: FeedSite) -> None:
    clock = Clock()
    feed = connector(feed_site, "/guestbook.rss", clock)
    [first] = await batches(feed)
    assert [(p.text, p.created_at, p.url) for p in first.posts] == [
        ("Merci pour le gâteau d'anniversaire !\n\nTout le monde a adoré. Élodie", SEEN_AT,
         "https://petitfour.example/guestbook#e41"),
        ("Are you open on Christmas Eve?\n\nAsking for the whole office.", SEEN_AT, "https://petitfour.example/"),
    ]
    # A new entry on top, the old ones still there (the document changed, so its ETag did too).
    newer = UNDATED_RSS.replace(b"<item>", b"<item><title>Gluten-free options?</title>"
                                b"<description>Do you have any?</description></item><item>", 1)
    feed_site.publish("/guestbook.rss", newer, "text/xml")
    clock.now = NOW + timedelta(hours=2)
    [second] = await batches(feed, first.cursor)
    assert [(p.text, p.created_at) for p in second.posts] == [
        ("Gluten-free options?\n\nDo you have any?", "2026-11-25T12:00:00.000Z")]
    await feed.aclose()


@pytest.mark.asyncio
async def test_the_first_look_brings_two_weeks_and_remembers_the_rest(feed_site: FeedSite) -> None:
    feed = connector(feed_site, "/reviews.rss")  # the 1 November review is older than 14 days
    [first] = await batches(feed)
    assert [p.url for p in first.posts] == ["https://reviews.example/reviews/88190",
                                            "https://reviews.example/reviews/88213"]
    feed_site.publish("/reviews.rss", REVIEWS_RSS.replace("Latest customer", "Newest customer"))
    [second] = await batches(feed, first.cursor)
    assert second.posts == () and second.cursor != first.cursor  # new validators stored, no old review revived
    await feed.aclose()


# -- the wire ----------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_conditional_get_on_the_wire_and_not_modified_means_nothing_new(feed_site: FeedSite) -> None:
    feed = connector(feed_site, "/reviews.rss")
    [first] = await batches(feed)
    assert await batches(feed, first.cursor) == []  # 304: nothing to store, the cursor stays

    plain, conditional = feed_site.requests_to("/reviews.rss")
    document = feed_site.documents["/reviews.rss"]
    assert "if-none-match" not in plain.headers and "if-modified-since" not in plain.headers
    assert conditional.headers["if-none-match"] == document.etag
    assert conditional.headers["if-modified-since"] == document.last_modified
    assert conditional.headers["user-agent"].startswith("Tend/")
    assert "application/rss+xml" in conditional.headers["accept"]
    assert conditional.headers["accept-encoding"] == "gzip, deflate"

    # Only Last-Modified known (a site without ETags): still conditional.
    only_date = FeedCursor(None, document.last_modified, FeedCursor.decode(first.cursor).seen).encode()
    assert await batches(feed, only_date) == []
    assert "if-none-match" not in feed_site.requests[-1].headers
    await feed.aclose()


@pytest.mark.asyncio
async def test_a_feed_is_not_asked_again_too_soon(feed_site: FeedSite) -> None:
    clock = Clock()
    feed = connector(feed_site, "/reviews.rss", clock, min_interval=300)
    [first] = await batches(feed)
    clock.now += timedelta(seconds=60)
    assert await batches(feed, first.cursor) == []
    assert len(feed_site.requests) == 1
    clock.now += timedelta(seconds=300)
    await batches(feed, first.cursor)
    assert len(feed_site.requests) == 2
    await feed.aclose()


@pytest.mark.asyncio
async def test_a_gzipped_feed_is_read(feed_site: FeedSite) -> None:
    feed_site.publish("/zipped.rss", REVIEWS_RSS, gzip_body=True)
    feed = connector(feed_site, "/zipped.rss")
    [batch] = await batches(feed)
    assert len(batch.posts) == 2
    await feed.aclose()


@pytest.mark.asyncio
async def test_redirects_are_followed_and_a_permanent_one_names_the_new_address(feed_site: FeedSite) -> None:
    feed_site.fault("/old.rss", Fault(301, headers={"Location": "/moved.rss"}))
    feed_site.fault("/moved.rss", Fault(302, headers={"Location": feed_site.at("/reviews.rss")}))
    info = await probe_feed(feed_site.at("/old.rss"))
    assert info.url == feed_site.at("/moved.rss")  # permanent as far as the temporary hop
    assert info.title == "Crumb & Co Bakery Reviews | ReviewHub" and info.items == 3

    feed_site.fault("/loop.rss", Fault(302, headers={"Location": "/loop.rss"}))
    with pytest.raises(FeedUnreadable, match="redirected too many times"):
        await probe_feed(feed_site.at("/loop.rss"))

    feed_site.fault("/away.rss", Fault(302, headers={"Location": "http://reviews.example/feed.rss"}))
    with pytest.raises(InsecureURL, match="only over a secure"):
        await probe_feed(feed_site.at("/away.rss"))
    assert not any(r.path == "/feed.rss" for r in feed_site.requests)


@pytest.mark.asyncio
async def test_a_site_on_the_internet_cannot_redirect_tend_to_this_computer() -> None:
    asked: list[str] = []

    def site(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:631/admin"})

    feed = FeedConnector(feed_account("https://reviews.example/feed.rss"), transport=httpx.MockTransport(site),
                         clock=Clock(), min_interval=0)
    with pytest.raises(FeedUnreadable, match="redirected to this computer, which Tend refuses"):
        await batches(feed)
    await feed.aclose()
    assert asked == ["https://reviews.example/feed.rss"]


@pytest.mark.asyncio
async def test_a_web_page_that_names_its_feed_is_enough_to_add_it(feed_site: FeedSite) -> None:
    info = await probe_feed(feed_site.at("/page.html"))
    assert info.url == feed_site.at("/reviews.rss")
    assert [r.path for r in feed_site.requests] == ["/page.html", "/reviews.rss"]


# -- faults ------------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(("fault", "error", "words"), [
    (Fault(500, b"<h1>Internal error</h1>"), ServerError, "The feed at 127.0.0.1 is having trouble"),
    (Fault(404), FeedUnreadable, "says there is no feed at this address"),
    (Fault(410), FeedUnreadable, "says there is no feed at this address (error 410)"),
    (Fault(403), FeedUnreadable, "refused access (error 403); Tend can read only public feeds"),
    (Fault(401), FeedUnreadable, "refused access"),
    (Fault(200, b"<!DOCTYPE html><html><body>Cheap flights!</body></html>", {"Content-Type": "text/html"}),
     FeedUnreadable, "this address is a web page, not a feed"),
    (Fault(200, b"\x00\xff not xml at all {[", {"Content-Type": "application/rss+xml"}), FeedUnreadable,
     "it is not an RSS or Atom feed"),
    (Fault(200, b"", {"Content-Type": "application/rss+xml"}), FeedUnreadable, "not an RSS or Atom feed"),
    (Fault(200, b'{"items": []}', {"Content-Type": "application/json"}), FeedUnreadable, "not an RSS or Atom"),
    (Fault(200, b"x" * 100, {"Content-Length": str(50 * 1024 * 1024)}), FeedUnreadable, "larger than Tend reads"),
    (Fault(200, b"not gzip at all", {"Content-Encoding": "gzip"}), FeedUnreadable, "cannot decode"),
    (Fault(200, b"whatever", {"Content-Encoding": "br"}), FeedUnreadable, "cannot decode"),
    (Fault(204), FeedUnreadable, "answered without a feed"),
    (Fault(301), FeedUnreadable, "redirected to nowhere"),
    (Fault(302, headers={"Location": "https://:80/feed"}), FeedUnreadable, "redirected to an address Tend cannot"),
])
async def test_every_fault_is_one_plain_connector_error(
    feed_site: FeedSite, fake_sleep, fault: Fault, error: type[ConnectorError], words: str
) -> None:
    feed_site.fault("/reviews.rss", fault)
    feed = connector(feed_site, "/reviews.rss", sleep=fake_sleep)
    with pytest.raises(error) as raised:
        await batches(feed)
    await feed.aclose()
    assert words in str(raised.value)
    if isinstance(raised.value, FeedUnreadable):
        assert str(raised.value).startswith(f"The feed at 127.0.0.1:{feed_site.url.rsplit(':', 1)[1]}/reviews.rss "
                                            "could not be read: ")


@pytest.mark.asyncio
async def test_a_server_error_is_retried_then_the_feed_is_read(feed_site: FeedSite, fake_sleep) -> None:
    feed_site.fault("/reviews.rss", Fault(503, times=2))
    feed = connector(feed_site, "/reviews.rss", sleep=fake_sleep)
    [batch] = await batches(feed)
    assert len(batch.posts) == 2 and len(fake_sleep.calls) == 2
    await feed.aclose()


@pytest.mark.asyncio
async def test_a_site_that_never_answers_times_out(feed_site: FeedSite, fake_sleep) -> None:
    feed_site.fault("/reviews.rss", Fault(200, delay=10))
    feed = connector(feed_site, "/reviews.rss", sleep=fake_sleep, timeout=0.2)
    with pytest.raises(ServerError, match="not answering"):
        await batches(feed)
    await feed.aclose()


@pytest.mark.asyncio
async def test_a_gzip_bomb_stops_at_the_cap(feed_site: FeedSite) -> None:
    bomb = b"<?xml version='1.0'?><rss version='2.0'><channel><title>" + b"A" * (40 * 1024 * 1024)
    feed_site.publish("/bomb.rss", bomb, gzip_body=True)
    assert len(feed_site.documents["/bomb.rss"].body) < 100_000  # a few kB on the wire
    feed = connector(feed_site, "/bomb.rss", max_bytes=1024 * 1024)
    with pytest.raises(FeedUnreadable, match=r"larger than Tend reads \(1 MB\)"):
        await batches(feed)
    await feed.aclose()


@pytest.mark.asyncio
async def test_a_body_without_a_length_is_capped_as_it_streams() -> None:
    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(1000):
            sent.append(1)
            yield b"<item>" * 1000

    transport = CappedTransport(httpx.MockTransport(lambda request: httpx.Response(200, content=endless())), 50_000)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(Exception, match="more than 50000 bytes") as raised:
            await client.get("https://example.com/feed")
    assert not isinstance(raised.value, httpx.HTTPError)  # not retried as a network failure
    assert len(sent) < 20  # stopped reading, not read to the end and then refused


# -- writing, addresses ------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_replies_are_refused_with_the_link_and_threads_are_the_item_alone(feed_site: FeedSite) -> None:
    feed = connector(feed_site, "/reviews.rss")
    [batch] = await batches(feed)
    post = batch.posts[-1]
    assert await feed.fetch_thread(post.thread_id) == [post]
    assert await feed.fetch_thread("feed:unknown") == []
    assert await feed.fetch_authors([post.author_id]) == []
    with pytest.raises(FeedReadOnly, match=r"Feeds are read-only: answer on the site \(https://reviews\.example/"
                                            r"reviews/88213\)"):
        await feed.send_reply(OutgoingReply(post, "Sorry about the wait!", Visibility.PUBLIC, "key-1"))
    await feed.aclose()
    assert len(feed_site.requests) == 1  # nothing was posted anywhere


def test_feed_addresses_are_https_or_this_computer() -> None:
    assert normalise_feed_url("  reviews.example/biz/crumb/feed.rss ") == "https://reviews.example/biz/crumb/feed.rss"
    assert normalise_feed_url("feed://Blog.Example/atom.xml#top") == "https://blog.example/atom.xml"
    assert normalise_feed_url("http://127.0.0.1:8080/feed") == "http://127.0.0.1:8080/feed"
    assert normalise_feed_url("http://localhost/feed") == "http://localhost/feed"
    with pytest.raises(InsecureURL, match=r"only over a secure \(https\) connection, and blog\.example/feed"):
        normalise_feed_url("http://blog.example/feed")
    for text in ("", "   ", "ftp://files.example/feed", "https://", "javascript:alert(1)", "https://exa mple.com/"):
        with pytest.raises(InvalidFeedAddress):
            normalise_feed_url(text)
    with pytest.raises(InvalidFeedAddress, match="user name or password"):
        normalise_feed_url("https://me:secret@blog.example/feed")
    with pytest.raises(InsecureURL):
        FeedConnector(feed_account("http://blog.example/feed"))


def test_the_cursor_survives_anything_and_stays_bounded() -> None:
    assert FeedCursor.decode(None) is None
    for junk in ("", "[]", "{", '{"seen": 5}', '"text"', "null"):
        decoded = FeedCursor.decode(junk)
        assert decoded is None or decoded.seen == ()
    big = FeedCursor('"e"', "Mon", tuple(str(i) for i in range(MAX_SEEN + 50)))
    assert len(json.loads(big.encode())["seen"]) == MAX_SEEN


# -- through the sync engine into the inbox ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_items_land_in_the_inbox_as_threads_of_one_and_a_second_sync_adds_nothing(
    feed_site: FeedSite, tmp_path: Path
) -> None:
    clock = Clock()
    feed = connector(feed_site, "/reviews.rss", clock)
    inbox = Inbox.open(tmp_path / "inbox.db", clock=clock)
    inbox.ensure_account(feed.account)
    writer = StoreWriter(inbox)
    try:
        engine = SyncEngine(writer, [feed], clock=clock)
        [first] = await engine.sync_once()
        [second] = await engine.sync_once()
    finally:
        writer.close()
        await feed.aclose()
    assert (first.error, first.new_posts, second.error, second.new_posts) == (None, 2, None, 0)
    conn = sqlite3.connect(tmp_path / "inbox.db")
    threads = conn.execute("SELECT t.id, t.network, t.post_count, p.url FROM threads t JOIN posts p ON p.id = t.id "
                           "ORDER BY p.created_at").fetchall()
    conn.close()
    assert [(network, count, url) for _id, network, count, url in threads] == [
        ("feed", 1, "https://reviews.example/reviews/88190"), ("feed", 1, "https://reviews.example/reviews/88213")]


# -- hostile documents -------------------------------------------------------------------------------------------------

_FORBIDDEN = ("<script", "<iframe", "<img", "<style", "<object", "onerror", "onclick", "javascript:", "evil.example",
              "pixel.tracker", "ads.example", "document.cookie")


def _check_records(body: bytes, url: str = "https://reviews.example/feed.rss") -> list[Post]:
    """Parse ``body`` as the connector does; anything but a clean ``FeedUnreadable`` or sound records fails."""
    account = feed_account(url, "t")
    try:
        parsed = parse_feed(body, url=url, content_type="application/rss+xml")
    except FeedUnreadable as error:
        assert str(error).startswith("The feed at reviews.example/feed.rss could not be read: ")
        return []
    posts = []
    for item in feed_items(parsed, account, now=NOW):
        post = item.post
        assert post.id == post.thread_id and post.id.startswith("feed:") and post.network == "feed"
        assert post.account_id == account.id and post.author_id == item.author.id
        assert post.author_id.startswith("feed:") and item.author.network == "feed"
        assert post.url == "" or post.url.startswith(("https://", "http://"))
        assert item.author.url == "" or item.author.url.startswith(("https://", "http://"))
        assert parse_iso(post.created_at) <= NOW and post.text
        assert _TAG.search(post.text) is None  # nothing a rich-text renderer could take for a tag
        lowered = post.text.lower()
        assert not any(word in lowered for word in ("<script", "<img", "<iframe", "javascript:"))
        posts.append(post)
    return posts


def test_hostile_html_in_real_feeds_is_neutralised() -> None:
    posts = _check_records(REVIEWS_RSS.encode()) + _check_records(BLOG_ATOM.encode())
    assert len(posts) == 5
    for post in posts:
        assert not any(word in post.text.lower() or word in post.url.lower() for word in _FORBIDDEN), post.text


_MUTATION = st.tuples(st.integers(0, 10_000), st.integers(0, 40),
                      st.sampled_from([b"", b"<", b">", b"&", b"]]>", b"<![CDATA[", b"\x00", b"\xff\xfe", b"&#0;",
                                       b"<script>alert(1)</script>", b"<item>", b"</item>", b"<entry>", b'"', b"\xe2",
                                       b"<!DOCTYPE x [<!ENTITY a \"aaaaaaaa\">]>", b"&a;", b"<pubDate>9999</pubDate>",
                                       b"<link>javascript:alert(3)</link>", b"<title type='html'>&lt;b&gt;</title>"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.sampled_from([REVIEWS_RSS.encode(), BLOG_ATOM.encode(), UNDATED_RSS]),
       mutations=st.lists(_MUTATION, max_size=6), cut=st.one_of(st.none(), st.integers(0, 4000)))
def test_a_mutated_feed_gives_a_clear_error_or_sound_records(
    document: bytes, mutations: list[tuple[int, int, bytes]], cut: int | None
) -> None:
    body = document
    for at, length, inserted in mutations:
        at %= len(body) + 1
        body = body[:at] + inserted + body[at + length:]
    if cut is not None:
        body = body[:cut]
    _check_records(body)


@pytest.mark.asyncio
async def test_the_transport_inflates_gzip_itself_so_httpx_does_not_again() -> None:
    body = gzip.compress(REVIEWS_RSS.encode())
    transport = CappedTransport(httpx.MockTransport(
        lambda request: httpx.Response(200, content=body, headers={"Content-Encoding": "gzip"})), 1_000_000)
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get("https://example.com/feed")
    assert "content-encoding" not in response.headers
    assert response.content == REVIEWS_RSS.encode()
