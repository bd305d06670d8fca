from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_occasion import services
from django_occasion.domain import (
    Coupon,
    FieldType,
    GiftCard,
    Merchant,
    PriceQuote,
    Question,
    QuestionOption,
    RedeemableResult,
    RedeemableStatus,
    Region,
    TimeSlot,
    Venue,
)
from django_occasion.exceptions import (
    InvalidDocument,
    InvalidQuery,
    MalformedResponse,
    NotFound,
    PagingError,
)
from django_occasion.jsonapi import parse_document, parse_resource
from tests.booking import Clock, FakeBooking, install_clock, make_slot, serve_booking
from tests.conftest import load_fixture

CHICAGO = ZoneInfo("America/Chicago")
CST = timezone(timedelta(hours=-6))
LOGIN = "test-login"
SECRET = "test-secret-never-shown"


@pytest.fixture
def booking() -> Iterator[FakeBooking]:
    yield from serve_booking()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return install_clock(monkeypatch)


def basic(login: str, secret: str = "") -> str:
    return "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()


def slot_resource(**attributes: Any) -> Any:
    data = copy.deepcopy(load_fixture("time-slots-page.json")["data"][0])
    data["attributes"].update(attributes)
    return parse_resource(data)


# -- domain: time slots --------------------------------------------------------


def test_time_slot_reads_the_fixture() -> None:
    slot = TimeSlot.from_resource(slot_resource())

    assert slot == TimeSlot(
        id="ts-9001",
        starts_at=datetime(2026, 12, 8, 18, 30, tzinfo=CHICAGO),
        duration=timedelta(hours=2),
        spots_available=3,
        time_zone="America/Chicago",
        product_id="p7Kd2x",
    )
    assert slot.starts_at is not None
    assert slot.starts_at.tzinfo == CHICAGO
    assert slot.ends_at == datetime(2026, 12, 8, 20, 30, tzinfo=CHICAGO)
    assert (slot.is_unlimited, slot.is_sold_out) == (False, False)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        # Minutes, not seconds: the recorded 120 is a two-hour evening class.
        (120, timedelta(hours=2)),
        (60, timedelta(hours=1)),
        (90, timedelta(hours=1, minutes=30)),
        ("45", timedelta(minutes=45)),
        (7.5, timedelta(minutes=7, seconds=30)),
        (0, timedelta(0)),
        (-5, None),
        (None, None),
        ("two hours", None),
        (True, None),
        ("1e30", None),
    ],
)
def test_time_slot_duration_is_minutes(duration: Any, expected: Any) -> None:
    slot = TimeSlot.from_resource(slot_resource(duration=duration))

    assert slot.duration == expected


def test_time_slot_without_duration_has_no_end() -> None:
    slot = TimeSlot.from_resource(slot_resource(duration=None))

    assert slot.ends_at is None


@pytest.mark.parametrize(
    ("own_zone", "default_zone", "expected_zone"),
    [
        ("America/Chicago", "Europe/Paris", "America/Chicago"),
        (None, "Europe/Paris", "Europe/Paris"),
        ("Not/AZone", "Europe/Paris", "Europe/Paris"),
        ("../../etc/passwd", "Asia/Tokyo", "Asia/Tokyo"),
        ("America", "Asia/Tokyo", "Asia/Tokyo"),
        ("", None, None),
    ],
)
def test_time_slot_starts_in_its_own_zone_else_the_default(
    own_zone: str | None, default_zone: str | None, expected_zone: str | None
) -> None:
    slot = TimeSlot.from_resource(
        slot_resource(time_zone=own_zone), default_time_zone=default_zone
    )

    assert slot.starts_at is not None
    # The same moment whatever the zone: only its presentation changes.
    assert slot.starts_at == datetime(2026, 12, 9, 0, 30, tzinfo=UTC)
    if expected_zone is None:
        assert slot.starts_at.tzinfo == CST
        assert slot.time_zone is None
    else:
        assert slot.starts_at.tzinfo == ZoneInfo(expected_zone)
        assert slot.time_zone == expected_zone


@pytest.mark.parametrize(
    "starts_at", ["2026-12-08T18:30:00", "next Tuesday", None, 1765240200]
)
def test_time_slot_without_usable_start(starts_at: Any) -> None:
    slot = TimeSlot.from_resource(slot_resource(starts_at=starts_at))

    assert slot.starts_at is None
    assert slot.ends_at is None


@pytest.mark.parametrize(
    ("spots", "expected", "unlimited", "sold_out"),
    [
        (3, 3, False, False),
        ("4", 4, False, False),
        (0, 0, False, True),
        (-2, 0, False, True),
        (None, None, True, False),
        (2.5, None, True, False),
    ],
)
def test_time_slot_spots(
    spots: Any, expected: int | None, unlimited: bool, sold_out: bool
) -> None:
    slot = TimeSlot.from_resource(slot_resource(spots_available=spots))

    assert slot.spots_available == expected
    assert slot.is_unlimited is unlimited
    assert slot.is_sold_out is sold_out


