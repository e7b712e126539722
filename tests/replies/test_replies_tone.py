"""Tone: tables of real-world phrasings on both sides of the line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.replies.tone import REASON_PUNCTUATION, REASON_SHOUTING, assess_tone

HEATED = [
    "This is ridiculous. You clearly didn't read our policy.",
    "Maybe if you had read the label you wouldn't be complaining.",
    "You people are never satisfied. We did nothing wrong.",
    "That's a lie and you know it.",
    "Stop spreading lies about my shop or I'll report you.",
    "Honestly, this is pathetic. Nobody else has a problem with our bread.",
    "WE NEVER SAID THAT. READ THE SIGN.",
    "Are you serious?! We told you three times!!",
    "You always complain and you never pay on time.",
    "It's not our fault you can't follow simple instructions.",
    "Your fault entirely, not ours.",
    "What a stupid thing to say. Go somewhere else then.",
    "Don't bother coming back. We don't need customers like you.",
    "You're a liar and a troll.",
    "Calling us a scam is disgusting and frankly defamatory.",
    "Learn to read before you leave a review.",
    "The mechanic was not incompetent, you are.",
    "Nobody forced you to buy it. Deal with it.",
    "Get over yourself. It was one late order.",
    "You never listen. I'm done with this.",
    "Wow, thanks for nothing. Typical entitled customer.",
    "I can't believe how rude you are. Shame on you.",
    "STOP EMAILING US ABOUT THIS!!",
]

CALM = [
    "I'm so sorry!",
    "We're SO excited to see you on Saturday!",
    "Thanks!!",
    "HAPPY NEW YEAR!!",
    "I'm SO SO SORRY!!",
    "Thank you so much for the kind words!",
    "I'm really sorry your order arrived late. Could you DM us your order number so we can fix it?",
    "We're sorry to hear that. That's not the experience we want for anyone.",
    "Please call us on our usual number and we'll sort it out today.",
    "We're looking into it now and will get back to you within the hour.",
    "That shouldn't have happened, and I'm sorry it did.",
    "Thanks for letting us know. The problem is fixed now.",
    "Sorry for the wait! Your bike is ready for pickup.",
    "We hear you, and we're disappointed too. Let's make it right.",
    "Hi Anna, I'm sorry about the mix-up with your cake. We'd love to bake you a new one.",
    "You're right, we made a mistake. A full refund is on its way.",
    "Happy to help! Is there anything else we can do?",
    "Good morning! We open at 9 today.",
    "We never want anyone to leave unhappy. Can we call you?",
    "You're always welcome here. Thank you for your patience.",
    "Ugh, that's awful, sorry. We'll fix it.",
    "The UPS driver says it was delivered. Can you DM us so we can check?",
    "Our fault entirely, and we apologise.",
    "I hate that this happened to you. Sorry!",
    "That's terrible news, I'm so sorry for the trouble with the brakes.",
    "Beware of scam messages pretending to be us.",
    "We're sorry our staff came across as rude.",
    "OK, we'll DM you the FAQ link ASAP.",
    "",
]


@pytest.mark.parametrize("text", HEATED)
def test_heated_replies_are_flagged_with_reasons(text: str) -> None:
    report = assess_tone(text)
    assert report.heated, (text, report)
    assert report.reasons


@pytest.mark.parametrize("text", CALM)
def test_calm_and_apologetic_replies_pass(text: str) -> None:
    report = assess_tone(text)
    assert not report.heated, (text, report)


def test_tables_are_large_enough_to_mean_something() -> None:
    assert len(HEATED) >= 15 and len(CALM) >= 15


def test_single_emphasis_is_reported_but_not_heated() -> None:
    report = assess_tone("Thanks!!")
    assert not report.heated
    assert report.reasons == (REASON_PUNCTUATION,)


def test_shouting_reason_is_owner_readable() -> None:
    report = assess_tone("WE NEVER SAID THAT. READ THE SIGN.")
    assert REASON_SHOUTING in report.reasons
    assert any("read the sign" in reason for reason in report.reasons)


def test_acronyms_are_not_shouting() -> None:
    assert REASON_SHOUTING not in assess_tone("DM us, OK? UPS or DHL, ASAP.").reasons


def test_compound_comes_from_vader() -> None:
    assert assess_tone("Thank you so much, we love you!").compound > 0.5
    assert assess_tone("This is terrible and awful.").compound < -0.5


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_never_raises(text: str) -> None:
    report = assess_tone(text)
    assert -1.0 <= report.compound <= 1.0
