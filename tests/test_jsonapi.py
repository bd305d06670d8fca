from __future__ import annotations

import json
from typing import Any

import pytest

from django_occasion.exceptions import MalformedResponse
from django_occasion.jsonapi import (
    Document,
    Resource,
    ResourceIndex,
    parse_document,
    parse_resource,
)
from tests.conftest import load_fixture

DOCUMENT_FIXTURES = [
    "merchants.json",
    "order-price.json",
    "product-with-questions.json",
    "products-page-1.json",
    "products-page-2.json",
    "redeemable-coupon.json",
    "redeemable-gift-card.json",
    "time-slots-page.json",
    "venue-with-location.json",
]


def document_with_links(links: Any) -> Document:
    return parse_document({"data": [], "links": links})


def product_with_relationships(relationships: dict[str, Any]) -> Resource:
    return parse_resource(
        {"type": "products", "id": "p1", "relationships": relationships}
    )


def test_parse_document_single_resource_from_fixture() -> None:
    payload = load_fixture("venue-with-location.json")

    document = parse_document(payload)

    assert document.data == Resource(
        type="venues",
        id="v3Lk0",
        attributes={
            "name": "Riverbend Main Studio",
            "address": "400 Kiln Street",
            "city": "Springfield",
            "zip": "62701",
            "website": "www.riverbend.example.test",
            "email": "hello@riverbend.example.test",
            "phone": "(555) 010-4400",
            "time_zone": "America/Chicago",
        },
        relationships={
            "country": ("countries", "co-us"),
            "state": ("states", "st-il"),
        },
    )
    assert document.included == [
        Resource(
            type="countries",
            id="co-us",
            attributes={"name": "United States of America", "code": "USA"},
        ),
        Resource(
            type="states", id="st-il", attributes={"name": "Illinois", "code": "IL"}
        ),
    ]
    assert document.links == {}
    assert document.meta == {}
    assert document.next_url is None


def test_parse_document_single_resource_listed_in_resources() -> None:
    document = parse_document(load_fixture("venue-with-location.json"))

    resources = document.resources

    assert resources == [document.data]


def test_parse_document_list_from_fixture() -> None:
    payload = load_fixture("products-page-1.json")

    document = parse_document(payload)

    assert isinstance(document.data, list)
    assert [r.identifier for r in document.resources] == [
        ("products", "p7Kd2x"),
        ("products", "p9Rt4b"),
        ("products", "4411"),
    ]
    assert [r.identifier for r in document.included] == [
        ("merchants", "m1Qa9"),
        ("venues", "v3Lk0"),
        ("venues", "872"),
    ]
    assert document.links["self"] == (
        "https://app.getoccasion.com/api/v1/products?include=merchant%2Cvenue"
        "&page%5Bnumber%5D=1&page%5Bsize%5D=3"
    )


def test_parse_document_numeric_ids_become_text() -> None:
    document = parse_document(load_fixture("products-page-1.json"))

    rental = document.resources[2]

    assert rental.id == "4411"
    assert rental.relationships == {
        "merchant": ("merchants", "m1Qa9"),
        "venue": ("venues", "872"),
    }


@pytest.mark.parametrize(
    ("product_id", "venue_name"),
    [
        ("p7Kd2x", "Riverbend Main Studio"),
        ("p9Rt4b", "Riverbend Main Studio"),
        ("4411", "Riverbend Annex"),
    ],
)
def test_index_related_resolves_included_by_type_and_text_id(
    product_id: str, venue_name: str
) -> None:
    document = parse_document(load_fixture("products-page-1.json"))
    index = document.index
    product = index.get("products", product_id)
    assert product is not None

    venue = index.related(product, "venue")
    merchant = index.related(product, "merchant")

    assert venue is not None
    assert venue.attributes["name"] == venue_name
    assert merchant is not None
    assert merchant.attributes["name"] == "Riverbend Clay Studio"


@pytest.mark.parametrize("venue_id", [872, "872"])
def test_index_get_compares_ids_as_text(venue_id: object) -> None:
    index = parse_document(load_fixture("products-page-1.json")).index

    venue = index.get("venues", venue_id)

    assert venue is not None
    assert venue.identifier == ("venues", "872")


def test_index_get_needs_matching_type() -> None:
    index = parse_document(load_fixture("products-page-1.json")).index

    resource = index.get("merchants", "v3Lk0")

    assert resource is None


