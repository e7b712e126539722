"""Fixtures the service tests share: a real inbox file in ``tmp_path`` and the writer thread over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.services.writer import StoreWriter
from console.store import Inbox


@pytest.fixture
def inbox_path(tmp_path: Path) -> Path:
    return tmp_path / "inbox.db"


@pytest.fixture
def writer(inbox_path: Path) -> Iterator[StoreWriter]:
    writer = StoreWriter(Inbox.open(inbox_path))
    yield writer
    writer.close()
