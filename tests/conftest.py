from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from django.core.cache import caches

pytest_plugins = ["tests.servers"]

FIXTURES = Path(__file__).parent / "fixtures"
API_URL = "https://occasion.test/api/v1"


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def _clear_caches() -> Iterator[None]:
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


def fixture_text(name: str) -> str:
    """A fixture with its links pointing at the test API's base URL."""
    text = (FIXTURES / name).read_text()
    return text.replace("https://app.getoccasion.com/api/v1", API_URL)


class FakeOccasion:
    """The fixtures' products, venue, merchant and time slots via ``responses``.

    ``products`` pages can be replaced per test; ``fail_with`` makes every
    request answer that status; ``calls`` counts listing requests.
    """

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.pages = [
            json.loads(fixture_text("products-page-1.json")),
            json.loads(fixture_text("products-page-2.json")),
        ]
        self.fail_with: int | None = None
        self.listing_calls = 0
        mock.add_callback(responses.GET, f"{API_URL}/products", callback=self._listing)
        mock.add_callback(
            responses.GET,
            re.compile(rf"{re.escape(API_URL)}/products/[^/?]+(\?.*)?$"),
            callback=self._detail,
        )
        mock.add_callback(
            responses.GET,
            re.compile(rf"{re.escape(API_URL)}/venues/[^/?]+(\?.*)?$"),
            callback=self._venue,
        )
        mock.add_callback(
            responses.GET,
            re.compile(rf"{re.escape(API_URL)}/merchants(\?.*)?$"),
            callback=self._merchants,
        )
        mock.add_callback(
            responses.GET,
            re.compile(rf"{re.escape(API_URL)}/products/[^/?]+/time_slots(\?.*)?$"),
            callback=self._time_slots,
        )

    def _venue(self, request: Any) -> tuple[int, dict[str, str], str]:
        failure = self._failure()
        if failure:
            return failure
        venue_id = request.path_url.split("?")[0].rsplit("/", 1)[-1]
        if venue_id != "v3Lk0":
            return 404, {}, fixture_text("error-404.json")
        return 200, {}, fixture_text("venue-with-location.json")

    def _merchants(self, request: Any) -> tuple[int, dict[str, str], str]:
        return self._failure() or (200, {}, fixture_text("merchants.json"))

    def _time_slots(self, request: Any) -> tuple[int, dict[str, str], str]:
        failure = self._failure()
        if failure:
            return failure
        page = json.loads(fixture_text("time-slots-page.json"))
        page["links"] = {}
        return 200, {}, json.dumps(page)

    def _failure(self) -> tuple[int, dict[str, str], str] | None:
        if self.fail_with is None:
            return None
        body = {"errors": [{"status": str(self.fail_with), "detail": "Simulated."}]}
        return self.fail_with, {}, json.dumps(body)

    def _listing(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.listing_calls += 1
        failure = self._failure()
        if failure:
            return failure
        number = int(request.params.get("page[number]", "1"))
        return 200, {}, json.dumps(self.pages[number - 1])

    def _detail(self, request: Any) -> tuple[int, dict[str, str], str]:
        failure = self._failure()
        if failure:
            return failure
        product_id = request.path_url.rsplit("/", 1)[-1].split("?")[0]
        for page in self.pages:
            for item in page["data"]:
                if str(item["id"]) == product_id:
                    return (
                        200,
                        {},
                        json.dumps(
                            {"data": item, "included": page.get("included", [])}
                        ),
                    )
        return 404, {}, fixture_text("error-404.json")

    def set_products(self, products: list[dict[str, Any]]) -> None:
        """One page holding ``products`` (and the fixtures' venues)."""
        included = self.pages[0]["included"]
        self.pages = [{"data": products, "included": included, "links": {}}]


@pytest.fixture
def occasion() -> Iterator[FakeOccasion]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeOccasion(mock)
