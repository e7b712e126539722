"""Accounts, attachments, edits and deletions as real networks report them."""

from __future__ import annotations

import json
from dataclasses import replace

from console.domain import Attachment, Batch


def test_account_details_round_trip_and_reconnect_flag(inbox, helpers) -> None:
    detailed = replace(helpers.account, remote_id="109", char_limit=500)
    inbox.ensure_account(detailed)
    inbox.set_needs_reconnect(helpers.account.id, True)
    by_id = {a.id: a for a in inbox.accounts()}
    assert by_id[helpers.account.id].remote_id == "109" and by_id[helpers.account.id].char_limit == 500
    assert by_id[helpers.account.id].needs_reconnect
    inbox.ensure_account(detailed)  # reconnecting clears the flag
    assert not {a.id: a for a in inbox.accounts()}[helpers.account.id].needs_reconnect


def test_removing_an_account_can_keep_or_drop_its_history(inbox, records, helpers) -> None:
    inbox.apply_batch(records.batch(records.post("1"), cursor="c1"))
    inbox.apply_batch(records.batch(records.post("2", "t2", account=helpers.other_account), account=helpers.other_account, cursor="d1"))
    inbox.remove_account(helpers.account.id, keep_history=True)
    assert [a.id for a in inbox.accounts()] == [helpers.other_account.id]
    assert inbox.cursor(helpers.account.id, "mentions") is None
    assert inbox.db.execute("SELECT count(*) FROM posts WHERE account_id = ?", (helpers.account.id,)).fetchone()[0] == 1

    inbox.remove_account(helpers.other_account.id, keep_history=False)
    assert inbox.db.execute("SELECT count(*) FROM posts WHERE account_id = ?", (helpers.other_account.id,)).fetchone()[0] == 0
    assert inbox.db.execute("SELECT count(*) FROM threads WHERE account_id = ?", (helpers.other_account.id,)).fetchone()[0] == 0
    assert inbox.db.execute("SELECT count(*) FROM posts_fts WHERE posts_fts MATCH 'post'").fetchone()[0] == 1


def test_attachments_edits_and_deletions(inbox, records, helpers) -> None:
    photo = Attachment("image", "https://files.example/1.jpg", "A squashed croissant in a paper bag")
    inbox.apply_batch(records.batch(records.post("1", attachments=(photo,))))
    stored = json.loads(inbox.db.execute("SELECT attachments FROM posts").fetchone()[0])
    assert stored == [{"kind": "image", "url": photo.url, "description": photo.description}]

    edited = records.post("1", text="post 1 (edited)", edited_at=helpers.at(5), observed_minute=6, attachments=(photo,))
    inbox.apply_batch(records.batch(edited))
    assert inbox.db.execute("SELECT text, edited_at FROM posts").fetchone() == ("post 1 (edited)", helpers.at(5))

    changes = inbox.apply_batch(Batch(helpers.account.id, "mentions", deleted_post_ids=("mastodon:1", "mastodon:unknown")))
    assert changes.thread_ids == frozenset({"mastodon:t1"})
    assert inbox.db.execute("SELECT deleted_at FROM posts").fetchone()[0] is not None
    again = inbox.apply_batch(Batch(helpers.account.id, "mentions", deleted_post_ids=("mastodon:1",)))
    assert again.thread_ids == frozenset()


def test_engagement_follows_ingest_and_account_removal(inbox, records, helpers) -> None:
    def engagement() -> int:
        return inbox.db.execute("SELECT engagement FROM authors WHERE id = 'mastodon:alice'").fetchone()[0]

    inbox.apply_batch(records.batch(records.post("1", reshare_count=3, like_count=2)))
    assert engagement() == 5
    inbox.apply_batch(records.batch(records.post("1", reshare_count=7, like_count=2, observed_minute=5)))
    assert engagement() == 9
    inbox.apply_batch(records.batch(records.post("1", reshare_count=1, observed_minute=1)))  # stale copy: ignored
    assert engagement() == 9
    other = records.post("2", "t2", account=helpers.other_account, quote_count=4)
    inbox.apply_batch(records.batch(other, account=helpers.other_account))
    assert engagement() == 13
    inbox.remove_account(helpers.other_account.id, keep_history=False)
    assert engagement() == 9
