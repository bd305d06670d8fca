from __future__ import annotations

import base64
import contextlib
import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeAlias
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from requests.adapters import BaseAdapter
from responses import matchers
from urllib3 import HTTPResponse
from urllib3.exceptions import (
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from django_occasion import __version__
from django_occasion.client import (
    RETRY_STATUSES,
    USER_AGENT,
    BudgetedRetry,
    OccasionClient,
    make_retry,
)
from django_occasion.exceptions import (
    APIError,
    BadRequest,
    Conflict,
    ErrorDetail,
    Forbidden,
    InvalidDocument,
    MalformedResponse,
    NetworkError,
    NotAuthorized,
    NotFound,
    OccasionError,
    PagingError,
    RateLimited,
    UnsupportedMediaType,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from django_occasion.jsonapi import Document, Resource
from tests.conftest import API_URL, load_fixture

LOGIN = "test-login"
SECRET = "test-secret"
PRODUCTS_URL = f"{API_URL}/products"
PRODUCTS_PATH = "/api/v1/products"
# The fixtures' links point at the official host; the tests serve them from
# API_URL so that no request leaves the configured base URL.
OFFICIAL_API_URL = "https://app.getoccasion.com/api/v1"
PAGE_1_QUERY = {"include": "merchant,venue", "page[number]": "1", "page[size]": "3"}
PAGE_2_QUERY = {"include": "merchant,venue", "page[number]": "2", "page[size]": "3"}
PAGE_2_URL = (
    f"{PRODUCTS_URL}?include=merchant%2Cvenue&page%5Bnumber%5D=2&page%5Bsize%5D=3"
)
HTML_MAINTENANCE = (
    "<!DOCTYPE html>\n<html>\n  <head><title>Down for maintenance</title></head>\n"
    "  <body><h1>We'll be back soon</h1></body>\n</html>\n"
)
DEBUG_LINE = re.compile(r"^Occasion (GET|POST) (\S+) answered (\d{3}) in \d+ ms$")


ClientFactory: TypeAlias = Callable[..., OccasionClient]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    """Clients for API_URL, without retries unless asked; closed afterwards."""
    made: list[OccasionClient] = []

    def make(**kwargs: Any) -> OccasionClient:
        options: dict[str, Any] = {"max_retries": 0, **kwargs}
        made.append(OccasionClient(API_URL, LOGIN, SECRET, **options))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> OccasionClient:
    return make_client()


@pytest.fixture
def partner_client(make_client: ClientFactory) -> OccasionClient:
    return make_client(merchant_id="m1Qa9")


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def served(fixture: str) -> Any:
    """A fixture with its links moved from the official host to API_URL."""
    text = json.dumps(load_fixture(fixture))
    return json.loads(text.replace(OFFICIAL_API_URL, API_URL))


def basic_auth(request: requests.PreparedRequest) -> tuple[str, str]:
    scheme, _, encoded = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    login, _, password = base64.b64decode(encoded).decode().partition(":")
    return login, password


def query(request: requests.PreparedRequest) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url or "").query)


def debug_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "django_occasion.client" and record.levelno == logging.DEBUG
    ]


def error_body(status: int, detail: str) -> dict[str, Any]:
    return {"errors": [{"status": str(status), "detail": detail}]}


def add_pages(mock: responses.RequestsMock, *pages: tuple[dict[str, str], Any]) -> None:
    for params, body in pages:
        mock.get(PRODUCTS_URL, json=body, match=[matchers.query_param_matcher(params)])


def page(number: int, next_number: int | None) -> dict[str, Any]:
    next_link = (
        None
        if next_number is None
        else f"{PRODUCTS_URL}?page%5Bnumber%5D={next_number}"
    )
    return {
        "data": [{"type": "products", "id": f"p{number}"}],
        "links": {"next": next_link},
    }


