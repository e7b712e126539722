"""Which connector serves which account in the inbox."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from console.connectors.base import Connector
from console.domain import Account, utc_now

log = logging.getLogger(__name__)

DEMO_SCHEME = "demo://"


def is_demo_account(account: Account) -> bool:
    return account.server_url.startswith(DEMO_SCHEME)


def demo_connectors(seed: int, clock: Callable[[], datetime] = utc_now, tick_seconds: float = 3.0) -> list[Connector]:
    """The embedded demo network's three accounts, sharing one simulated world."""
    from console.connectors.demo import DemoNetwork

    return list(DemoNetwork(seed=seed, clock=clock, tick_seconds=tick_seconds).connectors())


def connectors_for(accounts: list[Account], *, demo_seed: int = 7) -> tuple[list[Connector], list[Account]]:
    """Build connectors for the inbox's accounts; returns them and the accounts no connector can serve yet."""
    connectors: list[Connector] = []
    unserved: list[Account] = []
    demo = [a for a in accounts if is_demo_account(a)]
    if demo:
        wanted = {a.id for a in demo}
        connectors += [c for c in demo_connectors(demo_seed) if c.account.id in wanted]
    for account in accounts:
        if not is_demo_account(account):
            unserved.append(account)
    return connectors, unserved