def test_time_slot_keeps_unknown_attributes() -> None:
    slot = TimeSlot.from_resource(slot_resource(capacity_note="bring an apron"))

    assert slot.extra == {"capacity_note": "bring an apron"}


# -- domain: questions, redeemables, quotes ------------------------------------

CLAY_QUESTION = Question(
    id="q1",
    title="Which clay body?",
    position=0,
    field_type=FieldType(
        id="ft-price-dropdown",
        category="price",
        form_control="drop_down",
        operation="adding",
    ),
    options=(
        QuestionOption(
            id="o1",
            title="Stoneware (included)",
            position=0,
            is_default=True,
            price=Decimal("0.0"),
        ),
        QuestionOption(
            id="o2", title="Porcelain (+$15)", position=1, price=Decimal("15.0")
        ),
    ),
)
NOTES_QUESTION = Question(
    id="q2",
    title="Anything we should know?",
    position=1,
    field_type=FieldType(id="ft-info-text", category="info", form_control="text_area"),
)


def test_questions_read_the_fixture() -> None:
    document = parse_document(load_fixture("product-with-questions.json"))

    questions = Question.list_for(document.resources[0], document.index)

    assert questions == [CLAY_QUESTION, NOTES_QUESTION]
    assert questions[0].has_options
    assert questions[0].default_option == CLAY_QUESTION.options[0]
    assert not questions[1].has_options
    assert questions[1].default_option is None


def test_questions_follow_positions_and_the_newer_relationship_name() -> None:
    payload = load_fixture("product-with-questions.json")
    relationships = payload["data"]["relationships"]
    relationships["questions"] = relationships.pop("attributes")
    relationships["questions"]["data"].reverse()
    for item in payload["included"]:
        if item["id"] == "o1":
            item["attributes"]["position"] = 5
    document = parse_document(payload)

    questions = Question.list_for(document.resources[0], document.index)

    assert [q.id for q in questions] == ["q1", "q2"]
    assert [o.id for o in questions[0].options] == ["o2", "o1"]


def test_redeemables_read_the_fixtures() -> None:
    coupon = parse_document(load_fixture("redeemable-coupon.json")).resources[0]
    gift_card = parse_document(load_fixture("redeemable-gift-card.json")).resources[0]

    assert Coupon.from_resource(coupon) == Coupon(
        id="c-55",
        code="WARMHANDS",
        name="Winter Welcome",
        discount_percentage=Decimal("15.0"),
    )
    assert GiftCard.from_resource(gift_card) == GiftCard(
        id="g-71",
        code="GIFT-7Q2-KL9",
        initial_value=Decimal("100.0"),
        value=Decimal("42.5"),
    )


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (RedeemableStatus.VALID, "This code can be used."),
        (RedeemableStatus.UNKNOWN, "We do not know that code."),
        (RedeemableStatus.UNUSABLE, "That code can no longer be used."),
        (RedeemableStatus.INVALID, "That is not a valid code."),
    ],
)
def test_redeemable_result_messages(status: RedeemableStatus, message: str) -> None:
    result = RedeemableResult("CODE", status)

    assert result.message == message
    assert result.is_valid is (status == "valid")
    assert (result.coupon, result.gift_card) == (None, None)


def test_price_quote_reads_the_fixture() -> None:
    resource = parse_document(load_fixture("order-price.json")).resources[0]

    quote = PriceQuote.from_resource(resource)

    assert quote == PriceQuote(
        subtotal=Decimal("90.0"),
        discount=Decimal("13.5"),
        tax=Decimal("6.31"),
        total=Decimal("82.81"),
    )


def test_price_quote_without_coupon_or_tax() -> None:
    resource = parse_resource(
        {
            "type": "orders",
            "attributes": {"subtotal": "90.0", "coupon_amount": None, "total": "90"},
        }
    )

    assert PriceQuote.from_resource(resource) == PriceQuote(
        subtotal=Decimal("90.0"),
        discount=Decimal(0),
        tax=Decimal(0),
        total=Decimal(90),
    )


@pytest.mark.parametrize(
    "attributes",
    [{"subtotal": "90.0"}, {"total": "9"}, {"subtotal": "abc", "total": "9"}],
)
def test_price_quote_needs_subtotal_and_total(attributes: dict[str, Any]) -> None:
    resource = parse_resource({"type": "orders", "attributes": attributes})

    assert PriceQuote.from_resource(resource) is None


# -- merchants and venues ------------------------------------------------------

