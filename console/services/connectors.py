"""Which connector serves which account in the inbox, and why an account cannot be served when it cannot."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from console.connectors.base import Connector
from console.connectors.errors import ConnectorError
from console.domain import Account, utc_now
from console.secrets import SecretStoreUnavailable, load_secret, off_loop, store_secret
from console.services.x_usage import XUsageStore

log = logging.getLogger(__name__)

DEMO_SCHEME = "demo://"
TOKEN_KIND = "access_token"
REFRESH_TOKEN_KIND = "refresh_token"  # Bluesky and X keep a refresh token; access tokens live in memory only
# X: the client id of the owner's own developer app. Not a secret, but it belongs with the token it was issued
# with (X checks the pair on every refresh), so it is kept beside it, and never logged.
CLIENT_ID_KIND = "client_id"
X_NETWORK = "x"
FEED_NETWORK = "feed"  # RSS/Atom watches: public documents, so no secret at all

LoadSecret = Callable[[str, str], str | None]
StoreSecret = Callable[[str, str, str], None]


@dataclass(frozen=True, slots=True)
class Unserved:
    """An account no connector can sync right now, and the owner-readable reason."""

    account: Account
    reason: str


def is_demo_account(account: Account) -> bool:
    return account.server_url.startswith(DEMO_SCHEME)


def holds_secret(account: Account) -> bool:
    """Whether the keyring holds something for this account (demo accounts and feeds have nothing to keep)."""
    return not is_demo_account(account) and account.network != FEED_NETWORK


def token_kind(network: str) -> str:
    """Which token the keyring holds for an account of this network."""
    return REFRESH_TOKEN_KIND if network in ("bluesky", X_NETWORK) else TOKEN_KIND


def secret_kinds(network: str) -> tuple[str, ...]:
    """Everything the keyring holds for an account of this network (all of it goes when the account goes)."""
    return (REFRESH_TOKEN_KIND, CLIENT_ID_KIND) if network == X_NETWORK else (token_kind(network),)


def demo_connectors(seed: int, clock: Callable[[], datetime] = utc_now, tick_seconds: float = 3.0) -> list[Connector]:
    """The embedded demo network's three accounts, sharing one simulated world."""
    from console.connectors.demo import DemoNetwork

    return list(DemoNetwork(seed=seed, clock=clock, tick_seconds=tick_seconds).connectors())


def mastodon_connector(account: Account, load_token: LoadSecret = load_secret) -> Connector | Unserved:
    """A Mastodon connector holding the account's token from the keyring, or why there cannot be one."""
    try:
        # Imported here so that a build without the Mastodon connector still runs the demo.
        from console.connectors.mastodon import MastodonConnector
    except ImportError:
        log.exception("the Mastodon connector could not be loaded")
        return Unserved(account, "this version of Tend cannot sync Mastodon")
    try:
        token = load_token(account.id, TOKEN_KIND)
    except SecretStoreUnavailable as error:
        return Unserved(account, str(error))
    if not token:
        return Unserved(account, "no saved access token: reconnect the account (Accounts…, or `tend account add`)")
    return MastodonConnector(account, token)


def bluesky_connector(
    account: Account, load_token: LoadSecret = load_secret, store_token: StoreSecret = store_secret
) -> Connector | Unserved:
    """A Bluesky connector holding the account's refresh token; each rotation goes back into the keyring."""
    try:
        from console.connectors.bluesky import BlueskyConnector
    except ImportError:
        log.exception("the Bluesky connector could not be loaded")
        return Unserved(account, "this version of Tend cannot sync Bluesky")
    try:
        token = load_token(account.id, REFRESH_TOKEN_KIND)
    except SecretStoreUnavailable as error:
        return Unserved(account, str(error))
    if not token:
        return Unserved(account, "no saved sign-in: reconnect the account (Accounts…, or `tend account add bluesky`)")

    async def save(new_token: str) -> None:
        await off_loop(store_token, account.id, REFRESH_TOKEN_KIND, new_token)

    try:
        return BlueskyConnector(account, token, save_refresh_token=save)
    except ValueError as error:  # an account row without its DID: only connecting it again can fix that
        log.warning("cannot sync %s: %s", account.id, error)
        return Unserved(account, "its details are incomplete: reconnect the account (`tend account add bluesky`)")


