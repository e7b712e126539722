"""Full-text search through the views: words, prefixes, authors, accents, and whatever an owner may type."""

from __future__ import annotations

import sqlite3
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.domain import Direction
from console.store.queries import View, ViewKind, list_threads
from console.store.search import MAX_TERMS, fts_query


@pytest.fixture
def searchable(inbox, records):
    alice = records.author("alice", handle="alice@example.social", display_name="Alice Martin")
    zoe = records.author("zoe", handle="zoe_bakes@pâtisserie.fr", display_name="Zoë Lefèvre")
    bob = records.author("bob", handle="bob@example.social", display_name="Bob")
    inbox.apply_batch(
        records.batch(
            records.post("1", "bread", minute=1, author="alice", text="The sourdough bread was stale this morning"),
            records.post("2", "cafe", minute=2, author="zoe", text="Le café était délicieux, merci!"),
            records.post("3", "refund", minute=3, author="bob", text="I want a refund for order #1234"),
            records.post("4", "croissant", minute=4, author="bob", text="Croissants sold out again :("),
            records.post("5", "refund", minute=5, direction=Direction.OUT, text="Sourdough refund sent"),
            authors=(alice, zoe, bob, records.author("biz-author")),
        )
    )
    return inbox


def _found(inbox, text: str, kind: ViewKind = ViewKind.OPEN) -> set[str]:
    return {row.id.split(":", 1)[1] for row in list_threads(inbox.db, View(kind, search=text), limit=50)}


@pytest.mark.parametrize(
    ("query", "threads"),
    [
        ("sourdough", {"bread", "refund"}),  # our own reply's words make its thread findable too
        ("STALE", {"bread"}),
        ("refund", {"refund"}),
        ("1234", {"refund"}),
        ("croissants", {"croissant"}),
        ("nothing-like-this", set()),
    ],
)
def test_finds_threads_by_post_words(searchable, query, threads):
    assert _found(searchable, query) == threads


def test_the_last_word_is_a_prefix(searchable):
    assert _found(searchable, "sour") == {"bread", "refund"}
    assert _found(searchable, "crois") == {"croissant"}
    assert _found(searchable, "ref") == {"refund"}


def test_earlier_words_are_whole_words(searchable):
    assert _found(searchable, "sour bread") == set()
    assert _found(searchable, "sourdough bre") == {"bread"}


def test_all_words_must_match(searchable):
    assert _found(searchable, "bread stale") == {"bread"}
    assert _found(searchable, "bread refund") == set()


def test_finds_threads_by_author_handle_and_name(searchable):
    assert _found(searchable, "alice") == {"bread"}
    assert _found(searchable, "martin") == {"bread"}
    assert _found(searchable, "bob") == {"refund", "croissant"}
    assert _found(searchable, "zoe_bakes") == {"cafe"}
    assert _found(searchable, "Lefèvre") == {"cafe"}


@pytest.mark.parametrize(
    ("query", "threads"),
    [
        ("cafe", {"cafe"}),
        ("café", {"cafe"}),
        ("CAFÉ", {"cafe"}),
        ("etait delicieux", {"cafe"}),
        ("zoe", {"cafe"}),
        ("Zoë", {"cafe"}),
        ("lefevre", {"cafe"}),
        ("patisserie", {"cafe"}),
    ],
)
def test_accents_fold(searchable, query, threads):
    assert _found(searchable, query) == threads


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_decomposed_accents_in_the_query_or_the_text(inbox, records, form):
    """Text pasted from some sources carries accents as separate combining marks; both forms must meet."""
    inbox.apply_batch(
        records.batch(
            records.post("1", "composed", text=unicodedata.normalize("NFC", "Mon résumé est prêt")),
            records.post("2", "decomposed", minute=1, text=unicodedata.normalize("NFD", "Le résumé arrive")),
        )
    )
    assert _found(inbox, unicodedata.normalize(form, "résumé")) == {"composed", "decomposed"}
    assert _found(inbox, unicodedata.normalize(form, "prêt")) == {"composed"}


def test_search_narrows_the_view(searchable, records):
    searchable.set_thread_status("mastodon:bread", "done")
    assert _found(searchable, "sourdough", ViewKind.OPEN) == {"refund"}
    assert _found(searchable, "sourdough", ViewKind.DONE) == {"bread"}
    # The refund thread was answered last, so it does not need a reply.
    assert _found(searchable, "sourdough", ViewKind.NEEDS_REPLY) == set()


def test_edited_text_is_reindexed(searchable, records):
    searchable.apply_batch(
        records.batch(records.post("1", "bread", minute=1, observed_minute=60, text="Baguette was perfect"))
    )
    assert _found(searchable, "sourdough") == {"refund"}
    assert _found(searchable, "baguette") == {"bread"}


