"""Exports: CSV and JSON that give back exactly what customers wrote, written whole or not at all, page by page."""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from console.cli import parse_args, run_export_command
from console.domain import Batch, Direction, ThreadStatus
from console.store import export as export_module
from console.store.database import connect
from console.store.export import COLUMNS, ExportError, export_thread, export_view, read_export
from console.store.queries import Order, View, ViewKind, list_threads

HOSTILE = [
    "a, b, and c",
    'she said "no refund"',
    "line one\nline two\r\nline three\rend",
    "=HYPERLINK(\"http://evil.example\", \"click\")",
    "+1 555 0100",
    "-minus",
    "@everyone",
    "'already quoted",
    "''twice",
    "\tindented",
    "👩‍👩‍👧 family ✨🇺🇦",
    "مرحبا، أين طلبي؟",
    "\u202eevil right-to-left override",
    "\ufeffstarts with a byte-order mark",
    "",
    " ",
]

# Anything a network can deliver except what SQLite text or a CSV cannot hold: NUL, and lone surrogates (not UTF-8).
TEXTS = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=80)


@pytest.fixture
def conversation(inbox, records):
    """One thread: a customer post, our reply to it, and a second customer post later deleted."""
    inbox.apply_batch(records.batch(
        records.post("1", "t1", minute=0, text=HOSTILE[1], url="https://example.social/@alice/1",
                     reshare_count=2, quote_count=1, like_count=5, reply_count=1),
        records.post("2", "t1", minute=5, direction=Direction.OUT, parent_id="mastodon:1", text=HOSTILE[2],
                     visibility="direct"),
        records.post("3", "t1", minute=9, author="bob", parent_id="mastodon:2", text=HOSTILE[10]),
        authors=(
            records.author("alice", display_name="Alice, \"the\" baker", followers_count=1234),
            records.author("bob", display_name="بوب"),
            records.author("biz-author", handle="biz@example.social", display_name="The Bakery"),
        ),
    ))
    inbox.apply_batch(Batch(records.post("1", "t1").account_id, "mentions", deleted_post_ids=("mastodon:3",)))
    return inbox


def test_a_thread_exports_one_row_per_post_with_every_column(conversation, tmp_path, helpers):
    result = export_thread(conversation.db, "mastodon:t1", tmp_path / "thread.csv")
    assert (result.threads, result.posts) == (1, 3)
    rows = read_export(tmp_path / "thread.csv")
    assert rows[0] == {
        "thread_id": "mastodon:t1",
        "network": "mastodon",
        "account_id": helpers.account.id,
        "post_id": "mastodon:1",
        "parent_id": None,
        "direction": "in",
        "author_handle": "alice@example.social",
        "author_name": 'Alice, "the" baker',
        "author_followers": 1234,
        "text": HOSTILE[1],
        "created_at": helpers.at(0),
        "url": "https://example.social/@alice/1",
        "reshare_count": 2,
        "quote_count": 1,
        "like_count": 5,
        "reply_count": 1,
        "visibility": "public",
        "deleted_at": None,
    }
    assert [(r["post_id"], r["direction"], r["parent_id"]) for r in rows] == [
        ("mastodon:1", "in", None), ("mastodon:2", "out", "mastodon:1"), ("mastodon:3", "in", "mastodon:2"),
    ]
    assert rows[1]["text"] == HOSTILE[2] and rows[1]["visibility"] == "direct"
    assert rows[2]["deleted_at"] is not None and rows[2]["author_name"] == "بوب"


def test_csv_and_json_of_the_same_thread_read_back_the_same(conversation, tmp_path):
    export_thread(conversation.db, "mastodon:t1", tmp_path / "t.csv")
    export_thread(conversation.db, "mastodon:t1", tmp_path / "t.json")
    assert read_export(tmp_path / "t.csv") == read_export(tmp_path / "t.json")


def test_csv_is_a_spreadsheet_file_with_a_header(conversation, tmp_path):
    export_thread(conversation.db, "mastodon:t1", tmp_path / "t.csv")
    raw = (tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with the mark spreadsheets look for
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 4


def test_json_lists_threads_with_their_fields_and_posts(conversation, tmp_path):
    export_thread(conversation.db, "mastodon:t1", tmp_path / "t.json")
    raw = (tmp_path / "t.json").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert "👩‍👩‍👧".encode() in raw  # written as text, not \u escapes
    [thread] = json.loads(raw)
    assert thread["thread_id"] == "mastodon:t1"
    assert thread["status"] == "open"
    assert thread["reshare_total"] == 3
    assert thread["heat"] == 0  # the column exists from schema v6
    assert [p["post_id"] for p in thread["posts"]] == ["mastodon:1", "mastodon:2", "mastodon:3"]


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused_yet_read_back_exactly(inbox, records, tmp_path):
    posts = [records.post(f"f{n}", "tf", minute=n, text=text) for n, text in enumerate(HOSTILE)]
    inbox.apply_batch(records.batch(*posts))
    export_thread(inbox.db, "mastodon:tf", tmp_path / "f.csv")
    with (tmp_path / "f.csv").open(encoding="utf-8-sig", newline="") as file:
        cells = [row["text"] for row in csv.DictReader(file)]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t")) for cell in cells)
    assert "'=HYPERLINK(\"http://evil.example\", \"click\")" in cells
    assert "''already quoted" in cells
    assert [row["text"] for row in read_export(tmp_path / "f.csv")] == HOSTILE


_ids = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS, name=TEXTS, handle=TEXTS)
@example(text="\r", name="\n", handle='"')
@example(text='"\r\n"', name=",", handle="'=1")
def test_any_text_round_trips_through_both_formats(inbox, records, tmp_path, text, name, handle):
    n = next(_ids)
    author = records.author(f"h{n}", display_name=name, handle=handle)
    inbox.apply_batch(records.batch(records.post(f"h{n}", f"h{n}", author=f"h{n}", text=text), authors=(author,)))
    for suffix in ("csv", "json"):
        path = tmp_path / f"h.{suffix}"
        export_thread(inbox.db, f"mastodon:h{n}", path)
        [row] = read_export(path)
        assert (row["text"], row["author_name"], row["author_handle"]) == (text, name, handle)


