"""Adding, reconnecting and removing X accounts: a real inbox file, a real (file) keyring, the local X server (its
authorization page, token endpoint and API answer as X does), and a simulated browser; then a real sync pass."""

from __future__ import annotations

import json
import logging
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest

from console.connectors.x_auth import XSignInDenied
from console.domain import Account
from console.secrets import SecretStoreUnavailable, load_secret
from console.services.accounts import AccountError, AccountService, SecretFunctions
from console.services.connectors import CLIENT_ID_KIND, REFRESH_TOKEN_KIND, Unserved, connectors_for, token_kind
from console.services.writer import StoreWriter
from console.services.x_usage import XUsageStore
from console.store import Inbox
from console.sync import SyncEngine
from inbox_rows import rows  # tests/services is on sys.path (pytest prepend import mode)
from tests.connectors.oauth_server import FakeBrowser, fresh_keyring  # noqa: F401
from tests.connectors.x_server import CLIENT_ID, HAPPYCAMPER, SNOWMAN, TWITTER, XTestServer, x_server  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_keyring")
ACCOUNT_ID = f"x:{SNOWMAN}"
TOKEN = "/2/oauth2/token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def port(x_server: XTestServer) -> int:  # noqa: F811
    """The owner's X app allows Tend's callback on a port that is free on this machine."""
    chosen = free_port()
    x_server.clients[CLIENT_ID] = f"http://127.0.0.1:{chosen}/callback"
    return chosen


def x_service(writer: StoreWriter, server: XTestServer, port: int, folder: Path, **kwargs: object) -> AccountService:
    return AccountService(writer, auth_timeout=10, x_usage=XUsageStore.in_folder(folder), x_api_base=server.url,
                          x_authorize_url=server.authorize_url, x_redirect_port=port, **kwargs)


@pytest.fixture
def service(writer: StoreWriter, x_server: XTestServer, port: int, inbox_path: Path) -> AccountService:  # noqa: F811
    return x_service(writer, x_server, port, inbox_path.parent)


# -- adding ----------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_adding_keeps_the_client_id_and_refresh_token_in_the_keyring_and_the_cap_beside_the_inbox(
    service: AccountService, x_server: XTestServer, inbox_path: Path, private_home: Path,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    browser, statuses, added = FakeBrowser(), [], []
    service.on_added.append(added.append)

    account = await service.add_x(f"  {CLIENT_ID} ", browser, on_status=statuses.append, monthly_read_cap=10_000)

    assert "Tend is connected" in browser.last_page and x_server.failures == []
    assert statuses == ["Waiting for you to approve Tend in your browser (X)…", "Finishing the connection with X…"]
    assert added == [account] and await service.list_accounts() == [account]
    assert rows(inbox_path, "SELECT id, network, handle, display_name, server_url, remote_id, char_limit "
                            "FROM accounts") == [
        (ACCOUNT_ID, "x", "@snowman", "Jim Moffitt", x_server.url, SNOWMAN, 280)]
    [authorize] = x_server.requests_to("/i/oauth2/authorize")
    assert authorize.params["client_id"] == CLIENT_ID  # trimmed
    refresh = load_secret(ACCOUNT_ID, REFRESH_TOKEN_KIND)
    assert refresh in x_server.refresh_tokens and load_secret(ACCOUNT_ID, CLIENT_ID_KIND) == CLIENT_ID
    assert load_secret(ACCOUNT_ID, "access_token") is None  # access tokens live two hours, in memory only
    assert token_kind("x") == REFRESH_TOKEN_KIND

    usage = inbox_path.parent / "x-usage.json"
    assert json.loads(usage.read_text()) == {ACCOUNT_ID: {"cap": 10_000}}
    assert await service.state_of(account) == "connected (10,000 of 10,000 reads left this month)"
    assert service.last_warning == ""
    for path in [*inbox_path.parent.rglob("*"), *private_home.rglob("*")]:
        if path.is_file() and path.suffix != ".cfg":  # the file keyring standing in for the OS one
            content = path.read_bytes()
            assert CLIENT_ID.encode() not in content and refresh.encode() not in content, path
    tends_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("console"))
    assert "connected x:17200003" in tends_log  # (httpx's own request log, which Tend silences, is left out)
    for secret in (CLIENT_ID, refresh, *x_server.access_tokens):
        assert secret not in tends_log


@pytest.mark.asyncio
@pytest.mark.parametrize("client_id, said", [
    ("", "Enter the client id of your X app"),
    ("M1M5R3BMVy13 QmpScXkzTUt5OE46MTpjaQ", "does not look like an X client id"),
])
async def test_a_client_id_that_cannot_be_one_is_refused_before_the_browser_opens(
    service: AccountService, x_server: XTestServer, client_id: str, said: str,  # noqa: F811
) -> None:
    opened: list[str] = []
    with pytest.raises(AccountError, match=said):
        await service.add_x(client_id, opened.append)
    assert opened == [] and x_server.requests == [] and await service.list_accounts() == []