class RecordingAdapter(BaseAdapter):
    """Answers every request with one canned JSON body and keeps what it got."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self.body = body
        self.sent: list[tuple[requests.PreparedRequest, dict[str, Any]]] = []
        self.closed = False

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self.sent.append((request, kwargs))
        response = requests.Response()
        response.status_code = 200
        response.url = request.url or ""
        response.request = request
        response._content = json.dumps(self.body).encode()
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        self.closed = True


# -- authentication and headers ---------------------------------------------


def test_get_public_call_sends_login_with_empty_password(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, json=load_fixture("products-page-1.json"))

    client.get("products")

    assert basic_auth(mocked.calls[0].request) == (LOGIN, "")


def test_get_private_call_sends_login_and_secret(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, json=load_fixture("products-page-1.json"))

    client.get("products", private=True)

    assert basic_auth(mocked.calls[0].request) == (LOGIN, SECRET)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [({}, (LOGIN, SECRET)), ({"private": False}, (LOGIN, ""))],
)
def test_post_is_private_unless_told(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    kwargs: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    mocked.post(f"{API_URL}/orders/price", json=load_fixture("order-price.json"))

    client.post("orders/price", {"data": {"type": "orders"}}, **kwargs)

    assert basic_auth(mocked.calls[0].request) == expected


def test_iter_pages_public_calls_send_no_secret(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    add_pages(
        mocked,
        (PAGE_1_QUERY, served("products-page-1.json")),
        (PAGE_2_QUERY, served("products-page-2.json")),
    )

    list(client.iter_pages("products", PAGE_1_QUERY))

    assert [basic_auth(call.request) for call in mocked.calls] == [
        (LOGIN, ""),
        (LOGIN, ""),
    ]


def test_iter_pages_private_calls_send_secret_on_every_page(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    add_pages(
        mocked,
        (PAGE_1_QUERY, served("products-page-1.json")),
        (PAGE_2_QUERY, served("products-page-2.json")),
    )

    list(client.iter_pages("products", PAGE_1_QUERY, private=True))

    assert [basic_auth(call.request) for call in mocked.calls] == [
        (LOGIN, SECRET),
        (LOGIN, SECRET),
    ]


def test_request_headers_name_the_app_and_json(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, json=load_fixture("products-page-1.json"))

    client.get("products")

    headers = mocked.calls[0].request.headers
    assert headers["User-Agent"] == (
        f"django-occasion/{__version__} python-requests/{requests.__version__}"
    )
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Accept"] == "application/vnd.api+json, application/json"
    assert headers["Content-Type"] == "application/json"


def test_post_sends_document_as_json(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    document = {
        "data": {
            "type": "orders",
            "relationships": {"product": {"data": {"type": "products", "id": "p1"}}},
        }
    }
    mocked.post(
        f"{API_URL}/orders/price",
        json=load_fixture("order-price.json"),
        match=[matchers.json_params_matcher(document)],
    )

    result = client.post("orders/price", document)

    request = mocked.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert isinstance(result.data, Resource)
    assert result.data.attributes["total"] == "82.81"


# -- timeouts and the session seam -------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "timeout"),
    [
        ({}, (3.05, 10.0)),
        ({"connect_timeout": 1.5, "read_timeout": 4.0}, (1.5, 4.0)),
    ],
)
def test_request_passes_connect_and_read_timeout(
    make_client: ClientFactory,
    mocked: responses.RequestsMock,
    kwargs: dict[str, Any],
    timeout: tuple[float, float],
) -> None:
    client = make_client(**kwargs)
    mocked.get(PRODUCTS_URL, json=load_fixture("products-page-1.json"))

    client.get("products")

    assert mocked.calls[0].request.req_kwargs["timeout"] == timeout  # type: ignore[attr-defined]


def test_request_uses_injected_session(make_client: ClientFactory) -> None:
    adapter = RecordingAdapter(load_fixture("venue-with-location.json"))
    session = requests.Session()
    session.mount(API_URL, adapter)
    client = make_client(session=session, connect_timeout=2.0, read_timeout=5.0)

    document = client.get("venues/v3Lk0")

    request, kwargs = adapter.sent[0]
    assert request.url == f"{API_URL}/venues/v3Lk0"
    assert kwargs["timeout"] == (2.0, 5.0)
    assert basic_auth(request) == (LOGIN, "")
    assert isinstance(document.data, Resource)
    assert document.data.identifier == ("venues", "v3Lk0")


def test_client_close_closes_session(make_client: ClientFactory) -> None:
    adapter = RecordingAdapter({"data": None})
    session = requests.Session()
    session.mount(API_URL, adapter)
    client = make_client(session=session)

    client.close()

    assert adapter.closed is True


def test_default_session_mounts_budgeted_retry(make_client: ClientFactory) -> None:
    client = make_client(max_retries=2, retry_budget=4.0)

    adapter = client.session.get_adapter(PRODUCTS_URL)

    retry = adapter.max_retries  # type: ignore[attr-defined]
    assert isinstance(retry, BudgetedRetry)
    assert retry.total == 2
    assert retry.budget == 4.0


@pytest.mark.parametrize(
    ("base_url", "path", "expected"),
    [
        (API_URL, "products", PRODUCTS_URL),
        (API_URL, "/products", PRODUCTS_URL),
        (f"{API_URL}/", "products/p1/time_slots", f"{PRODUCTS_URL}/p1/time_slots"),
        (API_URL, PAGE_2_URL, PAGE_2_URL),
        (API_URL, f"{OFFICIAL_API_URL}/products", f"{OFFICIAL_API_URL}/products"),
    ],
)
def test_url_joins_base_and_path(base_url: str, path: str, expected: str) -> None:
    with contextlib.closing(OccasionClient(base_url, LOGIN)) as client:
        url = client.url(path)

    assert url == expected


@pytest.mark.parametrize(
    ("merchant_id", "expected"),
    [
        (None, "<OccasionClient https://occasion.test/api/v1/ merchant_id=None>"),
        ("m1Qa9", "<OccasionClient https://occasion.test/api/v1/ merchant_id='m1Qa9'>"),
    ],
)
def test_repr_hides_login_and_secret(
    make_client: ClientFactory, merchant_id: str | None, expected: str
) -> None:
    client = make_client(merchant_id=merchant_id)

    text = repr(client)

    assert text == expected
    assert LOGIN not in text
    assert SECRET not in text


# -- successful answers -------------------------------------------------------


def test_get_returns_parsed_document(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, json=load_fixture("products-page-1.json"))

    document = client.get("products")

    assert isinstance(document, Document)
    assert [r.id for r in document.resources] == ["p7Kd2x", "p9Rt4b", "4411"]
    assert len(document.included) == 3


def test_get_sends_query_params(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    params = {"filter[status]": "bookable", "page[size]": 2}
    mocked.get(
        f"{PRODUCTS_URL}/p7Kd2x/time_slots", json=load_fixture("time-slots-page.json")
    )

    client.get("products/p7Kd2x/time_slots", params)

    assert query(mocked.calls[0].request) == {
        "filter[status]": ["bookable"],
        "page[size]": ["2"],
    }


@pytest.mark.parametrize(
    ("fixture", "identifier"),
    [
        ("redeemable-coupon.json", ("coupons", "c-55")),
        ("redeemable-gift-card.json", ("gift_cards", "g-71")),
    ],
)
def test_get_reads_list_wrapped_redeemable(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    fixture: str,
    identifier: tuple[str, str],
) -> None:
    mocked.get(f"{PRODUCTS_URL}/p7Kd2x/redeemables", json=load_fixture(fixture))

    document = client.get("products/p7Kd2x/redeemables", {"filter[code]": "CODE"})

    assert isinstance(document.data, Resource)
    assert document.data.identifier == identifier


# -- error statuses -----------------------------------------------------------

ERROR_CASES = [
    (
        400,
        error_body(400, "merchant_id is required for partner keys"),
        BadRequest,
        "merchant_id is required for partner keys",
    ),
    (
        401,
        load_fixture("error-401.json"),
        NotAuthorized,
        "The API credentials provided are not valid.",
    ),
    (403, error_body(403, "Not allowed."), Forbidden, "Not allowed."),
    (404, load_fixture("error-404.json"), NotFound, "No product has id: zz999"),
    (
        409,
        load_fixture("error-409-redeemable.json"),
        Conflict,
        "That code was found but can no longer be used.",
    ),
    (
        415,
        error_body(415, "Send JSON."),
        UnsupportedMediaType,
        "Send JSON.",
    ),
    (
        422,
        load_fixture("error-422.json"),
        InvalidDocument,
        "Email can't be blank.; Choose a time slot.",
    ),
    (
        429,
        load_fixture("error-429.json"),
        RateLimited,
        "Request limit reached; try again later.",
    ),
    (500, error_body(500, "Internal error."), UpstreamUnavailable, "Internal error."),
    (503, error_body(503, "Maintenance."), UpstreamUnavailable, "Maintenance."),
]


@pytest.mark.parametrize(("status", "body", "error_class", "detail"), ERROR_CASES)
def test_error_status_raises_matching_exception(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    status: int,
    body: dict[str, Any],
    error_class: type[APIError],
    detail: str,
) -> None:
    mocked.get(PRODUCTS_URL, json=body, status=status)

    with pytest.raises(APIError) as excinfo:
        client.get("products", {"page[size]": 3}, private=True)

    error = excinfo.value
    assert type(error) is error_class
    assert error.status == status
    assert error.errors == tuple(ErrorDetail.from_json(e) for e in body["errors"])
    assert error.method == "GET"
    assert error.path == PRODUCTS_PATH
    assert str(error) == f"GET {PRODUCTS_PATH} answered {status}: {detail}"


@pytest.mark.parametrize(("status", "body", "error_class", "detail"), ERROR_CASES)
def test_error_message_never_holds_credentials(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    status: int,
    body: dict[str, Any],
    error_class: type[APIError],
    detail: str,
) -> None:
    mocked.get(PRODUCTS_URL, json=body, status=status)

    with pytest.raises(error_class) as excinfo:
        client.get("products", private=True)

    for text in (str(excinfo.value), repr(excinfo.value)):
        assert SECRET not in text
        assert LOGIN not in text


def test_error_without_errors_member_uses_default_message(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{PRODUCTS_URL}/zz999", json={"meta": {}}, status=404)

    with pytest.raises(NotFound) as excinfo:
        client.get("products/zz999")

    assert excinfo.value.errors == ()
    assert (
        str(excinfo.value) == "GET /api/v1/products/zz999 answered 404: no such record"
    )


def test_error_unknown_status_raises_api_error(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, json=error_body(418, "I'm a teapot"), status=418)

    with pytest.raises(APIError) as excinfo:
        client.get("products")

    assert type(excinfo.value) is APIError
    assert excinfo.value.status == 418


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"Retry-After": "120"}, 120),
        ({"Retry-After": "0"}, 0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_rate_limited_carries_retry_after_seconds(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    headers: dict[str, str],
    retry_after: float | None,
) -> None:
    mocked.get(
        PRODUCTS_URL, json=load_fixture("error-429.json"), status=429, headers=headers
    )

    with pytest.raises(RateLimited) as excinfo:
        client.get("products")

    assert excinfo.value.retry_after == retry_after


def test_rate_limited_reads_retry_after_http_date(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    when = email.utils.formatdate(time.time() + 600, usegmt=True)
    mocked.get(
        PRODUCTS_URL,
        json=load_fixture("error-429.json"),
        status=429,
        headers={"Retry-After": when},
    )

    with pytest.raises(RateLimited) as excinfo:
        client.get("products")

    assert excinfo.value.retry_after is not None
    assert 590 <= excinfo.value.retry_after <= 600


def test_not_authorized_is_left_to_the_caller_to_log(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The service layer logs it once, at ERROR, with what it serves instead.
    caplog.set_level(logging.DEBUG, logger="django_occasion")
    mocked.get(PRODUCTS_URL, json=load_fixture("error-401.json"), status=401)

    with pytest.raises(NotAuthorized):
        client.get("products", private=True)

    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert SECRET not in caplog.text
    assert LOGIN not in caplog.text


def test_error_details_echoing_credentials_are_masked(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    encoded = base64.b64encode(f"{LOGIN}:{SECRET}".encode()).decode()
    body = error_body(401, f"Bad header Basic {encoded}; secret {SECRET}")
    mocked.get(PRODUCTS_URL, json=body, status=401)

    with pytest.raises(NotAuthorized) as caught:
        client.get("products", private=True)

    assert str(caught.value) == (
        "GET /api/v1/products answered 401: Bad header Basic [masked]; secret [masked]"
    )


@pytest.mark.parametrize("status", [400, 403, 404, 429, 503])
def test_other_errors_log_nothing_above_debug(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    caplog.set_level(logging.DEBUG, logger="django_occasion")
    mocked.get(PRODUCTS_URL, json=error_body(status, "No."), status=status)

    with pytest.raises(APIError):
        client.get("products")

    assert [r.levelname for r in caplog.records] == ["DEBUG"]


# -- unreadable answers -------------------------------------------------------


def test_non_json_body_raises_malformed_response(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, body="Hello,\n  this is   not JSON", status=200)

    with pytest.raises(MalformedResponse) as excinfo:
        client.get("products")

    error = excinfo.value
    assert type(error) is MalformedResponse
    assert error.status == 200
    assert error.excerpt == "Hello, this is not JSON"
    assert str(error) == (
        "GET /api/v1/products answered 200 with a body that is not JSON "
        "(excerpt: 'Hello, this is not JSON')"
    )


def test_non_json_body_excerpt_is_short(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, body="x" * 5000, status=200)

    with pytest.raises(MalformedResponse) as excinfo:
        client.get("products")

    assert excinfo.value.excerpt == "x" * 120


def test_html_maintenance_page_raises_upstream_unavailable(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(
        PRODUCTS_URL, body=HTML_MAINTENANCE, status=503, content_type="text/html"
    )

    with pytest.raises(UpstreamUnavailable) as excinfo:
        client.get("products")

    excerpt = "Down for maintenance We'll be back soon"
    error = excinfo.value
    assert error.status == 503
    assert error.errors == (ErrorDetail(status="503", detail=excerpt),)
    assert str(error) == f"GET /api/v1/products answered 503: {excerpt}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"products": []}, "the answer holds no JSON:API data"),
        (["a", "b"], "the answer is not a JSON:API document"),
        ("just a string", "the answer is not a JSON:API document"),
        ({"data": {"id": "1"}}, "a resource object lacks its type"),
    ],
)
def test_json_that_is_not_jsonapi_raises_malformed_response(
    client: OccasionClient, mocked: responses.RequestsMock, body: Any, reason: str
) -> None:
    mocked.get(PRODUCTS_URL, json=body)

    with pytest.raises(MalformedResponse) as excinfo:
        client.get("products")

    error = excinfo.value
    assert error.status == 200
    assert error.excerpt == json.dumps(body)
    assert str(error) == (
        f"GET /api/v1/products answered 200: {reason} (excerpt: {json.dumps(body)!r})"
    )
    assert isinstance(error.__cause__, MalformedResponse)


# -- transport failures -------------------------------------------------------


def wrapped(reason: Exception) -> requests.ConnectionError:
    """What requests raises when urllib3 gives up with ``reason``."""
    return requests.ConnectionError(MaxRetryError(None, PRODUCTS_URL, reason))  # type: ignore[arg-type]


TRANSPORT_CASES: list[tuple[Callable[[], Exception], type[OccasionError], str]] = [
    (
        lambda: requests.ConnectionError("refused"),
        NetworkError,
        "GET /api/v1/products: could not reach the Occasion API (ConnectionError)",
    ),
    (
        lambda: wrapped(NewConnectionError(None, "refused")),  # type: ignore[arg-type]
        NetworkError,
        "GET /api/v1/products: could not reach the Occasion API (NewConnectionError)",
    ),
    (
        lambda: wrapped(ProtocolError("Connection aborted.")),
        NetworkError,
        "GET /api/v1/products: could not reach the Occasion API (ProtocolError)",
    ),
    (
        lambda: requests.ConnectTimeout("connect timed out"),
        UpstreamTimeout,
        "GET /api/v1/products: the Occasion API did not answer in time",
    ),
    (
        lambda: requests.ReadTimeout("read timed out"),
        UpstreamTimeout,
        "GET /api/v1/products: the Occasion API did not answer in time",
    ),
    (
        lambda: wrapped(ReadTimeoutError(None, PRODUCTS_URL, "Read timed out.")),  # type: ignore[arg-type]
        UpstreamTimeout,
        "GET /api/v1/products: the Occasion API did not answer in time",
    ),
    (
        lambda: requests.exceptions.ChunkedEncodingError("cut short"),
        MalformedResponse,
        "GET /api/v1/products: the answer was cut short or garbled",
    ),
    (
        lambda: requests.exceptions.ContentDecodingError("bad gzip"),
        MalformedResponse,
        "GET /api/v1/products: the answer was cut short or garbled",
    ),
    (
        lambda: requests.TooManyRedirects("loop"),
        NetworkError,
        "GET /api/v1/products: the request failed (TooManyRedirects)",
    ),
]


@pytest.mark.parametrize(("make_error", "error_class", "message"), TRANSPORT_CASES)
def test_transport_failure_is_translated(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    make_error: Callable[[], Exception],
    error_class: type[OccasionError],
    message: str,
) -> None:
    original = make_error()
    mocked.get(PRODUCTS_URL, body=original)

    with pytest.raises(OccasionError) as excinfo:
        client.get("products", {"merchant_id": "m1Qa9"}, private=True)

    assert type(excinfo.value) is error_class
    assert str(excinfo.value) == message
    assert excinfo.value.__cause__ is original


def test_network_error_is_not_logged(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="django_occasion")
    mocked.get(PRODUCTS_URL, body=requests.ConnectionError("refused"))

    with pytest.raises(NetworkError):
        client.get("products")

    assert caplog.records == []


# -- debug logging ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, load_fixture("products-page-1.json")),
        (404, load_fixture("error-404.json")),
    ],
)
def test_request_logs_one_debug_line_without_query_or_secret(
    partner_client: OccasionClient,
    mocked: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: Any,
) -> None:
    caplog.set_level(logging.DEBUG, logger="django_occasion")
    mocked.get(PRODUCTS_URL, json=body, status=status)

    with contextlib.suppress(NotFound):
        partner_client.get("products", {"page[size]": 3}, private=True, collection=True)

    lines = debug_lines(caplog)
    assert len(lines) == 1
    match = DEBUG_LINE.match(lines[0])
    assert match is not None
    assert match.groups() == ("GET", PRODUCTS_PATH, str(status))
    for forbidden in ("?", "merchant_id", "page", SECRET, LOGIN, "Authorization"):
        assert forbidden not in caplog.text


def test_post_logs_debug_line(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="django_occasion")
    mocked.post(f"{API_URL}/orders/price", json=load_fixture("order-price.json"))

    client.post("orders/price", {"data": {"type": "orders"}})

    [line] = debug_lines(caplog)
    match = DEBUG_LINE.match(line)
    assert match is not None
    assert match.groups() == ("POST", "/api/v1/orders/price", "200")


def test_iter_pages_logs_one_debug_line_per_page(
    client: OccasionClient,
    mocked: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="django_occasion")
    add_pages(
        mocked,
        (PAGE_1_QUERY, served("products-page-1.json")),
        (PAGE_2_QUERY, served("products-page-2.json")),
    )

    list(client.iter_pages("products", PAGE_1_QUERY))

    lines = debug_lines(caplog)
    assert [DEBUG_LINE.match(line).groups() for line in lines] == [  # type: ignore[union-attr]
        ("GET", PRODUCTS_PATH, "200"),
        ("GET", PRODUCTS_PATH, "200"),
    ]


# -- paging -------------------------------------------------------------------


def test_iter_pages_follows_links_next_and_stops(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    add_pages(
        mocked,
        (PAGE_1_QUERY, served("products-page-1.json")),
        (PAGE_2_QUERY, served("products-page-2.json")),
    )

    documents = list(client.iter_pages("products", PAGE_1_QUERY))

    assert [[r.id for r in d.resources] for d in documents] == [
        ["p7Kd2x", "p9Rt4b", "4411"],
        ["p2Wm8c"],
    ]
    assert [call.request.url for call in mocked.calls] == [
        f"{PRODUCTS_URL}?include=merchant%2Cvenue&page%5Bnumber%5D=1&page%5Bsize%5D=3",
        PAGE_2_URL,
    ]


def test_iter_pages_single_page_without_next(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{API_URL}/venues", json=load_fixture("venue-with-location.json"))

    documents = list(client.iter_pages("venues"))

    assert len(documents) == 1
    assert len(mocked.calls) == 1


def test_iter_pages_is_lazy(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    add_pages(mocked, (PAGE_1_QUERY, served("products-page-1.json")))
    pages = client.iter_pages("products", PAGE_1_QUERY)

    first = next(pages)

    assert [r.id for r in first.resources] == ["p7Kd2x", "p9Rt4b", "4411"]
    assert len(mocked.calls) == 1


def test_iter_pages_next_repeating_a_page_raises(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    looping = served("products-page-2.json")
    looping["links"]["next"] = PAGE_2_URL
    add_pages(
        mocked,
        (PAGE_1_QUERY, served("products-page-1.json")),
        (PAGE_2_QUERY, looping),
    )
    documents: list[Document] = []

    with pytest.raises(PagingError) as excinfo:
        documents.extend(client.iter_pages("products", PAGE_1_QUERY))

    assert str(excinfo.value) == (
        "GET /api/v1/products: links.next repeats a page already read"
    )
    assert len(documents) == 2
    assert len(mocked.calls) == 2


def test_iter_pages_next_pointing_at_first_page_raises(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    add_pages(mocked, ({"page[number]": "1"}, page(1, next_number=1)))
    documents: list[Document] = []

    with pytest.raises(PagingError):
        documents.extend(client.iter_pages("products", {"page[number]": 1}))

    assert len(documents) == 1
    assert len(mocked.calls) == 1


def test_iter_pages_past_max_pages_raises(
    make_client: ClientFactory, mocked: responses.RequestsMock
) -> None:
    client = make_client(max_pages=3)
    add_pages(
        mocked,
        ({}, page(1, next_number=2)),
        ({"page[number]": "2"}, page(2, next_number=3)),
        ({"page[number]": "3"}, page(3, next_number=4)),
    )
    documents: list[Document] = []

    with pytest.raises(PagingError) as excinfo:
        documents.extend(client.iter_pages("products"))

    assert str(excinfo.value) == "GET /api/v1/products went past 3 pages"
    assert [d.resources[0].id for d in documents] == ["p1", "p2", "p3"]
    assert len(mocked.calls) == 3


def test_iter_pages_exactly_max_pages_is_fine(
    make_client: ClientFactory, mocked: responses.RequestsMock
) -> None:
    client = make_client(max_pages=2)
    add_pages(
        mocked,
        (PAGE_1_QUERY, served("products-page-1.json")),
        (PAGE_2_QUERY, served("products-page-2.json")),
    )

    documents = list(client.iter_pages("products", PAGE_1_QUERY))

    assert len(documents) == 2


def test_iter_pages_error_on_later_page_propagates(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(
        PRODUCTS_URL,
        json=served("products-page-1.json"),
        match=[matchers.query_param_matcher(PAGE_1_QUERY)],
    )
    mocked.get(
        PRODUCTS_URL,
        json=error_body(503, "Maintenance."),
        status=503,
        match=[matchers.query_param_matcher(PAGE_2_QUERY)],
    )
    documents: list[Document] = []

    with pytest.raises(UpstreamUnavailable):
        documents.extend(client.iter_pages("products", PAGE_1_QUERY))

    assert len(documents) == 1


# -- partner scope ------------------------------------------------------------


def test_partner_collection_get_sends_merchant_id(
    partner_client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, json=load_fixture("products-page-1.json"))

    partner_client.get("products", {"page[size]": 3}, collection=True)

    assert query(mocked.calls[0].request) == {
        "page[size]": ["3"],
        "merchant_id": ["m1Qa9"],
    }


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("products/p7Kd2x", None),
        ("products/p7Kd2x/redeemables", {"filter[code]": "WARMHANDS"}),
        ("venues/v3Lk0", {"include": "country,state"}),
    ],
)
def test_partner_single_record_get_sends_no_merchant_id(
    partner_client: OccasionClient,
    mocked: responses.RequestsMock,
    path: str,
    params: dict[str, str] | None,
) -> None:
    mocked.get(f"{API_URL}/{path}", json=load_fixture("venue-with-location.json"))

    partner_client.get(path, params)

    assert "merchant_id" not in query(mocked.calls[0].request)


def test_partner_collection_keeps_explicit_merchant_id(
    partner_client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, json=load_fixture("products-page-1.json"))

    partner_client.get("products", {"merchant_id": "other"}, collection=True)

    assert query(mocked.calls[0].request) == {"merchant_id": ["other"]}


def test_partner_iter_pages_scopes_first_request(
    partner_client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    page_1_scoped = {**PAGE_1_QUERY, "merchant_id": "m1Qa9"}
    page_2_scoped = {**PAGE_2_QUERY, "merchant_id": "m1Qa9"}
    first = served("products-page-1.json")
    first["links"]["next"] = f"{PAGE_2_URL}&merchant_id=m1Qa9"
    add_pages(
        mocked,
        (page_1_scoped, first),
        (page_2_scoped, served("products-page-2.json")),
    )

    documents = list(partner_client.iter_pages("products", PAGE_1_QUERY))

    assert len(documents) == 2
    # The next link already holds the whole query: nothing is added twice.
    assert [query(call.request)["merchant_id"] for call in mocked.calls] == [
        ["m1Qa9"],
        ["m1Qa9"],
    ]


def test_partner_post_sends_no_merchant_id(
    partner_client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{API_URL}/orders/price", json=load_fixture("order-price.json"))

    partner_client.post("orders/price", {"data": {"type": "orders"}})

    assert query(mocked.calls[0].request) == {}


def test_merchant_key_collection_sends_no_merchant_id(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, json=load_fixture("products-page-2.json"))

    client.get("products", collection=True)
    list(client.iter_pages("products"))

    assert [query(call.request) for call in mocked.calls] == [{}, {}]


# -- retries: BudgetedRetry and make_retry ------------------------------------


def answer(status: int, headers: Mapping[str, str] | None = None) -> HTTPResponse:
    return HTTPResponse(status=status, headers=dict(headers or {}))


def test_make_retry_counts_every_kind_of_failure() -> None:
    retry = make_retry(3, 10.0)

    assert isinstance(retry, BudgetedRetry)
    assert (retry.total, retry.connect, retry.read, retry.status, retry.other) == (
        3,
        3,
        3,
        3,
        0,
    )
    assert retry.allowed_methods == frozenset({"GET", "HEAD"})
    assert retry.status_forcelist == RETRY_STATUSES == frozenset({429, 502, 503, 504})
    assert retry.raise_on_status is False
    assert retry.respect_retry_after_header is True
    assert retry.budget == 10.0
    assert retry.deadline is None


@pytest.mark.parametrize(
    ("method", "status", "retried"),
    [
        ("GET", 429, True),
        ("GET", 502, True),
        ("GET", 503, True),
        ("GET", 504, True),
        ("HEAD", 503, True),
        ("GET", 500, False),
        ("GET", 404, False),
        ("GET", 200, False),
        ("POST", 503, False),
        ("POST", 429, False),
    ],
)
def test_make_retry_retries_reads_on_temporary_statuses(
    method: str, status: int, retried: bool
) -> None:
    retry = make_retry(3, 10.0)

    is_retry = retry.is_retry(method, status)

    assert is_retry is retried


def test_make_retry_never_retries_post_read_error() -> None:
    retry = make_retry(3, 10.0)
    error = ReadTimeoutError(None, "/api/v1/orders", "Read timed out.")  # type: ignore[arg-type]

    with pytest.raises(ReadTimeoutError):
        retry.increment("POST", "/api/v1/orders", error=error)


def test_budgeted_retry_within_budget_returns_next_retry() -> None:
    retry = make_retry(3, 10.0)
    before = time.monotonic()

    following = retry.increment(
        "GET", "/api/v1/products", response=answer(429, {"Retry-After": "5"})
    )

    after = time.monotonic()
    assert isinstance(following, BudgetedRetry)
    assert following.total == 2
    assert following.budget == 10.0
    assert following.deadline is not None
    assert before + 10.0 <= following.deadline <= after + 10.0


@pytest.mark.parametrize("retry_after", ["11", "3600"])
def test_budgeted_retry_gives_up_when_retry_after_passes_budget(
    retry_after: str,
) -> None:
    retry = make_retry(3, 10.0)

    with pytest.raises(MaxRetryError):
        retry.increment(
            "GET",
            "/api/v1/products",
            response=answer(429, {"Retry-After": retry_after}),
        )


def test_budgeted_retry_gives_up_on_retry_after_date_past_budget() -> None:
    retry = make_retry(3, 10.0)
    when = email.utils.formatdate(time.time() + 3600, usegmt=True)

    with pytest.raises(MaxRetryError):
        retry.increment(
            "GET", "/api/v1/products", response=answer(503, {"Retry-After": when})
        )


def test_budgeted_retry_ignores_retry_after_when_told() -> None:
    retry = make_retry(3, 10.0).new(respect_retry_after_header=False)

    following = retry.increment(
        "GET", "/api/v1/products", response=answer(503, {"Retry-After": "3600"})
    )

    assert following.total == 2


def test_budgeted_retry_gives_up_when_backoff_passes_budget() -> None:
    retry = make_retry(5, 0.1)
    # The first retry goes at once; the second would wait 0.25 * 2 = 0.5 s.
    second = retry.increment("GET", "/api/v1/products", response=answer(503))

    with pytest.raises(MaxRetryError):
        second.increment("GET", "/api/v1/products", response=answer(503))

    assert second.get_backoff_time() == 0


def test_budgeted_retry_deadline_carries_over() -> None:
    retry = make_retry(3, 10.0)
    first = retry.increment("GET", "/api/v1/products", response=answer(503))

    second = first.increment("GET", "/api/v1/products", response=answer(503))

    assert second.deadline == first.deadline
    assert second.budget == first.budget
    assert first.new().deadline == first.deadline


def test_budgeted_retry_past_deadline_raises_with_reason() -> None:
    retry = make_retry(3, 10.0).new(deadline=time.monotonic() - 1)
    error = NewConnectionError(None, "refused")  # type: ignore[arg-type]

    with pytest.raises(MaxRetryError) as excinfo:
        retry.increment("GET", "/api/v1/products", error=error)

    assert excinfo.value.reason is error


def test_budgeted_retry_out_of_attempts_raises() -> None:
    retry = make_retry(0, 10.0)

    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/api/v1/products", response=answer(503))


# ``responses`` replays urllib3's status retries without sleeping, which makes
# the policy visible end to end without a server.


def test_client_retries_temporary_status_then_succeeds(
    make_client: ClientFactory, mocked: responses.RequestsMock
) -> None:
    client = make_client(max_retries=2)
    mocked.get(PRODUCTS_URL, json=error_body(503, "Maintenance."), status=503)
    mocked.get(PRODUCTS_URL, json=load_fixture("products-page-2.json"))

    document = client.get("products")

    assert [r.id for r in document.resources] == ["p2Wm8c"]
    assert [call.response.status_code for call in mocked.calls] == [503, 200]  # type: ignore[union-attr]


def test_client_returns_rate_limit_at_once_when_retry_after_passes_budget(
    make_client: ClientFactory, mocked: responses.RequestsMock
) -> None:
    client = make_client(max_retries=3, retry_budget=10.0)
    mocked.get(
        PRODUCTS_URL,
        json=load_fixture("error-429.json"),
        status=429,
        headers={"Retry-After": "3600"},
    )

    with pytest.raises(RateLimited) as excinfo:
        client.get("products")

    assert excinfo.value.retry_after == 3600
    assert len(mocked.calls) == 1


def test_client_does_not_retry_post(
    make_client: ClientFactory, mocked: responses.RequestsMock
) -> None:
    client = make_client(max_retries=3)
    mocked.post(f"{API_URL}/orders", json=error_body(503, "Maintenance."), status=503)

    with pytest.raises(UpstreamUnavailable):
        client.post("orders", {"data": {"type": "orders"}})

    assert len(mocked.calls) == 1


def test_iter_pages_keeps_keys_on_the_configured_host(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    add_pages(
        mocked,
        (PAGE_1_QUERY, load_fixture("products-page-1.json")),
        (PAGE_2_QUERY, served("products-page-2.json")),
    )

    documents = list(client.iter_pages("products", PAGE_1_QUERY))

    assert len(documents) == 2
    assert [urlsplit(call.request.url or "").netloc for call in mocked.calls] == [
        "occasion.test",
        "occasion.test",
    ]


def test_partner_iter_pages_adds_scope_a_next_link_dropped(
    partner_client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    add_pages(
        mocked,
        ({**PAGE_1_QUERY, "merchant_id": "m1Qa9"}, served("products-page-1.json")),
        ({**PAGE_2_QUERY, "merchant_id": "m1Qa9"}, served("products-page-2.json")),
    )

    documents = list(partner_client.iter_pages("products", PAGE_1_QUERY))

    assert len(documents) == 2
    assert [query(call.request)["merchant_id"] for call in mocked.calls] == [
        ["m1Qa9"],
        ["m1Qa9"],
    ]


def test_injected_session_gets_the_app_headers(make_client: ClientFactory) -> None:
    adapter = RecordingAdapter({"data": None})
    session = requests.Session()
    session.mount(API_URL, adapter)
    client = make_client(session=session)

    client.get("products")

    headers = adapter.sent[0][0].headers
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Accept"] == "application/vnd.api+json, application/json"


def test_client_unreadable_retry_after_still_raises_rate_limited(
    make_client: ClientFactory, mocked: responses.RequestsMock
) -> None:
    client = make_client(max_retries=1)
    for _ in range(2):
        mocked.get(
            PRODUCTS_URL,
            json=load_fixture("error-429.json"),
            status=429,
            headers={"Retry-After": "soon"},
        )

    with pytest.raises(RateLimited) as excinfo:
        client.get("products")

    assert excinfo.value.retry_after is None
    assert len(mocked.calls) == 2


def test_absurdly_deep_json_is_a_malformed_answer(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(PRODUCTS_URL, body="[" * 100_000 + "]" * 100_000)

    with pytest.raises(MalformedResponse, match="not JSON"):
        client.get("products")


def test_secret_stays_out_of_django_error_reports(
    client: OccasionClient, mocked: responses.RequestsMock
) -> None:
    from django.views.debug import ExceptionReporter

    mocked.post(f"{API_URL}/orders/price", body=ValueError("boom"))
    try:
        client.post("orders/price", {"data": {"type": "orders"}})
    except ValueError as exc:
        reporter = ExceptionReporter(None, type(exc), exc, exc.__traceback__)
        report = reporter.get_traceback_text()
    else:  # pragma: no cover - the mock always raises
        pytest.fail("the request did not fail")

    assert SECRET not in report
