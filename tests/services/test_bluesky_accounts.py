"""Adding and removing Bluesky accounts: a real inbox file, a real (file) keyring, the local Bluesky server."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.connectors.bluesky_session import BlueskySignInError
from console.domain import Account
from console.secrets import SecretStoreUnavailable, load_secret
from console.services.accounts import AccountError, AccountService, SecretFunctions
from console.services.writer import StoreWriter
from inbox_rows import rows  # tests/services is on sys.path (pytest prepend import mode)
from tests.connectors.bluesky_server import BlueskyTestServer, bluesky  # noqa: F401
from tests.connectors.oauth_server import fresh_keyring  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_keyring")
PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture
def service(writer: StoreWriter) -> AccountService:
    return AccountService(writer)


@pytest.mark.asyncio
async def test_adding_keeps_only_the_refresh_token_and_never_the_app_password(
    service: AccountService, bluesky: BlueskyTestServer, inbox_path: Path, private_home: Path  # noqa: F811
) -> None:
    biz = bluesky.business("shop.test", password=PASSWORD, display_name="The Shop")
    added: list[Account] = []
    service.on_added.append(added.append)

    account = await service.add_bluesky("shop.test", PASSWORD, service=bluesky.url)

    assert added == [account] and await service.list_accounts() == [account]
    assert rows(inbox_path, "SELECT id, network, handle, server_url, remote_id, char_limit FROM accounts") == [
        (f"bluesky:{biz.did}", "bluesky", "@shop.test", bluesky.url, biz.did, 300)]
    refresh = load_secret(account.id, "refresh_token")
    assert refresh in bluesky.world.refresh
    assert load_secret(account.id, "access_token") is None
    for path in [*inbox_path.parent.glob("inbox.db*"), *private_home.rglob("*")]:
        if path.is_file():
            content = path.read_bytes()
            assert PASSWORD.encode() not in content, f"the app password is in {path}"
            assert path.suffix == ".cfg" or refresh.encode() not in content, f"the token is in {path}"
    assert await service.state_of(account) == "connected" and service.last_warning == ""
    assert len(bluesky.requests_to("com.atproto.server.createSession")) == 1


@pytest.mark.asyncio
async def test_a_wrong_password_adds_nothing(service: AccountService, bluesky: BlueskyTestServer) -> None:  # noqa: F811
    bluesky.business("shop.test", password=PASSWORD)
    with pytest.raises(BlueskySignInError, match="did not accept this app password"):
        await service.add_bluesky("shop.test", "wrong-wrong-wrong", service=bluesky.url)
    assert await service.list_accounts() == []


@pytest.mark.asyncio
async def test_without_a_keyring_nothing_is_asked_of_bluesky(
    writer: StoreWriter, bluesky: BlueskyTestServer  # noqa: F811
) -> None:
    def unavailable(*_args: object) -> None:
        raise SecretStoreUnavailable("install and unlock GNOME Keyring")

    service = AccountService(writer, secrets=SecretFunctions(store=unavailable, load=unavailable, delete=unavailable))
    with pytest.raises(AccountError, match="GNOME Keyring"):
        await service.add_bluesky("shop.test", PASSWORD, service=bluesky.url)
    assert bluesky.requests == []  # createSession is rate-limited: never spend one that cannot be kept


@pytest.mark.asyncio
async def test_connecting_with_the_account_password_warns(service: AccountService,
                                                         bluesky: BlueskyTestServer) -> None:  # noqa: F811
    biz = bluesky.business("shop.test")
    bluesky.main_passwords[biz.did] = "hunter2-hunter2"
    await service.add_bluesky("shop.test", "hunter2-hunter2", service=bluesky.url)
    assert "app password is safer" in service.last_warning


@pytest.mark.asyncio
async def test_removal_ends_the_session_and_forgets_the_token(
    service: AccountService, bluesky: BlueskyTestServer  # noqa: F811
) -> None:
    bluesky.business("shop.test", password=PASSWORD)
    account = await service.add_bluesky("shop.test", PASSWORD, service=bluesky.url)
    refresh = load_secret(account.id, "refresh_token")
    removal = await service.remove_account(account.id, keep_history=False)
    assert removal.revoked and removal.warning == ""
    (ended,) = bluesky.requests_to("com.atproto.server.deleteSession")
    assert ended.bearer == refresh and refresh not in bluesky.world.refresh
    assert load_secret(account.id, "refresh_token") is None and await service.list_accounts() == []


@pytest.mark.asyncio
async def test_a_failed_sign_out_is_reported_with_where_to_revoke(
    service: AccountService, bluesky: BlueskyTestServer  # noqa: F811
) -> None:
    bluesky.business("shop.test", password=PASSWORD)
    account = await service.add_bluesky("shop.test", PASSWORD, service=bluesky.url)
    bluesky.inject("com.atproto.server.deleteSession", bluesky.Response(400, {"error": "InvalidRequest"}))
    removal = await service.remove_account(account.id, keep_history=True)
    assert not removal.revoked and "App passwords" in removal.warning
    assert load_secret(account.id, "refresh_token") is None


@pytest.mark.asyncio
async def test_reconnecting_a_bluesky_account_says_how(service: AccountService,
                                                       bluesky: BlueskyTestServer) -> None:  # noqa: F811
    bluesky.business("shop.test", password=PASSWORD)
    account = await service.add_bluesky("shop.test", PASSWORD, service=bluesky.url)
    with pytest.raises(AccountError, match="tend account add bluesky --handle shop.test"):
        await service.reconnect(account.id, lambda url: None)
    again = await service.add_bluesky("shop.test", PASSWORD, service=bluesky.url)  # adding again reconnects
    assert again.id == account.id and len(await service.list_accounts()) == 1