@pytest.mark.asyncio
async def test_a_negative_cap_is_refused(service: AccountService) -> None:
    with pytest.raises(AccountError, match="0 or more"):
        await service.add_x(CLIENT_ID, lambda url: None, monthly_read_cap=-1)


@pytest.mark.asyncio
async def test_without_a_keyring_nothing_is_asked_of_x(
    writer: StoreWriter, x_server: XTestServer, port: int, tmp_path: Path  # noqa: F811
) -> None:
    def unavailable(*_args: object) -> None:
        raise SecretStoreUnavailable("install and unlock GNOME Keyring")

    service = x_service(writer, x_server, port, tmp_path,
                        secrets=SecretFunctions(store=unavailable, load=unavailable, delete=unavailable))
    opened: list[str] = []
    with pytest.raises(AccountError, match="GNOME Keyring"):
        await service.add_x(CLIENT_ID, opened.append)
    assert opened == [] and x_server.requests == []


@pytest.mark.asyncio
async def test_saying_no_on_x_adds_nothing(service: AccountService, x_server: XTestServer) -> None:  # noqa: F811
    x_server.deny = True
    with pytest.raises(XSignInDenied, match="Nothing was connected"):
        await service.add_x(CLIENT_ID, FakeBrowser())
    assert await service.list_accounts() == [] and load_secret(ACCOUNT_ID, CLIENT_ID_KIND) is None
    assert x_server.requests_to(TOKEN) == []


@pytest.mark.asyncio
async def test_no_cap_given_means_counting_without_stopping(service: AccountService, inbox_path: Path) -> None:
    account = await service.add_x(CLIENT_ID, FakeBrowser())
    assert await service.state_of(account) == "connected (0 posts read this month)"
    assert service.x_cap(account.id) is None and not (inbox_path.parent / "x-usage.json").exists()


# -- reconnecting ----------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_reconnecting_reuses_the_saved_client_id_and_keeps_the_cap(
    service: AccountService, x_server: XTestServer, writer: StoreWriter  # noqa: F811
) -> None:
    account = await service.add_x(CLIENT_ID, FakeBrowser(), monthly_read_cap=500)
    old = load_secret(ACCOUNT_ID, REFRESH_TOKEN_KIND)
    x_server.refresh_tokens.clear()  # X stopped accepting the connection
    await writer.call(Inbox.set_needs_reconnect, ACCOUNT_ID, True)
    assert (await service.state_of((await service.list_accounts())[0])) == "needs reconnecting"

    again = await service.reconnect(ACCOUNT_ID, FakeBrowser())

    assert again.id == account.id and len(await service.list_accounts()) == 1
    new = load_secret(ACCOUNT_ID, REFRESH_TOKEN_KIND)
    assert new != old and new in x_server.refresh_tokens
    assert [r.params["client_id"] for r in x_server.requests_to("/i/oauth2/authorize")] == [CLIENT_ID, CLIENT_ID]
    assert await service.state_of((await service.list_accounts())[0]) == \
        "connected (500 of 500 reads left this month)"


@pytest.mark.asyncio
async def test_reconnecting_as_another_x_account_is_refused_and_its_sign_in_withdrawn(
    service: AccountService, x_server: XTestServer  # noqa: F811
) -> None:
    await service.add_x(CLIENT_ID, FakeBrowser())
    kept = load_secret(ACCOUNT_ID, REFRESH_TOKEN_KIND)
    x_server.sign_in_as = TWITTER
    with pytest.raises(AccountError, match="You signed in as @Twitter"):
        await service.reconnect(ACCOUNT_ID, FakeBrowser())
    assert load_secret(ACCOUNT_ID, REFRESH_TOKEN_KIND) == kept
    assert [a.id for a in await service.list_accounts()] == [ACCOUNT_ID]
    [withdrawn] = x_server.revoked
    assert withdrawn != kept and withdrawn not in x_server.refresh_tokens


@pytest.mark.asyncio
async def test_reconnecting_without_the_client_id_says_to_add_it_again(service: AccountService) -> None:
    await service.add_x(CLIENT_ID, FakeBrowser())
    from console.secrets import delete_secret

    delete_secret(ACCOUNT_ID, CLIENT_ID_KIND)
    account = (await service.list_accounts())[0]
    assert await service.state_of(account) == "needs reconnecting (no saved client id of your X app)"
    with pytest.raises(AccountError, match="tend account add x --client-id ID"):
        await service.reconnect(ACCOUNT_ID, FakeBrowser())