RIVERBEND = Merchant(
    id="m1Qa9",
    name="Riverbend Clay Studio",
    time_zone="America/Chicago",
    tax_percentage=Decimal("8.25"),
    profile_picture="https://images.example.test/merchants/m1Qa9/logo.jpg",
    facebook_page="https://social.example.test/riverbendclay",
    currency_name="USD",
    currency_symbol="$",
    business_type="Art Studio",
)
MAIN_STUDIO = Venue(
    id="v3Lk0",
    name="Riverbend Main Studio",
    address="400 Kiln Street",
    city="Springfield",
    zip="62701",
    website="www.riverbend.example.test",
    email="hello@riverbend.example.test",
    phone="(555) 010-4400",
    time_zone="America/Chicago",
    country=Region(name="United States of America", code="USA"),
    state=Region(name="Illinois", code="IL"),
)


def test_list_merchants_includes_currency_and_business_type(
    booking: FakeBooking,
) -> None:
    merchants = services.list_merchants()

    assert merchants == [RIVERBEND]
    assert booking.params("merchants") == [
        {"include": "currency,business_type", "page[size]": "100"}
    ]


def test_list_merchants_is_cached(booking: FakeBooking, clock: Clock) -> None:
    services.list_merchants()
    clock.advance(299)
    services.list_merchants()

    assert booking.calls["merchants"] == 1


@pytest.mark.parametrize("merchant_id", [None, "m1Qa9"])
def test_get_merchant(booking: FakeBooking, merchant_id: str | None) -> None:
    assert services.get_merchant(merchant_id) == RIVERBEND


@override_settings(OCCASION_MERCHANT_ID="m1Qa9")
def test_get_merchant_defaults_to_the_configured_merchant(
    booking: FakeBooking,
) -> None:
    assert services.get_merchant() == RIVERBEND


def test_get_merchant_unknown(booking: FakeBooking) -> None:
    with pytest.raises(NotFound, match="no merchant 'm0'"):
        services.get_merchant("m0")


def test_get_merchant_of_an_empty_account(booking: FakeBooking) -> None:
    booking.merchants = {"data": []}

    with pytest.raises(NotFound, match="no merchant"):
        services.get_merchant()


def test_list_venues_includes_country_and_state(booking: FakeBooking) -> None:
    venues = services.list_venues()

    assert [venue.id for venue in venues] == ["v3Lk0", "872"]
    assert venues[0] == MAIN_STUDIO
    assert venues[1].state is None
    assert booking.params("venues") == [
        {"include": "country,state", "page[size]": "100"}
    ]


def test_venues_never_cache_private_attributes(booking: FakeBooking) -> None:
    booking.venue["data"]["attributes"].update(capacity=40, public=True)

    listed = services.list_venues()[0]
    detail = services.get_venue("v3Lk0")

    assert "capacity" not in listed.extra and "public" not in listed.extra
    assert "capacity" not in detail.extra and "public" not in detail.extra


def test_get_venue_formats_the_address(booking: FakeBooking) -> None:
    venue = services.get_venue("v3Lk0")

    assert venue == MAIN_STUDIO
    assert venue.address_lines == [
        "400 Kiln Street",
        "Springfield, IL 62701",
        "United States of America",
    ]
    assert venue.formatted_address == (
        "400 Kiln Street, Springfield, IL 62701, United States of America"
    )
    assert booking.params("venue") == [{"include": "country,state"}]


def test_get_venue_unknown_is_cached(booking: FakeBooking) -> None:
    for _ in range(2):
        with pytest.raises(NotFound):
            services.get_venue("v0")

    assert booking.calls["venue"] == 1


@pytest.mark.parametrize("venue_id", ["..", "v3Lk0?x=1", "v 1", "", "a" * 65])
def test_get_venue_refuses_bad_ids_before_asking(
    booking: FakeBooking, venue_id: str
) -> None:
    with pytest.raises(InvalidQuery, match="not a valid Occasion id"):
        services.get_venue(venue_id)

    assert booking.requests == []


@pytest.mark.parametrize("venue_id", [872, "872"])
def test_get_venue_accepts_numeric_ids(booking: FakeBooking, venue_id: Any) -> None:
    with pytest.raises(NotFound):
        services.get_venue(venue_id)

    assert booking.calls["venue"] == 1


# -- time slots ----------------------------------------------------------------


def slot_ids(slots: list[TimeSlot]) -> list[str]:
    return [slot.id for slot in slots]


def test_list_time_slots_follows_the_cursor(booking: FakeBooking, clock: Clock) -> None:
    slots = services.list_time_slots("p7Kd2x", limit=3)

    assert slot_ids(slots) == ["ts-9001", "ts-9002", "ts-9003"]
    assert slots[0] == TimeSlot.from_resource(slot_resource())
    # One cached window of 10 serves every limit up to 10: the cursor is
    # followed until the window is full or the slots run out.
    assert booking.params("time_slots") == [
        {"filter[status]": "bookable", "page[size]": "10"},
        {"filter[status]": "bookable", "page[size]": "8", "filter[last]": "ts-9002"},
    ]


