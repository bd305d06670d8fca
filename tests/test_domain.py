from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from django_occasion.domain import (
    Image,
    Merchant,
    Product,
    Region,
    TimeSlot,
    Venue,
    to_bool,
    to_datetime,
    to_decimal,
    to_int,
    to_text,
)
from django_occasion.jsonapi import (
    Resource,
    ResourceIndex,
    parse_document,
    parse_resource,
)
from tests.conftest import load_fixture

CST = timezone(timedelta(hours=-6))
CDT = timezone(timedelta(hours=-5))
IMAGES = "https://images.example.test/products"

MERCHANT_PAGE_1 = Merchant(
    id="m1Qa9",
    name="Riverbend Clay Studio",
    time_zone="America/Chicago",
    tax_percentage=Decimal("8.25"),
    profile_picture="https://images.example.test/merchants/m1Qa9/logo.jpg",
    facebook_page="https://social.example.test/riverbendclay",
)
MAIN_STUDIO_PAGE_1 = Venue(
    id="v3Lk0",
    name="Riverbend Main Studio",
    address="400 Kiln Street",
    city="Springfield",
    zip="62701",
    website="www.riverbend.example.test",
    email="hello@riverbend.example.test",
    phone="(555) 010-4400",
    time_zone="America/Chicago",
)
ANNEX = Venue(
    id="872",
    name="Riverbend Annex",
    address="12 Mill Lane",
    city="Springfield",
    zip="62702",
    time_zone="America/Chicago",
)

EXPECTED_PRODUCTS = {
    "p7Kd2x": Product(
        id="p7Kd2x",
        title="Wheel Throwing for Beginners",
        status="active",
        description=(
            "<p>Six evenings at the wheel.</p><ul><li>Clay and glazes included"
            "</li><li>Aprons provided</li></ul>"
        ),
        image=Image(
            url=f"{IMAGES}/p7Kd2x/full.jpg", thumb_url=f"{IMAGES}/p7Kd2x/thumb.jpg"
        ),
        tax_percentage=Decimal("8.25"),
        order_button_text="Reserve my seat",
        post_transactional_message="See you at the studio!",
        show_occurrence_availability=True,
        show_time_slot_duration=True,
        sells_sessions=True,
        created_at=datetime(2026, 1, 14, 10, 2, 11, 120000, tzinfo=CST),
        updated_at=datetime(2026, 11, 30, 16, 45, 3, 4000, tzinfo=CST),
        widget_contact_title="About you",
        widget_time_slots_title="Pick your first evening",
        widget_questions_title="A few questions",
        widget_payment_title="Payment",
        widget_total_due_title="Due today",
        merchant=MERCHANT_PAGE_1,
        venue=MAIN_STUDIO_PAGE_1,
    ),
    "p9Rt4b": Product(
        id="p9Rt4b",
        title="Glaze Lab: Saturday Workshop",
        status="sold_out",
        description="<p>Mix your own <em>celadon</em>.</p>",
        image=None,
        tax_percentage=Decimal("8.25"),
        order_button_text="Book",
        created_at=datetime(2026, 3, 2, 9, 0, tzinfo=CST),
        updated_at=datetime(2026, 11, 29, 8, 12, 40, 500000, tzinfo=CST),
        merchant=MERCHANT_PAGE_1,
        venue=MAIN_STUDIO_PAGE_1,
    ),
    "4411": Product(
        id="4411",
        title="Private Studio Rental",
        status="active",
        description="Two hours of studio time for up to eight guests.",
        image=Image(
            url=f"{IMAGES}/4411/full.png", thumb_url=f"{IMAGES}/4411/thumb.png"
        ),
        tax_percentage=Decimal("0.0"),
        order_button_text="Request booking",
        created_at=datetime(2026, 5, 20, 12, 0, tzinfo=CDT),
        updated_at=datetime(2026, 5, 20, 12, 0, tzinfo=CDT),
        merchant=MERCHANT_PAGE_1,
        venue=ANNEX,
    ),
    "p2Wm8c": Product(
        id="p2Wm8c",
        title="Family Hand-Building Afternoon",
        status="expired",
        description="<p>Bring the kids: pinch pots and coil vases.</p>",
        image=Image(
            url=f"{IMAGES}/p2Wm8c/full.jpg", thumb_url=f"{IMAGES}/p2Wm8c/thumb.jpg"
        ),
        tax_percentage=Decimal("8.25"),
        created_at=datetime(2025, 9, 1, 10, 0, tzinfo=CDT),
        updated_at=datetime(2026, 2, 1, 10, 0, tzinfo=CST),
        merchant=Merchant(
            id="m1Qa9", name="Riverbend Clay Studio", time_zone="America/Chicago"
        ),
        venue=Venue(
            id="v3Lk0",
            name="Riverbend Main Studio",
            city="Springfield",
            time_zone="America/Chicago",
        ),
    ),
}


