"""The inbox schema, as a list of versioned migrations.

The schema is a public contract (docs/schema.md): owners open their inbox in ``sqlite3`` or Datasette. A migration
is appended, never edited, once released. ``PRAGMA user_version`` records how many have run.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from console.domain.priority import priority_key
from console.domain.timeutil import parse_iso

# 'TEND' in ASCII: marks a file as a Tend inbox so we never write to someone else's database.
APPLICATION_ID = 0x54454E44


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            network TEXT NOT NULL,
            handle TEXT NOT NULL,
            server_url TEXT NOT NULL,
            display_name TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            needs_reconnect INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE authors (
            pk INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            network TEXT NOT NULL,
            handle TEXT NOT NULL,
            display_name TEXT NOT NULL DEFAULT '',
            followers_count INTEGER NOT NULL DEFAULT 0,
            following_count INTEGER NOT NULL DEFAULT 0,
            posts_count INTEGER NOT NULL DEFAULT 0,
            engagement INTEGER NOT NULL DEFAULT 0,
            influence INTEGER NOT NULL DEFAULT 0,
            url TEXT NOT NULL DEFAULT '',
            observed_at TEXT NOT NULL DEFAULT ''
        );

        CREATE TABLE posts (
            pk INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            network TEXT NOT NULL,
            account_id TEXT NOT NULL REFERENCES accounts(id),
            thread_id TEXT NOT NULL,
            parent_id TEXT,
            author_id TEXT NOT NULL REFERENCES authors(id),
            url TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            observed_at TEXT NOT NULL,
            reshare_count INTEGER NOT NULL DEFAULT 0,
            quote_count INTEGER NOT NULL DEFAULT 0,
            like_count INTEGER NOT NULL DEFAULT 0,
            reply_count INTEGER NOT NULL DEFAULT 0,
            visibility TEXT NOT NULL DEFAULT 'public'
                CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out'))
        );
        CREATE INDEX posts_by_thread ON posts(thread_id, direction, created_at);
        CREATE INDEX posts_by_author ON posts(author_id);

        CREATE TABLE threads (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id),
            network TEXT NOT NULL,
            root_post_id TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'snoozed', 'done')),
            status_changed_at TEXT NOT NULL,
            snooze_until TEXT,
            last_activity_at TEXT NOT NULL,
            needs_reply INTEGER NOT NULL DEFAULT 0,
            last_in_at TEXT,
            last_out_at TEXT,
            last_in_post_id TEXT,
            waiting_since TEXT,
            post_count INTEGER NOT NULL DEFAULT 0,
            reshare_total INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX threads_by_status ON threads(status, needs_reply, last_activity_at, id);
        CREATE INDEX threads_by_account ON threads(account_id, last_activity_at, id);
        CREATE INDEX threads_by_activity ON threads(last_activity_at, id);

        CREATE TABLE sync_cursors (
            account_id TEXT NOT NULL REFERENCES accounts(id),
            stream TEXT NOT NULL,
            cursor TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (account_id, stream)
        );

        -- One row per observed change of a post's counts: how fast a complaint is spreading.
        CREATE TABLE count_samples (
            post_id TEXT NOT NULL,
            observed_at TEXT NOT NULL,
            reshare_count INTEGER NOT NULL,
            quote_count INTEGER NOT NULL,
            like_count INTEGER NOT NULL,
            reply_count INTEGER NOT NULL,
            PRIMARY KEY (post_id, observed_at)
        ) WITHOUT ROWID;

        CREATE TRIGGER posts_sample_first AFTER INSERT ON posts BEGIN
            INSERT OR REPLACE INTO count_samples
            VALUES (new.id, new.observed_at, new.reshare_count, new.quote_count, new.like_count, new.reply_count);
        END;
        CREATE TRIGGER posts_sample_change
        AFTER UPDATE OF reshare_count, quote_count, like_count, reply_count ON posts
        WHEN old.reshare_count IS NOT new.reshare_count OR old.quote_count IS NOT new.quote_count
          OR old.like_count IS NOT new.like_count OR old.reply_count IS NOT new.reply_count
        BEGIN
            INSERT OR REPLACE INTO count_samples
            VALUES (new.id, new.observed_at, new.reshare_count, new.quote_count, new.like_count, new.reply_count);
        END;
        """
    )
    # Full-text search over post text and author names, kept in step by triggers (sqlite-utils' own FTS layout),
    # but re-indexing a post only when its text changes: counts change far more often than words.
    db["posts"].enable_fts(["text"], fts_version="FTS5", tokenize="unicode61 remove_diacritics 2", create_triggers=True)
    db["authors"].enable_fts(
        ["handle", "display_name"], fts_version="FTS5", tokenize="unicode61 remove_diacritics 2", create_triggers=True
    )
    db.executescript(
        """
        DROP TRIGGER posts_au;
        CREATE TRIGGER posts_au AFTER UPDATE OF text ON posts WHEN old.text IS NOT new.text BEGIN
            INSERT INTO posts_fts (posts_fts, rowid, text) VALUES ('delete', old.pk, old.text);
            INSERT INTO posts_fts (rowid, text) VALUES (new.pk, new.text);
        END;
        DROP TRIGGER authors_au;
        CREATE TRIGGER authors_au AFTER UPDATE OF handle, display_name ON authors
        WHEN old.handle IS NOT new.handle OR old.display_name IS NOT new.display_name BEGIN
            INSERT INTO authors_fts (authors_fts, rowid, handle, display_name)
            VALUES ('delete', old.pk, old.handle, old.display_name);
            INSERT INTO authors_fts (rowid, handle, display_name) VALUES (new.pk, new.handle, new.display_name);
        END;
        """
    )


