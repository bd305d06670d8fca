from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from django_occasion import services
from django_occasion.domain import Merchant, Question, TimeSlot, Venue
from django_occasion.exceptions import InvalidQuery, OccasionError
from django_occasion.query import Query, merge_params
from tests.booking import FakeBooking, serve_booking


@pytest.fixture
def booking() -> Iterator[FakeBooking]:
    yield from serve_booking()


def test_to_params_maps_every_part() -> None:
    query = Query(
        filters={"city": "Springfield", "zip": 62701},
        sort=["name", "-created_at"],
        fields={"venues": ["name", "city"], "states": ["code"]},
        include=["state", "country"],
    )

    assert query.to_params("venues") == {
        "filter[city]": "Springfield",
        "filter[zip]": "62701",
        "sort": "name,-created_at",
        "fields[venues]": "name,city",
        "fields[states]": "code",
        "include": "state,country",
    }


def test_empty_query_has_no_params() -> None:
    assert Query().to_params("products") == {}


@pytest.mark.parametrize(
    ("key", "type_name"),
    [
        (Venue, "venues"),
        (Merchant, "merchants"),
        (TimeSlot, "time_slots"),
        (Question, "attributes"),
    ],
)
def test_fields_accept_domain_classes(key: type, type_name: str) -> None:
    from django_occasion.query import ATTRIBUTES

    name = sorted(ATTRIBUTES[type_name])[0]

    params = Query(fields={key: [name]}).to_params("products")

    assert params == {f"fields[{type_name}]": name}


@pytest.mark.parametrize(
    ("value", "text"), [(True, "true"), (False, "false"), (0, "0"), ("é", "é")]
)
def test_filter_values_become_text(value: Any, text: str) -> None:
    assert Query(filters={"status": value}).to_params("products") == {
        "filter[status]": text
    }


def test_builders_return_new_queries() -> None:
    base = Query(filters={"city": "Springfield"})

    narrowed = base.filter(zip="62701").order_by("-name")

    assert narrowed.to_params("venues") == {
        "filter[city]": "Springfield",
        "filter[zip]": "62701",
        "sort": "-name",
    }
    assert base.to_params("venues") == {"filter[city]": "Springfield"}


def test_a_single_string_is_one_name() -> None:
    query = Query(sort="-name", include="state")

    assert query.to_params("venues") == {"sort": "-name", "include": "state"}


def test_repeated_names_are_sent_once() -> None:
    query = Query(fields={"venues": ["name", "name"]}, include=["state", "state"])

    assert query.to_params("venues") == {
        "fields[venues]": "name",
        "include": "state",
    }