# -- views, paged ------------------------------------------------------------------------------------------------


@pytest.fixture
def seven_threads(inbox, records):
    inbox.apply_batch(records.batch(*(
        records.post(f"p{n}{k}", f"v{n}", minute=n * 10 + k, text=f"thread {n} post {k}" + (" refund" * (n % 2)))
        for n in range(7) for k in range(2)
    )))
    return inbox


def _spy_on_pages(monkeypatch, on_page=None) -> list[tuple[int, tuple[str, str] | None]]:
    calls: list[tuple[int, tuple[str, str] | None]] = []

    def spying_list_threads(db, view, limit, after=None, order=Order.LATEST):
        calls.append((limit, after))
        rows = list_threads(db, view, limit, after, order)
        if on_page is not None:
            on_page(len(calls))
        return rows

    monkeypatch.setattr(export_module, "list_threads", spying_list_threads)
    return calls


def test_a_view_export_pages_through_the_threads(seven_threads, tmp_path, monkeypatch):
    calls = _spy_on_pages(monkeypatch)
    result = export_view(seven_threads.db, View(ViewKind.ALL), tmp_path / "all.csv", page_size=3)
    assert [limit for limit, _ in calls] == [3, 3, 3]  # 3 + 3 + 1: no page larger than asked
    assert calls[0][1] is None and calls[1][1] is not None
    assert (result.threads, result.posts) == (7, 14)
    rows = read_export(tmp_path / "all.csv")
    threads = list(dict.fromkeys(r["thread_id"] for r in rows))
    assert threads == [f"mastodon:v{n}" for n in reversed(range(7))]  # newest activity first, each once


def test_an_exact_multiple_of_the_page_size_ends_cleanly(seven_threads, tmp_path):
    result = export_view(seven_threads.db, View(ViewKind.ALL), tmp_path / "all.json", page_size=7)
    assert result.threads == 7
    assert len(json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))) == 7


def test_a_view_export_is_one_snapshot_while_the_inbox_keeps_changing(seven_threads, records, tmp_path, monkeypatch):
    """New activity moves a thread to the top of the list: without a snapshot, keyset paging would skip it."""
    def sync_writes(page: int) -> None:
        if page == 1:
            seven_threads.apply_batch(records.batch(records.post("late", "v0", minute=500)))

    _spy_on_pages(monkeypatch, sync_writes)
    reader = connect(seven_threads.path)
    reader.execute("PRAGMA query_only = 1")
    try:
        result = export_view(reader, View(ViewKind.ALL), tmp_path / "all.csv", page_size=3)
    finally:
        reader.close()
    rows = read_export(tmp_path / "all.csv")
    assert sorted({r["thread_id"] for r in rows}) == sorted(f"mastodon:v{n}" for n in range(7))
    assert "mastodon:late" not in {r["post_id"] for r in rows}
    assert result.posts == 14


def test_a_searched_view_exports_only_the_matches(seven_threads, tmp_path):
    result = export_view(seven_threads.db, View(ViewKind.ALL, search="refund"), tmp_path / "r.json", page_size=2)
    assert result.threads == 3
    assert {r["thread_id"] for r in read_export(tmp_path / "r.json")} == {"mastodon:v1", "mastodon:v3", "mastodon:v5"}


def test_an_empty_view_writes_an_empty_export(inbox, tmp_path):
    export_view(inbox.db, View(ViewKind.DONE), tmp_path / "none.json")
    export_view(inbox.db, View(ViewKind.DONE), tmp_path / "none.csv")
    assert json.loads((tmp_path / "none.json").read_text(encoding="utf-8")) == []
    assert read_export(tmp_path / "none.csv") == []


