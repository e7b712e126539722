"""Adding and removing feed watches: a real inbox file, the feed site on 127.0.0.1, and no keyring at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.connectors.errors import InsecureURL
from console.connectors.feed import FeedConnector, FeedUnreadable, InvalidFeedAddress, feed_account_id
from console.domain import Account
from console.secrets import SecretStoreUnavailable
from console.services.accounts import AccountService, SecretFunctions
from console.services.connectors import Unserved, connectors_for
from console.services.writer import StoreWriter
from console.sync import SyncEngine
from inbox_rows import rows  # tests/services is on sys.path (pytest prepend import mode)
from tests.connectors.feed_server import FeedSite, feed_site  # noqa: F401


def no_keyring(*_args: object) -> None:
    raise SecretStoreUnavailable("no keyring on this machine")


@pytest.fixture
def service(writer: StoreWriter) -> AccountService:
    # Feeds hold no secret: every keyring call fails here, and nothing about feeds may need one.
    return AccountService(writer, secrets=SecretFunctions(store=no_keyring, load=no_keyring, delete=no_keyring))


@pytest.mark.asyncio
async def test_adding_a_feed_reads_it_once_for_its_title_and_stores_it(
    service: AccountService, feed_site: FeedSite, inbox_path: Path
) -> None:
    added: list[Account] = []
    service.on_added.append(added.append)
    account = await service.add_feed(f"  {feed_site.at('/reviews.rss')} ")

    url = feed_site.at("/reviews.rss")
    assert account == Account(id=feed_account_id(url), network="feed", handle="Crumb & Co Bakery Reviews | ReviewHub",
                              server_url=url, display_name="Crumb & Co Bakery Reviews | ReviewHub")
    assert added == [account] == await service.list_accounts()
    assert [r.path for r in feed_site.requests] == ["/reviews.rss"]
    assert rows(inbox_path, "SELECT id, network, handle, server_url, needs_reconnect FROM accounts") == [
        (account.id, "feed", account.handle, url, 0)]
    assert await service.state_of(account) == "watching"

    again = await service.add_feed(url)  # adding it again is harmless: same account
    assert again.id == account.id and len(await service.list_accounts()) == 1


@pytest.mark.asyncio
async def test_a_feed_without_a_title_is_named_by_its_host(service: AccountService, feed_site: FeedSite) -> None:
    feed_site.publish("/untitled.rss", '<?xml version="1.0"?><rss version="2.0"><channel><link>https://x.example/'
                      "</link><item><title>Hello</title></item></channel></rss>")
    account = await service.add_feed(feed_site.at("/untitled.rss"))
    assert (account.handle, account.display_name) == ("127.0.0.1", "")


@pytest.mark.asyncio
async def test_a_page_naming_its_feed_adds_the_feed(service: AccountService, feed_site: FeedSite) -> None:
    account = await service.add_feed(feed_site.at("/page.html"))
    assert account.server_url == feed_site.at("/reviews.rss")


@pytest.mark.asyncio
@pytest.mark.parametrize(("address", "error", "words"), [
    ("http://reviews.example/feed.rss", InsecureURL, "only over a secure (https) connection"),
    ("ftp://reviews.example/feed.rss", InvalidFeedAddress, "not a web address"),
    ("", InvalidFeedAddress, "Enter the address of a feed"),
    ("https://owner:hunter2@reviews.example/feed.rss", InvalidFeedAddress, "user name or password"),
])
async def test_unsafe_or_odd_addresses_are_refused_before_any_request(
    service: AccountService, feed_site: FeedSite, address: str, error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as raised:
        await service.add_feed(address)
    assert words in str(raised.value)
    assert await service.list_accounts() == []


@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "words"), [
    ("/oops.html", "this address is a web page, not a feed"),
    ("/garbage", "it is not an RSS or Atom feed"),
    ("/nowhere.rss", "the site says there is no feed at this address (error 404)"),
])
async def test_a_wrong_address_fails_early_in_plain_words_and_adds_nothing(
    service: AccountService, feed_site: FeedSite, inbox_path: Path, path: str, words: str
) -> None:
    with pytest.raises(FeedUnreadable) as raised:
        await service.add_feed(feed_site.at(path))
    assert str(raised.value).startswith(f"The feed at 127.0.0.1:{feed_site.url.rsplit(':', 1)[1]}{path} could not "
                                        f"be read: {words}")
    assert rows(inbox_path, "SELECT count(*) FROM accounts") == [(0,)]


@pytest.mark.asyncio
@pytest.mark.parametrize("keep_history", [True, False])
async def test_removing_a_feed_needs_no_keyring_and_keeps_or_deletes_its_items(
    service: AccountService, writer: StoreWriter, feed_site: FeedSite, inbox_path: Path, keep_history: bool
) -> None:
    account = await service.add_feed(feed_site.at("/reviews.rss"))
    connectors, unserved = connectors_for([account])
    assert unserved == [] and [type(c) for c in connectors] == [FeedConnector]
    engine = SyncEngine(writer, connectors)
    [result] = await engine.sync_once()
    await connectors[0].aclose()
    assert result.error is None and rows(inbox_path, "SELECT count(*) FROM posts") == [(2,)]
    stopped: list[str] = []
    service.on_removing.append(stopped.append)

    removal = await service.remove_account(account.id, keep_history=keep_history)

    assert (removal.revoked, removal.warning, removal.kept_history) == (True, "", keep_history)
    assert stopped == [account.id]
    assert await service.list_accounts() == []
    assert rows(inbox_path, "SELECT count(*) FROM posts") == [(2 if keep_history else 0,)]
    assert rows(inbox_path, "SELECT count(*) FROM sync_cursors") == [(0,)]


def test_a_stored_feed_that_would_now_be_refused_is_not_synced() -> None:
    stored = Account("feed:0123456789abcdef", "feed", "Old blog", "http://old-blog.example/rss")
    connectors, [unserved] = connectors_for([stored])
    assert connectors == [] and isinstance(unserved, Unserved)
    assert "secure (https)" in unserved.reason