def test_renamed_author_is_reindexed(searchable, records):
    renamed = records.author("alice", handle="alice@example.social", display_name="Alicia Durand",
                             observed_at="2026-12-01T00:00:00.000Z")
    searchable.apply_batch(records.batch(authors=(renamed,)))
    assert _found(searchable, "martin") == set()
    assert _found(searchable, "durand") == {"bread"}


HOSTILE = ['"', '""', '"unterminated', "*", "**", "NEAR(", "NEAR(a b", "OR OR", "OR", "AND", "NOT", "a AND",
           "AND a", "col:val", "text:bread", "(((", ")))", "''", "'", "^", "^bread", "-", "bread -stale", "+",
           "{text}: x", "a:b:c", "\\", "%", "_", "bread*", "*bread", "bread\x00stale", "\t\n", "🍞", "₂",
           "'bread'", "\"bread\"", "bread OR refund", "NEAR(bread stale, 3)", "x" * 5000, "a " * 500]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(searchable, query):
    for kind in ViewKind:
        if kind is ViewKind.ACCOUNT:
            rows = list_threads(searchable.db, View(kind, account_id="mastodon:biz", search=query), limit=10)
        else:
            rows = list_threads(searchable.db, View(kind, search=query), limit=10)
        assert isinstance(rows, list)


@pytest.mark.parametrize(
    ("query", "threads"),
    [
        ('"', set()),
        ("(((", set()),
        ("''", set()),
        ("*", set()),
        ('"bread"', {"bread"}),
        ("'bread'", {"bread"}),
        ("bread*", {"bread"}),
        ("text:bread", set()),  # a column filter is not offered: these are two words, and 'text' is nowhere
        ("bread OR refund", set()),  # operators are words too; nobody wrote 'or' in these threads
        ("NEAR(bread stale", set()),
        ("sourdough AND", set()),
        ("bread\x00stale", {"bread"}),
    ],
)
def test_hostile_queries_mean_their_words(searchable, query, threads):
    assert _found(searchable, query) == threads


@pytest.mark.parametrize("query", ["", " ", "\t\n  "])
def test_blank_search_is_no_search(searchable, query):
    assert _found(searchable, query) == {"bread", "cafe", "refund", "croissant"}


def test_operator_words_can_be_searched_for(inbox, records):
    inbox.apply_batch(records.batch(records.post("1", text="Not sure, or maybe near the door AND the window")))
    assert _found(inbox, "not or near and") == {"t1"}
    assert _found(inbox, "OR") == {"t1"}


def test_apostrophes_inside_words(inbox, records):
    inbox.apply_batch(records.batch(records.post("1", text="I don't like it, it’s cold")))
    assert _found(inbox, "don't") == {"t1"}
    assert _found(inbox, "it’s cold") == {"t1"}


# -- fts_query itself --------------------------------------------------------------------------------------------


def test_fts_query_shapes():
    assert fts_query("") is None
    assert fts_query('" * ( ) :') is None
    assert fts_query("bread") == '"bread"*'
    assert fts_query("Sour bread") == '"Sour" "bread"*'
    assert fts_query("OR OR") == '"OR" "OR"'  # two letters: too short to act as a prefix
    assert fts_query("croiss") == '"croiss"*'
    assert fts_query("col:val") == '"col" "val"*'
    assert fts_query("don't") == '"don\'t"*'


def test_fts_query_caps_the_number_of_terms():
    query = fts_query(" ".join(f"w{n}" for n in range(100)))
    assert query is not None
    assert query.count('"') == 2 * MAX_TERMS


@pytest.fixture(scope="module")
def fts_table():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize='unicode61 remove_diacritics 2')")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [("hello wörld", "zoë"), ("don't stop", "NEAR OR AND")])
    yield conn
    conn.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60) | st.sampled_from(HOSTILE))
def test_fts_query_is_always_valid_fts5(fts_table, text):
    query = fts_query(text)
    if query is None:
        assert not any(ch.isalnum() for ch in text)
        return
    assert isinstance(query, str)
    fts_table.execute("SELECT rowid FROM t WHERE t MATCH ?", (query,)).fetchall()


# Letters that SQLite's older Unicode tables still class as spacing marks, so unicode61 never indexes them
# (New Tai Lue vowel signs and two Vedic signs): neither the text nor the query holds a token there.
_UNINDEXED = "".join(map(chr, [*range(0x19B0, 0x19C1), 0x19C8, 0x19C9, 0x1CF2, 0x1CF3]))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(categories=["Lu", "Ll", "Lo", "Nd"], exclude_characters=_UNINDEXED),
                        min_size=1, max_size=8),
                min_size=1, max_size=5))