def test_list_time_slots_stops_at_the_limit(booking: FakeBooking, clock: Clock) -> None:
    booking.slots["p7Kd2x"] = [make_slot(n) for n in range(1, 31)]
    booking.max_page_size = 4

    slots = services.list_time_slots("p7Kd2x", limit=10)

    assert slot_ids(slots) == [f"ts-{9000 + n}" for n in range(1, 11)]
    assert [p["page[size]"] for p in booking.params("time_slots")] == ["10", "6", "2"]
    assert [p.get("filter[last]") for p in booking.params("time_slots")] == [
        None,
        "ts-9004",
        "ts-9008",
    ]


def test_list_time_slots_asks_for_pages_of_at_most_100(
    booking: FakeBooking, clock: Clock
) -> None:
    booking.slots["p7Kd2x"] = [make_slot(n) for n in range(1, 151)]
    booking.max_page_size = 100

    slots = services.list_time_slots("p7Kd2x", limit=150)

    assert len(slots) == 150
    assert [p["page[size]"] for p in booking.params("time_slots")] == ["100", "100"]


def test_list_time_slots_upcoming(booking: FakeBooking, clock: Clock) -> None:
    slots = services.list_time_slots("4411", status="upcoming")

    assert slot_ids(slots) == ["ts-9001"]
    assert slots[0].is_sold_out
    assert booking.params("time_slots")[0]["filter[status]"] == "upcoming"


def test_list_time_slots_leaves_out_started_slots(
    booking: FakeBooking, clock: Clock
) -> None:
    clock.now = datetime(2026, 12, 9, 0, 29, 30, tzinfo=UTC).timestamp()
    services.list_time_slots("p7Kd2x")
    clock.advance(31)  # the first slot has started; the copy is still fresh

    slots = services.list_time_slots("p7Kd2x")

    assert slot_ids(slots) == ["ts-9002", "ts-9003", "ts-9004"]
    assert booking.calls["time_slots"] == 2


def test_list_time_slots_uses_the_cursor_of_a_link_without_one(
    booking: FakeBooking, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = booking._time_slots

    def without_cursor(params: dict[str, str], product_id: str) -> Any:
        status, headers, body = answer(params, product_id)
        return status, headers, body.replace("filter%5Blast%5D=", "other=")

    monkeypatch.setattr(booking, "_time_slots", without_cursor)

    slots = services.list_time_slots("p7Kd2x")

    assert len(slots) == 4
    assert booking.params("time_slots")[1]["filter[last]"] == "ts-9002"


def test_list_time_slots_refuses_a_repeating_cursor(
    booking: FakeBooking, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        booking,
        "_time_slots",
        lambda params, product_id: (
            200,
            {},
            '{"data": [{"type": "time_slots", "id": "ts-1"}], '
            '"links": {"next": "https://occasion.test/api/v1/x?filter[last]=ts-1"}}',
        ),
    )

    with pytest.raises(PagingError, match="cursor repeats"):
        services.list_time_slots("p7Kd2x")

    assert booking.calls["time_slots"] == 2


@override_settings(OCCASION_MAX_PAGES=3)
def test_list_time_slots_stops_at_max_pages(booking: FakeBooking, clock: Clock) -> None:
    booking.slots["p7Kd2x"] = [make_slot(n) for n in range(1, 20)]
    booking.max_page_size = 1

    with pytest.raises(PagingError, match="went past 3 pages"):
        services.list_time_slots("p7Kd2x")

    assert booking.calls["time_slots"] == 3


def test_list_time_slots_falls_back_to_the_venue_zone(
    booking: FakeBooking, clock: Clock
) -> None:
    booking.slots["p7Kd2x"] = [make_slot(1, time_zone=None)]
    booking.pages[0]["included"][1]["attributes"]["time_zone"] = "America/New_York"

    slots = services.list_time_slots("p7Kd2x")

    assert slots[0].starts_at is not None
    assert slots[0].starts_at.tzinfo == ZoneInfo("America/New_York")
    assert slots[0].starts_at.hour == 19


def test_list_time_slots_takes_the_zone_given(
    booking: FakeBooking, clock: Clock
) -> None:
    booking.slots["p7Kd2x"] = [make_slot(1, time_zone=None)]

    slots = services.list_time_slots("p7Kd2x", time_zone="Europe/Paris")

    assert slots[0].time_zone == "Europe/Paris"
    assert booking.calls["products"] == 0


def test_list_time_slots_keeps_the_offset_without_any_zone(
    booking: FakeBooking, clock: Clock
) -> None:
    booking.slots["p7Kd2x"] = [make_slot(1, time_zone=None)]
    booking.fail["products"] = 503
    booking.fail["product"] = 503

    slots = services.list_time_slots("p7Kd2x")

    assert slots[0].starts_at is not None
    assert slots[0].starts_at.utcoffset() == timedelta(hours=-6)


def test_list_time_slots_unknown_product(booking: FakeBooking, clock: Clock) -> None:
    for _ in range(2):
        with pytest.raises(NotFound):
            services.list_time_slots("zz999")

    assert booking.calls["time_slots"] == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "sold_out"}, "unknown time slot status 'sold_out'"),
        ({"limit": 0}, "limit must be a whole number from 1 to 500, not 0"),
        ({"limit": 501}, "not 501"),
        ({"limit": True}, "not True"),
        ({"limit": "5"}, "not '5'"),
    ],
)
def test_list_time_slots_refuses_bad_arguments(
    booking: FakeBooking, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidQuery, match=re.escape(message)):
        services.list_time_slots("p7Kd2x", **kwargs)

    assert booking.requests == []


