from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from django.conf import settings
from django.test import override_settings

import django_occasion
from django_occasion.client import OccasionClient
from django_occasion.conf import DEMO_API_LOGIN, DEMO_API_URL
from django_occasion.demo import DemoAdapter, mount_demo
from django_occasion.demo.adapter import decimal_text
from django_occasion.demo.catalogue import (
    DAILY_SLOTS_PRODUCT_ID,
    GLACIER,
    QUESTIONS_PRODUCT_ID,
    SCRIPT_PRODUCT_ID,
    _build,
    catalogue,
)
from django_occasion.domain import Merchant, Product, Venue
from django_occasion.exceptions import (
    BadRequest,
    Conflict,
    InvalidDocument,
    NotAuthorized,
    NotFound,
    UpstreamUnavailable,
)
from django_occasion.jsonapi import Document
from tests.conftest import load_fixture

STATIC_ROOT = Path(django_occasion.__file__).parent / "static"
ALL_PRODUCT_IDS = {
    # Kiln & Crane Clay Studio
    "p1uG8G", "p14o5M", "p9JAYK", "p81UXX", "p7WXLC", "p3aNfh", "p40gCa",
    "p7Runz", "p4w7wZ", "p6VGOe", "p5fJIs", "p4Dj4P", "p9tb2T", "p5xDBf",
    # Glacier Point Ice Arena
    "p1BGZW", "p65LJF", "p94Fz6", "p8q2AK", "p7GHZb", "p9oXi0", "p09TH4",
    "p1TNBE", "p2E4o2", "p1OSDR", "p7T79I",
    # Glacier Point Boulder Barn
    "p4JzQt", "p8ZPGS", "p7Z4zB", "p3s1ra", "p0jP4M", "p7ZH7F", "p56mqS",
    "p7DGX0", "p7ZBJQ",
}  # fmt: skip


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as demo_session:
        mount_demo(demo_session)
        yield demo_session


@pytest.fixture
def client(session: requests.Session) -> OccasionClient:
    return OccasionClient(DEMO_API_URL, DEMO_API_LOGIN, session=session)


@pytest.fixture
def private_client(session: requests.Session) -> OccasionClient:
    return OccasionClient(DEMO_API_URL, DEMO_API_LOGIN, "demo-secret", session=session)


def raw_get(
    session: requests.Session, path: str, params: dict[str, Any] | None = None
) -> requests.Response:
    return session.get(
        f"{DEMO_API_URL}/{path}", params=params, auth=(DEMO_API_LOGIN, "")
    )


def all_products(client: OccasionClient, **params: Any) -> list[Product]:
    products: list[Product] = []
    for document in client.iter_pages("products", params):
        index = document.index
        products.extend(Product.from_resource(r, index) for r in document.resources)
    return products


def price_document(product_id: str, **extra: Any) -> dict[str, Any]:
    relationships: dict[str, Any] = {
        "product": {"data": {"type": "products", "id": product_id}}
    }
    relationships.update(extra.pop("relationships", {}))
    return {
        "data": {
            "type": "orders",
            "attributes": extra,
            "relationships": relationships,
        }
    }


def coupon(code: str) -> dict[str, Any]:
    return {"coupon": {"data": {"type": "coupons", "attributes": {"code": code}}}}


def answer(question_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "answers",
        "attributes": {"value": value},
        "relationships": {
            "attribute": {"data": {"type": "attributes", "id": question_id}}
        },
    }


# -- the transport ------------------------------------------------------------


def test_response_is_complete_requests_response(session: requests.Session) -> None:
    response = raw_get(session, f"products/{SCRIPT_PRODUCT_ID}")

    assert response.status_code == 200
    assert response.reason == "OK"
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    assert response.headers["Content-Length"] == str(len(response.content))
    assert response.encoding == "utf-8"
    assert response.url == f"{DEMO_API_URL}/products/{SCRIPT_PRODUCT_ID}"
    assert response.request.method == "GET"
    assert response.json()["data"]["id"] == SCRIPT_PRODUCT_ID


def test_response_streamed_reads_same_body(session: requests.Session) -> None:
    url = f"{DEMO_API_URL}/products/{SCRIPT_PRODUCT_ID}"
    whole = raw_get(session, f"products/{SCRIPT_PRODUCT_ID}").content

    with session.get(url, auth=(DEMO_API_LOGIN, ""), stream=True) as response:
        streamed = b"".join(response.iter_content(chunk_size=100))

    assert streamed == whole