def products_from(fixture: str) -> dict[str, Product]:
    document = parse_document(load_fixture(fixture))
    index = document.index
    products = [Product.from_resource(r, index) for r in document.resources]
    return {product.id: product for product in products}


def all_products() -> dict[str, Product]:
    return {
        **products_from("products-page-1.json"),
        **products_from("products-page-2.json"),
    }


def product(attributes: dict[str, Any]) -> Product:
    return Product.from_resource(
        Resource(type="products", id="p1", attributes=attributes)
    )


def location_venue() -> Venue:
    document = parse_document(load_fixture("venue-with-location.json"))
    assert isinstance(document.data, Resource)
    return Venue.from_resource(document.data, document.index)


def test_product_from_resource_reads_every_fixture_product() -> None:
    products = all_products()

    assert list(products) == ["p7Kd2x", "p9Rt4b", "4411", "p2Wm8c"]


@pytest.mark.parametrize("product_id", list(EXPECTED_PRODUCTS))
def test_product_from_resource_matches_fixture(product_id: str) -> None:
    products = all_products()

    found = products[product_id]

    assert found == EXPECTED_PRODUCTS[product_id]


@pytest.mark.parametrize(
    ("product_id", "venue_id", "venue_name"),
    [
        ("p7Kd2x", "v3Lk0", "Riverbend Main Studio"),
        ("p9Rt4b", "v3Lk0", "Riverbend Main Studio"),
        ("4411", "872", "Riverbend Annex"),
        ("p2Wm8c", "v3Lk0", "Riverbend Main Studio"),
    ],
)
def test_product_from_resource_resolves_merchant_and_venue(
    product_id: str, venue_id: str, venue_name: str
) -> None:
    products = all_products()

    found = products[product_id]

    assert found.merchant is not None
    assert found.merchant.id == "m1Qa9"
    assert found.merchant.name == "Riverbend Clay Studio"
    assert found.venue is not None
    assert found.venue.id == venue_id
    assert found.venue.name == venue_name


@pytest.mark.parametrize(
    ("product_id", "tax"),
    [("p7Kd2x", "8.25"), ("p9Rt4b", "8.25"), ("4411", "0.0"), ("p2Wm8c", "8.25")],
)
def test_product_tax_percentage_is_exact_decimal(product_id: str, tax: str) -> None:
    found = all_products()[product_id]

    tax_percentage = found.tax_percentage

    assert isinstance(tax_percentage, Decimal)
    assert str(tax_percentage) == tax


@pytest.mark.parametrize(
    ("product_id", "offset_hours"),
    [("p7Kd2x", -6), ("p9Rt4b", -6), ("4411", -5), ("p2Wm8c", -5)],
)
def test_product_created_at_is_aware(product_id: str, offset_hours: int) -> None:
    found = all_products()[product_id]

    created_at = found.created_at

    assert created_at is not None
    assert created_at.utcoffset() == timedelta(hours=offset_hours)


