"""Bluesky rich text: facets index UTF-8 bytes, never characters; nothing a server sends can make reading fail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.connectors import bluesky_richtext
from console.connectors.bluesky_richtext import (
    MAX_GRAPHEMES, build_facets, byte_slice, grapheme_count, render_text, written_mentions,
)

LINK = "app.bsky.richtext.facet#link"
MENTION = "app.bsky.richtext.facet#mention"


def facet(start: object, end: object, *features: dict) -> dict:
    return {"index": {"byteStart": start, "byteEnd": end}, "features": list(features)}


def span(text: str, part: str) -> tuple[int, int]:
    """The byte range of ``part`` in ``text``, computed the slow, obvious way."""
    start = text.index(part)
    return len(text[:start].encode()), len(text[:start].encode()) + len(part.encode())


# -- reading ---------------------------------------------------------------------------------------------------------


def test_a_shortened_link_keeps_its_real_target_after_an_emoji() -> None:
    text = "🎉 New menu: example.com/menu... come by!"
    start, end = span(text, "example.com/menu...")
    assert text.index("example.com") == 12 and (start, end) == (15, 34)  # the party popper: 1 character, 4 bytes
    rendered = render_text(text, [facet(start, end, {"$type": LINK, "uri": "https://example.com/menu/winter"})])
    assert rendered == "🎉 New menu: example.com/menu... (https://example.com/menu/winter) come by!"


def test_a_link_written_out_in_full_is_not_repeated_and_mentions_and_tags_stay_as_written() -> None:
    text = "Hi @shop.test, see https://example.com #opening"
    facets = [
        facet(*span(text, "@shop.test"), {"$type": MENTION, "did": "did:plc:abc"}),
        facet(*span(text, "https://example.com"), {"$type": LINK, "uri": "https://example.com"}),
        facet(*span(text, "#opening"), {"$type": "app.bsky.richtext.facet#tag", "tag": "opening"}),
    ]
    assert render_text(text, facets) == text


def test_cjk_and_combining_characters_are_counted_in_bytes() -> None:
    text = "東京の店 cafe\u0301 リンク"
    start, end = span(text, "リンク")
    rendered = render_text(text, [facet(start, end, {"$type": LINK, "uri": "https://example.jp/"})])
    assert rendered == "東京の店 cafe\u0301 リンク (https://example.jp/)"


@pytest.mark.parametrize("bad", [
    facet(0, 999, {"$type": LINK, "uri": "https://x.example"}),   # past the end
    facet(5, 2, {"$type": LINK, "uri": "https://x.example"}),     # backwards
    facet(1, 3, {"$type": LINK, "uri": "https://x.example"}),     # inside the emoji's four bytes
    facet(-4, 2, {"$type": LINK, "uri": "https://x.example"}),
    facet("0", "4", {"$type": LINK, "uri": "https://x.example"}),
    facet(True, 4, {"$type": LINK, "uri": "https://x.example"}),
    facet(0, 4, {"$type": LINK, "uri": "javascript:alert(1)"}),   # not a web address: the text stays alone
    {"index": None}, "garbage", None, facet(0, 4, "not a feature"),
])
def test_unusable_facets_are_ignored_and_the_text_shown_as_written(bad: object) -> None:
    assert render_text("🍰 cake", [bad]) == "🍰 cake"


def test_overlapping_facets_keep_the_first() -> None:
    text = "see example.com now"
    first = facet(4, 15, {"$type": LINK, "uri": "https://example.com/a"})
    second = facet(8, 19, {"$type": LINK, "uri": "https://example.com/b"})
    assert render_text(text, [second, first]) == "see example.com (https://example.com/a) now"


def test_text_that_would_look_like_markup_is_neutralised() -> None:
    assert render_text("<b>hi</b>", None) == "‹b>hi‹/b>"
    assert render_text(None, []) == ""  # type: ignore[arg-type]


# Arbitrary characters mixed with the hard cases: emoji (4 bytes), ZWJ families, flags, CJK (3 bytes), combining marks.
PIECE = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
    st.sampled_from(["😀", "👨‍👩‍👧", "🇫🇷", "東", "京", "e\u0301", "\u0308", "한", "\u200d", " ", "a"]),
)
TEXT = st.lists(PIECE, max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(before=TEXT, middle=TEXT.filter(bool), after=TEXT)
def test_byte_offsets_computed_from_text_slice_back_to_the_same_substring(before: str, middle: str,
                                                                          after: str) -> None:
    text = before + middle + after
    data = text.encode("utf-8")
    start = len(before.encode())
    end = start + len(middle.encode())
    assert byte_slice(data, start, end) == middle
    rendered = render_text(text, [facet(start, end, {"$type": LINK, "uri": "https://t.example/x"})])
    shown = middle if middle == "https://t.example/x" else f"{middle} (https://t.example/x)"
    assert rendered == bluesky_richtext.neutralise(before + shown + after)


@settings(max_examples=300, deadline=None)
@given(text=TEXT, offsets=st.lists(st.tuples(st.integers(-5, 300), st.integers(-5, 300)), max_size=6),
       uri=st.one_of(st.text(max_size=20), st.just("https://ok.example")))
def test_reading_never_raises_whatever_the_offsets(text: str, offsets: list[tuple[int, int]], uri: str) -> None:
    facets = [facet(s, e, {"$type": LINK, "uri": uri}) for s, e in offsets]
    assert isinstance(render_text(text, facets), str)


@settings(max_examples=200, deadline=None)
@given(prefix=TEXT, handle=st.from_regex(r"[a-z][a-z0-9]{0,8}\.(test|social)", fullmatch=True), suffix=TEXT)
def test_written_facets_point_at_the_mention_by_bytes(prefix: str, handle: str, suffix: str) -> None:
    text = f"{prefix} @{handle} {suffix}"
    facets = [f for f in build_facets(text, {handle: "did:plc:x"}) if f["features"][0]["$type"] == MENTION]
    mention = next(f for f in facets if f["features"][0]["did"] == "did:plc:x")
    index = mention["index"]
    assert byte_slice(text.encode(), index["byteStart"], index["byteEnd"]) == f"@{handle}"


# -- writing ---------------------------------------------------------------------------------------------------------


def test_outgoing_facets_for_mentions_links_and_tags_use_byte_offsets() -> None:
    text = "Merci @anna.bsky.social 🙏 menu: https://shop.example/menu. #café"
    facets = build_facets(text, {"anna.bsky.social": "did:plc:anna"})
    by_type = {f["features"][0]["$type"]: f for f in facets}
    data = text.encode()
    mention, link = by_type[MENTION], by_type[LINK]
    tag = by_type["app.bsky.richtext.facet#tag"]
    assert byte_slice(data, mention["index"]["byteStart"], mention["index"]["byteEnd"]) == "@anna.bsky.social"
    assert link["features"][0]["uri"] == "https://shop.example/menu"  # the sentence's full stop is not the link's
    assert byte_slice(data, link["index"]["byteStart"], link["index"]["byteEnd"]) == "https://shop.example/menu"
    assert tag["features"][0]["tag"] == "café"
    assert byte_slice(data, tag["index"]["byteStart"], tag["index"]["byteEnd"]) == "#café"
    assert [f["index"]["byteStart"] for f in facets] == sorted(f["index"]["byteStart"] for f in facets)


def test_an_unknown_handle_stays_plain_text_and_addresses_are_not_mentions() -> None:
    text = "ask @nobody.test or mail me@shop.example"
    assert build_facets(text, {}) == []
    assert written_mentions("@Anna.Test and @anna.test, not me@x.example") == ["anna.test"]


# -- length ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "count"), [
    ("", 0), ("abc", 3), ("👨‍👩‍👧", 1), ("🇫🇷🇩🇪", 2), ("e\u0301", 1), ("東京", 2), ("👍🏽", 1), ("한국어", 3),
])
def test_graphemes_are_what_a_reader_counts(text: str, count: int) -> None:
    assert grapheme_count(text) == count


@pytest.mark.parametrize("text", ["abc", "👨‍👩‍👧 ok", "🇫🇷🇩🇪", "e\u0301e\u0301", "東京", "👍🏽!", "❤️"])
def test_the_fallback_count_agrees_on_common_text(text: str) -> None:
    assert bluesky_richtext._fallback_grapheme_count(text) == grapheme_count(text)


def test_the_limit_is_three_hundred() -> None:
    assert MAX_GRAPHEMES == 300 and grapheme_count("👨‍👩‍👧" * 300) == 300