def test_index_holds_included_and_primary_resources() -> None:
    document = parse_document(load_fixture("products-page-1.json"))

    index = document.index

    assert len(index) == 6
    assert [r.identifier for r in index] == [
        ("merchants", "m1Qa9"),
        ("venues", "v3Lk0"),
        ("venues", "872"),
        ("products", "p7Kd2x"),
        ("products", "p9Rt4b"),
        ("products", "4411"),
    ]


def test_index_add_skips_resources_without_id() -> None:
    index = ResourceIndex([Resource(type="orders", id=None)])

    size = len(index)

    assert size == 0


def test_index_add_keeps_first_of_duplicates() -> None:
    first = Resource(type="venues", id="1", attributes={"name": "First"})
    second = Resource(type="venues", id="1", attributes={"name": "Second"})

    index = ResourceIndex([first, second])

    assert len(index) == 1
    assert index.get("venues", "1") is first


def test_index_related_many_resolves_to_many_in_order() -> None:
    document = parse_document(load_fixture("product-with-questions.json"))
    index = document.index
    assert isinstance(document.data, Resource)

    questions = index.related_many(document.data, "attributes")

    assert [q.attributes["title"] for q in questions] == [
        "Which clay body?",
        "Anything we should know?",
    ]
    options = index.related_many(questions[0], "attribute_options")
    assert [o.id for o in options] == ["o1", "o2"]
    field_type = index.related(questions[0], "field_type")
    assert field_type is not None
    assert field_type.attributes["form_control"] == "drop_down"
    assert index.related_many(questions[1], "attribute_options") == []


def test_parse_resource_to_many_linkage_is_tuple_of_identifiers() -> None:
    document = parse_document(load_fixture("product-with-questions.json"))

    linkage = document.resources[0].relationships["attributes"]

    assert linkage == (("attributes", "q1"), ("attributes", "q2"))


def test_index_related_many_skips_unknown_resources() -> None:
    product = product_with_relationships(
        {
            "venues": {
                "data": [
                    {"type": "venues", "id": 3},
                    {"type": "venues", "id": "missing"},
                    {"type": "venues", "id": "1"},
                ]
            }
        }
    )
    index = ResourceIndex(
        [Resource(type="venues", id="1"), Resource(type="venues", id="3")]
    )

    venues = index.related_many(product, "venues")

    assert [v.id for v in venues] == ["3", "1"]


def test_index_related_on_to_many_is_none() -> None:
    document = parse_document(load_fixture("product-with-questions.json"))

    related = document.index.related(document.resources[0], "attributes")

    assert related is None


def test_index_related_many_on_to_one_is_empty() -> None:
    document = parse_document(load_fixture("products-page-1.json"))

    related = document.index.related_many(document.resources[0], "venue")

    assert related == []


def test_index_related_unknown_target_is_none() -> None:
    product = product_with_relationships(
        {"venue": {"data": {"type": "venues", "id": "gone"}}}
    )

    related = ResourceIndex().related(product, "venue")

    assert related is None


def test_parse_resource_null_relationship_is_none() -> None:
    product = product_with_relationships({"venue": {"data": None}})
    index = ResourceIndex([Resource(type="venues", id="1")])

    related = index.related(product, "venue")

    assert product.relationships == {"venue": None}
    assert related is None
    assert index.related_many(product, "venue") == []


def test_parse_resource_empty_to_many_relationship_is_empty() -> None:
    product = product_with_relationships({"questions": {"data": []}})
    index = ResourceIndex([Resource(type="attributes", id="q1")])

    related = index.related(product, "questions")

    assert product.relationships == {"questions": ()}
    assert related is None
    assert index.related_many(product, "questions") == []


@pytest.mark.parametrize(
    "relationship",
    [
        {"links": {"related": "https://occasion.test/api/v1/products/p1/venue"}},
        {"meta": {"count": 2}},
        "not an object",
        None,
    ],
)
def test_parse_resource_relationship_without_data_is_left_out(
    relationship: Any,
) -> None:
    product = product_with_relationships(
        {"venue": relationship, "merchant": {"data": {"type": "merchants", "id": 1}}}
    )

    relationships = product.relationships

    assert relationships == {"merchant": ("merchants", "1")}


def test_parse_resource_keeps_unknown_attributes() -> None:
    document = parse_document(load_fixture("products-page-1.json"))

    attributes = document.resources[0].attributes

    assert attributes["free"] is False
    assert attributes["has_time_slots"] is True
    assert attributes["first_time_slot_starts_at"] == "2026-12-08T18:30:00.000-06:00"


