"""Fixtures the sync tests share: a real inbox file holding the shop's account, and the writer thread over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.domain import Account
from console.services.writer import StoreWriter
from console.store import Inbox

SHOP = Account("acct-1", "mastodon", "@shop", "https://shop.example")


@pytest.fixture
def inbox_path(tmp_path: Path) -> Path:
    inbox = Inbox.open(tmp_path / "inbox.db")
    inbox.ensure_account(SHOP)
    inbox.close()
    return tmp_path / "inbox.db"


@pytest.fixture
def writer(inbox_path: Path) -> Iterator[StoreWriter]:
    w = StoreWriter(Inbox.open(inbox_path))
    yield w
    w.close()