@pytest.mark.parametrize(
    ("status", "bookable"),
    [
        ("active", True),
        ("inactive", False),
        ("expired", False),
        ("sold_out", False),
        ("ACTIVE", False),
        (None, False),
    ],
)
def test_product_is_bookable_only_when_active(
    status: str | None, bookable: bool
) -> None:
    found = product({"status": status})

    assert found.is_bookable is bookable


@pytest.mark.parametrize(
    ("product_id", "bookable"),
    [("p7Kd2x", True), ("p9Rt4b", False), ("4411", True), ("p2Wm8c", False)],
)
def test_product_is_bookable_from_fixture(product_id: str, bookable: bool) -> None:
    found = all_products()[product_id]

    assert found.is_bookable is bookable


def test_product_extra_keeps_undocumented_attributes() -> None:
    found = all_products()["p7Kd2x"]

    extra = found.extra

    assert extra == {
        "closing_time_relative": True,
        "time_slots_closed_before": "2000-01-01T02:00:00.000Z",
        "free": False,
        "has_time_slots": True,
        "first_time_slot_starts_at": "2026-12-08T18:30:00.000-06:00",
    }


def test_product_extra_is_empty_when_all_attributes_known() -> None:
    found = all_products()["p9Rt4b"]

    extra = found.extra

    assert extra == {}


def test_product_extra_is_left_out_of_equality() -> None:
    plain = product({"title": "Kiln tour"})

    with_extra = product({"title": "Kiln tour", "has_redeemables": True})

    assert with_extra == plain
    assert with_extra.extra == {"has_redeemables": True}


@pytest.mark.parametrize(
    ("attributes", "time_slots_title", "questions_title"),
    [
        (
            {
                "widget_occurrences_title": "Pick a date",
                "widget_attributes_title": "Questions",
            },
            "Pick a date",
            "Questions",
        ),
        (
            {
                "widget_time_slots_title": "Pick a time",
                "widget_questions_title": "Tell us",
            },
            "Pick a time",
            "Tell us",
        ),
        (
            {
                "widget_time_slots_title": "New name",
                "widget_occurrences_title": "Old name",
                "widget_questions_title": "New questions",
                "widget_attributes_title": "Old questions",
            },
            "New name",
            "New questions",
        ),
        (
            {
                "widget_time_slots_title": "",
                "widget_occurrences_title": "Old name",
                "widget_questions_title": None,
                "widget_attributes_title": "Old questions",
            },
            "Old name",
            "Old questions",
        ),
        ({}, None, None),
    ],
)
def test_product_widget_titles_accept_old_and_new_names(
    attributes: dict[str, Any],
    time_slots_title: str | None,
    questions_title: str | None,
) -> None:
    found = product(attributes)

    assert found.widget_time_slots_title == time_slots_title
    assert found.widget_questions_title == questions_title


def test_product_missing_attributes_are_defaults() -> None:
    resource = Resource(type="products", id="p1")

    found = Product.from_resource(resource)

    assert found == Product(id="p1", title="")
    assert found.status is None
    assert found.image is None
    assert found.show_occurrence_availability is False
    assert found.merchant is None
    assert found.venue is None
    assert found.extra == {}


def test_product_without_index_leaves_relationships_unresolved() -> None:
    document = parse_document(load_fixture("products-page-1.json"))

    found = Product.from_resource(document.resources[0])

    assert found.merchant is None
    assert found.venue is None


def test_product_unknown_relationship_target_is_none() -> None:
    resource = Resource(
        type="products",
        id="p1",
        relationships={"merchant": ("merchants", "gone"), "venue": None},
    )

    found = Product.from_resource(resource, ResourceIndex())

    assert found.merchant is None
    assert found.venue is None


