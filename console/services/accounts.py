"""Adding, listing and removing the business's own accounts: the keyring for tokens, the inbox for everything else.

The token goes into the keyring before the account row is written, so the inbox never lists an account Tend has
no way to sync; removal withdraws the token on the server first (a failure there is reported, never a reason to
keep an account the owner wants gone), then forgets it locally, then removes the row.

Keyring calls run on a worker thread: an OS keyring may be locked and ask the owner to unlock it, and the Qt
thread must not wait for that.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from console import secrets as keyring_secrets
from console.connectors.errors import ConnectorError
from console.connectors.http import HttpClient
from console.connectors.mastodon_auth import (
    DEFAULT_AUTH_TIMEOUT,
    KeyringRegistrations,
    OpenBrowser,
    Status,
    client_for,
    fetch_identity,
    normalise_server_url,
    revoke_token,
    server_host,
    sign_in,
)
from console.connectors import bluesky_session
from console.domain import Account
from console.secrets import SecretStoreUnavailable, off_loop
from console.services.connectors import (
    FEED_NETWORK, REFRESH_TOKEN_KIND, TOKEN_KIND, holds_secret, is_demo_account, token_kind,
)
from console.services.writer import StoreWriter
from console.store import Inbox, InboxError
from console.sync import NETWORK_NAMES

log = logging.getLogger(__name__)

T = TypeVar("T")
AddedHook = Callable[[Account], Awaitable[None] | None]
RemovingHook = Callable[[str], Awaitable[None] | None]


class AccountError(Exception):
    """Adding or removing an account failed for a reason the owner can act on; ``str()`` says what."""


@dataclass(frozen=True, slots=True)
class SecretFunctions:
    """The keyring operations the service uses (``console.secrets`` in the app; injectable for tests)."""

    store: Callable[[str, str, str], None] = keyring_secrets.store_secret
    load: Callable[[str, str], str | None] = keyring_secrets.load_secret
    delete: Callable[[str, str], None] = keyring_secrets.delete_secret


@dataclass(frozen=True, slots=True)
class Removal:
    """What removing an account did; ``warning`` is set when something could not be cleaned up on the server."""

    account: Account
    kept_history: bool
    revoked: bool
    warning: str = ""


def network_name(network: str) -> str:
    return NETWORK_NAMES.get(network, network)


class AccountService:
    """The owner's accounts. Writes go through the inbox writer thread, secrets through the keyring."""

    def __init__(
        self,
        writer: StoreWriter,
        *,
        secrets: SecretFunctions | None = None,
        http_factory: Callable[[str], HttpClient] = client_for,
        auth_timeout: float = DEFAULT_AUTH_TIMEOUT,
        bluesky_http_factory: Callable[[str], HttpClient] = bluesky_session.client_for,
    ) -> None:
        self._writer = writer
        self._secrets = secrets or SecretFunctions()
        self._http_factory = http_factory
        self._bluesky_http = bluesky_http_factory
        self._auth_timeout = auth_timeout
        self._registrations = KeyringRegistrations(self._secrets.store, self._secrets.load, self._secrets.delete)
        # The app hangs its sync engine here: start syncing an added account, stop one before it is removed.
        self.on_added: list[AddedHook] = []
        self.on_removing: list[RemovingHook] = []
        self.last_warning = ""  # something the owner should know about the last account added (not an error)

    # -- reading ---------------------------------------------------------------------------------------------------

    async def list_accounts(self) -> list[Account]:
        return await self._writer.call(Inbox.accounts)

    async def find(self, account_id: str) -> Account:
        for account in await self.list_accounts():
            if account.id == account_id:
                return account
        raise AccountError(f"There is no account “{account_id}” in this inbox; `tend account list` shows them.")

    async def state_of(self, account: Account) -> str:
        """A few words for the owner: is this account ready to sync?"""
        if is_demo_account(account):
            return "demo"
        if account.network == FEED_NETWORK:
            return "watching"
        if account.needs_reconnect:
            return "needs reconnecting"
        try:
            token = await self._keyring(self._secrets.load, account.id, token_kind(account.network))
        except AccountError:
            return "keyring unavailable"
        return "connected" if token else "needs reconnecting (no saved access token)"

    # -- adding ----------------------------------------------------------------------------------------------------

    async def add_mastodon_with_token(self, server: str, token: str) -> Account:
        """Connect with an access token the owner created on their server (Preferences › Development)."""
        token = token.strip()
        if not token:
            raise AccountError("No access token was given.")
        server_url = normalise_server_url(server)
        try:
            await self._registrations.load(server_url)  # is there a keyring at all? ask before any network call
        except SecretStoreUnavailable as error:
            raise AccountError(str(error)) from None
        return await self._connect_mastodon(server_url, token)

    async def add_mastodon_oauth(
        self,
        server: str,
        open_browser: OpenBrowser,
        *,
        on_status: Status | None = None,
        expected_account_id: str | None = None,
    ) -> Account:
        """Sign in through the browser. With ``expected_account_id`` (reconnecting) the same account must sign in."""
        server_url = normalise_server_url(server)
        http = self._http_factory(server_url)
        try:
            token = await sign_in(
                server_url,
                registrations=self._registrations,
                open_browser=open_browser,
                timeout=self._auth_timeout,
                on_status=on_status,
                http=http,
            )
        except SecretStoreUnavailable as error:
            raise AccountError(str(error)) from None
        finally:
            await http.aclose()
        return await self._connect_mastodon(server_url, token, expected_account_id)

    async def add_bluesky(
        self, handle: str, app_password: str, *, service: str | None = None, plc_url: str | None = None
    ) -> Account:
        """Connect with a handle (or DID) and an app password. Only the session's refresh token is kept (in the
        keyring); the app password is used once, for ``createSession``, and forgotten. Adding an account again
        reconnects it."""
        # Is there a keyring at all? Ask before signing in: createSession is rate-limited, so never waste one.
        await self._keyring(self._secrets.load, "bluesky:keyring-check", REFRESH_TOKEN_KIND)
        signed = await bluesky_session.sign_in(handle, app_password, service=service, plc_url=plc_url,
                                               http_factory=self._bluesky_http)
        self.last_warning = (
            "You connected with your account password. Tend works, but an app password is safer: create one in "
            f"{bluesky_session.APP_PASSWORDS_HELP} and connect again with it." if signed.main_password else ""
        )
        return await self._store_and_add(signed.account, REFRESH_TOKEN_KIND, signed.refresh_token)

    async def add_feed(self, url: str) -> Account:
        """Watch an RSS or Atom feed. It is read once now, for its title and so that a wrong address (a page that
        is not a feed, plain http to another machine) fails here, in plain words, rather than at every sync.
        A web page that names its feed is enough. Adding a feed again refreshes its title. No keyring involved."""
        from console.connectors.feed import feed_account, probe_feed  # feedparser loads only for feeds

        info = await probe_feed(url)
        account = feed_account(info.url, info.title)
        await self._writer.call(Inbox.ensure_account, account)
        log.info("watching feed %s", account.id)
        await self._notify(self.on_added, account)
        return account

    async def reconnect(
        self, account_id: str, open_browser: OpenBrowser, *, on_status: Status | None = None
    ) -> Account:
        account = await self.find(account_id)
        if account.network == "bluesky":
            raise AccountError("To reconnect a Bluesky account, add it again with an app password "
                               f"(`tend account add bluesky --handle {account.handle.lstrip('@')}`).")
        if account.network != "mastodon":
            raise AccountError(f"Tend cannot reconnect {network_name(account.network)} accounts yet.")
        return await self.add_mastodon_oauth(
            account.server_url, open_browser, on_status=on_status, expected_account_id=account.id
        )

    async def _connect_mastodon(self, server_url: str, token: str, expected_account_id: str | None = None) -> Account:
        http = self._http_factory(server_url)
        try:
            identity = await fetch_identity(http, server_url, token)
        finally:
            await http.aclose()
        account = identity.account()
        if expected_account_id is not None and account.id != expected_account_id:
            raise AccountError(
                f"You signed in as {account.handle}, but this is {expected_account_id.split(':', 1)[-1]}: "
                "sign in as that account, or add the new one with “Add Mastodon account…”."
            )
        return await self._store_and_add(account, TOKEN_KIND, token)

    async def _store_and_add(self, account: Account, kind: str, token: str) -> Account:
        """The token into the keyring first, then the account row; a failed row write takes a new token back."""
        known = {a.id for a in await self.list_accounts()}
        await self._keyring(self._secrets.store, account.id, kind, token)
        try:
            await self._writer.call(Inbox.ensure_account, account)
        except InboxError:
            if account.id not in known:
                await self._keyring(self._secrets.delete, account.id, kind)
            raise
        log.info("connected %s", account.id)
        await self._notify(self.on_added, account)
        return account

    # -- removing --------------------------------------------------------------------------------------------------

    async def remove_account(self, account_id: str, *, keep_history: bool) -> Removal:
        """Stop syncing, withdraw and forget the token, then remove (or archive) the account in the inbox."""
        account = await self.find(account_id)
        await self._notify(self.on_removing, account_id)
        revoked, warning = True, ""
        if holds_secret(account):
            revoked, warning = await self._forget_token(account)
        await self._writer.call(Inbox.remove_account, account_id, keep_history=keep_history)
        log.info("removed %s (history %s)", account_id, "kept" if keep_history else "deleted")
        return Removal(account, keep_history, revoked, warning)

    async def _forget_token(self, account: Account) -> tuple[bool, str]:
        kind = token_kind(account.network)
        try:
            token = await self._keyring(self._secrets.load, account.id, kind)
        except AccountError as error:
            return False, f"Tend could not open your keyring, so it could not withdraw its access: {error}"
        if not token:
            return True, ""
        revoked, warning = True, ""
        if account.network == "mastodon":
            revoked, warning = await self._revoke_mastodon(account, token)
        elif account.network == "bluesky":
            revoked, warning = await self._end_bluesky_session(account, token)
        try:
            await self._keyring(self._secrets.delete, account.id, kind)
        except AccountError as error:
            return False, f"Tend could not delete the saved access token: {error}"
        return revoked, warning

    async def _revoke_mastodon(self, account: Account, token: str) -> tuple[bool, str]:
        host = server_host(account.server_url)
        try:
            try:
                registration = await self._registrations.load(account.server_url)
            except SecretStoreUnavailable as error:
                raise AccountError(str(error)) from None
            http = self._http_factory(account.server_url)
            try:
                await revoke_token(http, token, registration)
            finally:
                await http.aclose()
        except (ConnectorError, AccountError) as error:
            log.warning("could not revoke the token of %s: %s", account.id, getattr(error, "detail", "") or error)
            return False, (
                f"Tend could not withdraw its access on {host} ({error}). To be sure, remove Tend from the "
                "authorised apps in your account settings on the server."
            )
        return True, ""

    async def _end_bluesky_session(self, account: Account, refresh_token: str) -> tuple[bool, str]:
        http = self._bluesky_http(account.server_url)
        try:
            await bluesky_session.end_session(http, refresh_token)
        except ConnectorError as error:
            log.warning("could not end the Bluesky session of %s: %s", account.id, error.detail or error)
            return False, (
                f"Tend could not sign out of Bluesky ({error}). To be sure, delete the app password you gave Tend "
                f"in {bluesky_session.APP_PASSWORDS_HELP}."
            )
        finally:
            await http.aclose()
        return True, ""

    # -- plumbing --------------------------------------------------------------------------------------------------

    async def _keyring(self, function: Callable[..., T], *args: Any) -> T:
        try:
            return await off_loop(function, *args)
        except SecretStoreUnavailable as error:
            raise AccountError(str(error)) from None

    @staticmethod
    async def _notify(hooks: list[Callable[[Any], Awaitable[None] | None]], value: Any) -> None:
        for hook in hooks:
            try:
                outcome = hook(value)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # a listener's failure must not undo what the owner asked for
                log.exception("account listener failed")


__all__ = ["AccountError", "AccountService", "Removal", "SecretFunctions", "network_name"]
