"""The detail page's dates, venue and merchant; the price quote view; the tags."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client

from django_occasion.exceptions import InvalidQuery
from tests.booking import Clock, FakeBooking, install_clock, make_slot, serve_booking


@pytest.fixture
def booking() -> Iterator[FakeBooking]:
    yield from serve_booking()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return install_clock(monkeypatch)


def section(html: str, tag: str, css_class: str) -> str:
    """The first ``<tag class="css_class">...</tag>`` of ``html``."""
    match = re.search(rf'<{tag} class="{css_class}">.*?</{tag}>', html, flags=re.DOTALL)
    assert match is not None, f"no {tag}.{css_class} in the page"
    return match.group(0)


def slot_item(day: str, extras: str = "") -> str:
    return (
        f'      <li class="occasion-time-slot"><time datetime="2026-12-{day[-2:]}'
        f'T18:30:00-06:00">{day[:-3]} December 2026, 6:30 PM CST</time>'
        f"{extras}</li>\n"
    )


TWO_HOURS = ' <span class="occasion-duration">2 hours</span>'
THREE_LEFT = ' <span class="occasion-spots">3 spots left</span>'


# -- the detail page -----------------------------------------------------------


def test_detail_shows_dates_venue_and_merchant(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    response = client.get("/products/p7Kd2x/")

    html = response.content.decode()
    assert response.status_code == 200
    assert section(html, "section", "occasion-time-slots") == (
        '<section class="occasion-time-slots">\n'
        "    <h2>Pick your first evening</h2>\n"
        "    <ul>\n"
        + slot_item("Tuesday 8-08", TWO_HOURS + THREE_LEFT)
        + slot_item("Tuesday 15-15", TWO_HOURS)
        + slot_item("Tuesday 22-22", TWO_HOURS + THREE_LEFT)
        + slot_item("Tuesday 29-29", TWO_HOURS + THREE_LEFT)
        + "    </ul>\n"
        "  </section>"
    )
    assert (
        '<p class="occasion-venue">Riverbend Main Studio, 400 Kiln Street, '
        "Springfield, IL 62701, United States of America</p>"
    ) in html
    assert (
        '<img class="occasion-merchant-logo" '
        'src="https://images.example.test/merchants/m1Qa9/logo.jpg" alt="" '
        'width="48" height="48"><p class="occasion-merchant">Riverbend Clay Studio'
        "</p>"
    ) in html
    assert (
        '<p class="occasion-quote-link"><a href="/products/p7Kd2x/quote/">'
        "Check a coupon code and see the price</a></p>"
    ) in html
    context = response.context
    assert [slot.id for slot in context["time_slots"]] == [
        "ts-9001",
        "ts-9002",
        "ts-9003",
        "ts-9004",
    ]
    assert context["time_slots_unavailable"] is False
    assert context["merchant"].currency_symbol == "$"
    assert context["venue"].state.code == "IL"


def test_detail_hides_duration_and_spots_unless_the_product_shows_them(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    booking.slots["4411"] = [make_slot(1, spots_available=1, duration=45)]

    response = client.get("/products/4411/")

    html = response.content.decode()
    assert slot_item("Tuesday 8-08") in html
    assert "occasion-duration" not in html
    assert "occasion-spots" not in html
    assert "<h2>Upcoming dates</h2>" in html


@pytest.mark.parametrize(
    ("spots", "shown"),
    [
        (1, ' <span class="occasion-spots">1 spot left</span>'),
        (0, ' <span class="occasion-spots">Sold out</span>'),
        (None, ""),
    ],
)
def test_detail_spots(
    client: Client, booking: FakeBooking, clock: Clock, spots: Any, shown: str
) -> None:
    booking.slots["p7Kd2x"] = [make_slot(1, spots_available=spots, duration=90)]

    response = client.get("/products/p7Kd2x/")

    extras = ' <span class="occasion-duration">1 hour 30 minutes</span>' + shown
    assert slot_item("Tuesday 8-08", extras) in response.content.decode()


def test_detail_survives_a_time_slot_failure(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    booking.fail["time_slots"] = 503

    response = client.get("/products/p7Kd2x/")

    assert response.status_code == 200
    assert section(response.content.decode(), "section", "occasion-time-slots") == (
        '<section class="occasion-time-slots">\n'
        "    <h2>Pick your first evening</h2>\n"
        '    <p class="occasion-time-slots-unavailable">Dates cannot be shown right '
        "now. Please try again in a few minutes.</p>\n"
        "  </section>"
    )
    assert response.context["time_slots"] == []
    assert response.context["time_slots_unavailable"] is True


def test_detail_without_dates(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    booking.slots["p7Kd2x"] = []

    response = client.get("/products/p7Kd2x/")

    assert (
        '<p class="occasion-empty">No dates can be booked right now.</p>'
        in response.content.decode()
    )
    assert response.context["time_slots_unavailable"] is False


def test_detail_falls_back_to_the_listing_venue_and_merchant(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    booking.fail.update(venue=503, merchants=503)

    response = client.get("/products/p7Kd2x/")

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<p class="occasion-venue">Riverbend Main Studio, 400 Kiln Street, '
        "Springfield 62701</p>"
    ) in html
    assert '<p class="occasion-merchant">Riverbend Clay Studio</p>' in html
    assert response.context["merchant"].currency_symbol is None


def test_detail_of_an_unbookable_product_asks_for_no_dates(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    response = client.get("/products/p9Rt4b/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "occasion-time-slots" not in html
    assert "occasion-quote-link" not in html
    assert booking.calls["time_slots"] == 0


# -- the price quote view ------------------------------------------------------


def test_quote_form_asks_the_product_questions(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    response = client.get("/products/p7Kd2x/quote/")

    html = response.content.decode()
    form = response.context["form"]
    assert response.status_code == 200
    assert list(form.fields) == ["question_q1", "question_q2", "coupon_code"]
    assert form.fields["question_q1"].choices == [
        ("o1", "Stoneware (included)"),
        ("o2", "Porcelain (+$15)"),
    ]
    assert form.fields["question_q1"].initial == "o1"
    assert '<option value="o1" selected>Stoneware (included)</option>' in html
    assert '<textarea name="question_q2"' in html
    assert "<title>Price of Wheel Throwing for Beginners</title>" in html
    assert 'occasion-quote"' not in html
    assert booking.calls["price"] == 0


def test_quote_with_a_coupon(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    response = client.post(
        "/products/p7Kd2x/quote/",
        {"question_q1": "o2", "question_q2": "", "coupon_code": " WARMHANDS "},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<p class="occasion-redeemable occasion-redeemable-valid">'
        "Coupon “Winter Welcome”: 15% off.</p>\n"
        '  <table class="occasion-quote">\n'
        "    <tr><th>Subtotal</th><td>$90.00</td></tr>\n"
        "    <tr><th>Discount</th><td>\u2212$13.50</td></tr>\n"
        "    <tr><th>Tax</th><td>$6.31</td></tr>\n"
        '    <tr class="occasion-total"><th>Total</th><td>$82.81</td></tr>\n'
        "  </table>"
    ) in html
    relationships = booking.bodies()[0]["data"]["relationships"]
    assert relationships["coupon"] == {"data": {"type": "coupons", "id": "c-55"}}
    assert [
        value["attributes"]["value"]
        for value in relationships["attribute_values"]["data"]
    ] == ["o2"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("NOSUCH", 'unknown">We do not know that code.'),
        ("USEDUP", 'unusable">That code can no longer be used.'),
        (
            "GIFT-7Q2-KL9",
            'valid">Gift card with $42.50 left: it can pay for this order at checkout.',
        ),
    ],
)
def test_quote_shows_what_the_code_is(
    client: Client, booking: FakeBooking, clock: Clock, code: str, message: str
) -> None:
    response = client.post(
        "/products/p7Kd2x/quote/", {"question_q1": "o1", "coupon_code": code}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<p class="occasion-redeemable occasion-redeemable-{message}</p>' in html
    assert "<tr><th>Discount</th>" in html  # the fixture's answer, whatever sent
    assert "coupon" not in booking.bodies()[0]["data"]["relationships"]


def test_quote_of_a_coupon_with_a_fixed_discount(
    client: Client, booking: FakeBooking, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = booking._redeemables

    def fixed(params: dict[str, str], product_id: str) -> Any:
        status, headers, body = answer(params, product_id)
        body = body.replace('"discount_fixed": null', '"discount_fixed": "10"')
        return status, headers, body.replace('"discount_percentage": 15.0', '"x": 1')

    monkeypatch.setattr(booking, "_redeemables", fixed)

    response = client.post(
        "/products/p7Kd2x/quote/", {"question_q1": "o1", "coupon_code": "WARMHANDS"}
    )

    assert (
        '<p class="occasion-redeemable occasion-redeemable-valid">'
        "Coupon “Winter Welcome”: $10.00 off.</p>"
    ) in response.content.decode()


@pytest.mark.parametrize("code", ["TWO WORDS", "<script>", "x" * 65])
def test_quote_refuses_a_malformed_code(
    client: Client, booking: FakeBooking, clock: Clock, code: str
) -> None:
    response = client.post(
        "/products/p7Kd2x/quote/", {"question_q1": "o1", "coupon_code": code}
    )

    assert response.status_code == 400
    assert "coupon_code" in response.context["form"].errors
    assert booking.calls["redeemables"] == booking.calls["price"] == 0


def test_quote_refuses_an_unknown_option(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    response = client.post("/products/p7Kd2x/quote/", {"question_q1": "o9"})

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "question_q1": [
            "Select a valid choice. o9 is not one of the available choices."
        ]
    }
    assert booking.calls["price"] == 0


def test_quote_shows_the_errors_occasion_gives(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    booking.fail["price"] = 422

    response = client.post("/products/p7Kd2x/quote/", {"question_q1": "o1"})

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Email can't be blank.",
        "Choose a time slot.",
    ]
    assert "Email can&#x27;t be blank." in response.content.decode()


def test_quote_when_occasion_cannot_price(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    booking.fail["price"] = 503

    response = client.post("/products/p7Kd2x/quote/", {"question_q1": "o1"})

    assert response.status_code == 503
    assert (
        '<p class="occasion-quote-unavailable">We cannot work out a price right '
        "now. Please try again in a few minutes.</p>"
    ) in response.content.decode()


def test_quote_without_questions(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    # A refusal that says nothing of Occasion as a whole: pricing still works.
    booking.fail["product"] = 400

    response = client.post("/products/p7Kd2x/quote/", {})

    html = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["form"].fields) == ["coupon_code"]
    assert "occasion-questions-unavailable" in html
    assert "attribute_values" not in booking.bodies()[0]["data"]["relationships"]


def test_quote_of_an_unbookable_product(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    response = client.post("/products/p9Rt4b/quote/", {})

    html = response.content.decode()
    assert response.status_code == 409
    assert (
        '<p class="occasion-unbookable">This product is not taking bookings.</p>'
    ) in html
    assert "<form" not in html
    assert booking.calls["price"] == 0


def test_quote_of_an_unknown_product(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    response = client.get("/products/zz999/quote/")

    assert response.status_code == 404


def test_quote_refuses_answers_the_service_refuses(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    booking.questions["included"][0]["id"] = "q.1"
    booking.questions["data"]["relationships"]["attributes"]["data"][0]["id"] = "q.1"

    response = client.post("/products/p7Kd2x/quote/", {"question_q.1": "o1"})

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "question id 'q.1' is not a valid Occasion id"
    ]


# -- template tags -------------------------------------------------------------


def render(source: str, **context: Any) -> str:
    return Template("{% load occasion %}" + source).render(Context(context))


SLOTS = (
    "{% occasion_time_slots product limit=2 as slots %}"
    "{% for slot in slots %}{{ slot.id }} {{ slot.starts_at.isoformat }} "
    "{{ slot.duration|occasion_duration }};{% empty %}none{% endfor %}"
)


@pytest.mark.parametrize("product", ["p7Kd2x", "product"])
def test_time_slots_tag(booking: FakeBooking, clock: Clock, product: str) -> None:
    from django_occasion import services

    value = services.get_product("p7Kd2x") if product == "product" else product

    output = render(SLOTS, product=value)

    assert output == (
        "ts-9001 2026-12-08T18:30:00-06:00 2 hours;"
        "ts-9002 2026-12-15T18:30:00-06:00 2 hours;"
    )


def test_time_slots_tag_when_occasion_is_down(
    booking: FakeBooking, clock: Clock
) -> None:
    booking.fail["time_slots"] = 503

    assert render(SLOTS, product="p7Kd2x") == "none"


def test_time_slots_tag_refuses_a_bad_status(booking: FakeBooking) -> None:
    with pytest.raises(InvalidQuery):
        render('{% occasion_time_slots "p7Kd2x" status="all" as slots %}')


PLACES = (
    "{% occasion_venue product as venue %}{% occasion_merchant product as merchant %}"
    "{{ venue.formatted_address|default:'no venue' }}|"
    "{{ merchant.name|default:'no merchant' }} {{ merchant.currency_name }}"
)


@pytest.mark.parametrize("by_id", [True, False])
def test_venue_and_merchant_tags(
    booking: FakeBooking, clock: Clock, by_id: bool
) -> None:
    from django_occasion import services

    product = "p7Kd2x" if by_id else services.get_product("p7Kd2x")

    assert render(PLACES, product=product) == (
        "400 Kiln Street, Springfield, IL 62701, United States of America|"
        "Riverbend Clay Studio USD"
    )


def test_venue_and_merchant_tags_when_occasion_is_down(
    booking: FakeBooking, clock: Clock
) -> None:
    for route in ("products", "product", "venue", "merchants"):
        booking.fail[route] = 503

    assert render(PLACES, product="p7Kd2x") == "no venue|no merchant "


@pytest.mark.parametrize("product", ["", None])
def test_venue_and_merchant_tags_without_product(
    booking: FakeBooking, product: Any
) -> None:
    assert render(PLACES, product=product) == "no venue|no merchant "


def test_venue_and_merchant_tags_of_a_product_without_them(
    booking: FakeBooking, clock: Clock
) -> None:
    item = copy.deepcopy(booking.pages[0]["data"][0])
    item["relationships"] = {}
    booking.pages = [{"data": [item], "links": {}}]

    assert render(PLACES, product="p7Kd2x") == "no venue|no merchant "


REDEEMABLE = (
    "{% occasion_redeemable product code as result %}"
    "{% if result %}{{ result.status }}: {{ result.message }}"
    "{% if result.coupon %} {{ result.coupon.name }}{% endif %}"
    "{% else %}none{% endif %}"
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("WARMHANDS", "valid: This code can be used. Winter Welcome"),
        ("NOSUCH", "unknown: We do not know that code."),
        ("USEDUP", "unusable: That code can no longer be used."),
        ("NO WAY", "invalid: That is not a valid code."),
        ("", "none"),
        ("   ", "none"),
        (None, "none"),
    ],
)
def test_redeemable_tag(booking: FakeBooking, code: Any, expected: str) -> None:
    assert render(REDEEMABLE, product="p7Kd2x", code=code) == expected


def test_redeemable_tag_when_occasion_is_down(booking: FakeBooking) -> None:
    booking.fail["redeemables"] = 503

    assert render(REDEEMABLE, product="p7Kd2x", code="WARMHANDS") == "none"


def test_redeemable_include_renders_a_result(booking: FakeBooking) -> None:
    output = render(
        "{% occasion_redeemable 'p7Kd2x' 'GIFT-7Q2-KL9' as result %}"
        '{% include "django_occasion/includes/redeemable.html" '
        'with currency_symbol="€" %}',
    )

    assert output == (
        '<p class="occasion-redeemable occasion-redeemable-valid">Gift card with '
        "€42.50 left: it can pay for this order at checkout.</p>\n  "
    )


QUESTIONS = (
    "{% occasion_questions product as questions %}"
    "{% for q in questions %}{{ q.title }}"
    "({% for o in q.options %}{{ o.title }}{% if o.is_default %}*{% endif %}"
    "{% if not forloop.last %}/{% endif %}{% endfor %});"
    "{% empty %}none{% endfor %}"
)


def test_questions_tag(booking: FakeBooking, clock: Clock) -> None:
    assert render(QUESTIONS, product="p7Kd2x") == (
        "Which clay body?(Stoneware (included)*/Porcelain (+$15));"
        "Anything we should know?();"
    )


def test_questions_tag_when_occasion_is_down(booking: FakeBooking) -> None:
    booking.fail["product"] = 503

    assert render(QUESTIONS, product="p7Kd2x") == "none"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(hours=2), "2 hours"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(minutes=90), "1 hour 30 minutes"),
        (timedelta(minutes=61), "1 hour 1 minute"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(0), "0 minutes"),
        (timedelta(hours=26), "26 hours"),
        (None, ""),
        ("2 hours", ""),
    ],
)
def test_duration_filter(value: Any, text: str) -> None:
    assert render("{{ value|occasion_duration }}", value=value) == text


def test_quote_backs_off_while_occasion_is_failing(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    booking.fail["price"] = 503
    first = client.post("/products/p7Kd2x/quote/", {"question_q1": "o1"})
    calls = len(booking.bodies())

    second = client.post("/products/p7Kd2x/quote/", {"question_q1": "o1"})

    assert (first.status_code, second.status_code) == (503, 503)
    assert len(booking.bodies()) == calls


def test_rejected_secret_on_a_quote_backs_nothing_off(
    client: Client, booking: FakeBooking, clock: Clock
) -> None:
    booking.fail["price"] = 401

    client.post("/products/p7Kd2x/quote/", {"question_q1": "o1"})
    page = client.get("/products/p7Kd2x/")

    assert page.status_code == 200
    assert "Dates cannot be shown" not in page.content.decode()


def test_quote_asks_for_failing_questions_once_a_request(
    client: Client, booking: FakeBooking, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    booking.fail["product"] = 400

    client.post("/products/p7Kd2x/quote/", {})

    warnings = [r for r in caplog.records if r.name == "django_occasion.views"]
    assert len(warnings) == 1