def test_list_time_slots_is_cached_for_the_time_slots_timeout(
    booking: FakeBooking, clock: Clock
) -> None:
    services.list_time_slots("p7Kd2x", limit=3)
    services.list_time_slots("p7Kd2x", limit=5)
    clock.advance(59)
    services.list_time_slots("p7Kd2x")
    calls_while_fresh = booking.calls["time_slots"]
    clock.advance(2)
    services.list_time_slots("p7Kd2x")

    assert calls_while_fresh == 2  # one window: two pages
    assert booking.calls["time_slots"] == 4


@override_settings(OCCASION_TIME_SLOTS_TIMEOUT=5, OCCASION_CACHE_TIMEOUT=300)
def test_time_slots_have_their_own_timeout(booking: FakeBooking, clock: Clock) -> None:
    services.list_time_slots("p7Kd2x")
    services.list_venues()
    clock.advance(6)
    services.list_time_slots("p7Kd2x")
    services.list_venues()

    assert booking.calls["time_slots"] == 4
    assert booking.calls["venues"] == 1


def test_list_time_slots_with_a_query(booking: FakeBooking, clock: Clock) -> None:
    from django_occasion.query import Query

    services.list_time_slots(
        "p7Kd2x", query=Query(fields={TimeSlot: ["starts_at", "spots_available"]})
    )

    assert booking.params("time_slots")[0] == {
        "fields[time_slots]": "starts_at,spots_available",
        "filter[status]": "bookable",
        "page[size]": "10",
    }


# -- questions -----------------------------------------------------------------


def test_get_questions(booking: FakeBooking, clock: Clock) -> None:
    questions = services.get_questions("p7Kd2x")
    services.get_questions("p7Kd2x")

    assert questions == [CLAY_QUESTION, NOTES_QUESTION]
    assert booking.params("product") == [
        {"include": "attributes,attributes.attribute_options,attributes.field_type"}
    ]


def test_get_questions_of_a_product_without_any(booking: FakeBooking) -> None:
    assert services.get_questions("4411") == []


def test_get_questions_unknown_product(booking: FakeBooking) -> None:
    with pytest.raises(NotFound):
        services.get_questions("zz999")


# -- redeemables ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "WARMHANDS",
            RedeemableResult(
                "WARMHANDS",
                RedeemableStatus.VALID,
                Coupon(
                    id="c-55",
                    code="WARMHANDS",
                    name="Winter Welcome",
                    discount_percentage=Decimal("15.0"),
                ),
            ),
        ),
        (
            " GIFT-7Q2-KL9 ",
            RedeemableResult(
                "GIFT-7Q2-KL9",
                RedeemableStatus.VALID,
                GiftCard(
                    id="g-71",
                    code="GIFT-7Q2-KL9",
                    initial_value=Decimal("100.0"),
                    value=Decimal("42.5"),
                ),
            ),
        ),
        ("NOSUCH", RedeemableResult("NOSUCH", RedeemableStatus.UNKNOWN)),
        ("USEDUP", RedeemableResult("USEDUP", RedeemableStatus.UNUSABLE)),
    ],
)
def test_check_redeemable(
    booking: FakeBooking, code: str, expected: RedeemableResult
) -> None:
    result = services.check_redeemable("p7Kd2x", code)

    assert result == expected
    request = booking.requests[0]
    assert booking.params("redeemables") == [{"filter[code]": code.strip()}]
    assert request.headers["Authorization"] == basic(LOGIN)


def test_check_redeemable_is_never_cached(booking: FakeBooking) -> None:
    for _ in range(3):
        services.check_redeemable("p7Kd2x", "WARMHANDS")

    assert booking.calls["redeemables"] == 3