def test_request_without_auth_answers_401_like_api(
    session: requests.Session,
) -> None:
    response = session.get(f"{DEMO_API_URL}/products")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Occasion"'
    assert response.json() == load_fixture("error-401.json")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer demo-login", "Basic !!!", "Basic OnNlY3JldA=="],  # the last: ":secret"
)
def test_request_with_bad_auth_answers_401(
    session: requests.Session, authorization: str
) -> None:
    response = session.get(
        f"{DEMO_API_URL}/products", headers={"Authorization": authorization}
    )

    assert response.status_code == 401
    assert response.json() == load_fixture("error-401.json")


def test_client_with_empty_login_raises_not_authorized(
    session: requests.Session,
) -> None:
    client = OccasionClient(DEMO_API_URL, "", session=session)

    with pytest.raises(NotAuthorized) as caught:
        client.get("products")

    assert caught.value.status == 401


def test_unknown_path_raises_not_found(client: OccasionClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.get("bookings")

    assert caught.value.errors[0].detail == "No route matches /api/v1/bookings."


def test_unsupported_method_answers_405(session: requests.Session) -> None:
    response = session.delete(
        f"{DEMO_API_URL}/products/{SCRIPT_PRODUCT_ID}", auth=(DEMO_API_LOGIN, "")
    )

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.json()["errors"][0]["code"] == "method_not_allowed"


def test_adapter_mounted_on_other_url_answers_there() -> None:
    with requests.Session() as other:
        other.mount(
            "https://fake.test/v2", DemoAdapter(base_url="https://fake.test/v2")
        )

        response = other.get(
            f"https://fake.test/v2/products/{SCRIPT_PRODUCT_ID}", auth=("me", "")
        )

    assert response.status_code == 200
    assert response.json()["data"]["links"] == {
        "self": f"https://fake.test/v2/products/{SCRIPT_PRODUCT_ID}"
    }


def test_adapter_mounted_on_wider_prefix_refuses_other_hosts() -> None:
    with requests.Session() as wide:
        wide.mount("https://", DemoAdapter())

        response = wide.get("https://other.test/api/v1/products", auth=("me", ""))

    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == (
        "No route matches /api/v1/products."
    )


def test_adapter_repr_names_url_and_mode() -> None:
    assert repr(DemoAdapter(outage=True)) == (
        "<DemoAdapter https://demo.occasion.invalid/api/v1 outage=True>"
    )


def test_outage_raises_upstream_unavailable() -> None:
    with requests.Session() as down:
        mount_demo(down, outage=True)
        client = OccasionClient(DEMO_API_URL, DEMO_API_LOGIN, session=down)

        with pytest.raises(UpstreamUnavailable) as caught:
            client.get("products")

    assert caught.value.status == 503
    assert caught.value.errors[0].detail is not None
    assert caught.value.errors[0].detail.startswith(
        "Down for maintenance We\u2019ll be right back"
    )


def test_outage_answers_html_maintenance_page() -> None:
    with requests.Session() as down:
        mount_demo(down, outage=True)

        response = raw_get(down, "products")

    assert response.status_code == 503
    assert response.reason == "Service Unavailable"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Retry-After"] == "600"
    assert response.text.startswith("<!DOCTYPE html>")


# -- the catalogue ------------------------------------------------------------


def test_catalogue_products_cover_every_status(client: OccasionClient) -> None:
    products = all_products(client)

    assert {product.id for product in products} == ALL_PRODUCT_IDS
    assert Counter(product.status for product in products) == {
        "active": 22,
        "inactive": 4,
        "expired": 4,
        "sold_out": 4,
    }


def test_catalogue_spreads_products_over_merchants_and_venues(
    client: OccasionClient,
) -> None:
    products = all_products(client, include="merchant,venue")

    assert Counter(p.merchant.name for p in products if p.merchant) == {
        "Kiln & Crane Clay Studio": 14,
        "Glacier Point Ice & Climb": 20,
    }
    assert Counter(p.venue.name for p in products if p.venue) == {
        "Kiln & Crane Northeast Studio": 14,
        "Glacier Point Ice Arena": 11,
        "Glacier Point Boulder Barn": 9,
    }


def test_catalogue_build_is_deterministic() -> None:
    assert _build() == _build()


def test_merchants_resolve_currency_and_business_type(
    client: OccasionClient,
) -> None:
    document = client.get("merchants", {"include": "currency,business_type"})

    merchants = [Merchant.from_resource(r, document.index) for r in document.resources]

    assert [(m.name, m.time_zone, m.tax_percentage) for m in merchants] == [
        ("Glacier Point Ice & Climb", "America/Denver", Decimal("8.81")),
        ("Kiln & Crane Clay Studio", "America/Chicago", Decimal("8.025")),
    ]
    assert {(m.currency_name, m.currency_symbol) for m in merchants} == {("USD", "$")}
    assert [m.business_type for m in merchants] == ["Sports & Recreation", "Art Studio"]


def test_merchants_merchant_id_scopes_to_merchant(session: requests.Session) -> None:
    client = OccasionClient(
        DEMO_API_URL, DEMO_API_LOGIN, merchant_id=GLACIER, session=session
    )

    document = client.get("merchants", collection=True)

    assert [resource.id for resource in document.resources] == [GLACIER]


def test_merchant_by_id_answers_one_merchant(client: OccasionClient) -> None:
    document = client.get("merchants/m4Kc2")

    merchant = Merchant.from_resource(document.resources[0])

    assert merchant.name == "Kiln & Crane Clay Studio"
    assert merchant.profile_picture == (
        settings.STATIC_URL + "django_occasion/demo/kiln-and-crane.svg"
    )


def test_catalogue_relationships_all_resolve() -> None:
    data = catalogue()

    dangling = [
        (record.identifier, name, identifier)
        for record in data.records.values()
        for name in (*record.to_one, *record.to_many)
        for identifier in record.related(name)
        if identifier not in data.records
    ]

    assert dangling == []
    assert Counter(record.type for record in data.records.values()) == {
        "products": 34,
        "attribute_options": 18,
        "attributes": 14,
        "field_types": 5,
        "venues": 3,
        "merchants": 2,
        "business_types": 2,
        "states": 2,
        "countries": 1,
        "currencies": 1,
    }


def test_venues_list_three_venues(client: OccasionClient) -> None:
    document = client.get("venues", {"sort": "name"})

    assert [resource.attributes["name"] for resource in document.resources] == [
        "Glacier Point Boulder Barn",
        "Glacier Point Ice Arena",
        "Kiln & Crane Northeast Studio",
    ]


def test_venue_include_resolves_country_and_state(client: OccasionClient) -> None:
    document = client.get("venues/v2Kc8", {"include": "country,state"})

    venue = Venue.from_resource(document.resources[0], document.index)

    assert venue.address_lines == [
        "2417 Quarry Avenue NE",
        "Minneapolis, MN 55418",
        "United States of America",
    ]
    assert (venue.phone, venue.email, venue.website, venue.time_zone) == (
        "(612) 555-0147",
        "studio@kilnandcrane.example",
        "www.kilnandcrane.example",
        "America/Chicago",
    )


def test_venue_unknown_id_raises_not_found(client: OccasionClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.get("venues/v0000")

    assert caught.value.errors[0].detail == "No venue has id: v0000"


def test_script_description_belongs_to_one_product(client: OccasionClient) -> None:
    products = all_products(client)

    scripted = [p for p in products if "<script" in (p.description or "")]

    assert [p.id for p in scripted] == [SCRIPT_PRODUCT_ID]
    description = scripted[0].description or ""
    assert '<script>alert("xss")</script>' in description
    assert "onclick=" in description
    assert 'href="javascript:' in description


def test_products_without_image_answer_null(client: OccasionClient) -> None:
    products = all_products(client)

    assert sorted(p.id for p in products if p.image is None) == [
        "p4Dj4P",
        "p5xDBf",
        "p7ZH7F",
        "p9oXi0",
    ]


def test_image_urls_start_with_static_url_and_exist(client: OccasionClient) -> None:
    products = all_products(client, include="merchant")

    urls = {p.image.url for p in products if p.image}
    urls |= {p.image.thumb_url for p in products if p.image}
    urls |= {p.merchant.profile_picture or "" for p in products if p.merchant}

    assert len(urls) == 8
    for url in urls:
        assert url.startswith(settings.STATIC_URL + "django_occasion/demo/")
        assert (STATIC_ROOT / url.removeprefix(settings.STATIC_URL)).is_file()


@override_settings(STATIC_URL="https://cdn.example/assets/")
def test_image_urls_follow_static_url_setting(client: OccasionClient) -> None:
    document = client.get(f"products/{SCRIPT_PRODUCT_ID}")

    product = Product.from_resource(document.resources[0])

    assert product.image is not None
    assert product.image.url == (
        "https://cdn.example/assets/django_occasion/demo/hand-building.svg"
    )
    assert product.image.thumb_url == product.image.url


# -- products: paging, filters, sort, include, fields -------------------------


def test_pagination_following_next_reaches_every_product_once(
    client: OccasionClient,
) -> None:
    pages = list(client.iter_pages("products", {"page[size]": 8}))

    ids = [resource.id for page in pages for resource in page.resources]

    assert [len(page.resources) for page in pages] == [8, 8, 8, 8, 2]
    assert len(ids) == len(set(ids)) == 34
    assert set(ids) == ALL_PRODUCT_IDS


def test_pagination_links_are_full_urls_holding_query(
    session: requests.Session,
) -> None:
    params = {"include": "venue", "page[size]": "8", "page[number]": "2"}

    links = raw_get(session, "products", params).json()["links"]

    query = "include=venue&page%5Bnumber%5D={}&page%5Bsize%5D=8"
    assert links == {
        "self": f"{DEMO_API_URL}/products?{query.format(2)}",
        "first": f"{DEMO_API_URL}/products?{query.format(1)}",
        "last": f"{DEMO_API_URL}/products?{query.format(5)}",
        "prev": f"{DEMO_API_URL}/products?{query.format(1)}",
        "next": f"{DEMO_API_URL}/products?{query.format(3)}",
    }


def test_pagination_last_page_has_null_next(session: requests.Session) -> None:
    body = raw_get(session, "products", {"page[size]": 8, "page[number]": 5}).json()

    assert body["links"]["next"] is None
    assert body["meta"] == {"record_count": 34, "page_count": 5}


def test_pagination_default_page_holds_every_product(
    session: requests.Session,
) -> None:
    body = raw_get(session, "products").json()

    assert len(body["data"]) == 34
    assert body["links"]["next"] is None
    assert "prev" not in body["links"]


def test_pagination_beyond_last_page_answers_empty(client: OccasionClient) -> None:
    document = client.get("products", {"page[number]": 9})

    assert document.resources == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page[size]": "101"}, "page[size]"),
        ({"page[size]": "0"}, "page[size]"),
        ({"page[number]": "first"}, "page[number]"),
        ({"sort": "price"}, "sort"),
        ({"include": "owner"}, "include"),
        ({"include": "venue.owner"}, "include"),
        ({"filter[colour]": "red"}, "filter[colour]"),
        ({"filter[status]": "open"}, "filter[status]"),
        ({"fields[products]": "title,price"}, "fields[products]"),
        ({"fields[widgets]": "title"}, "fields[widgets]"),
    ],
)
def test_products_bad_query_raises_bad_request(
    client: OccasionClient, params: dict[str, str], parameter: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        client.get("products", params)

    assert [error.parameter for error in caught.value.errors] == [parameter]


@pytest.mark.parametrize(
    ("status", "count"),
    [("active", 22), ("inactive", 4), ("expired", 4), ("sold_out", 4)],
)
def test_products_filter_status_keeps_that_status(
    client: OccasionClient, status: str, count: int
) -> None:
    products = all_products(client, **{"filter[status]": status})

    assert len(products) == count
    assert {product.status for product in products} == {status}


def test_products_filter_status_list_keeps_any(client: OccasionClient) -> None:
    products = all_products(client, **{"filter[status]": "expired,sold_out"})

    assert Counter(product.status for product in products) == {
        "expired": 4,
        "sold_out": 4,
    }


def test_products_filter_venue_keeps_that_venue(client: OccasionClient) -> None:
    products = all_products(client, include="venue", **{"filter[venue]": "v9Gb6"})

    assert len(products) == 9
    assert {p.venue.name for p in products if p.venue} == {"Glacier Point Boulder Barn"}


def test_products_filter_title_matches_whole_title(client: OccasionClient) -> None:
    title = "Hand-Building Basics: Pinch, Coil and Slab"

    products = all_products(client, **{"filter[title]": title})

    assert [product.id for product in products] == ["p9JAYK"]


def test_products_merchant_id_scopes_to_merchant(session: requests.Session) -> None:
    client = OccasionClient(
        DEMO_API_URL, DEMO_API_LOGIN, merchant_id=GLACIER, session=session
    )

    products = all_products(client, include="merchant")

    assert len(products) == 20
    assert {p.merchant.id for p in products if p.merchant} == {GLACIER}


def test_products_unknown_merchant_id_raises_not_found(
    session: requests.Session,
) -> None:
    client = OccasionClient(
        DEMO_API_URL, DEMO_API_LOGIN, merchant_id="m0000", session=session
    )

    with pytest.raises(NotFound) as caught:
        client.get("products", collection=True)

    assert caught.value.errors[0].parameter == "merchant_id"


def test_products_default_sort_is_newest_first(client: OccasionClient) -> None:
    products = all_products(client)

    created = [product.created_at for product in products if product.created_at]

    assert len(created) == 34
    assert created == sorted(created, reverse=True)
    assert products[0].title == "Zamboni Ride-Along"


def test_products_sort_title_ascending(client: OccasionClient) -> None:
    products = all_products(client, sort="title")

    assert [p.title for p in products[:3]] == [
        "Birthday Party on Ice",
        "Community Climb Night",
        "Crack Climbing Workshop",
    ]


def test_products_sort_several_keys_in_order(client: OccasionClient) -> None:
    products = all_products(client, sort="status,-updated_at")

    statuses = [p.status for p in products]
    assert (
        statuses
        == ["active"] * 22 + ["expired"] * 4 + ["inactive"] * 4 + ["sold_out"] * 4
    )
    for status in ("active", "inactive", "expired", "sold_out"):
        stamps = [p.updated_at for p in products if p.status == status and p.updated_at]
        assert len(stamps) == statuses.count(status)
        assert stamps == sorted(stamps, reverse=True)


def test_product_include_resolves_merchant_and_venue(
    client: OccasionClient,
) -> None:
    include = "merchant.currency,venue.country,venue.state"

    document = client.get(f"products/{DAILY_SLOTS_PRODUCT_ID}", {"include": include})
    product = Product.from_resource(document.resources[0], document.index)

    assert product.title == "Public Skate"
    assert product.merchant is not None
    assert product.merchant.currency_symbol == "$"
    assert product.venue is not None
    assert product.venue.formatted_address == (
        "880 Rink Road, Denver, CO 80216, United States of America"
    )
    assert product.tax_percentage == Decimal("8.81")


def test_product_include_resolves_questions(client: OccasionClient) -> None:
    include = "attributes.attribute_options,attributes.field_type"

    document = client.get(f"products/{QUESTIONS_PRODUCT_ID}", {"include": include})
    index = document.index
    questions = index.related_many(document.resources[0], "attributes")

    assert [q.attributes["title"] for q in questions] == [
        "Which clay body?",
        "Have you thrown on a wheel before?",
        "Anything we should know?",
    ]
    options = index.related_many(questions[0], "attribute_options")
    assert [(o.attributes["title"], o.attributes["parameters"]) for o in options] == [
        ("Stoneware (included)", {"price": 0.0}),
        ("Porcelain (+$15)", {"price": 15.0}),
    ]
    field_types = [index.related(q, "field_type") for q in questions]
    assert [ft.attributes["form_control"] for ft in field_types if ft] == [
        "drop_down",
        "drop_down",
        "text_area",
    ]
    assert [ft.attributes["category"] for ft in field_types if ft] == [
        "price",
        "info",
        "info",
    ]


def test_product_unknown_id_raises_not_found_like_api(
    session: requests.Session,
) -> None:
    response = raw_get(session, "products/zz999")

    assert response.status_code == 404
    assert response.json() == load_fixture("error-404.json")


def test_product_sparse_fieldset_keeps_named_fields(client: OccasionClient) -> None:
    document = client.get(
        "products", {"fields[products]": "title,status", "page[size]": 1}
    )

    resource = document.resources[0]

    assert dict(resource.attributes) == {
        "title": "Zamboni Ride-Along",
        "status": "sold_out",
    }
    assert dict(resource.relationships) == {}


def test_product_private_attributes_absent_without_secret(
    client: OccasionClient,
) -> None:
    document = client.get(f"products/{QUESTIONS_PRODUCT_ID}")

    attributes = document.resources[0].attributes

    assert "email_subject" not in attributes
    assert "from_name" not in attributes


def test_product_private_attributes_present_with_secret(
    private_client: OccasionClient,
) -> None:
    document = private_client.get(f"products/{QUESTIONS_PRODUCT_ID}", private=True)

    attributes = document.resources[0].attributes

    assert attributes["email_subject"] == (
        "Your booking at Kiln & Crane Clay Studio: "
        "Wheel Throwing: Six-Week Beginner Course"
    )
    assert attributes["from_name"] == "Kiln & Crane Clay Studio"


def test_venue_private_attributes_present_with_secret(
    private_client: OccasionClient,
) -> None:
    public = private_client.get("venues/v5Gi3").resources[0].attributes
    private = private_client.get("venues/v5Gi3", private=True).resources[0].attributes

    assert "capacity" not in public
    assert (private["capacity"], private["public"]) == (400, True)


def test_product_widget_titles_use_both_generations(client: OccasionClient) -> None:
    clay = client.get(f"products/{QUESTIONS_PRODUCT_ID}").resources[0]
    skate = client.get(f"products/{DAILY_SLOTS_PRODUCT_ID}").resources[0]

    assert Product.from_resource(clay).widget_time_slots_title == "Pick a date"
    assert "widget_occurrences_title" in clay.attributes
    assert Product.from_resource(skate).widget_time_slots_title == "Choose a session"
    assert "widget_time_slots_title" in skate.attributes


# -- time slots ---------------------------------------------------------------


def slots_of(
    client: OccasionClient, product_id: str, status: str, **params: Any
) -> list[dict[str, Any]]:
    slots: list[dict[str, Any]] = []
    path = f"products/{product_id}/time_slots"
    for page in client.iter_pages(path, {"filter[status]": status, **params}):
        slots.extend({"id": r.id, **r.attributes} for r in page.resources)
    return slots


def test_time_slots_cursor_pagination_reaches_every_slot(
    client: OccasionClient,
) -> None:
    path = f"products/{DAILY_SLOTS_PRODUCT_ID}/time_slots"

    pages = list(client.iter_pages(path, {"filter[status]": "upcoming"}))

    ids = [resource.id for page in pages for resource in page.resources]
    assert [len(page.resources) for page in pages] == [10, 10, 8]
    assert len(set(ids)) == 28
    assert pages[0].next_url == (
        f"{DEMO_API_URL}/{path}?filter%5Bstatus%5D=upcoming"
        f"&filter%5Blast%5D={ids[9]}&page%5Bsize%5D=10"
    )
    assert pages[-1].next_url is None


def test_time_slots_daily_start_tomorrow_one_day_apart(
    client: OccasionClient,
) -> None:
    denver = ZoneInfo("America/Denver")

    slots = slots_of(client, DAILY_SLOTS_PRODUCT_ID, "upcoming", **{"page[size]": 100})

    starts = [datetime.fromisoformat(slot["starts_at"]) for slot in slots]
    today = datetime.now(UTC).date()
    assert starts[0].astimezone(denver).date() == today + timedelta(days=1)
    assert {start.astimezone(denver).time().isoformat() for start in starts} == {
        "14:00:00"
    }
    assert {b.date() - a.date() for a, b in itertools.pairwise(starts)} == {
        timedelta(days=1)
    }
    assert {slot["spots_available"] for slot in slots} == {None}


def test_time_slots_weekly_fall_on_weekday_of_description(
    client: OccasionClient,
) -> None:
    chicago = ZoneInfo("America/Chicago")

    slots = slots_of(client, QUESTIONS_PRODUCT_ID, "upcoming")

    starts = [datetime.fromisoformat(s["starts_at"]).astimezone(chicago) for s in slots]
    assert len(starts) == 8
    assert {start.strftime("%A %H:%M") for start in starts} == {"Tuesday 18:30"}
    first_in = starts[0].date() - datetime.now(UTC).date()
    assert timedelta(days=1) <= first_in <= timedelta(days=7)
    assert {slot["duration"] for slot in slots} == {120}
    assert {slot["time_zone"] for slot in slots} == {"America/Chicago"}


def test_time_slots_bookable_leave_out_full_slots(client: OccasionClient) -> None:
    upcoming = slots_of(client, QUESTIONS_PRODUCT_ID, "upcoming")
    bookable = slots_of(client, QUESTIONS_PRODUCT_ID, "bookable")

    assert [s["spots_available"] for s in upcoming] == [4, 0, 2, 6, None, 3, 5, 8]
    assert [s["spots_available"] for s in bookable] == [4, 2, 6, None, 3, 5, 8]


def test_time_slots_bookable_empty_when_sold_out(client: OccasionClient) -> None:
    upcoming = slots_of(client, "p81UXX", "upcoming")
    bookable = slots_of(client, "p81UXX", "bookable")

    assert [s["spots_available"] for s in upcoming] == [0, 0, 0]
    assert bookable == []


def test_time_slots_expired_product_has_none(client: OccasionClient) -> None:
    assert slots_of(client, "p40gCa", "upcoming") == []


def test_time_slots_include_product(client: OccasionClient) -> None:
    document = client.get(
        f"products/{DAILY_SLOTS_PRODUCT_ID}/time_slots",
        {"filter[status]": "bookable", "page[size]": 2, "include": "product"},
    )

    index = document.index

    assert len(document.resources) == 2
    products = [index.related(slot, "product") for slot in document.resources]
    assert [p.attributes["title"] for p in products if p] == ["Public Skate"] * 2


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "filter[status]"),
        ({"filter[status]": "past"}, "filter[status]"),
        ({"filter[status]": "bookable", "page[size]": "101"}, "page[size]"),
        ({"filter[status]": "bookable", "filter[last]": "ts-x"}, "filter[last]"),
        ({"filter[status]": "bookable", "filter[day]": "1"}, "filter[day]"),
    ],
)
def test_time_slots_bad_query_raises_bad_request(
    client: OccasionClient, params: dict[str, str], parameter: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        client.get(f"products/{DAILY_SLOTS_PRODUCT_ID}/time_slots", params)

    assert [error.parameter for error in caught.value.errors] == [parameter]


def test_time_slots_unknown_product_raises_not_found(client: OccasionClient) -> None:
    with pytest.raises(NotFound):
        client.get("products/zz999/time_slots", {"filter[status]": "bookable"})


# -- redeemables --------------------------------------------------------------


def redeem(client: OccasionClient, code: str) -> Document:
    return client.get(
        f"products/{QUESTIONS_PRODUCT_ID}/redeemables", {"filter[code]": code}
    )


def test_redeemable_answer_is_list_wrapping_document(
    session: requests.Session,
) -> None:
    path = f"products/{QUESTIONS_PRODUCT_ID}/redeemables"

    body = raw_get(session, path, {"filter[code]": "WELCOME10"}).json()

    assert body == [
        {
            "data": {
                "type": "coupons",
                "id": "c-101",
                "attributes": {
                    "name": "Welcome to the demo",
                    "code": "WELCOME10",
                    "discount_fixed": None,
                    "discount_percentage": 10.0,
                },
            }
        }
    ]


def test_redeemable_fixed_coupon_has_amount(client: OccasionClient) -> None:
    resource = redeem(client, "fiveoff").resources[0]

    assert resource.type == "coupons"
    assert dict(resource.attributes) == {
        "name": "Five dollars off",
        "code": "FIVEOFF",
        "discount_fixed": 5.0,
        "discount_percentage": None,
    }


def test_redeemable_gift_card_has_value_left(client: OccasionClient) -> None:
    resource = redeem(client, "GIFT-DEMO-50").resources[0]

    assert (resource.type, resource.id) == ("gift_cards", "g-201")
    assert dict(resource.attributes) == {
        "code": "GIFT-DEMO-50",
        "initial_value": 50.0,
        "value": 32.5,
    }


def test_redeemable_unknown_code_raises_not_found(client: OccasionClient) -> None:
    with pytest.raises(NotFound) as caught:
        redeem(client, "NOPE")

    assert caught.value.errors[0].detail == "No coupon or gift card has code: NOPE"


def test_redeemable_used_up_answers_409_like_api(session: requests.Session) -> None:
    path = f"products/{QUESTIONS_PRODUCT_ID}/redeemables"

    response = raw_get(session, path, {"filter[code]": "USEDUP"})

    assert response.status_code == 409
    assert response.json() == load_fixture("error-409-redeemable.json")


def test_redeemable_used_up_raises_conflict(client: OccasionClient) -> None:
    with pytest.raises(Conflict) as caught:
        redeem(client, "USEDUP")

    assert caught.value.errors[0].code == "unavailable"


def test_redeemable_without_code_raises_bad_request(client: OccasionClient) -> None:
    with pytest.raises(BadRequest) as caught:
        client.get(f"products/{QUESTIONS_PRODUCT_ID}/redeemables")

    assert caught.value.errors[0].parameter == "filter[code]"


# -- price quotes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("product_id", "extra", "expected"),
    [
        # 285.00 at 8.025% tax: 22.87125 rounds to 22.87.
        (QUESTIONS_PRODUCT_ID, {}, ("285.0", "0.0", "22.87", "307.87")),
        # 10% off 285.00 is 28.50; tax on 256.50 is 20.584125.
        (
            QUESTIONS_PRODUCT_ID,
            {"relationships": coupon("WELCOME10")},
            ("285.0", "28.5", "20.58", "277.08"),
        ),
        # Porcelain adds 15.00; 5.00 off; tax on 295.00 is 23.67375.
        (
            QUESTIONS_PRODUCT_ID,
            {
                "relationships": {
                    **coupon("FIVEOFF"),
                    "attribute_values": {
                        "data": [
                            answer("q-clay-body", "o-porcelain"),
                            answer("q-notes", "Left-handed"),
                        ]
                    },
                }
            },
            ("300.0", "5.0", "23.67", "318.67"),
        ),
        # Three tickets at 12.00, 8.81% Denver tax: 3.1716.
        (DAILY_SLOTS_PRODUCT_ID, {"quantity": 3}, ("36.0", "0.0", "3.17", "39.17")),
        # A fixed coupon never takes a free product below zero.
        (
            "p3s1ra",
            {"relationships": coupon("FIVEOFF")},
            ("0.0", "0.0", "0.0", "0.0"),
        ),
        # Rental shoes add 6.00 to 35.00; 10% off 41.00 is 4.10; tax on
        # 36.90 at Boulder's 8.845% is 3.263805.
        (
            "p4JzQt",
            {
                "relationships": {
                    **coupon("welcome10"),
                    "attribute_values": {
                        "data": [answer("q-shoe-rental", "o-rental-shoes")]
                    },
                }
            },
            ("41.0", "4.1", "3.26", "40.16"),
        ),
    ],
)
def test_price_quote_adds_up(
    client: OccasionClient,
    product_id: str,
    extra: dict[str, Any],
    expected: tuple[str, str, str, str],
) -> None:
    document = client.post("orders/price", price_document(product_id, **extra))

    attributes = document.resources[0].attributes

    assert document.resources[0].type == "orders"
    assert (
        attributes["subtotal"],
        attributes["coupon_amount"],
        attributes["tax"],
        attributes["total"],
    ) == expected