# -- removing --------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_removal_revokes_the_refresh_token_on_x_and_forgets_both_keyring_entries(
    service: AccountService, x_server: XTestServer  # noqa: F811
) -> None:
    await service.add_x(CLIENT_ID, FakeBrowser(), monthly_read_cap=500)
    refresh = load_secret(ACCOUNT_ID, REFRESH_TOKEN_KIND)

    removal = await service.remove_account(ACCOUNT_ID, keep_history=False)

    assert removal.revoked and removal.warning == ""
    [request] = x_server.requests_to("/2/oauth2/revoke")
    assert request.form == {"token": refresh, "client_id": CLIENT_ID, "token_type_hint": "refresh_token"}
    assert refresh not in x_server.refresh_tokens
    assert load_secret(ACCOUNT_ID, REFRESH_TOKEN_KIND) is None and load_secret(ACCOUNT_ID, CLIENT_ID_KIND) is None
    assert await service.list_accounts() == []


@pytest.mark.asyncio
async def test_a_failed_revoke_is_reported_with_where_to_withdraw_access(
    service: AccountService, x_server: XTestServer  # noqa: F811
) -> None:
    await service.add_x(CLIENT_ID, FakeBrowser())
    x_server.inject("POST", "/2/oauth2/revoke", x_server.Response(400, json={"error": "invalid_request"}))
    removal = await service.remove_account(ACCOUNT_ID, keep_history=True)
    assert not removal.revoked and "Tend could not sign out of X" in removal.warning
    assert "Connected apps" in removal.warning
    assert load_secret(ACCOUNT_ID, REFRESH_TOKEN_KIND) is None and load_secret(ACCOUNT_ID, CLIENT_ID_KIND) is None


# -- which connector -------------------------------------------------------------------------------------------------


def test_an_x_account_missing_a_keyring_entry_is_unserved_with_a_plain_reason() -> None:
    account = Account(ACCOUNT_ID, "x", "@snowman", "https://api.x.com", remote_id=SNOWMAN)
    saved = {REFRESH_TOKEN_KIND: "a-refresh-token"}
    _connectors, [no_client] = connectors_for([account], load_token=lambda _id, kind: saved.get(kind))
    assert no_client == Unserved(account, no_client.reason) and "client id of your X app" in no_client.reason
    _connectors, [no_token] = connectors_for([account], load_token=lambda *_: None)
    assert "no saved sign-in" in no_token.reason and "tend account add x --client-id ID" in no_token.reason


# -- end to end ------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_added_account_syncs_mentions_with_their_conversation_counts_and_followers(
    service: AccountService, x_server: XTestServer, writer: StoreWriter, inbox_path: Path  # noqa: F811
) -> None:
    x_server.now = datetime.now(timezone.utc).replace(microsecond=0)  # the connector reads on the real clock
    root = x_server.post(SNOWMAN, "Our winter soups are back from Monday!")
    question = x_server.post(HAPPYCAMPER, "@snowman is the pumpkin one vegan?", in_reply_to=root)
    x_server.set_counts(root, retweet_count=7, quote_count=1)
    x_server.set_counts(question, retweet_count=3, quote_count=2, like_count=5)
    x_server.set_followers(HAPPYCAMPER, 1200, following=300)
    await service.add_x(CLIENT_ID, FakeBrowser(), monthly_read_cap=10_000)
    first = load_secret(ACCOUNT_ID, REFRESH_TOKEN_KIND)

    connectors, unserved = connectors_for(await service.list_accounts(), state_dir=inbox_path.parent)
    assert unserved == [] and [c.account.id for c in connectors] == [ACCOUNT_ID]
    engine = SyncEngine(writer, connectors, interval=3600)
    try:
        [result] = await engine.sync_once()
    finally:
        await engine.stop()

    assert result.error is None and result.new_posts == 2
    assert rows(inbox_path, "SELECT id, thread_id, reshare_count, quote_count, like_count FROM posts ORDER BY id") == [
        (f"x:{root}", f"x:{root}", 7, 1, 0), (f"x:{question}", f"x:{root}", 3, 2, 5)]
    assert rows(inbox_path, f"SELECT followers_count FROM authors WHERE id = 'x:{HAPPYCAMPER}'") == [(1200,)]
    # X rotated the refresh token at the first refresh, and the new one is in the keyring for the next run.
    rotated = load_secret(ACCOUNT_ID, REFRESH_TOKEN_KIND)
    assert rotated != first and rotated in x_server.refresh_tokens
    # The month's reads are kept beside the inbox and shown against the cap.
    reads = json.loads((inbox_path.parent / "x-usage.json").read_text())[ACCOUNT_ID]
    assert reads["cap"] == 10_000 and reads["reads"] >= 2
    assert await service.state_of(connectors[0].account) == \
        f"connected ({10_000 - reads['reads']:,} of 10,000 reads left this month)"