def _v2_accounts_and_post_details(db: sqlite_utils.Database) -> None:
    """Real networks: the account's own id and length limit, attachments with alt text, edits and deletions."""
    db.executescript(
        """
        ALTER TABLE accounts ADD COLUMN remote_id TEXT NOT NULL DEFAULT '';
        ALTER TABLE accounts ADD COLUMN char_limit INTEGER;
        ALTER TABLE accounts ADD COLUMN archived_at TEXT;
        ALTER TABLE posts ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE posts ADD COLUMN edited_at TEXT;
        ALTER TABLE posts ADD COLUMN deleted_at TEXT;
        """
    )


def _v3_view_indexes(db: sqlite_utils.Database) -> None:
    """Indexes the views and the ingest path need at 100k+ posts (measured by bench/run.py).

    ``threads_by_status`` leads with ``needs_reply``, so the Open view (status only, newest first) had to sort every
    open thread; ``threads_by_status_activity`` hands it the threads in order. ``posts_by_author`` gains
    ``direction`` so refreshing an author's engagement (customer posts only) skips the business's own posts, which
    grow with every reply and were re-read for every batch.
    """
    db.executescript(
        """
        CREATE INDEX threads_by_status_activity ON threads(status, last_activity_at, id);
        DROP INDEX posts_by_author;
        CREATE INDEX posts_by_author ON posts(author_id, direction);
        """
    )


def _v4_outbox_drafts_and_settings(db: sqlite_utils.Database) -> None:
    """Answering: the undo-send outbox, drafts per thread, a thread's event log, per-account reply settings and the
    first-response time.

    The outbox is durable on purpose: a reply the owner pressed Send on survives a crash in its undo window (it
    comes back "held", never silently sent) and during a send (the idempotency key makes the repeat harmless).
    Outbox, drafts and settings belong to an account and go with it; events go with their thread.
    """
    db.executescript(
        """
        CREATE TABLE outbox (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            thread_id TEXT NOT NULL,
            in_reply_to_id TEXT NOT NULL,
            text TEXT NOT NULL,
            visibility TEXT NOT NULL DEFAULT 'public'
                CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
            idempotency_key TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL DEFAULT 'waiting'
                CHECK (state IN ('waiting', 'held', 'sending', 'sent', 'failed', 'cancelled')),
            send_after TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            sent_post_id TEXT
        );
        CREATE INDEX outbox_due ON outbox(state, send_after);
        CREATE INDEX outbox_by_thread ON outbox(thread_id, created_at);

        CREATE TABLE drafts (
            thread_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            visibility TEXT NOT NULL DEFAULT 'public'
                CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
            updated_at TEXT NOT NULL
        );

        CREATE TABLE thread_events (
            id INTEGER PRIMARY KEY,
            thread_id TEXT NOT NULL,
            at TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('cooloff_override', 'sent', 'undone', 'send_failed')),
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX thread_events_by_thread ON thread_events(thread_id, at);
        CREATE TRIGGER threads_ad_events AFTER DELETE ON threads BEGIN
            DELETE FROM thread_events WHERE thread_id = old.id;
        END;

        CREATE TABLE account_settings (
            account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            signature_name TEXT,
            cooloff_public_s INTEGER,
            cooloff_direct_s INTEGER,
            undo_s INTEGER,
            business_hours TEXT
        );

        ALTER TABLE threads ADD COLUMN first_response_at TEXT;
        """
    )
    # Threads answered before this version get their first-response time from the replies already stored.
    db.execute(
        """UPDATE threads SET first_response_at = (
               SELECT min(o.created_at) FROM posts o
               WHERE o.thread_id = threads.id AND o.direction = 'out'
                 AND o.created_at > (SELECT min(i.created_at) FROM posts i
                                     WHERE i.thread_id = threads.id AND i.direction = 'in'))"""
    )