@pytest.mark.parametrize(
    "code",
    ["", "   ", "-LEADING", "TWO WORDS", "C0DE!", "CO\nDE", "ÜBER", "A" * 65, None, 5],
)
def test_check_redeemable_refuses_malformed_codes_before_asking(
    booking: FakeBooking, code: Any
) -> None:
    with pytest.raises(InvalidQuery, match="a code holds 1 to 64 letters"):
        services.check_redeemable("p7Kd2x", code)

    assert booking.requests == []


def test_check_redeemable_of_an_empty_answer(
    booking: FakeBooking, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        booking, "_redeemables", lambda params, product_id: (200, {}, '[{"data": []}]')
    )

    result = services.check_redeemable("p7Kd2x", "WARMHANDS")

    assert result.status == RedeemableStatus.UNKNOWN


def test_check_redeemable_of_an_odd_answer(
    booking: FakeBooking, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        booking,
        "_redeemables",
        lambda params, product_id: (200, {}, '{"data": {"type": "products", "id": 1}}'),
    )

    with pytest.raises(MalformedResponse, match="answered a products, not a coupon"):
        services.check_redeemable("p7Kd2x", "WARMHANDS")


# -- price quotes --------------------------------------------------------------


def test_quote_price_posts_answers_and_coupon(booking: FakeBooking) -> None:
    quote = services.quote_price(
        "p7Kd2x", answers={"q1": "o2", "q2": "Left-handed"}, coupon_code="WARMHANDS"
    )

    assert quote == PriceQuote(
        subtotal=Decimal("90.0"),
        discount=Decimal("13.5"),
        tax=Decimal("6.31"),
        total=Decimal("82.81"),
        redeemable=services.check_redeemable("p7Kd2x", "WARMHANDS"),
    )
    assert booking.bodies() == [
        {
            "data": {
                "type": "orders",
                "attributes": {},
                "relationships": {
                    "product": {"data": {"type": "products", "id": "p7Kd2x"}},
                    "attribute_values": {
                        "data": [
                            {
                                "type": "attribute_values",
                                "attributes": {"value": "o2"},
                                "relationships": {
                                    "attribute": {
                                        "data": {"type": "attributes", "id": "q1"}
                                    }
                                },
                            },
                            {
                                "type": "attribute_values",
                                "attributes": {"value": "Left-handed"},
                                "relationships": {
                                    "attribute": {
                                        "data": {"type": "attributes", "id": "q2"}
                                    }
                                },
                            },
                        ]
                    },
                    "coupon": {"data": {"type": "coupons", "id": "c-55"}},
                },
            }
        }
    ]


def test_quote_price_is_a_private_call(booking: FakeBooking) -> None:
    services.quote_price("p7Kd2x")

    (request,) = booking.requests
    assert request.headers["Authorization"] == basic(LOGIN, SECRET)
    assert request.headers["Content-Type"] == "application/json"


def test_quote_price_without_extras(booking: FakeBooking) -> None:
    quote = services.quote_price("p7Kd2x")

    assert quote.redeemable is None
    assert booking.bodies()[0]["data"]["relationships"] == {
        "product": {"data": {"type": "products", "id": "p7Kd2x"}}
    }


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("GIFT-7Q2-KL9", RedeemableStatus.VALID),
        ("NOSUCH", RedeemableStatus.UNKNOWN),
        ("USEDUP", RedeemableStatus.UNUSABLE),
    ],
)
def test_quote_price_applies_only_usable_coupons(
    booking: FakeBooking, code: str, status: RedeemableStatus
) -> None:
    quote = services.quote_price("p7Kd2x", coupon_code=code)

    assert quote.redeemable is not None
    assert quote.redeemable.status == status
    assert "coupon" not in booking.bodies()[0]["data"]["relationships"]


def test_quote_price_is_never_cached(booking: FakeBooking) -> None:
    services.quote_price("p7Kd2x")
    services.quote_price("p7Kd2x")

    assert booking.calls["price"] == 2


def test_quote_price_rejected_answers(booking: FakeBooking) -> None:
    booking.fail["price"] = 422

    with pytest.raises(InvalidDocument) as caught:
        services.quote_price("p7Kd2x", answers={"q1": "o9"})

    assert caught.value.field_errors == {
        "email": ["Email can't be blank."],
        "time_slots": ["Choose a time slot."],
    }
    assert booking.calls["price"] == 1  # a POST is never retried


@pytest.mark.parametrize(
    "answers",
    [
        {"../q1": "o1"},
        {"q1": "bell\x07"},
        {"q1": "x" * 2001},
        {f"q{n}": "x" for n in range(101)},
    ],
)
def test_quote_price_refuses_bad_answers_before_asking(
    booking: FakeBooking, answers: dict[str, str]
) -> None:
    with pytest.raises(InvalidQuery):
        services.quote_price("p7Kd2x", answers=answers)

    assert booking.requests == []


