"""Per-network length rules."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.replies.length import LengthRule, count, limit, remaining, x_weighted_length


@pytest.mark.parametrize(("text", "expected"), [
    ("hello", 5),
    ("日本語", 6),
    ("👨‍👩‍👧‍👦", 2),
    ("🇬🇧", 2),
    ("👍🏽", 2),
    ("café", 4),
    ("cafe\u0301", 4),  # NFC-normalised first
    ("— Sam", 5),  # the em dash is in the light range 8208-8223
    ("see https://example.com/a/very/long/path?x=1.", 4 + 23 + 1),
    ("visit tend.shop now", 6 + 23 + 4),
    ("a" * 280, 280),
])
def test_x_weighting(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


def test_limits_per_network() -> None:
    assert limit("mastodon", None) == 500
    assert limit("mastodon", 1000) == 1000
    assert limit("mastodon", 0) == 500
    assert limit("bluesky", 1000) == 300
    assert limit("x", None) == 280
    assert limit("demo-x") == 280 and limit("demo-bluesky") == 300


def test_counts_follow_each_network() -> None:
    family = "👨‍👩‍👧‍👦"
    assert count("bluesky", family) == 1
    assert count("mastodon", family) == 1
    assert count("x", family) == 2
    url = "https://example.com/" + "x" * 100
    assert count("mastodon", url) == 23
    assert count("mastodon", "@sam@very.long.server.example hi") == len("@sam hi")


def test_remaining_and_rule() -> None:
    assert remaining("x", "a" * 281) == -1
    rule = LengthRule.for_account("mastodon", 11)
    assert rule.max_length == 11 and rule.fits("hello world") and not rule.fits("hello world!")
    assert rule.remaining("hello") == 6


_NO_URL_ASCII = st.text(alphabet=string.ascii_letters + string.digits + " !?,;'-\n", max_size=300)


@settings(max_examples=150, deadline=None)
@given(_NO_URL_ASCII)
def test_x_ascii_without_links_counts_each_character(text: str) -> None:
    assert x_weighted_length(text) >= len(text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=200))
def test_x_cjk_weighs_two(text: str) -> None:
    assert x_weighted_length(text) == 2 * len(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["mastodon", "bluesky", "x", "demo-x", "unknown"]))
def test_counting_never_raises(text: str, network: str) -> None:
    assert count(network, text) >= 0
