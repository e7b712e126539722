"""Adding and removing accounts: a real inbox file, a real (file) keyring, a strict sign-in server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.connectors.errors import InsecureURL
from console.connectors.mastodon_auth import AuthDenied, AuthFailed
from console.domain import Account, Author, Batch, Post
from console.secrets import SecretStoreUnavailable, load_secret
from console.services.accounts import AccountError, AccountService, SecretFunctions
from console.services.writer import StoreWriter
from console.store import Inbox
from inbox_rows import rows  # tests/services is on sys.path (pytest prepend import mode)
from tests.connectors.oauth_server import FakeBrowser, FakeMastodonAuth, auth_server, browser, fresh_keyring  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_keyring")


@pytest.fixture
def service(writer: StoreWriter) -> AccountService:
    return AccountService(writer, auth_timeout=10)


def files_of(path: Path) -> list[Path]:
    return [p for p in path.parent.glob(f"{path.name}*") if p.is_file()]


def a_conversation(account: Account) -> Batch:
    post = Post(
        id="mastodon:1", network="mastodon", account_id=account.id, thread_id="mastodon:1",
        author_id="mastodon:a1", text="Are you open on Sunday?", created_at="2026-11-20T10:00:00.000Z",
        observed_at="2026-11-20T10:00:00.000Z",
    )
    return Batch(account.id, "notifications", (post,), (Author("mastodon:a1", "mastodon", "@cust", "Cust"),), "1")


# -- adding ----------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_adding_with_a_token_keeps_the_token_in_the_keyring_only(
    service: AccountService, auth_server: FakeMastodonAuth, inbox_path: Path  # noqa: F811
) -> None:
    token = auth_server.issue_token()
    account = await service.add_mastodon_with_token(auth_server.url, f"  {token}\n")

    assert account.id == auth_server.account_id == "mastodon:mastodonpy_test@localhost:3000"
    assert account.handle == "@mastodonpy_test@localhost:3000"
    assert (account.remote_id, account.char_limit, account.server_url) == ("117020457910412882", 500, auth_server.url)
    assert await service.list_accounts() == [account]
    assert load_secret(account.id, "access_token") == token
    assert rows(inbox_path, "SELECT id, network, handle, server_url, remote_id, char_limit, needs_reconnect "
                            "FROM accounts") == [
        (account.id, "mastodon", account.handle, auth_server.url, "117020457910412882", 500, 0)
    ]
    for path in files_of(inbox_path):
        assert token.encode() not in path.read_bytes(), f"the token is in {path.name}"
    assert await service.state_of(account) == "connected"


@pytest.mark.asyncio
async def test_the_token_is_stored_before_the_account_row_is_written(
    writer: StoreWriter, auth_server: FakeMastodonAuth, inbox_path: Path  # noqa: F811
) -> None:
    rows_when_stored: list[list[tuple]] = []

    def store(account_id: str, kind: str, value: str) -> None:
        rows_when_stored.append(rows(inbox_path, "SELECT id FROM accounts"))
        SecretFunctions().store(account_id, kind, value)

    service = AccountService(writer, secrets=SecretFunctions(store=store))
    await service.add_mastodon_with_token(auth_server.url, auth_server.issue_token())
    assert rows_when_stored == [[]]


@pytest.mark.asyncio
async def test_without_a_keyring_nothing_is_added_and_the_owner_is_told_what_to_do(
    writer: StoreWriter, auth_server: FakeMastodonAuth, browser: FakeBrowser, inbox_path: Path  # noqa: F811
) -> None:
    def unavailable(*_args: object) -> None:
        raise SecretStoreUnavailable("Tend keeps your account passwords in your computer's keyring, and none is "
                                     "available. On Linux install and unlock GNOME Keyring or KWallet.")

    service = AccountService(writer, secrets=SecretFunctions(store=unavailable, load=unavailable, delete=unavailable))
    with pytest.raises(AccountError, match="install and unlock GNOME Keyring"):
        await service.add_mastodon_with_token(auth_server.url, auth_server.issue_token())
    with pytest.raises(AccountError, match="keyring"):
        await service.add_mastodon_oauth(auth_server.url, browser)
    assert browser.opened == [] and auth_server.requests == []  # refused before the browser or the network
    assert rows(inbox_path, "SELECT count(*) FROM accounts") == [(0,)]


@pytest.mark.asyncio
async def test_a_refused_token_adds_nothing(
    service: AccountService, auth_server: FakeMastodonAuth, inbox_path: Path  # noqa: F811
) -> None:
    with pytest.raises(AuthFailed, match="did not accept this access token"):
        await service.add_mastodon_with_token(auth_server.url, "not-a-real-token")
    with pytest.raises(AccountError, match="No access token"):
        await service.add_mastodon_with_token(auth_server.url, "  \n")
    assert await service.list_accounts() == []


@pytest.mark.asyncio
async def test_plain_http_to_another_machine_is_refused_before_any_request(service: AccountService) -> None:
    with pytest.raises(InsecureURL, match=r"only talk to example\.com over a secure \(https\) connection"):
        await service.add_mastodon_with_token("http://example.com", "token-that-must-not-travel")


@pytest.mark.asyncio
async def test_adding_through_the_browser_connects_and_tells_the_listeners(
    service: AccountService, auth_server: FakeMastodonAuth, browser: FakeBrowser  # noqa: F811
) -> None:
    added: list[Account] = []
    service.on_added.append(added.append)
    account = await service.add_mastodon_oauth(auth_server.url, browser)

    assert added == [account] == await service.list_accounts()
    token = load_secret(account.id, "access_token")
    assert auth_server.tokens[token] is not None
    assert auth_server.failures == []


@pytest.mark.asyncio
async def test_a_denied_sign_in_adds_nothing(
    service: AccountService, auth_server: FakeMastodonAuth, browser: FakeBrowser  # noqa: F811
) -> None:
    auth_server.deny = True
    with pytest.raises(AuthDenied):
        await service.add_mastodon_oauth(auth_server.url, browser)
    assert await service.list_accounts() == []


@pytest.mark.asyncio
async def test_reconnecting_clears_the_flag_and_replaces_the_token(
    service: AccountService, auth_server: FakeMastodonAuth, browser: FakeBrowser, writer: StoreWriter  # noqa: F811
) -> None:
    old = auth_server.issue_token()
    account = await service.add_mastodon_with_token(auth_server.url, old)
    auth_server.tokens.pop(old)  # revoked on the server
    await writer.call(Inbox.set_needs_reconnect, account.id, True)
    assert await service.state_of((await service.list_accounts())[0]) == "needs reconnecting"

    again = await service.reconnect(account.id, browser)

    assert again.id == account.id and not (await service.list_accounts())[0].needs_reconnect
    assert load_secret(account.id, "access_token") not in (None, old)


@pytest.mark.asyncio
async def test_reconnecting_as_someone_else_is_refused(
    service: AccountService, auth_server: FakeMastodonAuth, browser: FakeBrowser, writer: StoreWriter  # noqa: F811
) -> None:
    token = auth_server.issue_token()
    account = await service.add_mastodon_with_token(auth_server.url, token)
    auth_server.me = auth_server.me | {"username": "someone_else", "id": "42"}
    with pytest.raises(AccountError, match="You signed in as @someone_else@localhost:3000"):
        await service.reconnect(account.id, browser)
    assert load_secret(account.id, "access_token") == token
    assert [a.id for a in await service.list_accounts()] == [account.id]


# -- removing --------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("keep_history", [True, False])
async def test_removal_revokes_forgets_and_keeps_or_deletes_history(
    service: AccountService, auth_server: FakeMastodonAuth, browser: FakeBrowser, writer: StoreWriter,  # noqa: F811
    inbox_path: Path, keep_history: bool,
) -> None:
    account = await service.add_mastodon_oauth(auth_server.url, browser)
    await writer.call(Inbox.apply_batch, a_conversation(account))
    token = load_secret(account.id, "access_token")
    order: list[str] = []
    service.on_removing.append(lambda account_id: order.append(f"stop syncing {account_id}"))

    removal = await service.remove_account(account.id, keep_history=keep_history)

    assert (removal.revoked, removal.warning, removal.kept_history) == (True, "", keep_history)
    assert order == [f"stop syncing {account.id}"]
    (revoke,) = auth_server.requests_to("/oauth/revoke")
    registration = next(iter(auth_server.apps.values()))
    assert revoke.form == {"token": token, "client_id": registration.client_id,
                           "client_secret": registration.client_secret}
    assert token not in auth_server.tokens
    assert load_secret(account.id, "access_token") is None
    assert await service.list_accounts() == []
    assert rows(inbox_path, "SELECT count(*) FROM posts") == [(1 if keep_history else 0,)]
    assert rows(inbox_path, "SELECT count(*) FROM accounts") == [(1 if keep_history else 0,)]


@pytest.mark.asyncio
async def test_a_failed_revocation_is_reported_and_removal_goes_on(
    service: AccountService, auth_server: FakeMastodonAuth  # noqa: F811
) -> None:
    account = await service.add_mastodon_with_token(auth_server.url, auth_server.issue_token())
    auth_server.revoke_status = 403
    removal = await service.remove_account(account.id, keep_history=True)
    assert not removal.revoked
    assert "could not withdraw its access" in removal.warning and "authorised apps" in removal.warning
    assert load_secret(account.id, "access_token") is None
    assert await service.list_accounts() == []


@pytest.mark.asyncio
async def test_removing_an_unknown_account_says_how_to_find_the_right_one(service: AccountService) -> None:
    with pytest.raises(AccountError, match="tend account list"):
        await service.remove_account("mastodon:nobody@nowhere", keep_history=True)


@pytest.mark.asyncio
async def test_a_listener_failure_does_not_undo_the_owners_request(
    service: AccountService, auth_server: FakeMastodonAuth  # noqa: F811
) -> None:
    def broken(_account: Account) -> None:
        raise RuntimeError("engine exploded")

    service.on_added.append(broken)
    account = await service.add_mastodon_with_token(auth_server.url, auth_server.issue_token())
    assert await service.list_accounts() == [account]