def test_quote_price_keeps_line_breaks_in_answers(booking: FakeBooking) -> None:
    services.quote_price("p7Kd2x", answers={"q2": "Line one\r\nLine\ttwo", "q1": None})

    values = booking.bodies()[0]["data"]["relationships"]["attribute_values"]["data"]
    assert [v["attributes"]["value"] for v in values] == ["Line one\r\nLine\ttwo", ""]


def test_quote_price_of_an_answer_without_totals(booking: FakeBooking) -> None:
    booking.price = {"data": {"type": "orders", "attributes": {"tax": "1.00"}}}

    with pytest.raises(MalformedResponse, match="no subtotal and total"):
        services.quote_price("p7Kd2x")


def test_quote_price_of_an_empty_answer(booking: FakeBooking) -> None:
    booking.price = {"data": None}

    with pytest.raises(MalformedResponse, match="no subtotal and total"):
        services.quote_price("p7Kd2x")


# -- warming time slots --------------------------------------------------------


def test_warm_time_slots_caches_every_product(
    booking: FakeBooking, clock: Clock
) -> None:
    result = services.warm_time_slots(["p7Kd2x", "4411", "p7Kd2x"], max_workers=2)
    calls = booking.calls["time_slots"]
    services.list_time_slots("p7Kd2x")
    services.list_time_slots("4411", limit=3)

    assert (result.products, result.time_slots, result.workers) == (2, 5, 2)
    assert result.failed == {}
    assert calls == 3
    assert booking.calls["time_slots"] == 3


def test_warm_time_slots_replaces_fresh_entries(
    booking: FakeBooking, clock: Clock
) -> None:
    services.list_time_slots("4411")
    booking.slots["4411"] = [make_slot(2)]

    services.warm_time_slots(["4411"])

    assert slot_ids(services.list_time_slots("4411")) == ["ts-9002"]


def test_warm_time_slots_bounds_concurrent_requests(
    booking: FakeBooking, clock: Clock
) -> None:
    for number in range(8):
        booking.slots[f"p{number}"] = [make_slot(1)]
    booking.delay = 0.02

    result = services.warm_time_slots([f"p{n}" for n in range(8)], max_workers=3)

    assert result.products == 8
    assert booking.most_in_flight == 3


def test_warm_time_slots_reports_failures(booking: FakeBooking, clock: Clock) -> None:
    result = services.warm_time_slots(["p7Kd2x", "zz999"])

    assert result.products == 1
    assert list(result.failed) == ["zz999"]
    assert "answered 404" in result.failed["zz999"]


def test_warm_time_slots_dry_run_stores_nothing(
    booking: FakeBooking, clock: Clock
) -> None:
    result = services.warm_time_slots(["4411"], dry_run=True)
    services.list_time_slots("4411")

    assert (result.products, result.time_slots, result.dry_run) == (1, 1, True)
    assert booking.calls["time_slots"] == 2


def test_warm_time_slots_of_nothing(booking: FakeBooking) -> None:
    result = services.warm_time_slots([])

    assert (result.products, result.time_slots, result.workers) == (0, 0, 1)


@pytest.mark.parametrize("workers", [0, 11, True, 2.5])
def test_warm_time_slots_refuses_bad_worker_counts(
    booking: FakeBooking, workers: Any
) -> None:
    with pytest.raises(InvalidQuery, match="max_workers must be a whole number"):
        services.warm_time_slots(["p7Kd2x"], max_workers=workers)

    assert booking.requests == []


# -- occasion_refresh --time-slots -------------------------------------------------