def test_price_quote_coupon_by_id_names_coupon(client: OccasionClient) -> None:
    body = price_document(
        QUESTIONS_PRODUCT_ID,
        relationships={"coupon": {"data": {"type": "coupons", "id": "c-102"}}},
    )

    attributes = client.post("orders/price", body).resources[0].attributes

    assert attributes["coupon_amount"] == "5.0"
    assert attributes["coupon_description"] == "Five dollars off"


def test_price_quote_default_option_prices_unanswered_question(
    client: OccasionClient,
) -> None:
    body = price_document("p09TH4")

    attributes = client.post("orders/price", body).resources[0].attributes

    assert attributes["subtotal"] == "225.0"


@pytest.mark.parametrize(
    ("body", "pointer", "code"),
    [
        (
            {"data": {"type": "orders", "relationships": {}}},
            "/data/relationships/product",
            "blank",
        ),
        (price_document("zz999"), "/data/relationships/product", "not_found"),
        (price_document("p81UXX"), "/data/relationships/product", "unavailable"),
        (
            price_document(QUESTIONS_PRODUCT_ID, relationships=coupon("NOPE")),
            "/data/relationships/coupon",
            "not_found",
        ),
        (
            price_document(QUESTIONS_PRODUCT_ID, relationships=coupon("GIFT-DEMO-50")),
            "/data/relationships/coupon",
            "invalid",
        ),
        (
            price_document(QUESTIONS_PRODUCT_ID, quantity=0),
            "/data/attributes/quantity",
            "invalid",
        ),
        (
            price_document(
                QUESTIONS_PRODUCT_ID,
                relationships={
                    "attribute_values": {"data": [answer("q-clay-body", "o-gold")]}
                },
            ),
            "/data/relationships/attribute_values/data/0/attributes/value",
            "inclusion",
        ),
        (
            price_document(
                QUESTIONS_PRODUCT_ID,
                relationships={
                    "attribute_values": {"data": [answer("q-party-size", "o-9-to-12")]}
                },
            ),
            "/data/relationships/attribute_values/data/0/relationships/attribute",
            "not_found",
        ),
        ({"meta": {}}, "/data", "blank"),
    ],
)
def test_price_quote_invalid_document_raises_invalid_document(
    client: OccasionClient, body: dict[str, Any], pointer: str, code: str
) -> None:
    with pytest.raises(InvalidDocument) as caught:
        client.post("orders/price", body)

    assert caught.value.status == 422
    assert [(e.pointer, e.code) for e in caught.value.errors] == [(pointer, code)]