@pytest.mark.parametrize(
    ("resource_type", "query", "message"),
    [
        (
            "orders",
            Query(),
            "'orders' cannot be queried; use one of merchants, products, "
            "time_slots, venues",
        ),
        (
            "venues",
            Query(filters={"capacity": "10"}),
            "unknown filter 'capacity' for venues; use one of city, name, zip",
        ),
        (
            "merchants",
            Query(filters={"City": "x"}),
            "filter 'City' is not a valid name",
        ),
        (
            "venues",
            Query(filters={"city]=x&merchant_id[": "1"}),
            "is not a valid name",
        ),
        (
            "time_slots",
            Query(filters={"status": "upcoming"}),
            "filter 'status' cannot be set on time_slots: set it with "
            "list_time_slots(status=...)",
        ),
        (
            "time_slots",
            Query(filters={"last": "ts-1"}),
            "it is the pagination cursor",
        ),
        (
            "time_slots",
            Query(filters={"product_id": "p1"}),
            "unknown filter 'product_id' for time_slots; use one of none",
        ),
        ("venues", Query(filters={"city": "a\nb"}), "contains control characters"),
        ("venues", Query(filters={"city": "a\u200eb"}), "control characters"),
        ("venues", Query(filters={"city": ""}), "must hold 1 to 200 characters"),
        ("venues", Query(filters={"city": "x" * 201}), "1 to 200 characters"),
        ("venues", Query(filters={"city": None}), "not NoneType"),
        ("venues", Query(filters={"city": 1.5}), "not float"),
        ("venues", Query(filters={"city": ["a", "b"]}), "not list"),
        (
            "venues",
            Query(sort=["capacity"]),
            "cannot sort venues by 'capacity'; use one of city, created_at, name, "
            "updated_at",
        ),
        ("venues", Query(sort=["--name"]), "sort field '-name' is not a valid"),
        ("venues", Query(sort=["name", "-name"]), "sort names 'name' twice"),
        (
            "time_slots",
            Query(sort=["starts_at"]),
            "cannot sort time_slots by 'starts_at'; use one of none",
        ),
        ("venues", Query(fields={"rooms": ["name"]}), "unknown resource type 'rooms'"),
        (
            "venues",
            Query(fields={"venues": ["capacity"]}),
            "unknown attribute 'capacity' of venues",
        ),
        (
            "products",
            Query(fields={"products": ["email_subject"]}),
            "unknown attribute 'email_subject' of products",
        ),
        ("venues", Query(fields={"venues": []}), "fields[venues] names no attribute"),
        ("venues", Query(fields={dict: ["name"]}), "dict is not an Occasion resource"),
        ("venues", Query(fields={"Venues": ["name"]}), "fields type 'Venues'"),
        (
            "venues",
            Query(include=["products"]),
            "cannot include 'products' with venues; use one of country, merchant, "
            "state",
        ),
        ("venues", Query(include=["state,merchant"]), "include 'state,merchant'"),
        ("time_slots", Query(include=["merchant"]), "cannot include 'merchant'"),
    ],
)
def test_to_params_refuses(resource_type: str, query: Query, message: str) -> None:
    with pytest.raises(InvalidQuery, match=re.escape(message)):
        query.to_params(resource_type)


def test_invalid_query_is_an_occasion_error_and_a_value_error() -> None:
    with pytest.raises(InvalidQuery) as caught:
        Query(filters={"nope": 1}).to_params("venues")

    assert isinstance(caught.value, OccasionError)
    assert isinstance(caught.value, ValueError)


def test_fields_must_be_a_list() -> None:
    with pytest.raises(InvalidQuery, match="must be a list of names"):
        Query(fields={"venues": "name"})


def test_merge_params_joins_includes() -> None:
    merged = merge_params(
        {"include": "country,state", "page[size]": "100"},
        {"include": "state,merchant", "sort": "name"},
    )

    assert merged == {
        "include": "country,state,merchant",
        "page[size]": "100",
        "sort": "name",
    }


def test_merge_params_without_includes() -> None:
    assert merge_params({"a": "1"}, {"b": "2"}) == {"a": "1", "b": "2"}


# -- queries on the service layer ----------------------------------------------


def test_list_venues_sends_the_query(booking: FakeBooking) -> None:
    query = Query(filters={"city": "Springfield"}, sort=["name"], include=["merchant"])

    services.list_venues(query)

    assert booking.params("venues") == [
        {
            "include": "country,state,merchant",
            "page[size]": "100",
            "filter[city]": "Springfield",
            "sort": "name",
        }
    ]


def test_list_merchants_sends_the_query(booking: FakeBooking) -> None:
    services.list_merchants(Query(fields={Merchant: ["name"]}))

    assert booking.params("merchants") == [
        {
            "include": "currency,business_type",
            "page[size]": "100",
            "fields[merchants]": "name",
        }
    ]


def test_each_query_is_cached_on_its_own(booking: FakeBooking) -> None:
    services.list_venues()
    services.list_venues(Query(sort=["name"]))
    services.list_venues(Query(sort=["name"]))
    services.list_venues()

    assert booking.calls["venues"] == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda: services.list_venues(Query(filters={"capacity": 1})),
        lambda: services.list_merchants(Query(include=["venues"])),
        lambda: services.list_time_slots("p7Kd2x", query=Query(sort=["starts_at"])),
    ],
)
def test_bad_queries_are_refused_before_any_request(
    booking: FakeBooking, call: Any
) -> None:
    with pytest.raises(InvalidQuery):
        call()

    assert booking.requests == []