@pytest.mark.parametrize(
    "data",
    [
        {"type": "orders"},
        {"type": "orders", "attributes": None},
        {"type": "orders", "attributes": {}, "relationships": None},
    ],
)
def test_parse_resource_missing_members_are_tolerated(data: dict[str, Any]) -> None:
    resource = parse_resource(data)

    assert resource == Resource(type="orders", id=None)
    assert resource.identifier == ("orders", "")


def test_parse_resource_copies_attributes() -> None:
    attributes = {"title": "Kiln tour"}

    resource = parse_resource({"type": "products", "id": "1", "attributes": attributes})
    attributes["title"] = "changed"

    assert resource.attributes == {"title": "Kiln tour"}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not a document", "the answer is not a JSON:API document"),
        (None, "the answer is not a JSON:API document"),
        (42, "the answer is not a JSON:API document"),
        ([], "the answer is not a JSON:API document"),
        ([{"data": None}, {"data": None}], "the answer is not a JSON:API document"),
        ({}, "the answer holds no JSON:API data"),
        ({"meta": {"total": 0}}, "the answer holds no JSON:API data"),
        (load_fixture("error-404.json"), "the answer holds no JSON:API data"),
        ({"data": "products"}, "a resource object lacks its type"),
        ({"data": {"id": "1"}}, "a resource object lacks its type"),
        ({"data": {"type": 7, "id": "1"}}, "a resource object lacks its type"),
        ({"data": [{"type": "products"}, {}]}, "a resource object lacks its type"),
        (
            {"data": {"type": "products", "attributes": ["title"]}},
            "the attributes of a products are not an object",
        ),
        (
            {"data": {"type": "products", "attributes": "title"}},
            "the attributes of a products are not an object",
        ),
        (
            {"data": {"type": "products", "relationships": ["venue"]}},
            "the relationships of a products are not an object",
        ),
        (
            {"data": None, "included": {"type": "venues", "id": "1"}},
            "the answer's included member is not a list",
        ),
        (
            {"data": None, "included": "venues"},
            "the answer's included member is not a list",
        ),
        ({"data": None, "included": [{"id": "1"}]}, "a resource object lacks its type"),
        (
            {
                "data": {
                    "type": "products",
                    "relationships": {"venue": {"data": {"type": "venues"}}},
                }
            },
            "a resource identifier lacks its type or id",
        ),
        (
            {
                "data": {
                    "type": "products",
                    "relationships": {
                        "venue": {"data": {"type": "venues", "id": None}}
                    },
                }
            },
            "a resource identifier lacks its type or id",
        ),
        (
            {
                "data": {
                    "type": "products",
                    "relationships": {"venue": {"data": {"id": "1"}}},
                }
            },
            "a resource identifier lacks its type or id",
        ),
        (
            {
                "data": {
                    "type": "products",
                    "relationships": {"venues": {"data": [{"type": "venues"}]}},
                }
            },
            "a resource identifier lacks its type or id",
        ),
        (
            {
                "data": {
                    "type": "products",
                    "relationships": {"venue": {"data": "venues/1"}},
                }
            },
            "a resource identifier lacks its type or id",
        ),
    ],
)
def test_parse_document_malformed_raises(payload: Any, message: str) -> None:
    with pytest.raises(MalformedResponse) as excinfo:
        parse_document(payload)

    assert str(excinfo.value) == message


def test_parse_document_null_data_has_no_resources() -> None:
    document = parse_document({"data": None})

    assert document.data is None
    assert document.resources == []
    assert len(document.index) == 0


def test_parse_document_empty_list_has_no_resources() -> None:
    document = parse_document({"data": []})

    assert document.data == []
    assert document.resources == []


@pytest.mark.parametrize(
    ("fixture", "identifier", "attributes"),
    [
        (
            "redeemable-coupon.json",
            ("coupons", "c-55"),
            {
                "name": "Winter Welcome",
                "code": "WARMHANDS",
                "discount_fixed": None,
                "discount_percentage": 15.0,
            },
        ),
        (
            "redeemable-gift-card.json",
            ("gift_cards", "g-71"),
            {"code": "GIFT-7Q2-KL9", "initial_value": 100.0, "value": 42.5},
        ),
    ],
)
def test_parse_document_accepts_list_wrapped_redeemable(
    fixture: str, identifier: tuple[str, str], attributes: dict[str, Any]
) -> None:
    payload = load_fixture(fixture)

    document = parse_document(payload)

    assert isinstance(document.data, Resource)
    assert document.data.identifier == identifier
    assert document.data.attributes == attributes