def test_fts_query_finds_the_text_it_was_built_from(words):
    """Whatever letters the words hold, searching for a text finds that text."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='unicode61 remove_diacritics 2')")
        text = " ".join(words)
        conn.execute("INSERT INTO t VALUES (?)", (text,))
        query = fts_query(text)
        assert query is not None
        hits = conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (query,)).fetchone()[0]
        assert hits == 1
    finally:
        conn.close()


_LATIN_WITH_ACCENTS = st.characters(min_codepoint=0xC0, max_codepoint=0x17F, categories=["Lu", "Ll"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=_LATIN_WITH_ACCENTS | st.sampled_from("abcxyz"), min_size=1, max_size=8),
                min_size=1, max_size=4),
       st.sampled_from(["NFC", "NFD"]), st.sampled_from(["NFC", "NFD"]))
def test_accented_words_are_found_in_either_normal_form(words, text_form, query_form):
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='unicode61 remove_diacritics 2')")
        text = " ".join(words)
        conn.execute("INSERT INTO t VALUES (?)", (unicodedata.normalize(text_form, text),))
        query = fts_query(unicodedata.normalize(query_form, text))
        assert query is not None
        assert conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (query,)).fetchone()[0] == 1
    finally:
        conn.close()


# -- common words: the walk in view order answers exactly as the set query ---------------------------------------------

COMMON_THREADS = 60


@pytest.fixture
def common_words(inbox, records):
    """60 threads where "order" is in most posts, "refund" in a few, and author "orla" starts some threads."""
    posts, authors = [], [records.author("alice"), records.author("orla", display_name="Orla Orderly")]
    for n in range(COMMON_THREADS):
        thread = f"c{n:02d}"
        words = "my order is late" if n % 4 else "where is my parcel"
        posts.append(records.post(f"{thread}a", thread, minute=n % 17, author="orla" if n % 9 == 0 else "alice",
                                  text=words))
        posts.append(records.post(f"{thread}b", thread, minute=n % 17 + 20, direction=Direction.OUT,
                                  text="refund sent" if n % 10 == 0 else "we are on it"))
    inbox.apply_batch(records.batch(*posts, authors=(*authors, records.author("biz-author"))))
    return inbox


def _pages(db, view: View, page: int) -> list[str]:
    ids, after = [], None
    while True:
        rows = list_threads(db, view, page, after)
        if not rows:
            return ids
        ids += [row.id for row in rows]
        after = (rows[-1].last_activity_at, rows[-1].id)


@pytest.mark.parametrize("text", ["order", "orde", "ord", "refund", "parcel", "orla", "my order", "is"])
@pytest.mark.parametrize("kind", [ViewKind.ALL, ViewKind.OPEN, ViewKind.NEEDS_REPLY, ViewKind.DONE])
@pytest.mark.parametrize("page", [1, 5, 100])
def test_walking_common_words_gives_the_set_querys_pages(common_words, monkeypatch, text, kind, page):
    from console.store import queries

    view = View(kind, search=text)
    monkeypatch.setattr(queries, "_is_common_term", lambda *_args: False)
    expected = _pages(common_words.db, view, page)
    monkeypatch.setattr(queries, "_is_common_term", lambda *_args: True)
    for walk in (1, 2, 20):  # a walk too short for a page falls back; a long one answers itself
        monkeypatch.setattr(queries, "WALK_THREADS_PER_ROW", walk)
        assert _pages(common_words.db, view, page) == expected


def test_a_word_in_most_posts_is_common_and_a_rare_one_is_not(common_words, monkeypatch):
    from console.store import queries
    from console.store.queries import _is_common_term

    monkeypatch.setattr(queries, "COMMON_SHARE", 10)  # common: in a tenth of the posts or more
    assert _is_common_term(common_words.db, fts_query("order"))
    assert not _is_common_term(common_words.db, fts_query("refund"))
    assert not _is_common_term(common_words.db, fts_query("nothing"))


def test_the_walk_answers_a_page_of_a_common_word_itself(common_words, monkeypatch):
    from console.store import queries

    view_clause = queries._view_clause

    def walk_only(view, params, search_where=queries._SEARCH_WHERE):
        assert search_where != queries._SEARCH_WHERE, "the set query ran"
        return view_clause(view, params, search_where)

    monkeypatch.setattr(queries, "_view_clause", walk_only)
    rows = list_threads(common_words.db, View(ViewKind.ALL, search="order"), 10)
    assert len(rows) == 10
