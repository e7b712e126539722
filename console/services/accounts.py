"""Adding, listing and removing the business's own accounts: the keyring for tokens, the inbox for everything else.

The token goes into the keyring before the account row is written, so the inbox never lists an account Tend has
no way to sync; removal withdraws the token on the server first (a failure there is reported, never a reason to
keep an account the owner wants gone), then forgets it locally, then removes the row.

Keyring calls run on a worker thread: an OS keyring may be locked and ask the owner to unlock it, and the Qt
thread must not wait for that.

X accounts keep two keyring entries: the refresh token and the client id of the owner's own X developer app (X has
no app registration API, so the owner creates the app and hands Tend its id; the pair must match on every refresh).
Their monthly read cap lives in ``x-usage.json`` beside the inbox (``XUsageStore``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
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
from console.connectors import bluesky_session, x_auth
from console.connectors.x_reads import MonthlyReads
from console.domain import Account, utc_now
from console.secrets import SecretStoreUnavailable, off_loop
from console.services.connectors import (
    CLIENT_ID_KIND, FEED_NETWORK, REFRESH_TOKEN_KIND, TOKEN_KIND, X_NETWORK, holds_secret, is_demo_account,
    secret_kinds, token_kind,
)
from console.services.x_usage import XUsageStore
from console.services.writer import StoreWriter
from console.store import Inbox, InboxError
from console.sync import NETWORK_NAMES

log = logging.getLogger(__name__)

T = TypeVar("T")
X_CLIENT_ID_HELP = "X developer portal → your app → Keys and tokens → OAuth 2.0 Client ID"
X_CONNECTED_APPS = "x.com → Settings → Security and account access → Apps and sessions → Connected apps"
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
        x_usage: XUsageStore | None = None,
        x_api_base: str | None = None,
        x_authorize_url: str | None = None,
        x_redirect_port: int | None = None,
    ) -> None:
        self._writer = writer
        self._x_usage = x_usage
        # X's addresses and the callback port are read from x_auth when None, at the time of use.
        self._x_api_base = x_api_base
        self._x_authorize_url = x_authorize_url
        self._x_redirect_port = x_redirect_port
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
            client_id = await self._keyring(self._secrets.load, account.id, CLIENT_ID_KIND) \
                if token and account.network == X_NETWORK else "not needed"
        except AccountError:
            return "keyring unavailable"
        if not token:
            return "needs reconnecting (no saved access token)"
        if not client_id:
            return "needs reconnecting (no saved client id of your X app)"
        if account.network == X_NETWORK:
            return f"connected ({self.x_reads_text(account.id)})"
        return "connected"

    def x_cap(self, account_id: str) -> int | None:
        """The monthly read cap set for an X account (None: not set, or no place to keep one)."""
        return self._x_usage_of(account_id)[0]

    def x_reads_text(self, account_id: str) -> str:
        """``"1,240 of 10,000 reads left this month"``, or the posts read when no cap is set."""
        cap, state = self._x_usage_of(account_id)
        return MonthlyReads(cap, state, utc_now).text()

    def _x_usage_of(self, account_id: str) -> tuple[int | None, dict[str, Any] | None]:
        if self._x_usage is None:
            return None, None
        try:
            return self._x_usage.cap(account_id), self._x_usage.read_state(account_id)
        except OSError as error:
            log.warning("cannot read the X read counts: %s", error)
            return None, None

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
        return await self._store_and_add(signed.account, {REFRESH_TOKEN_KIND: signed.refresh_token})

    async def add_x(
        self,
        client_id: str,
        open_browser: OpenBrowser,
        *,
        on_status: Status | None = None,
        monthly_read_cap: int | None = None,
        expected_account_id: str | None = None,
    ) -> Account:
        """Connect an X account through the browser with the client id of the owner's own X app.

        ``monthly_read_cap``: the posts Tend may read per month on this account (the owner's tier's cap); 0 means
        not known (Tend counts but never stops), None keeps what was set before. With ``expected_account_id``
        (reconnecting) the same account must sign in. Only the refresh token and the client id are kept, in the
        keyring."""
        client_id = client_id.strip()
        if not client_id:
            raise AccountError(f"Enter the client id of your X app ({X_CLIENT_ID_HELP}).")
        if any(c.isspace() for c in client_id) or not client_id.isprintable() or len(client_id) > 200:
            raise AccountError(f"That does not look like an X client id (one word, no spaces): copy it from "
                               f"{X_CLIENT_ID_HELP}.")
        if monthly_read_cap is not None and (isinstance(monthly_read_cap, bool) or monthly_read_cap < 0):
            raise AccountError("The monthly read cap is a number of posts, 0 or more (0: not known).")
        # Is there a keyring at all? Ask before the owner spends time approving Tend on X.
        await self._keyring(self._secrets.load, "x:keyring-check", REFRESH_TOKEN_KIND)
        api_base = self._x_api_base or x_auth.API_BASE
        http = x_auth.client_for(api_base)
        try:
            tokens = await x_auth.sign_in(
                client_id,
                http=http,
                redirect_port=self._x_redirect_port or x_auth.DEFAULT_REDIRECT_PORT,
                open_browser=open_browser,
                timeout=self._auth_timeout,
                on_status=on_status,
                authorize_url=self._x_authorize_url or x_auth.AUTHORIZE_URL,
            )
            identity = await x_auth.fetch_identity(http, tokens.access_token)
            account = identity.account(api_base)
            if expected_account_id is not None and account.id != expected_account_id:
                await self._revoke_quietly(http, client_id, tokens.refresh_token)
                raise AccountError(
                    f"You signed in as {account.handle}, but this is another X account: sign in as that account "
                    "(sign out of X in your browser first), or add the new one with “Add X account…”."
                )
        finally:
            await http.aclose()
        self._save_x_cap(account.id, monthly_read_cap)
        return await self._store_and_add(account, {CLIENT_ID_KIND: client_id, REFRESH_TOKEN_KIND: tokens.refresh_token})

    def _save_x_cap(self, account_id: str, cap: int | None) -> None:
        self.last_warning = ""
        if self._x_usage is None or cap is None:
            return
        try:
            self._x_usage.set_cap(account_id, cap or None)
        except OSError as error:
            log.warning("could not save the X read cap of %s: %s", account_id, error)
            self.last_warning = f"Tend could not save the monthly read cap ({error.strerror or error}); it counts " \
                                "reads without stopping until you set it again."

    @staticmethod
    async def _revoke_quietly(http: HttpClient, client_id: str, token: str) -> None:
        try:
            await x_auth.revoke_token(http, client_id, token)
        except ConnectorError as error:
            log.warning("could not withdraw an unwanted X sign-in: %s", error.detail or error)

    async def add_feed(self, url: str) -> Account:
        """Watch an RSS or Atom feed. It is read once now, for its title and so that a wrong address (a page that
        is not a feed, plain http to another machine) fails here, in plain words, rather than at every sync.
        A web page that names its feed is enough. Adding a feed again refreshes its title. No keyring involved."""
        from console.connectors.feed_address import feed_account
        from console.connectors.feed_probe import probe_feed  # feedparser loads only for feeds

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
        if account.network == X_NETWORK:
            client_id = await self._keyring(self._secrets.load, account.id, CLIENT_ID_KIND)
            if not client_id:
                raise AccountError("Tend no longer has the client id of your X app: add the account again with "
                                   "“Add X account…” (or `tend account add x --client-id ID`).")
            return await self.add_x(client_id, open_browser, on_status=on_status, expected_account_id=account.id)
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
        return await self._store_and_add(account, {TOKEN_KIND: token})

    async def _store_and_add(self, account: Account, secrets: Mapping[str, str]) -> Account:
        """The secrets into the keyring first, then the account row; a failed row write takes new secrets back."""
        known = {a.id for a in await self.list_accounts()}
        for kind, value in secrets.items():
            await self._keyring(self._secrets.store, account.id, kind, value)
        try:
            await self._writer.call(Inbox.ensure_account, account)
        except InboxError:
            if account.id not in known:
                for kind in secrets:
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
        kinds = secret_kinds(account.network)
        if not token and kinds == (kind,):
            return True, ""  # nothing to withdraw and nothing to forget
        revoked, warning = True, ""
        if token and account.network == "mastodon":
            revoked, warning = await self._revoke_mastodon(account, token)
        elif token and account.network == "bluesky":
            revoked, warning = await self._end_bluesky_session(account, token)
        elif token and account.network == X_NETWORK:
            revoked, warning = await self._revoke_x(account, token)
        try:
            for each in kinds:  # X: the client id goes with the token, even when the token was already gone
                await self._keyring(self._secrets.delete, account.id, each)
        except AccountError as error:
            return False, f"Tend could not delete the saved access token: {error}"
        return revoked, warning

    async def _revoke_x(self, account: Account, refresh_token: str) -> tuple[bool, str]:
        advice = f"To be sure, remove the app you made for Tend in {X_CONNECTED_APPS}."
        try:
            client_id = await self._keyring(self._secrets.load, account.id, CLIENT_ID_KIND)
        except AccountError as error:
            return False, f"Tend could not read the client id of your X app to sign out ({error}). {advice}"
        if not client_id:
            return False, f"Tend no longer had the client id of your X app, so it could not sign out of X. {advice}"
        http = x_auth.client_for(account.server_url)
        try:
            await x_auth.revoke_token(http, client_id, refresh_token)
        except ConnectorError as error:
            log.warning("could not revoke the X token of %s: %s", account.id, error.detail or error)
            return False, f"Tend could not sign out of X ({error}). {advice}"
        finally:
            await http.aclose()
        return True, ""

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
