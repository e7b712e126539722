"""The sensitive-data guard: must-flag and must-pass tables, and it never raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.replies.guard import (
    ADDRESS,
    CARD,
    DEFAULT_PATTERNS,
    EMAIL,
    IBAN,
    ORDER_NUMBER,
    PHONE,
    NamedPattern,
    PatternError,
    PatternSet,
    describe,
    exposure_banner,
    exposure_in_incoming,
    iban_valid,
    luhn_valid,
    scan,
)

MUST_FLAG = [
    ("My card is 4111 1111 1111 1111", CARD, "4111 1111 1111 1111"),
    ("4539-1488-0343-6467 please", CARD, "4539-1488-0343-6467"),
    ("charge 5500005555555559 again", CARD, "5500005555555559"),
    ("IBAN GB82 WEST 1234 5698 7654 32 thanks", IBAN, "GB82 WEST 1234 5698 7654 32"),
    ("Pay to DE89370400440532013000.", IBAN, "DE89370400440532013000"),
    ("email me at jane.doe+shop@example.co.uk", EMAIL, "jane.doe+shop@example.co.uk"),
    ("Call Anna on 07700 900123", PHONE, "07700 900123"),
    ("ring +44 161 496 0000 today", PHONE, "+44 161 496 0000"),
    ("+1 (415) 555-2671", PHONE, "+1 (415) 555-2671"),
    ("her number: (415) 555-2671", PHONE, "(415) 555-2671"),
    ("415-555-2671", PHONE, "415-555-2671"),
    ("call 0161 496 0000", PHONE, "0161 496 0000"),
    ("Son portable: 06 12 34 56 78", PHONE, "06 12 34 56 78"),
    ("Ruf an: +49 30 12345678", PHONE, "+49 30 12345678"),
    ("+44 (0)20 7946 0958", PHONE, "+44 (0)20 7946 0958"),
    ("0049 30 12345678", PHONE, "0049 30 12345678"),
    ("We'll deliver to 12 Baker Street tomorrow", ADDRESS, "12 Baker Street"),
    ("She lives at 221b Baker St.", ADDRESS, "221b Baker St."),
    ("at 5 Elm Road, Leeds", ADDRESS, "5 Elm Road"),
    ("1600 Pennsylvania Avenue", ADDRESS, "1600 Pennsylvania Avenue"),
    ("Lieferung an Hauptstraße 12", ADDRESS, "Hauptstraße 12"),
    ("Kerkstraat 5, Utrecht", ADDRESS, "Kerkstraat 5"),
    ("livré au 12 rue de la Paix", ADDRESS, "12 rue de la Paix"),
    ("Via Roma 10", ADDRESS, "Via Roma 10"),
    ("Re order #12345", ORDER_NUMBER, "order #12345"),
    ("account no. 123456", ORDER_NUMBER, "account no. 123456"),
    ("your order number is 1001", ORDER_NUMBER, "order number is 1001"),
    ("Order: A12345", ORDER_NUMBER, "Order: A12345"),
    ("booking ref 7XK9QZ", ORDER_NUMBER, "booking ref 7XK9QZ"),
    ("invoice 2024-00123", ORDER_NUMBER, "invoice 2024-00123"),
]

MUST_PASS = [
    "Open 9-17 Mon-Fri",
    "£12.50",
    "call us on our usual number",
    "See you on 12/05/2024",
    "2024",
    "100% refund",
    "order arriving Tuesday",
    "We open 09:00-17:30",
    "Your total was €1,250.00",
    "Ready on 2024-05-01",
    "Back on 01.05.2024",
    "Orders over $50 ship free",
    "We'll do everything in order to help",
    "Sorry @sam@mastodon.social, we'll fix it",
    "3 Road bikes in stock",
    "5 minutes down the road",
    "Thanks for 10 years of support!",
    "We sold 1,000,000 croissants",
    "Call 999 in an emergency",
    "Our 2023-2024 season",
    "Prices from 12.99 to 19.99",
    "Open 10.30-12.30 and 14.00-18.00",
    "Version 2.1.0 is out",
    "It takes 3 to 5 working days",
    "See page 42",
    "Account settings are in the app",
    "your order from last week",
    "Use code SPRING24 for 10% off",
    "https://example.com/blog/2024/05/01",
    "We have 12345 happy customers",
    "Open 8am-6pm",
    "Tables for 2, 4 or 6",
    "ISBN 978-3-16-148410-0 is in stock",
    "We'll be closed 24-26 December",
    "Sizes 36 38 40 42 44",
    "Ovens at 180-200C",
    "I'm so sorry about your order, Priya! Could you DM us the details?",
    "Thanks so much, see you Saturday at 10!",
    "Card payments are back on, sorry for the hassle.",
    "4111 1111 1111 1112",  # fails the card checksum
    "GB82 WEST 1234 5698 7654 33",  # fails the IBAN checksum
]


@pytest.mark.parametrize(("text", "kind", "excerpt"), MUST_FLAG)
def test_private_details_are_flagged(text: str, kind: str, excerpt: str) -> None:
    findings = scan(text)
    assert [(f.kind, f.excerpt) for f in findings] == [(kind, excerpt)]
    finding = findings[0]
    assert text[finding.start:finding.end] == finding.excerpt
    assert finding.explanation


@pytest.mark.parametrize("text", MUST_PASS)
def test_ordinary_replies_pass(text: str) -> None:
    assert scan(text) == []


def test_tables_are_large_enough_to_mean_something() -> None:
    assert len(MUST_PASS) >= 20 and len(MUST_FLAG) >= 20


def test_several_findings_come_in_text_order() -> None:
    text = "Call 07700 900123 or email a@b.co, card 4111111111111111"
    assert [f.kind for f in scan(text)] == [PHONE, EMAIL, CARD]


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_valid("GB82") and not iban_valid("")


def test_incoming_exposure_only_reports_what_the_customer_exposed_about_themselves() -> None:
    text = "You charged my card 4111 1111 1111 1111 twice for order #12345, call me on 07700 900123"
    findings = exposure_in_incoming(text)
    assert [f.kind for f in findings] == [CARD, PHONE]
    banner = exposure_banner(findings)
    assert banner is not None and "a card number and a phone number" in banner
    assert exposure_banner(exposure_in_incoming("Lovely cake, thanks!")) is None
    assert describe([]) == ""


def test_pattern_set_round_trips_through_json_and_can_be_edited() -> None:
    loaded = PatternSet.from_json(DEFAULT_PATTERNS.to_json())
    assert loaded == DEFAULT_PATTERNS
    custom = loaded.with_pattern(NamedPattern("loyalty", ORDER_NUMBER, r"\bLOY-\d{4}\b", "A loyalty card."))
    assert [f.excerpt for f in scan("your card LOY-1234 is ready", custom)] == ["LOY-1234"]
    assert scan("Open 9-17", custom.without("loyalty")) == []
    assert scan("email a@b.co", loaded.without("email")) == []


@pytest.mark.parametrize(("payload", "words"), [
    ("not json", "not valid JSON"),
    ('{"patterns": 3}', "patterns"),
    ('{"patterns": [{"name": "x", "kind": "k", "regex": "(", "explanation": "e"}]}', "not a valid regular"),
    ('{"patterns": [{"name": "x", "kind": "k", "regex": "a", "explanation": "e", "check": "crc"}]}', "unknown check"),
    ('{"patterns": [{"name": "x", "kind": "k", "regex": "a"}]}', "explanation"),
    ('{"patterns": [{"name": "x", "kind": "k", "regex": "a", "explanation": "e"},'
     ' {"name": "x", "kind": "k", "regex": "b", "explanation": "e"}]}', "two patterns"),
])
def test_bad_pattern_files_are_refused_with_reasons(payload: str, words: str) -> None:
    with pytest.raises(PatternError, match=words):
        PatternSet.from_json(payload)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 -+().#:@abcxyzABC/\n"), max_size=200) | st.text(max_size=200))
def test_scan_never_raises_and_spans_index_the_text(text: str) -> None:
    for finding in scan(text):
        assert 0 <= finding.start < finding.end <= len(text)
        assert text[finding.start:finding.end] == finding.excerpt


def test_long_digit_runs_scan_quickly() -> None:
    import time

    started = time.perf_counter()
    scan(("0" + "1 2-" * 3000) + " +" + "9" * 5000)
    assert time.perf_counter() - started < 2.0
