"""X's monthly read cap and count beside the inbox: kept between runs, written whole, a broken file never blocks."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import pytest

from console.connectors.x_reads import MonthlyReads
from console.services.x_usage import USAGE_FILE, XUsageStore

SHOP, OTHER = "x:17200003", "x:783214"


def test_cap_and_count_round_trip_through_the_file_beside_the_inbox(tmp_path: Path) -> None:
    store = XUsageStore.in_folder(tmp_path)
    assert store.path == tmp_path / "x-usage.json" == tmp_path / USAGE_FILE
    assert (store.cap(SHOP), store.read_state(SHOP), store.entries()) == (None, {}, {})
    assert not store.path.exists()  # reading creates nothing

    store.set_cap(SHOP, 10_000)
    store.save_read_state(SHOP, {"month": "2026-08", "reads": 8760})
    store.save_read_state(OTHER, {"month": "2026-08", "reads": 3})

    again = XUsageStore(tmp_path / "x-usage.json")  # another process, another day
    assert again.cap(SHOP) == 10_000 and again.read_state(SHOP) == {"month": "2026-08", "reads": 8760}
    assert again.cap(OTHER) is None and again.read_state(OTHER) == {"month": "2026-08", "reads": 3}
    assert json.loads(store.path.read_text()) == {
        SHOP: {"cap": 10_000, "month": "2026-08", "reads": 8760}, OTHER: {"cap": None, "month": "2026-08", "reads": 3}}
    assert [p.name for p in tmp_path.iterdir()] == ["x-usage.json"]  # no temporary file left behind

    again.set_cap(SHOP, None)  # the cap goes, the count stays
    assert store.cap(SHOP) is None and store.read_state(SHOP)["reads"] == 8760
    store.forget(OTHER)
    assert set(again.entries()) == {SHOP}


def test_two_stores_on_one_file_never_undo_each_other(tmp_path: Path) -> None:
    """The account service sets a cap while the sync engine's store counts reads: both survive."""
    service, engine = XUsageStore.in_folder(tmp_path), XUsageStore.in_folder(tmp_path)
    engine.save_read_state(SHOP, {"month": "2026-08", "reads": 40})
    service.set_cap(SHOP, 500)
    engine.save_read_state(SHOP, {"month": "2026-08", "reads": 41})
    assert service.entries() == {SHOP: {"cap": 500, "month": "2026-08", "reads": 41}}


def test_what_the_connector_hands_over_is_what_it_takes_back(tmp_path: Path) -> None:
    store = XUsageStore.in_folder(tmp_path)
    store.set_cap(SHOP, 100)
    august = datetime(2026, 8, 14, tzinfo=timezone.utc)
    reads = MonthlyReads(store.cap(SHOP), store.read_state(SHOP), lambda: august,
                         lambda state: store.save_read_state(SHOP, state))
    reads.add(60)
    later = MonthlyReads(store.cap(SHOP), store.read_state(SHOP), lambda: august)
    assert later.text() == "40 of 100 reads left this month"


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe\x00garbage", b""])
def test_an_unreadable_file_starts_empty_is_kept_aside_and_logged(
        tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture) -> None:
    store = XUsageStore.in_folder(tmp_path)
    store.path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="console.services.x_usage"):
        assert store.cap(SHOP) is None and store.read_state(SHOP) == {}
    assert "cannot be read" in caplog.text and "starting from nothing" in caplog.text
    assert (tmp_path / "x-usage.broken.json").read_bytes() == content
    store.set_cap(SHOP, 10)  # and Tend goes on keeping counts
    assert XUsageStore.in_folder(tmp_path).cap(SHOP) == 10


def test_entries_that_make_no_sense_are_left_out_or_cleaned(tmp_path: Path) -> None:
    path = tmp_path / USAGE_FILE
    path.write_text(json.dumps({
        SHOP: {"cap": -5, "month": "2026-08", "reads": True},  # a negative cap, a boolean count
        OTHER: "10000",
        "x:1": {"cap": 300, "month": "2026-07", "reads": 12},
    }))
    store = XUsageStore(path)
    assert store.entries() == {SHOP: {"cap": None}, "x:1": {"cap": 300, "month": "2026-07", "reads": 12}}
    with pytest.raises(ValueError):
        store.set_cap(SHOP, -1)
    store.save_read_state(SHOP, {"month": 7, "reads": 1})  # ignored, not stored
    assert store.read_state(SHOP) == {}
