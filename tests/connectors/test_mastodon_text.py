"""Post HTML to plain text, and post length as Mastodon counts it: recorded markup, hostile markup, properties."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from console.connectors.mastodon_text import (
    MAX_TEXT_CHARS,
    TRUNCATION_MARKER,
    html_to_text,
    mention_first,
    neutralise,
    status_length,
)

# recorded: test_notifications.yaml (Mastodon 4.6.4's markup for a mention)
RECORDED_MENTION = ('<p><span class="h-card" translate="no"><a href="http://localhost:3000/@mastodonpy_test" '
                    'class="u-url mention">@<span>mastodonpy_test</span></a></span> hello!</p>')
# recorded: test_fetch_remaining.yaml (a hashtag)
RECORDED_HASHTAG = ('<p>Toot number 0! <a href="http://localhost:3000/tags/fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwo'
                    'eidbcrixp" class="mention hashtag" rel="tag">#<span>fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeid'
                    'bcrixp</span></a></p>')
# Mastodon's markup for a long link: hidden scheme, an ellipsis span, a hidden tail.
LONG_LINK = ('<p>menu: <a href="https://bakery.example/menus/autumn-2026.pdf" target="_blank" rel="nofollow noopener">'
             '<span class="invisible">https://</span><span class="ellipsis">bakery.example/menus/autum</span>'
             '<span class="invisible">n-2026.pdf</span></a></p>')


def test_recorded_mention_names_the_account_with_its_server():
    assert html_to_text(RECORDED_MENTION, local_host="localhost:3000") == "@mastodonpy_test@localhost:3000 hello!"


def test_mention_uses_the_full_account_from_the_status_mentions():
    html = '<p><a href="https://other.example/@ann" class="u-url mention">@<span>ann</span></a> hi</p>'
    mentions = {"https://other.example/@ann": "ann@other.example"}
    assert html_to_text(html, mentions=mentions, local_host="shop.example") == "@ann@other.example hi"


def test_recorded_hashtag_survives_as_text():
    assert html_to_text(RECORDED_HASHTAG) == "Toot number 0! #fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"


def test_links_keep_text_and_target_once():
    assert html_to_text(LONG_LINK) == "menu: https://bakery.example/menus/autumn-2026.pdf"
    assert html_to_text('<p><a href="https://bakery.example/order">order here</a></p>') == \
        "order here (https://bakery.example/order)"
    assert html_to_text('<p><a href="https://bakery.example/">bakery.example</a></p>') == "https://bakery.example/"


def test_paragraphs_line_breaks_lists_entities_and_custom_emoji():
    html = ("<p>Hello &amp; welcome :blobcat:<br>second line</p><p>next&nbsp;paragraph &lt;3</p>"
            "<ul><li>rye</li><li>spelt</li></ul>"
            '<p><img class="custom-emoji emoji" alt=":croissant:" src="https://x.example/c.png"></p>')
    assert html_to_text(html) == ("Hello & welcome :blobcat:\nsecond line\n\nnext\u00a0paragraph <3\n\n"
                                  "- rye\n- spelt\n\n:croissant:")


def test_scripts_styles_and_embedded_documents_vanish_with_their_content():
    html = ('<p>Hi<script>alert("x")</script><style>p{display:none}</style><iframe src="https://evil.example">'
            'frame</iframe><svg><script>1</script></svg> there</p>')
    assert html_to_text(html) == "Hi there"


def test_javascript_links_lose_their_target_but_keep_their_words():
    for href in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "java&#x09;script:alert(1)", " javascript:x",
                 "vbscript:x", "data:text/html,<script>alert(1)</script>"):
        text = html_to_text(f'<p><a href="{href}">click me</a></p>')
        assert text == "click me", href


def test_remote_images_are_never_fetched_only_described():
    html = '<p>look <img src="https://tracker.example/pixel.gif" alt="our new loaf"> <img src="https://x/y"></p>'
    assert html_to_text(html) == "look [image: our new loaf] [image]"


def test_text_that_looks_like_markup_is_defused():
    text = html_to_text("<p>&lt;script&gt;alert(1)&lt;/script&gt; and &lt;b&gt;bold&lt;/b&gt; javascript:void(0)</p>")
    assert "<script" not in text.lower() and "<b" not in text and "javascript:" not in text.lower()
    assert text == "\u2039script>alert(1)\u2039/script> and \u2039b>bold\u2039/b> javascript\uff1avoid(0)"
    assert neutralise("I <3 bread, 2 < 3") == "I <3 bread, 2 < 3"


def test_rtl_and_zero_width_text_is_kept():
    text = "\u05e9\u05dc\u05d5\u05dd \u202eabc\u202c a\u200bb\u200dc \u0645\u0631\u062d\u0628\u0627"
    assert html_to_text(f"<p>{text}</p>") == text


def test_a_100_kb_post_is_capped_quickly():
    html = "<p>" + ("bread " * 20_000) + "</p>" + "<p>" + "x" * 50_000 + "</p>"
    started = time.perf_counter()
    text = html_to_text(html)
    assert time.perf_counter() - started < 2.0
    assert len(text) == MAX_TEXT_CHARS and text.endswith(TRUNCATION_MARKER)


def test_broken_markup_does_not_break_the_converter():
    assert html_to_text("<p>unclosed <a href='https://a.example/'>link <b>bold") == \
        "unclosed link bold (https://a.example/)"
    assert html_to_text("</p></a><<>>&&;&#xFFFFFFF;") != "<"  # no exception, whatever it says
    assert html_to_text("") == ""


# ------------------------------------------------------------------------------------------------ properties

_fragments = st.sampled_from([
    "<p>", "</p>", "<br>", "<a href=\"javascript:alert(1)\">", "<a href='https://ok.example/x'>", "</a>",
    "<script>", "</script>", "<style>", "<img src=https://e.example/i.png alt=x>", "<span class=\"invisible\">",
    "</span>", "&lt;script&gt;", "javascript:", "JAVASCRIPT&#58;", "<", ">", "&", "&amp;", "\u202e", "\u200d",
    "<svg onload=alert(1)>", "<iframe src=javascript:alert(1)>", "<!--", "-->", "<![CDATA[", "]]>", "<pre>",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_fragments, st.text(max_size=20)), max_size=40).map("".join))
def test_html_to_text_never_raises_and_never_leaks_script(html: str) -> None:
    text = html_to_text(html)
    assert "<script" not in text.lower()
    assert "javascript:" not in text.lower()
    assert len(text) <= MAX_TEXT_CHARS


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_converts_without_error(html: str) -> None:
    text = html_to_text(html)
    assert "<script" not in text.lower() and "javascript:" not in text.lower()


# ------------------------------------------------------------------------------------------------ length

def test_length_counts_urls_as_23_and_mentions_by_username():
    assert status_length("hello") == 5
    assert status_length("see https://bakery.example/a/very/long/path/that/goes/on/and/on") == 4 + 23
    assert status_length("@ann@other.example thanks") == len("@ann thanks")
    assert status_length("see https://x.example/, ok", url_length=10) == len("see ") + 10 + len(", ok")


def test_length_counts_what_people_see_as_one_character_once():
    assert status_length("\U0001F44D\U0001F3FD") == 1  # thumbs up, skin tone
    assert status_length("\U0001F468\u200d\U0001F469\u200d\U0001F467") == 1  # family (ZWJ sequence)
    assert status_length("\U0001F1EB\U0001F1F7") == 1  # a flag
    assert status_length("e\u0301") == 1  # e + combining acute


# ------------------------------------------------------------------------------------------------ mentions

def test_the_customer_is_named_once():
    assert mention_first("thanks!", "ann") == "@ann thanks!"
    assert mention_first("thanks @ann!", "ann") == "thanks @ann!"
    assert mention_first("thanks @Ann@shop.example.", "ann", local_domains=("shop.example",)) == \
        "thanks @Ann@shop.example."
    assert mention_first("thanks @ann", "ann@other.example") == "@ann@other.example thanks @ann"  # another Ann
    assert mention_first("mail ann@x.example", "ann") == "@ann mail ann@x.example"