@pytest.mark.parametrize("order", list(Order))
def test_a_view_exports_whole_in_either_list_order(seven_threads, tmp_path, order):
    result = export_view(seven_threads.db, View(ViewKind.NEEDS_REPLY), tmp_path / "n.csv", order=order, page_size=3)
    assert (result.threads, result.posts) == (7, 14)
    assert len({r["thread_id"] for r in read_export(tmp_path / "n.csv")}) == 7


# -- failures ----------------------------------------------------------------------------------------------------


def test_a_missing_folder_is_a_plain_error(conversation, tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        export_thread(conversation.db, "mastodon:t1", tmp_path / "nowhere" / "t.csv")


def test_a_folder_is_not_a_file_name(conversation, tmp_path):
    (tmp_path / "taken.csv").mkdir()
    with pytest.raises(ExportError, match="folder"):
        export_thread(conversation.db, "mastodon:t1", tmp_path / "taken.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inbox.db", "inbox.db-shm", "inbox.db-wal", "taken.csv"]


def test_an_unknown_suffix_asks_for_csv_or_json(conversation, tmp_path):
    with pytest.raises(ExportError, match=r"\.csv or \.json"):
        export_thread(conversation.db, "mastodon:t1", tmp_path / "t.xlsx")


def test_a_failed_export_leaves_an_earlier_file_and_no_leftovers(conversation, tmp_path, monkeypatch):
    target = tmp_path / "t.csv"
    target.write_text("an earlier export\n", encoding="utf-8")

    def broken_thread_posts(db, thread_id):
        raise RuntimeError("disk pulled out mid-export")

    monkeypatch.setattr(export_module, "thread_posts", broken_thread_posts)
    with pytest.raises(RuntimeError):
        export_thread(conversation.db, "mastodon:t1", target)
    assert target.read_text(encoding="utf-8") == "an earlier export\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert not conversation.db.conn.in_transaction  # the read snapshot was ended


def test_a_thread_that_is_gone_is_a_plain_error(inbox, tmp_path):
    with pytest.raises(ExportError, match="no longer in the inbox"):
        export_thread(inbox.db, "mastodon:gone", tmp_path / "t.csv")
    assert not (tmp_path / "t.csv").exists()


# -- tend export -------------------------------------------------------------------------------------------------


def _tend_export(argv: list[str]) -> tuple[int, str, str]:
    args = parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code = run_export_command(args, args.db, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_tend_export_a_view(seven_threads, tmp_path):
    target = tmp_path / "refunds.json"
    code, out, err = _tend_export(["export", "--db", str(seven_threads.path), "--search", "refund", str(target)])
    assert (code, err) == (0, "")
    assert out == f"Exported 6 posts from 3 conversations to {target}\n"
    assert len(read_export(target)) == 6


def test_tend_export_with_the_global_db_option_and_a_view(seven_threads, tmp_path):
    seven_threads.set_thread_status("mastodon:v2", ThreadStatus.DONE)
    target = tmp_path / "done.csv"
    code, out, _ = _tend_export(["--db", str(seven_threads.path), "export", "--view", "done", str(target)])
    assert code == 0
    assert {r["thread_id"] for r in read_export(target)} == {"mastodon:v2"}


def test_tend_export_one_thread(conversation, tmp_path):
    target = tmp_path / "one.csv"
    code, out, _ = _tend_export(["export", "--db", str(conversation.path), "--thread", "mastodon:t1", str(target)])
    assert code == 0 and "Exported 3 posts from 1 conversation to" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--thread", "mastodon:t1", "--view", "open"], "leave out --view"),
        (["--thread", "mastodon:gone"], "no longer in the inbox"),
    ],
)
def test_tend_export_refusals_are_one_plain_line(conversation, tmp_path, extra, message):
    code, out, err = _tend_export(["export", "--db", str(conversation.path), *extra, str(tmp_path / "x.csv")])
    assert code == 1 and out == ""
    assert message in err and err.count("\n") == 1


def test_tend_export_to_a_missing_folder(conversation, tmp_path):
    code, _, err = _tend_export(["export", "--db", str(conversation.path), str(tmp_path / "no" / "x.csv")])
    assert code == 1 and "does not exist" in err


def test_tend_export_without_an_inbox_creates_nothing(tmp_path):
    code, _, err = _tend_export(["export", "--db", str(tmp_path / "missing.db"), str(tmp_path / "x.csv")])
    assert code == 1 and "no inbox" in err
    assert list(tmp_path.iterdir()) == []


def test_tend_export_view_choices_come_from_the_views():
    with pytest.raises(SystemExit):
        parse_args(["export", "--view", "account", "x.csv"])
    assert parse_args(["export", "--view", "needs_reply", "x.csv"]).view == "needs_reply"


def test_tend_export_never_writes_to_the_inbox(conversation, tmp_path, helpers):
    before = helpers.dump(conversation.db.conn, "posts"), helpers.dump(conversation.db.conn, "threads")
    _tend_export(["export", "--db", str(conversation.path), str(tmp_path / "x.json")])
    assert (helpers.dump(conversation.db.conn, "posts"), helpers.dump(conversation.db.conn, "threads")) == before
    assert Path(tmp_path / "x.json").exists()