def test_product_garbage_values_become_none() -> None:
    attributes = {
        "title": {"en": "Wheel Throwing"},
        "status": ["active"],
        "description": ["<p>list</p>"],
        "tax_percentage": "abc",
        "created_at": "2026-01-14T10:02:11.120",
        "updated_at": 1700000000,
        "image": "https://images.example.test/products/p1/full.jpg",
        "order_button_text": {"text": "Book"},
        "show_occurrence_availability": "yes",
        "sells_sessions": 1,
    }

    found = product(attributes)

    assert found == Product(id="p1", title="")
    assert found.tax_percentage is None
    assert found.created_at is None
    assert found.updated_at is None
    assert found.status is None
    assert found.description is None
    assert found.order_button_text is None
    assert found.image is None
    assert found.sells_sessions is False


def test_product_is_frozen() -> None:
    found = product({"title": "Kiln tour"})

    with pytest.raises(dataclasses.FrozenInstanceError):
        found.title = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, None),
        ("https://images.example.test/full.jpg", None),
        ({}, None),
        ({"url": None, "thumb": None}, None),
        ({"url": {"href": "x"}, "thumb": {"url": ["y"]}}, None),
        (
            {
                "url": "https://i.test/full.jpg",
                "thumb": {"url": "https://i.test/t.jpg"},
            },
            Image(url="https://i.test/full.jpg", thumb_url="https://i.test/t.jpg"),
        ),
        (
            {"url": "https://i.test/full.jpg", "thumb": None},
            Image(url="https://i.test/full.jpg", thumb_url="https://i.test/full.jpg"),
        ),
        (
            {"url": "https://i.test/full.jpg", "thumb": "https://i.test/t.jpg"},
            Image(url="https://i.test/full.jpg", thumb_url="https://i.test/full.jpg"),
        ),
        (
            {"url": None, "thumb": {"url": "https://i.test/t.jpg"}},
            Image(url="https://i.test/t.jpg", thumb_url="https://i.test/t.jpg"),
        ),
    ],
)
def test_image_from_json_reads_url_and_thumb(data: Any, expected: Image | None) -> None:
    image = Image.from_json(data)

    assert image == expected


def test_image_thumb_from_fixture() -> None:
    found = all_products()["p2Wm8c"]

    image = found.image

    assert image is not None
    assert image.thumb_url == f"{IMAGES}/p2Wm8c/thumb.jpg"


