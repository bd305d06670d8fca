"""How the app behaves when the Occasion API misbehaves, over real HTTP.

Every fault is served by the fake API on a loopback port: slow answers,
hangs, reset connections, error statuses with ``Retry-After``, HTML pages,
broken JSON and a ``links.next`` loop. Each test counts the requests the
fault cost and checks that the cached listing survived it.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from django_occasion import services
from django_occasion.exceptions import (
    MalformedResponse,
    NetworkError,
    NotAuthorized,
    OccasionError,
    PagingError,
    RateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tests.conftest import load_fixture
from tests.servers import DEFAULT, Answer, FakeAPI, Request

FIXTURE_IDS = ["p7Kd2x", "p9Rt4b", "4411", "p2Wm8c"]
SECRET = settings.OCCASION_API_SECRET
# What an Authorization header carrying the secret would hold.
ENCODED_CREDENTIALS = base64.b64encode(
    f"{settings.OCCASION_API_LOGIN}:{SECRET}".encode()
).decode()
HTML = {"Content-Type": "text/html; charset=utf-8"}
MAINTENANCE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n"
    "<body><h1>Down for maintenance</h1><p>Back soon.</p></body></html>"
)
HANG = Answer(action="hang")
RESET = Answer(action="reset")
UNAVAILABLE = Answer(503, {"errors": [{"status": "503", "detail": "Maintenance."}]})


@dataclass(frozen=True)
class Fault:
    """A misbehaviour of the listing endpoint and what it must lead to."""

    script: Callable[[FakeAPI], Sequence[Answer]]
    error: type[OccasionError]
    calls: int
    says: str
    retries: int = 0
    budget: float = 5.0


def looping_pages(api: FakeAPI) -> list[Answer]:
    """Page 1 as usual, then a page 2 whose ``links.next`` is itself."""
    page = api.fixture("products-page-2.json")
    page["links"]["next"] = page["links"]["self"]
    return [DEFAULT, Answer(200, page)]


FAULTS = [
    pytest.param(
        Fault(
            lambda api: [HANG, HANG],
            UpstreamTimeout,
            calls=2,
            says="did not answer in time",
            retries=1,
        ),
        id="hang",
    ),
    pytest.param(
        Fault(
            lambda api: [RESET] * 3,
            NetworkError,
            calls=3,
            says="could not reach the Occasion API",
            retries=2,
        ),
        id="connection-reset",
    ),
    pytest.param(
        Fault(
            lambda api: [
                Answer(500, {"errors": [{"status": "500", "detail": "Oops."}]})
            ],
            UpstreamUnavailable,
            calls=1,
            says="answered 500: Oops.",
            retries=2,
        ),
        id="500-not-retried",
    ),
    pytest.param(
        Fault(
            lambda api: [Answer(503, MAINTENANCE_PAGE, HTML)] * 2,
            UpstreamUnavailable,
            calls=2,
            says="answered 503: 503 Service Unavailable Down for maintenance",
            retries=1,
        ),
        id="503-html-page",
    ),
    pytest.param(
        Fault(
            lambda api: [
                Answer(429, load_fixture("error-429.json"), {"Retry-After": "3600"})
            ],
            RateLimited,
            calls=1,
            says="answered 429",
            retries=3,
        ),
        id="429-beyond-budget",
    ),
    pytest.param(
        Fault(
            lambda api: [Answer(401, load_fixture("error-401.json"))],
            NotAuthorized,
            calls=1,
            says="answered 401",
        ),
        id="401",
    ),
    pytest.param(
        Fault(
            lambda api: [Answer(200, MAINTENANCE_PAGE, HTML)],
            MalformedResponse,
            calls=1,
            says="answered 200 with a body that is not JSON",
            retries=2,
        ),
        id="200-html-page",
    ),
    pytest.param(
        Fault(
            lambda api: [Answer(200, '{"data": [{"type": "products", "id": ')],
            MalformedResponse,
            calls=1,
            says="not JSON",
            retries=2,
        ),
        id="invalid-json",
    ),
    pytest.param(
        Fault(
            lambda api: [Answer(200, api.pages[0], action="truncate")],
            MalformedResponse,
            calls=1,
            says="cut short",
            retries=2,
        ),
        id="truncated-body",
    ),
    pytest.param(
        Fault(
            lambda api: [Answer(200, {"products": [{"id": 1}]})],
            MalformedResponse,
            calls=1,
            says="holds no JSON:API data",
            retries=2,
        ),
        id="not-json-api",
    ),
    pytest.param(
        Fault(
            looping_pages,
            PagingError,
            calls=2,
            says="links.next repeats a page",
            retries=2,
        ),
        id="links-next-loop",
    ),
]


def ids(products: Any) -> list[str]:
    return [p.id for p in products]


def current_generation() -> str | None:
    manifest = services.get_catalogue().manifest_or_none()
    return None if manifest is None else manifest.generation


def age_listing() -> None:
    """Make the cached listing stale (but servable), as time would."""
    catalogue = services.get_catalogue()
    manifest = catalogue.manifest_or_none()
    assert manifest is not None
    fetched_at = manifest.fetched_at - catalogue.settings.CACHE_TIMEOUT - 1
    catalogue.cache.set(
        catalogue.key("current"), {**manifest.to_json(), "fetched_at": fetched_at}
    )


def app_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name.startswith("django_occasion")
        and record.levelno >= logging.WARNING
    ]


def assert_no_credentials(
    error: BaseException | None, caplog: pytest.LogCaptureFixture
) -> None:
    texts = [record.getMessage() for record in caplog.records]
    while error is not None:
        texts += [str(error), repr(error)]
        error = error.__cause__ or error.__context__
    for text in texts:
        assert SECRET not in text
        assert ENCODED_CREDENTIALS not in text


@pytest.fixture
def api(fake_api: FakeAPI) -> Iterator[FakeAPI]:
    with fake_api.settings():
        yield fake_api


@pytest.mark.parametrize("fault", FAULTS)
def test_failed_refresh_raises_and_keeps_the_cached_listing(
    api: FakeAPI, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    generation = services.refresh_catalogue().generation
    api.script("products", *fault.script(api))

    with (
        override_settings(
            OCCASION_MAX_RETRIES=fault.retries, OCCASION_RETRY_BUDGET=fault.budget
        ),
        pytest.raises(fault.error, match=re.escape(fault.says)) as info,
    ):
        services.refresh_catalogue()

    assert api.count("products") == 2 + fault.calls
    assert current_generation() == generation
    assert ids(services.list_products()) == FIXTURE_IDS
    assert api.count("products") == 2 + fault.calls
    assert_no_credentials(info.value, caplog)


@pytest.mark.parametrize("fault", FAULTS)
def test_stale_listing_is_served_when_the_refresh_fails(
    api: FakeAPI, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    generation = services.refresh_catalogue().generation
    age_listing()
    api.script("products", *fault.script(api))
    caplog.clear()

    with override_settings(
        OCCASION_MAX_RETRIES=fault.retries, OCCASION_RETRY_BUDGET=fault.budget
    ):
        listing = services.list_products()
        again = services.list_products()

    assert ids(listing) == ids(again) == FIXTURE_IDS
    assert listing.manifest.generation == again.manifest.generation == generation
    assert current_generation() == generation
    # The second read falls in the failure back-off: no request.
    assert api.count("products") == 2 + fault.calls
    # One record a failure: ERROR for rejected keys, WARNING otherwise.
    [record] = app_records(caplog)
    expected = logging.ERROR if fault.error is NotAuthorized else logging.WARNING
    assert record.levelno == expected
    assert "failed; serving stale data" in record.getMessage()
    assert fault.says in record.getMessage()
    assert_no_credentials(None, caplog)


def test_slow_answer_within_the_read_timeout_is_served(
    api: FakeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    api.latency = 0.3

    listing = services.list_products()

    assert ids(listing) == FIXTURE_IDS
    assert api.count("products") == 2
    assert app_records(caplog) == []


@pytest.mark.parametrize(
    "retry_after",
    [
        pytest.param(lambda: "1", id="seconds"),
        pytest.param(lambda: formatdate(time.time() + 2, usegmt=True), id="http-date"),
    ],
)
def test_rate_limit_within_budget_waits_then_succeeds(
    api: FakeAPI, retry_after: Callable[[], str]
) -> None:
    api.script(
        "products",
        Answer(429, load_fixture("error-429.json"), {"Retry-After": retry_after()}),
    )
    started = time.monotonic()

    with override_settings(OCCASION_MAX_RETRIES=3):
        listing = services.list_products()

    # An HTTP date counts whole seconds: two seconds ahead waits at least one.
    assert time.monotonic() - started >= 0.9
    assert ids(listing) == FIXTURE_IDS
    assert api.count("products") == 3


def test_rate_limit_beyond_budget_raises_at_once_with_retry_after(
    api: FakeAPI,
) -> None:
    api.script(
        "products",
        Answer(429, load_fixture("error-429.json"), {"Retry-After": "3600"}),
    )
    started = time.monotonic()

    with (
        override_settings(OCCASION_MAX_RETRIES=3, OCCASION_RETRY_BUDGET=5.0),
        pytest.raises(RateLimited) as info,
    ):
        services.refresh_catalogue()

    assert time.monotonic() - started < 5.0
    assert info.value.retry_after == pytest.approx(3600)
    assert api.count("products") == 1


def test_unavailable_is_retried_then_succeeds(api: FakeAPI) -> None:
    api.script("products", UNAVAILABLE, UNAVAILABLE)

    with override_settings(OCCASION_MAX_RETRIES=2):
        listing = services.list_products()

    assert ids(listing) == FIXTURE_IDS
    assert api.count("products") == 4


def test_hang_gives_up_when_the_retry_budget_is_spent(api: FakeAPI) -> None:
    api.script("products", *[HANG] * 6)

    # The budget starts at the first timeout (0.5 s); the second one ends
    # past it, so two requests are made although five retries are allowed.
    with (
        override_settings(OCCASION_MAX_RETRIES=5, OCCASION_RETRY_BUDGET=0.2),
        pytest.raises(UpstreamTimeout),
    ):
        services.refresh_catalogue()

    assert api.count("products") == 2


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(UNAVAILABLE, UpstreamUnavailable, id="503"),
        pytest.param(
            Answer(429, load_fixture("error-429.json"), {"Retry-After": "1"}),
            RateLimited,
            id="429",
        ),
        pytest.param(RESET, NetworkError, id="connection-reset"),
        pytest.param(HANG, UpstreamTimeout, id="hang"),
    ],
)
def test_post_is_never_retried(
    api: FakeAPI,
    answer: Answer,
    error: type[OccasionError],
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.script("orders/price", *[answer] * 4)
    document = {
        "data": {
            "type": "orders",
            "relationships": {"product": {"data": {"type": "products", "id": "1"}}},
        }
    }

    with override_settings(OCCASION_MAX_RETRIES=3), pytest.raises(error) as info:
        services.get_client().post("orders/price", document)

    assert api.count("orders/price", method="POST") == 1
    assert_no_credentials(info.value, caplog)


def echo_authorization(request: Request) -> str:
    # Some proxies and debug pages echo the request's headers back.
    return (
        "<html><body>Service Unavailable. Authorization: "
        f"{request.headers.get('Authorization')}</body></html>"
    )


def test_error_page_echoing_the_credentials_is_masked_in_the_error(
    api: FakeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    api.script("orders/price", Answer(503, echo_authorization, HTML))

    with pytest.raises(UpstreamUnavailable) as info:
        services.get_client().post("orders/price", {"data": {"type": "orders"}})

    assert "Service Unavailable. Authorization: Basic [masked]" in str(info.value)
    assert info.value.errors[0].detail == (
        "Service Unavailable. Authorization: Basic [masked]"
    )
    assert_no_credentials(info.value, caplog)