def x_connector(
    account: Account, load_token: LoadSecret = load_secret, store_token: StoreSecret = store_secret,
    usage: XUsageStore | None = None,
) -> Connector | Unserved:
    """An X connector holding the account's refresh token and its app's client id; every rotated refresh token goes
    back into the keyring (X spends the old one on first use). ``usage`` keeps the monthly read cap and count."""
    try:
        from console.connectors.x import XConnector
    except ImportError:
        log.exception("the X connector could not be loaded")
        return Unserved(account, "this version of Tend cannot sync X")
    again = "connect it again (Accounts…, or `tend account add x --client-id ID`)"
    try:
        token = load_token(account.id, REFRESH_TOKEN_KIND)
        client_id = load_token(account.id, CLIENT_ID_KIND) if token else None
    except SecretStoreUnavailable as error:
        return Unserved(account, str(error))
    if not token:
        return Unserved(account, f"no saved sign-in: {again}")
    if not client_id:
        return Unserved(account, f"the client id of your X app is not saved: {again}")

    async def save(new_token: str) -> None:
        await off_loop(store_token, account.id, REFRESH_TOKEN_KIND, new_token)

    cap, state = None, None
    if usage is not None:
        try:
            cap, state = usage.cap(account.id), usage.read_state(account.id)
        except OSError as error:  # a folder Tend cannot read: count from nothing rather than not sync at all
            log.warning("cannot read the X read counts of %s: %s", account.id, error)
    keep_count = functools.partial(usage.save_read_state, account.id) if usage is not None else None
    try:
        return XConnector.with_refresh_token(
            account, client_id=client_id, refresh_token=token, save_refresh_token=save, base_url=account.server_url,
            monthly_read_cap=cap, read_state=state, on_read_state=keep_count,
        )
    except ValueError as error:
        log.warning("cannot sync %s: %s", account.id, error)
        return Unserved(account, f"its details are incomplete: {again}")


def feed_connector(account: Account) -> Connector | Unserved:
    """A feed watch: no secret to load, only an address to read."""
    try:
        from console.connectors.feed import FeedConnector
    except ImportError:
        log.exception("the feed connector could not be loaded")
        return Unserved(account, "this version of Tend cannot read feeds")
    try:
        return FeedConnector(account)
    except ConnectorError as error:  # an address stored before it would be refused now (plain http elsewhere)
        return Unserved(account, str(error))


def connectors_for(
    accounts: list[Account], *, demo_seed: int = 7, load_token: LoadSecret = load_secret,
    store_token: StoreSecret = store_secret, state_dir: Path | None = None,
) -> tuple[list[Connector], list[Unserved]]:
    """Build connectors for the inbox's accounts; returns them and the accounts that cannot be synced, with why.

    ``state_dir`` (the inbox's folder) is where small per-account state lives between runs, such as X's monthly
    read count (``x-usage.json``); without it nothing is kept and no X read cap applies."""
    usage = XUsageStore.in_folder(state_dir) if state_dir is not None else None
    connectors: list[Connector] = []
    unserved: list[Unserved] = []
    demo = [a for a in accounts if is_demo_account(a)]
    if demo:
        wanted = {a.id for a in demo}
        connectors += [c for c in demo_connectors(demo_seed) if c.account.id in wanted]
    for account in accounts:
        if is_demo_account(account):
            continue
        if account.network == "mastodon":
            built = mastodon_connector(account, load_token)
        elif account.network == "bluesky":
            built = bluesky_connector(account, load_token, store_token)
        elif account.network == X_NETWORK:
            built = x_connector(account, load_token, store_token, usage)
        elif account.network == FEED_NETWORK:
            built = feed_connector(account)
        else:
            built = Unserved(account, f"this version of Tend cannot sync {account.network} yet")
        if isinstance(built, Unserved):
            unserved.append(built)
        else:
            connectors.append(built)
    return connectors, unserved