def test_merchant_from_resource_resolves_currency_and_business_type() -> None:
    document = parse_document(load_fixture("merchants.json"))

    merchant = Merchant.from_resource(document.resources[0], document.index)

    assert merchant == Merchant(
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
    assert merchant.extra == {
        "created_at": "2024-06-01T09:00:00.000-05:00",
        "updated_at": "2026-10-10T09:00:00.000-05:00",
    }


def test_merchant_from_resource_without_index_has_no_currency() -> None:
    document = parse_document(load_fixture("merchants.json"))

    merchant = Merchant.from_resource(document.resources[0])

    assert merchant.currency_name is None
    assert merchant.currency_symbol is None
    assert merchant.business_type is None


def test_merchant_missing_attributes_are_defaults() -> None:
    resource = Resource(type="merchants", id=None, attributes={"name": None})

    merchant = Merchant.from_resource(resource)

    assert merchant == Merchant(id="", name="")


def test_venue_from_resource_resolves_country_and_state() -> None:
    venue = location_venue()

    assert venue == Venue(
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
    assert venue.extra == {}


def test_venue_address_lines_from_fixture() -> None:
    venue = location_venue()

    lines = venue.address_lines

    assert lines == [
        "400 Kiln Street",
        "Springfield, IL 62701",
        "United States of America",
    ]


def test_venue_formatted_address_from_fixture() -> None:
    venue = location_venue()

    address = venue.formatted_address

    assert address == (
        "400 Kiln Street, Springfield, IL 62701, United States of America"
    )


@pytest.mark.parametrize(
    ("venue", "lines"),
    [
        (Venue(id="1", name="Empty"), []),
        (
            Venue(
                id="1",
                name="No code",
                city="Springfield",
                state=Region(name="Illinois"),
            ),
            ["Springfield, Illinois"],
        ),
        (
            Venue(id="1", name="Zip only", zip="62701", country=Region(name="")),
            ["62701"],
        ),
        (
            Venue(id="1", name="State only", state=Region(name="", code="IL")),
            ["IL"],
        ),
        (
            Venue(
                id="1",
                name="Street and country",
                address="12 Mill Lane",
                country=Region(name="Canada", code="CAN"),
            ),
            ["12 Mill Lane", "Canada"],
        ),
        (
            Venue(id="1", name="City and zip", city="Springfield", zip="62702"),
            ["Springfield 62702"],
        ),
    ],
)
def test_venue_address_lines_skip_missing_parts(venue: Venue, lines: list[str]) -> None:
    address_lines = venue.address_lines

    assert address_lines == lines
    assert venue.formatted_address == ", ".join(lines)


def test_venue_without_index_has_no_regions() -> None:
    document = parse_document(load_fixture("venue-with-location.json"))
    assert isinstance(document.data, Resource)

    venue = Venue.from_resource(document.data)

    assert venue.country is None
    assert venue.state is None
    assert venue.address_lines == ["400 Kiln Street", "Springfield 62701"]


def test_venue_garbage_values_become_none() -> None:
    resource = Resource(
        type="venues",
        id="v1",
        attributes={
            "name": ["Main"],
            "city": {"name": "Springfield"},
            "zip": 62701,
            "capacity": 40,
        },
    )

    venue = Venue.from_resource(resource)

    assert venue == Venue(id="v1", name="", zip="62701")
    assert venue.extra == {"capacity": 40}


def test_region_from_resource_none_is_none() -> None:
    region = Region.from_resource(None)

    assert region is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8.25", Decimal("8.25")),
        ("0.0", Decimal("0.0")),
        (3, Decimal("3")),
        (3.75, Decimal("3.75")),
        ("abc", None),
        ("", None),
        (None, None),
        (True, None),
        ({"value": "1"}, None),
        (["1"], None),
        ("NaN", None),
        ("Infinity", None),
        ("-inf", None),
    ],
)
def test_to_decimal_converts_or_gives_none(
    value: Any, expected: Decimal | None
) -> None:
    number = to_decimal(value)

    assert number == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "2026-01-14T10:02:11.120-06:00",
            datetime(2026, 1, 14, 10, 2, 11, 120000, tzinfo=CST),
        ),
        (
            "2000-01-01T02:00:00.000Z",
            datetime(2000, 1, 1, 2, 0, tzinfo=UTC),
        ),
        ("2026-01-14T10:02:11", None),
        ("2026-01-14", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1700000000, None),
        ({"date": "2026-01-14T10:02:11Z"}, None),
    ],
)
def test_to_datetime_reads_aware_iso_8601(
    value: Any, expected: datetime | None
) -> None:
    moment = to_datetime(value)

    # repr() shows the offset too, which == between aware datetimes ignores.
    assert repr(moment) == repr(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Book", "Book"),
        (4411, "4411"),
        ("", None),
        (None, None),
        ({"en": "Book"}, None),
        (["Book"], None),
    ],
)
def test_to_text_converts_or_gives_none(value: Any, expected: str | None) -> None:
    text = to_text(value)

    assert text == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("true", True),
        (False, False),
        ("false", False),
        (1, False),
        ("yes", False),
        (None, False),
    ],
)
def test_to_bool_is_true_only_for_true(value: Any, expected: bool) -> None:
    flag = to_bool(value)

    assert flag is expected


@pytest.mark.parametrize("value", ["1e999999", "1e30", 1e300])
def test_to_int_refuses_huge_numbers_at_once(value: Any) -> None:
    assert to_int(value) is None


def test_time_slot_past_the_calendar_has_no_start() -> None:
    resource = parse_resource(
        {
            "type": "time_slots",
            "id": "ts-far",
            "attributes": {
                "starts_at": "9999-12-31T23:00:00Z",
                "time_zone": "Asia/Tokyo",
                "duration": 60,
            },
        }
    )

    slot = TimeSlot.from_resource(resource)

    assert slot.starts_at is None
