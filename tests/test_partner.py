"""A partner key: one merchant named on every collection read, caches apart."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_occasion import services
from django_occasion.exceptions import BadRequest
from tests.booking import Clock, FakeBooking, install_clock, serve_booking

PARTNER = {"OCCASION_PARTNER": True, "OCCASION_MERCHANT_ID": "m1Qa9"}


@pytest.fixture
def booking() -> Iterator[FakeBooking]:
    yield from serve_booking()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return install_clock(monkeypatch)


@pytest.fixture
def partner(booking: FakeBooking, clock: Clock) -> Iterator[FakeBooking]:
    """A partner account: the fake answers 400 to unscoped collections."""
    booking.partner = True
    with override_settings(**PARTNER):
        yield booking


def scopes(booking: FakeBooking) -> dict[str, list[str | None]]:
    """Each request's path (without the base) and the merchant_id it sent."""
    found: dict[str, list[str | None]] = {}
    for request in booking.requests:
        parts = urlsplit(request.url)
        path = parts.path.removeprefix("/api/v1/")
        found.setdefault(path, []).append(
            dict(parse_qsl(parts.query)).get("merchant_id")
        )
    return found


def test_collection_reads_name_the_merchant_on_every_page(
    partner: FakeBooking,
) -> None:
    services.list_products()
    services.list_merchants()
    services.list_venues()
    services.list_time_slots("p7Kd2x")
    services.check_redeemable("p7Kd2x", "WARMHANDS")

    assert scopes(partner) == {
        # Both pages: the API's next link leaves the scope out.
        "products": ["m1Qa9", "m1Qa9"],
        "merchants": ["m1Qa9"],
        "venues": ["m1Qa9"],
        "products/p7Kd2x/time_slots": ["m1Qa9", "m1Qa9"],
        "products/p7Kd2x/redeemables": ["m1Qa9"],
    }


def test_reads_of_one_record_are_not_scoped(partner: FakeBooking) -> None:
    # No listing (a refusal that is not an outage): the product is read alone.
    partner.fail["products"] = 400

    services.get_product("p7Kd2x")
    services.get_venue("v3Lk0")
    services.get_questions("p7Kd2x")
    services.quote_price("p7Kd2x")

    found = scopes(partner)
    assert found["products/p7Kd2x"] == [None, None]
    assert found["venues/v3Lk0"] == [None]
    assert found["orders/price"] == [None]


def test_warmed_time_slots_are_scoped(partner: FakeBooking) -> None:
    result = services.warm_time_slots(["p7Kd2x", "4411"], max_workers=2)

    assert result.failed == {}
    assert scopes(partner)["products/p7Kd2x/time_slots"] == ["m1Qa9", "m1Qa9"]
    assert scopes(partner)["products/4411/time_slots"] == ["m1Qa9"]


def test_without_the_scope_the_api_refuses(booking: FakeBooking) -> None:
    booking.partner = True

    with override_settings(OCCASION_PARTNER=True), pytest.raises(BadRequest):
        services.list_venues()


def test_a_merchant_key_sends_no_scope(booking: FakeBooking, clock: Clock) -> None:
    services.list_venues()
    services.list_time_slots("p7Kd2x")

    assert set(map(tuple, scopes(booking).values())) == {(None,), (None, None)}


def test_each_merchant_has_its_own_cache(partner: FakeBooking) -> None:
    services.list_venues()
    services.list_time_slots("4411")
    with override_settings(OCCASION_MERCHANT_ID="m2Zz1"):
        services.list_venues()
        services.list_time_slots("4411")
    services.list_venues()
    services.list_time_slots("4411")

    assert scopes(partner) == {
        "venues": ["m1Qa9", "m2Zz1"],
        "products/4411/time_slots": ["m1Qa9", "m2Zz1"],
    }


# -- the system check, end to end ----------------------------------------------


def test_check_refuses_a_partner_key_without_merchant() -> None:
    with (
        override_settings(OCCASION_PARTNER=True, OCCASION_MERCHANT_ID=None),
        pytest.raises(SystemCheckError) as caught,
    ):
        call_command("check", stdout=StringIO(), stderr=StringIO())

    message = str(caught.value)
    assert (
        "?: (django_occasion.E006) OCCASION_PARTNER is on but no "
        "OCCASION_MERCHANT_ID is set.\n"
        "\tHINT: A partner key must name one merchant on every collection "
        "request; Occasion answers 400 otherwise."
    ) in message
    assert "1 issue" in message


@pytest.mark.parametrize("merchant_id", ["", None])
def test_check_treats_a_blank_merchant_as_missing(merchant_id: str | None) -> None:
    with (
        override_settings(OCCASION_PARTNER=True, OCCASION_MERCHANT_ID=merchant_id),
        pytest.raises(SystemCheckError, match=r"django_occasion\.E006"),
    ):
        call_command("check", stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize(
    "settings", [PARTNER, {"OCCASION_PARTNER": False, "OCCASION_MERCHANT_ID": None}]
)
def test_check_accepts_a_scoped_partner_or_a_merchant_key(
    settings: dict[str, object],
) -> None:
    stdout = StringIO()

    with override_settings(**settings):
        call_command("check", stdout=stdout, stderr=StringIO())

    assert stdout.getvalue() == "System check identified no issues (1 silenced).\n"
