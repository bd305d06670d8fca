"""A fake Occasion API for the booking resources, served through ``responses``.

It answers every public endpoint the app reads (products, merchants, venues,
time slots, redeemables, questions, price quotes) from the fixtures, records
every request, and behaves like the API where the tests need it to: cursor
pagination of time slots, 404 and 409 for codes, 422 for a bad quote, 400
for a partner key's collection request without ``merchant_id``.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import responses
from django.core.cache import caches

from django_occasion import services
from django_occasion.conf import app_settings
from tests.conftest import API_URL, fixture_text, load_fixture

Answer = tuple[int, dict[str, str], str]

#: 1 December 2026, 12:00 UTC: before every time slot of the fixtures.
NOW = datetime.fromisoformat("2026-12-01T12:00:00+00:00").timestamp()
FIRST_SLOT = load_fixture("time-slots-page.json")["data"][0]


def make_slot(number: int, **attributes: Any) -> dict[str, Any]:
    """The ``number``-th weekly slot, from 8 December 2026 on (ts-9001...)."""
    slot = copy.deepcopy(FIRST_SLOT)
    slot["id"] = f"ts-{9000 + number}"
    starts_at = datetime.fromisoformat(slot["attributes"]["starts_at"])
    slot["attributes"]["starts_at"] = (
        starts_at + timedelta(weeks=number - 1)
    ).isoformat()
    slot["attributes"].update(attributes)
    return slot


def error_body(status: int, detail: str = "Simulated.") -> str:
    return json.dumps({"errors": [{"status": str(status), "detail": detail}]})


class FakeBooking:
    """The fixtures' Occasion account.

    ``slots`` maps product ids to their time slots (p7Kd2x: the fixture's two
    plus two more); ``max_page_size`` caps a time slot page like a busy API
    would. ``fail`` maps a route name (``products``, ``product``,
    ``time_slots``, ``redeemables``, ``merchants``, ``venues``, ``venue``,
    ``price``) to a status to answer instead. ``requests`` holds every
    request, ``calls`` counts them by route.
    """

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.pages = [
            json.loads(fixture_text("products-page-1.json")),
            json.loads(fixture_text("products-page-2.json")),
        ]
        self.merchants = load_fixture("merchants.json")
        self.venue = load_fixture("venue-with-location.json")
        self.questions = load_fixture("product-with-questions.json")
        self.price = load_fixture("order-price.json")
        first, second = load_fixture("time-slots-page.json")["data"]
        self.slots: dict[str, list[dict[str, Any]]] = {
            "p7Kd2x": [first, second, make_slot(3), make_slot(4)],
            "4411": [make_slot(1, spots_available=0)],
        }
        self.max_page_size = 2
        self.fail: dict[str, int] = {}
        self.partner = False
        self.requests: list[Any] = []
        self.calls: Counter[str] = Counter()
        self.delay = 0.0
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        mock.add_callback(
            responses.GET, re.compile(rf"{re.escape(API_URL)}/.*"), callback=self._get
        )
        mock.add_callback(
            responses.POST, f"{API_URL}/orders/price", callback=self._price
        )

    # -- what the tests look at ------------------------------------------------

    def params(self, route: str) -> list[dict[str, str]]:
        """The query of each request to ``route``, in order."""
        return [
            dict(parse_qsl(urlsplit(request.url).query))
            for request in self.requests
            if self._route(urlsplit(request.url).path)[0] == route
        ]

    def bodies(self) -> list[Any]:
        return [
            json.loads(request.body)
            for request in self.requests
            if request.method == "POST"
        ]

    # -- answering -------------------------------------------------------------

    def _route(self, path: str) -> tuple[str, list[str]]:
        parts = path.removeprefix(urlsplit(API_URL).path).strip("/").split("/")
        routes: dict[tuple[str | None, ...], str] = {
            ("products",): "products",
            ("products", None): "product",
            ("products", None, "time_slots"): "time_slots",
            ("products", None, "redeemables"): "redeemables",
            ("merchants",): "merchants",
            ("venues",): "venues",
            ("venues", None): "venue",
            ("orders", "price"): "price",
        }
        for pattern, name in routes.items():
            if len(pattern) == len(parts) and all(
                p is None or p == part for p, part in zip(pattern, parts, strict=True)
            ):
                pairs = zip(pattern, parts, strict=True)
                return name, [part for p, part in pairs if p is None]
        return "unknown", parts

    def _record(self, request: Any) -> tuple[str, list[str], dict[str, str]]:
        with self._lock:
            self.requests.append(request)
            route, captured = self._route(urlsplit(request.url).path)
            self.calls[route] += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.in_flight -= 1
        return route, captured, dict(parse_qsl(urlsplit(request.url).query))

    def _get(self, request: Any) -> Answer:
        route, captured, params = self._record(request)
        if route in self.fail:
            return self.fail[route], {}, error_body(self.fail[route])
        collections = ("products", "time_slots", "redeemables", "merchants", "venues")
        if self.partner and route in collections and "merchant_id" not in params:
            return 400, {}, error_body(400, "merchant_id is required")
        handler: Callable[..., Answer] = getattr(self, f"_{route}")
        return handler(params, *captured)

    def _products(self, params: dict[str, str]) -> Answer:
        number = int(params.get("page[number]", "1"))
        return 200, {}, json.dumps(self.pages[number - 1])

    def _product(self, params: dict[str, str], product_id: str) -> Answer:
        if "attributes" in params.get("include", "") and product_id == "p7Kd2x":
            return 200, {}, json.dumps(self.questions)
        for page in self.pages:
            for item in page["data"]:
                if str(item["id"]) == product_id:
                    document = {"data": item, "included": page.get("included", [])}
                    return 200, {}, json.dumps(document)
        return 404, {}, fixture_text("error-404.json")

    def _time_slots(self, params: dict[str, str], product_id: str) -> Answer:
        if product_id not in self.slots:
            return 404, {}, fixture_text("error-404.json")
        slots = self.slots[product_id]
        last = params.get("filter[last]")
        if last is not None:
            ids = [slot["id"] for slot in slots]
            slots = slots[ids.index(last) + 1 :]
        size = min(int(params.get("page[size]", "10")), self.max_page_size)
        page, rest = slots[:size], slots[size:]
        document: dict[str, Any] = {"data": page, "links": {}}
        if rest:
            # Like the API: a full URL holding the query, without the scope.
            query = {
                "filter[status]": params["filter[status]"],
                "filter[last]": page[-1]["id"],
                "page[size]": str(size),
            }
            document["links"]["next"] = (
                f"{API_URL}/products/{product_id}/time_slots?{urlencode(query)}"
            )
        return 200, {}, json.dumps(document)

    def _redeemables(self, params: dict[str, str], product_id: str) -> Answer:
        code = params.get("filter[code]")
        if code == "WARMHANDS":
            return 200, {}, fixture_text("redeemable-coupon.json")
        if code == "GIFT-7Q2-KL9":
            return 200, {}, fixture_text("redeemable-gift-card.json")
        if code == "USEDUP":
            return 409, {}, fixture_text("error-409-redeemable.json")
        return 404, {}, error_body(404, "No coupon or gift card has that code.")

    def _merchants(self, params: dict[str, str]) -> Answer:
        return 200, {}, json.dumps(self.merchants)

    def _venues(self, params: dict[str, str]) -> Answer:
        annex = copy.deepcopy(self.pages[0]["included"][2])
        document = {
            "data": [self.venue["data"], annex],
            "included": self.venue["included"],
            "links": {"next": None},
        }
        return 200, {}, json.dumps(document)

    def _venue(self, params: dict[str, str], venue_id: str) -> Answer:
        if venue_id == "v3Lk0":
            return 200, {}, json.dumps(self.venue)
        return 404, {}, error_body(404, f"No venue has id: {venue_id}")

    def _price(self, request: Any) -> Answer:
        self._record(request)
        if "price" in self.fail:
            status = self.fail["price"]
            body = fixture_text("error-422.json") if status == 422 else ""
            return status, {}, body or error_body(status)
        return 200, {}, json.dumps(self.price)


def serve_booking() -> Iterator[FakeBooking]:
    """For a test module's ``booking`` fixture: ``yield from serve_booking()``."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeBooking(mock)


class Clock:
    """A clock the service layer reads instead of the real one."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def install_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """For a test module's ``clock`` fixture: every catalogue the services
    build reads the clock returned."""
    fake = Clock()

    def get_catalogue() -> services.Catalogue:
        return services.Catalogue(
            services.get_client(), caches[app_settings.CACHE_ALIAS], clock=fake
        )

    monkeypatch.setattr(services, "get_catalogue", get_catalogue)
    return fake
