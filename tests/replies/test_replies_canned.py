"""Canned replies: rendering with missing and hostile values, the library, the starter set, the signature."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.replies.canned import (
    CannedError,
    CannedLibrary,
    CannedReply,
    DuplicateShortcut,
    InvalidLibrary,
    Slot,
    UnknownReply,
    join,
    render,
    signature,
    starter_library,
    unfilled_slots,
)
from console.replies.guard import ORDER_NUMBER, scan
from console.replies.length import count
from console.replies.tone import assess_tone

CONTEXT = {"customer_name": "Priya", "customer_handle": "@priya@mastodon.social", "my_name": "Sam",
           "business": "Crumb & Co Bakery"}
TYPICAL = {**CONTEXT, "order number": "10452", "order status": "out for delivery",
           "opening hours": "Mon-Sat 7:00-17:00"}


def test_variables_are_filled_and_custom_slots_block_sending() -> None:
    rendered = render("Hi {customer_name}, order {order number} is on its way. — {my_name}", CONTEXT)
    assert rendered.text == "Hi Priya, order {order number} is on its way. — Sam"
    assert rendered.slots == (Slot("order number", 16, 30),)
    assert rendered.text[16:30] == "{order number}"
    assert rendered.missing == ("order number",) and not rendered.ready
    filled = render("Hi {customer_name}, order {Order  Number} is here.", {**CONTEXT, "order number": "77"})
    assert filled.ready and filled.text == "Hi Priya, order 77 is here."


def test_missing_or_blank_variables_stay_visible_slots() -> None:
    rendered = render("Thanks {customer_name}! {customer_name} rocks.", {"customer_name": "  "})
    assert rendered.text == "Thanks {customer_name}! {customer_name} rocks."
    assert len(rendered.slots) == 2 and rendered.missing == ("customer_name",)


@pytest.mark.parametrize("hostile", [
    "{my_name}", "{order number}", "}{", "{{", "line1\nline2", "x" * 10_000, "\u202eevil\u202c", "‏שלום",
    "%s {0}",
])
def test_hostile_values_are_inserted_literally_and_never_expanded(hostile: str) -> None:
    rendered = render("Hi {customer_name}, this is {my_name}.", {**CONTEXT, "customer_name": hostile})
    assert rendered.text == f"Hi {hostile}, this is Sam."
    assert rendered.ready and rendered.slots == ()


def test_double_braces_are_literal_and_odd_braces_survive() -> None:
    assert render("{{not a slot}} {", {}).text == "{not a slot} {"
    assert render("}{x", {}).ready


def test_join_shifts_slots() -> None:
    combined = join([render("Sorry {customer_name}.", CONTEXT), render("Order {order number}?", {})])
    assert combined.text == "Sorry Priya.\n\nOrder {order number}?"
    slot = combined.slots[0]
    assert combined.text[slot.start:slot.end] == "{order number}"


def test_unfilled_slots_after_editing() -> None:
    assert unfilled_slots("Order {order number} and {x}") == (Slot("order number", 6, 20), Slot("x", 25, 28))
    assert unfilled_slots("all filled") == ()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300),
       st.dictionaries(st.text(max_size=20), st.text(max_size=50), max_size=5))
def test_render_never_raises_and_slots_index_the_text(body: str, context: dict[str, str]) -> None:
    rendered = render(body, context)
    for slot in rendered.slots:
        assert rendered.text[slot.start:slot.end] == "{" + slot.name + "}"


def test_signature_on_public_replies_only_and_once() -> None:
    assert signature("Thanks!", "Sam", "public") == "Thanks!\n— Sam"
    assert signature("Thanks!\n— Sam\n", "Sam", "public") == "Thanks!\n— Sam\n"
    assert signature("Thanks!", "Sam", "direct") == "Thanks!"
    assert signature("Thanks!", "", "public") == "Thanks!"
    assert signature("", "Sam", "public") == ""


# -------------------------------------------------------------------------------------------------- library


def _reply(shortcut: str, title: str = "Title", body: str = "Body", category: str = "") -> CannedReply:
    return CannedReply.create(shortcut=shortcut, title=title, category=category, body=body)


def test_add_update_delete_keep_shortcuts_unique() -> None:
    library = CannedLibrary()
    first = library.add(_reply("apology", "Apology"))
    second = library.add(_reply("thanks", "Thanks"))
    with pytest.raises(DuplicateShortcut, match="/apology"):
        library.add(_reply("apology"))
    with pytest.raises(DuplicateShortcut):
        library.update(CannedReply(second.id, "apology", "Thanks", "", "Body"))
    library.update(CannedReply(first.id, "apology", "Apology (new)", "Complaints", "Sorry!"))
    assert library.get(first.id).title == "Apology (new)"
    assert [r.shortcut for r in library] == ["apology", "thanks"]  # order kept
    library.delete(first.id)
    assert len(library) == 1
    with pytest.raises(UnknownReply):
        library.delete(first.id)
    with pytest.raises(CannedError, match="shortcut"):
        library.add(_reply("Has Spaces"))


def test_shortcut_completion() -> None:
    library = CannedLibrary([_reply("apology-dm"), _reply("apology"), _reply("call-us"), _reply("dm-apology")])
    assert [r.shortcut for r in library.find_shortcut("/apo")] == ["apology", "apology-dm", "dm-apology"]
    assert [r.shortcut for r in library.find_shortcut("apology")][0] == "apology"
    assert library.find_shortcut("zzz") == []
    assert library.by_shortcut("/call-us") is not None


def test_search_by_words_ranked() -> None:
    library = starter_library()
    assert library.search("say sorry")[0].shortcut == "apology-dm"
    assert library.search("phone")[0].shortcut == "call-us"
    assert library.search("THANK praise")[0].shortcut == "thanks"
    assert library.search("opening")[0].shortcut == "hours"
    assert library.search("xyzzy") == []
    assert len(library.search("")) == len(library)


def test_json_round_trip_and_clear_errors() -> None:
    library = starter_library()
    again = CannedLibrary.from_json(library.to_json())
    assert again.replies == library.replies
    with pytest.raises(InvalidLibrary, match="not valid JSON"):
        CannedLibrary.from_json("{")
    with pytest.raises(InvalidLibrary, match="replies"):
        CannedLibrary.from_json('{"other": 1}')
    with pytest.raises(InvalidLibrary, match="reply 2"):
        CannedLibrary.from_json(json.dumps([{"shortcut": "a", "title": "A", "body": "x"},
                                            {"shortcut": "a", "title": "B", "body": "y"}]))
    with pytest.raises(InvalidLibrary, match="newer"):
        CannedLibrary.from_json('{"version": 9, "replies": []}')
    with pytest.raises(InvalidLibrary, match="body"):
        CannedLibrary.from_json('[{"shortcut": "a", "title": "A"}]')


def test_import_merges_and_renames_clashing_shortcuts() -> None:
    mine = CannedLibrary([_reply("thanks", "Mine")])
    merged = mine.merged(CannedLibrary([_reply("thanks", "Theirs"), _reply("hello")]))
    assert [r.shortcut for r in merged] == ["thanks", "thanks-2", "hello"]


# ---------------------------------------------------------------------------------------------- starter set

REQUIRED = ("apology-dm", "call-us", "thanks", "looking", "followup", "closed-loop")


def test_starter_set_has_the_required_replies() -> None:
    library = starter_library()
    shortcuts = {r.shortcut for r in library}
    assert set(REQUIRED) <= shortcuts and len(library) >= 9
    assert any("{order number}" in r.body for r in library)


@pytest.mark.parametrize("shortcut", [r.shortcut for r in starter_library()])
def test_starter_replies_are_short_calm_and_safe(shortcut: str) -> None:
    reply = starter_library().by_shortcut(shortcut)
    assert reply is not None
    rendered = render(reply.body, TYPICAL)
    assert rendered.ready
    text = signature(rendered.text, "Sam", "public")
    assert count("x", text) <= 280
    assert not assess_tone(text).heated
    findings = scan(text)
    if "{order number}" in reply.body:  # meant for a DM: the guard stops it going out in public
        assert [f.kind for f in findings] == [ORDER_NUMBER]
    else:
        assert findings == []
