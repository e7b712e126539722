"""BrandWatch.matches: what a brand watch keeps of the fuzzy results networks' searches return."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.watches import WATCH_STREAM, BrandWatch

SHOP = BrandWatch(
    terms=("Crumb & Co", "crumbandco", "#crumbandco", "Mill Lane", "Café Crumb"),
    exclude=("crumb rubber",),
    muted_author_ids=frozenset({"mastodon:neighbour"}),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # whole words, any case
        ("Lunch at crumbandco was lovely", True),
        ("CRUMBANDCO!!!", True),
        ("crumbandcoffee is another place", False),
        ("the notcrumbandco account", False),
        ("Crumb & Co never answers the phone", True),
        ("Crumb &Co", False),  # the owner's spacing around '&' is part of the phrase
        # hashtags match as hashtags; a plain term does not match a hashtag or a handle
        ("#crumbandco best buns", True),
        ("#CrumbAndCo's buns", True),
        ("#crumbandcofans unite", False),
        ("@crumbandco hello", False),
        # accents and case either way
        ("Café Crumb opened today", True),
        ("cafe crumb opened today", True),
        ("CAFÉ CRUMB", True),
        # phrases across spaces, hyphens, underscores and line breaks
        ("parking on Mill-Lane is awful", True),
        ("mill_lane", True),
        ("Mill\nLane", True),
        ("Mill   Lane", True),
        ("Millennium Lane", False),
        # exclude wins, wherever it is in the post
        ("crumbandco sells crumb rubber now?", False),
        ("Crumb-Rubber at crumbandco", False),
        ("crumbs rubbery at crumbandco", True),  # whole words for excludes too
        # URLs to the shop are about the shop
        ("menu at https://crumbandco.shop/today", True),
        ("", False),
    ],
)
def test_matches_table(text, expected):
    assert SHOP.matches(text) is expected


def test_a_muted_author_never_matches_but_others_do():
    assert SHOP.matches("crumbandco again!", "mastodon:neighbour") is False
    assert SHOP.matches("crumbandco again!", "mastodon:alice") is True
    assert SHOP.matches("crumbandco again!") is True


def test_an_empty_watch_matches_nothing_and_is_inactive():
    for watch in (BrandWatch(), BrandWatch(terms=("", "   ")), BrandWatch(exclude=("crumb",))):
        assert not watch.active
        assert not watch.matches("crumb crumbandco #crumbandco anything")
        assert watch.queries() == []


def test_terms_are_cleaned_and_kept_in_order():
    watch = BrandWatch(terms=(" crumbandco ", "", "Mill Lane", "crumbandco"), exclude=(" rubber ", "rubber"))
    assert watch.terms == ("crumbandco", "Mill Lane")
    assert watch.exclude == ("rubber",)
    assert watch.queries() == ["crumbandco", "Mill Lane"]
    assert WATCH_STREAM == "watch"


def test_a_hyphenated_term_matches_the_spaced_phrase_too():
    # Found while writing these tests: "Mill-Lane" as a term used to match only "mill-lane" (the domain now splits
    # terms on the same separators it allows between words in the text).
    watch = BrandWatch(terms=("Mill-Lane",))
    assert watch.matches("parking on mill lane")
    assert watch.matches("MILL_LANE")
    assert not watch.matches("millane")


def test_a_term_of_separators_only_stays_literal():
    watch = BrandWatch(terms=("-",))
    assert not watch.matches("nothing to see here")


# -- properties ----------------------------------------------------------------------------------------------------

word = st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=10)
filler = st.text(alphabet=string.ascii_letters + " .,!?", max_size=30)
separator = st.sampled_from([" ", "-", "_", "  ", "\n", " - "])


def _case(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips + [False] * len(text)))


@given(words=st.lists(word, min_size=1, max_size=3), before=filler, after=filler, sep=separator,
       flips=st.lists(st.booleans(), max_size=40))
def test_a_term_is_found_as_whole_words_in_any_case_and_spacing(words, before, after, sep, flips):
    watch = BrandWatch(terms=(" ".join(words),))
    phrase = _case(sep.join(words), flips)
    assert watch.matches(f"{before} {phrase} {after}")
    assert watch.matches(f"{before} {phrase}. {after}")


@given(term=word, glued=st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=5))
def test_a_term_inside_a_longer_word_is_not_found(term, glued):
    watch = BrandWatch(terms=(term,))
    assert not watch.matches(f"x {glued}{term} y")
    assert not watch.matches(f"x {term}{glued} y")


@given(term=word, other=word, before=filler)
def test_exclude_always_wins(term, other, before):
    watch = BrandWatch(terms=(term,), exclude=(other,))
    assert not watch.matches(f"{before} {term} {other}")
    assert not watch.matches(f"{other} {term}")


@given(term=word, text=st.text(max_size=80))
def test_a_muted_author_never_matches(term, text):
    watch = BrandWatch(terms=(term,), muted_author_ids=frozenset({"x:muted"}))
    assert not watch.matches(f"{text} {term} {text}", "x:muted")


@given(text=st.text(max_size=80), author=st.one_of(st.none(), st.text(max_size=10)))
def test_an_empty_watch_never_matches(text, author):
    assert not BrandWatch().matches(text, author)


@given(base=st.sampled_from(["cafe", "creme", "noel", "uber", "resume"]), flips=st.lists(st.booleans(), max_size=8))
def test_accents_are_ignored_both_ways(base, flips):
    accented = {"cafe": "café", "creme": "crème", "noel": "noël", "uber": "über", "resume": "résumé"}[base]
    assert BrandWatch(terms=(base,)).matches(f"the {_case(accented, flips)} place")
    assert BrandWatch(terms=(accented,)).matches(f"the {_case(base, flips)} place")


@given(tag=word, before=st.text(alphabet=string.digits + " .,!?", max_size=20))
def test_a_hashtag_term_matches_only_the_hashtag(tag, before):
    watch = BrandWatch(terms=(f"#{tag}",))
    assert watch.matches(f"{before} #{tag.upper()}")
    assert not watch.matches(f"{before} {tag}")
    assert not BrandWatch(terms=(tag,)).matches(f"{before} #{tag}")


@given(text=st.text(max_size=120), terms=st.lists(st.text(max_size=12), max_size=4),
       exclude=st.lists(st.text(max_size=12), max_size=3))
def test_matches_never_raises(text, terms, exclude):
    watch = BrandWatch(tuple(terms), tuple(exclude))
    assert watch.matches(text) in (True, False)