def test_price_quote_other_type_raises_conflict(client: OccasionClient) -> None:
    body = price_document(QUESTIONS_PRODUCT_ID)
    body["data"]["type"] = "customers"

    with pytest.raises(Conflict) as caught:
        client.post("orders/price", body)

    assert [(e.pointer, e.code) for e in caught.value.errors] == [
        ("/data/type", "invalid")
    ]


def test_price_quote_lists_one_error_per_bad_field(client: OccasionClient) -> None:
    body = price_document("zz999", quantity="two", relationships=coupon("NOPE"))

    with pytest.raises(InvalidDocument) as caught:
        client.post("orders/price", body)

    assert caught.value.field_errors == {
        "product": ["No product has id: zz999"],
        "quantity": ["Quantity must be a whole number of at least 1."],
        "coupon": ["No coupon has code: NOPE"],
    }


def test_price_quote_text_body_answers_415(session: requests.Session) -> None:
    response = session.post(
        f"{DEMO_API_URL}/orders/price",
        data="product=p1uG8G",
        headers={"Content-Type": "text/plain"},
        auth=(DEMO_API_LOGIN, ""),
    )

    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"


def test_price_quote_broken_json_raises_bad_request(
    session: requests.Session,
) -> None:
    response = session.post(
        f"{DEMO_API_URL}/orders/price",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        auth=(DEMO_API_LOGIN, ""),
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("amount", "text"),
    [("90.00", "90.0"), ("13.50", "13.5"), ("6.31", "6.31"), ("0.00", "0.0")],
)
def test_decimal_text_writes_api_style(amount: str, text: str) -> None:
    assert decimal_text(Decimal(amount)) == text


def test_catalogue_is_built_once() -> None:
    assert catalogue() is catalogue()