def test_parse_document_resource_without_id_from_fixture() -> None:
    document = parse_document(load_fixture("order-price.json"))

    price = document.data

    assert price == Resource(
        type="orders",
        id=None,
        attributes={
            "subtotal": "90.0",
            "coupon_amount": "13.5",
            "tax": "6.31",
            "total": "82.81",
        },
    )


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        (
            {"next": "https://occasion.test/api/v1/products?page%5Bnumber%5D=2"},
            "https://occasion.test/api/v1/products?page%5Bnumber%5D=2",
        ),
        ({"next": None}, None),
        ({}, None),
        ({"next": ""}, None),
        ({"next": 2}, None),
        (
            {"next": {"href": "https://occasion.test/api/v1/products?page=2"}},
            "https://occasion.test/api/v1/products?page=2",
        ),
        ({"next": {"meta": {"page": 2}}}, None),
        ({"next": {"href": None}}, None),
        ({"prev": "https://occasion.test/api/v1/products?page=1"}, None),
        (None, None),
        ("https://occasion.test/api/v1/products?page=2", None),
    ],
)
def test_document_next_url_reads_links_next(links: Any, expected: str | None) -> None:
    document = document_with_links(links)

    next_url = document.next_url

    assert next_url == expected


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "products-page-1.json",
            "https://app.getoccasion.com/api/v1/products?include=merchant%2Cvenue"
            "&page%5Bnumber%5D=2&page%5Bsize%5D=3",
        ),
        ("products-page-2.json", None),
        ("venue-with-location.json", None),
        (
            "time-slots-page.json",
            "https://app.getoccasion.com/api/v1/products/p7Kd2x/time_slots"
            "?filter%5Bstatus%5D=bookable&filter%5Blast%5D=ts-9002&page%5Bsize%5D=2",
        ),
    ],
)
def test_document_next_url_from_fixture(fixture: str, expected: str | None) -> None:
    document = parse_document(load_fixture(fixture))

    next_url = document.next_url

    assert next_url == expected


@pytest.mark.parametrize(
    ("payload", "links", "meta"),
    [
        ({"data": [], "meta": {"total": 3}}, {}, {"total": 3}),
        ({"data": [], "links": None, "meta": None}, {}, {}),
        ({"data": [], "links": ["next"], "meta": "three"}, {}, {}),
    ],
)
def test_parse_document_links_and_meta_default_to_empty(
    payload: dict[str, Any], links: dict[str, Any], meta: dict[str, Any]
) -> None:
    document = parse_document(payload)

    assert document.links == links
    assert document.meta == meta


def test_resource_to_json_writes_resource_object() -> None:
    resource = Resource(
        type="products",
        id="4411",
        attributes={"title": "Private Studio Rental", "image": None},
        relationships={
            "venue": ("venues", "872"),
            "merchant": None,
            "questions": (("attributes", "q1"), ("attributes", "q2")),
            "coupons": (),
        },
    )

    data = resource.to_json()

    assert data == {
        "type": "products",
        "id": "4411",
        "attributes": {"title": "Private Studio Rental", "image": None},
        "relationships": {
            "venue": {"data": {"type": "venues", "id": "872"}},
            "merchant": {"data": None},
            "questions": {
                "data": [
                    {"type": "attributes", "id": "q1"},
                    {"type": "attributes", "id": "q2"},
                ]
            },
            "coupons": {"data": []},
        },
    }


def test_resource_to_json_is_plain_json() -> None:
    document = parse_document(load_fixture("products-page-1.json"))

    data = [r.to_json() for r in document.resources]

    assert json.loads(json.dumps(data)) == data


def test_resource_to_json_round_trips_with_empty_to_many() -> None:
    resource = product_with_relationships({"questions": {"data": []}})

    copy = parse_resource(resource.to_json())

    assert copy == resource


@pytest.mark.parametrize("fixture", DOCUMENT_FIXTURES)
def test_resource_to_json_round_trips_through_parse_resource(fixture: str) -> None:
    document = parse_document(load_fixture(fixture))
    resources = [*document.resources, *document.included]

    copies = [parse_resource(r.to_json()) for r in resources]

    assert copies == resources