def _v5_draft_cooloff(db: sqlite_utils.Database) -> None:
    """A heated draft's cool-off hold survives a restart: when the hold began, kept with the draft."""
    db.execute("ALTER TABLE drafts ADD COLUMN held_since TEXT")


def _v6_spread_and_people(db: sqlite_utils.Database) -> None:
    """Who is holding the match: resharers, each thread's reach, velocity, heat and priority, notes on people.

    ``reshares`` names who reshared a stored post where the network says so; ``authors.amplification`` is the
    de-duplicated audience of everyone who reshared an author's posts about the business (an influence component).
    The thread columns are written by the escalation radar (``Inbox.update_spread``); ``priority_key`` is a moment in
    seconds (earlier = more urgent) so "Needs reply" pages by priority through an index, and the order never needs
    recomputing just because time passes. ``count_samples_by_time`` finds the threads that moved recently.
    """
    db.executescript(
        """
        CREATE TABLE reshares (
            post_id TEXT NOT NULL,
            author_id TEXT NOT NULL,
            reshared_at TEXT NOT NULL,
            observed_at TEXT NOT NULL,
            PRIMARY KEY (post_id, author_id)
        ) WITHOUT ROWID;
        CREATE INDEX reshares_by_author ON reshares(author_id);

        CREATE TABLE author_notes (
            author_id TEXT PRIMARY KEY,
            note TEXT NOT NULL DEFAULT '',
            vip INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL
        );

        ALTER TABLE authors ADD COLUMN amplification INTEGER NOT NULL DEFAULT 0;

        ALTER TABLE threads ADD COLUMN heat INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE threads ADD COLUMN reach INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE threads ADD COLUMN reshares_last_hour INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE threads ADD COLUMN reshares_last_day INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE threads ADD COLUMN spread_at TEXT;
        ALTER TABLE threads ADD COLUMN escalating_since TEXT;
        ALTER TABLE threads ADD COLUMN priority_key REAL;
        CREATE INDEX threads_by_priority ON threads(status, needs_reply, priority_key, id);
        CREATE INDEX threads_escalating ON threads(escalating_since) WHERE escalating_since IS NOT NULL;
        CREATE INDEX count_samples_by_time ON count_samples(observed_at);
        CREATE INDEX threads_hot ON threads(heat) WHERE heat > 0;
        """
    )

    def backfill_priority(waiting_since: str | None, influence: int) -> float | None:
        # Business hours are applied from the next refresh on; ranking by waiting time and influence meanwhile.
        return priority_key(parse_iso(waiting_since), heat=0, influence=influence) if waiting_since else None

    db.conn.create_function("tend_priority_v6", 2, backfill_priority, deterministic=True)
    db.execute(
        """UPDATE threads SET priority_key = tend_priority_v6(waiting_since, coalesce(
               (SELECT a.influence FROM posts p JOIN authors a ON a.id = p.author_id WHERE p.id = threads.last_in_post_id),
               0))
           WHERE needs_reply = 1"""
    )


def _v7_brand_watches(db: sqlite_utils.Database) -> None:
    """Brand watches: posts found by searching for the business's words, not by a mention.

    ``posts.source`` says how a post reached the inbox; ``threads.unmentioned`` is derived from it (1 while no
    customer post of the thread came from a mention stream). The owner's words are one row each in ``brand_watch``
    (``kind`` 'term' or 'exclude', ``position`` keeps the owner's order): readable and editable in ``sqlite3`` or
    Datasette without parsing JSON, and the primary key keeps a word from being listed twice. One watch serves the
    whole inbox, as the business has one name whichever account hears it. ``author_notes.muted`` keeps a person's
    posts out of brand watches. ``threads_unmentioned`` is a partial index: the Unmentioned view and its badge read
    only the threads found by watches, in the order the view shows them.
    """
    db.executescript(
        """
        ALTER TABLE posts ADD COLUMN source TEXT NOT NULL DEFAULT 'mention' CHECK (source IN ('mention', 'watch'));
        ALTER TABLE threads ADD COLUMN unmentioned INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE author_notes ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;

        CREATE TABLE brand_watch (
            kind TEXT NOT NULL CHECK (kind IN ('term', 'exclude')),
            word TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (kind, word)
        ) WITHOUT ROWID;

        CREATE INDEX threads_unmentioned ON threads(status, last_activity_at, id) WHERE unmentioned = 1;
        """
    )


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    _v1_initial,
    _v2_accounts_and_post_details,
    _v3_view_indexes,
    _v4_outbox_drafts_and_settings,
    _v5_draft_cooloff,
    _v6_spread_and_people,
    _v7_brand_watches,
)
LATEST_VERSION = len(MIGRATIONS)