NUMBER = r"\d+\.\d\d"


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("occasion_refresh", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_refresh_warms_time_slots_of_active_products(
    booking: FakeBooking, clock: Clock
) -> None:
    stdout, stderr = run("--time-slots", "--workers", "2")

    assert re.fullmatch(
        rf"Refreshed 4 products \(2 pages\) in {NUMBER} s: "
        r"4 added, 0 changed, 0 removed\.\n"
        rf"Cached the time slots of 2 products \(5 time slots\) in {NUMBER} s "
        r"with 2 workers\.\n",
        stdout,
    )
    assert stderr == ""
    urls = " ".join(request.url for request in booking.requests)
    assert sorted(re.findall(r"products/(\w+)/time_slots", urls)) == [
        "4411",
        "p7Kd2x",
        "p7Kd2x",
    ]


def test_refresh_dry_run_fetches_time_slots_only(
    booking: FakeBooking, clock: Clock
) -> None:
    run()
    booking.calls.clear()

    stdout, _ = run("--dry-run", "--time-slots", "--workers", "1")
    services.list_time_slots("4411")

    assert re.fullmatch(
        rf"Dry run: fetched the time slots of 2 products \(5 time slots\) in "
        rf"{NUMBER} s with 1 worker; the cache was not changed\.",
        stdout.splitlines()[1],
    )
    assert booking.calls["time_slots"] == 4


def test_refresh_reports_time_slots_that_failed(
    booking: FakeBooking, clock: Clock
) -> None:
    del booking.slots["4411"]
    stdout, stderr = StringIO(), StringIO()

    with pytest.raises(
        CommandError,
        match=r"^The time slots of 1 of 2 products could not be fetched; "
        r"their cached time slots were kept\.$",
    ):
        call_command("occasion_refresh", "--time-slots", stdout=stdout, stderr=stderr)

    assert re.fullmatch(
        r"Time slots of product 4411 failed: GET /api/v1/products/4411/time_slots "
        r"answered 404: No product has id: zz999\n",
        stderr.getvalue(),
    )
    assert "Cached the time slots of 1 product (4 time slots)" in stdout.getvalue()


@pytest.mark.parametrize("workers", ["0", "11"])
def test_refresh_refuses_bad_worker_counts(booking: FakeBooking, workers: str) -> None:
    with pytest.raises(CommandError, match=r"--workers must be from 1 to 10"):
        run("--time-slots", "--workers", workers)

    assert booking.requests == []


def test_refresh_quiet_with_time_slots(booking: FakeBooking, clock: Clock) -> None:
    stdout, stderr = run("--time-slots", "--verbosity", "0")

    assert (stdout, stderr) == ("", "")
    assert booking.calls["time_slots"] == 3


# -- odd answers ---------------------------------------------------------------


def test_question_without_field_type() -> None:
    resource = parse_resource({"type": "attributes", "id": "q9", "attributes": {}})

    question = Question.from_resource(resource)

    assert question == Question(id="q9", title="")
    assert question.field_type is None


def test_get_venue_of_an_answer_without_venue(
    booking: FakeBooking, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        booking, "_venue", lambda params, venue_id: (200, {}, '{"data": null}')
    )

    with pytest.raises(NotFound):
        services.get_venue("v3Lk0")


def test_get_questions_of_an_answer_without_product(
    booking: FakeBooking, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        booking, "_product", lambda params, product_id: (200, {}, '{"data": []}')
    )

    with pytest.raises(NotFound):
        services.get_questions("p7Kd2x")


def test_list_time_slots_keeps_included_resources(
    booking: FakeBooking, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django_occasion.query import Query

    answer = booking._time_slots

    def with_product(params: dict[str, str], product_id: str) -> Any:
        status, headers, body = answer(params, product_id)
        document = json.loads(body)
        document["included"] = [{"type": "products", "id": product_id}]
        return status, headers, json.dumps(document)

    monkeypatch.setattr(booking, "_time_slots", with_product)

    slots = services.list_time_slots("p7Kd2x", query=Query(include=["product"]))

    assert len(slots) == 4
    assert booking.params("time_slots")[0]["include"] == "product"


@pytest.mark.parametrize(
    ("venue_zone", "merchant_zone", "offset"),
    [
        (None, "America/New_York", timedelta(hours=-5)),
        (None, None, timedelta(hours=-6)),
    ],
)
def test_list_time_slots_falls_back_to_the_merchant_zone(
    booking: FakeBooking,
    clock: Clock,
    venue_zone: str | None,
    merchant_zone: str | None,
    offset: timedelta,
) -> None:
    booking.slots["p7Kd2x"] = [make_slot(1, time_zone=None)]
    merchant, venue, _annex = booking.pages[0]["included"]
    venue["attributes"]["time_zone"] = venue_zone
    merchant["attributes"]["time_zone"] = merchant_zone

    slots = services.list_time_slots("p7Kd2x")

    assert slots[0].starts_at is not None
    assert slots[0].starts_at.utcoffset() == offset


def test_cached_product_ids(booking: FakeBooking, clock: Clock) -> None:
    before = services.cached_product_ids()
    services.refresh_catalogue()

    assert before == []
    assert services.cached_product_ids() == ["p7Kd2x", "4411"]
    assert services.cached_product_ids(status=None) == [
        "p7Kd2x",
        "p9Rt4b",
        "4411",
        "p2Wm8c",
    ]
    assert booking.calls["products"] == 2


def test_warm_time_slots_stores_even_while_a_reader_holds_the_lock(
    booking: FakeBooking, clock: Clock
) -> None:
    services.list_time_slots("4411")
    booking.slots["4411"] = [make_slot(2)]
    catalogue = services.get_catalogue()
    catalogue.cache.add(catalogue.key("lock", "time-slots:4411:bookable:10"), "x", 60)

    services.warm_time_slots(["4411"])

    assert slot_ids(services.list_time_slots("4411")) == ["ts-9002"]
