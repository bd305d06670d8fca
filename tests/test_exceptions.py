from __future__ import annotations

from typing import Any

import pytest

from django_occasion.exceptions import (
    APIError,
    BadRequest,
    Conflict,
    ErrorDetail,
    Forbidden,
    InvalidDocument,
    InvalidQuery,
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
    error_class_for_status,
)
from tests.conftest import load_fixture


def errors_from(fixture: str) -> list[ErrorDetail]:
    return [ErrorDetail.from_json(item) for item in load_fixture(fixture)["errors"]]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequest),
        (401, NotAuthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (415, UnsupportedMediaType),
        (422, InvalidDocument),
        (429, RateLimited),
        (500, UpstreamUnavailable),
        (502, UpstreamUnavailable),
        (503, UpstreamUnavailable),
        (418, APIError),
    ],
)
def test_error_class_for_status_maps_each_status(
    status: int, expected: type[APIError]
) -> None:
    error_class = error_class_for_status(status)

    assert error_class is expected


@pytest.mark.parametrize(
    ("error_class", "parent"),
    [
        (NetworkError, OccasionError),
        (UpstreamTimeout, NetworkError),
        (APIError, OccasionError),
        (BadRequest, APIError),
        (NotAuthorized, APIError),
        (Forbidden, APIError),
        (NotFound, APIError),
        (Conflict, APIError),
        (UnsupportedMediaType, APIError),
        (InvalidDocument, APIError),
        (RateLimited, APIError),
        (UpstreamUnavailable, APIError),
        (MalformedResponse, OccasionError),
        (PagingError, MalformedResponse),
        (InvalidQuery, OccasionError),
        (InvalidQuery, ValueError),
    ],
)
def test_exception_tree_has_documented_parent(
    error_class: type[Exception], parent: type[Exception]
) -> None:
    assert issubclass(error_class, parent)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {
                "status": "404",
                "source": {"parameter": "id"},
                "code": "not_found",
                "detail": "No product has id: zz999",
            },
            ErrorDetail(
                status="404",
                code="not_found",
                detail="No product has id: zz999",
                parameter="id",
            ),
        ),
        (
            {"status": 422, "source": {"pointer": "/data/attributes/zip"}},
            ErrorDetail(status="422", pointer="/data/attributes/zip"),
        ),
        ({"title": "Bad thing"}, ErrorDetail(detail="Bad thing")),
        (
            {"detail": "Used", "title": "Ignored when detail is set"},
            ErrorDetail(detail="Used"),
        ),
        ({"source": "not an object"}, ErrorDetail()),
        ({}, ErrorDetail()),
        ("plain text error", ErrorDetail(detail="plain text error")),
        ("x" * 300, ErrorDetail(detail="x" * 200)),
        (None, ErrorDetail(detail="None")),
    ],
)
def test_error_detail_from_json_reads_members(data: Any, expected: ErrorDetail) -> None:
    detail = ErrorDetail.from_json(data)

    assert detail == expected


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        (
            ErrorDetail(pointer="/data/relationships/customer/data/attributes/email"),
            "email",
        ),
        (ErrorDetail(pointer="/data/attributes/zip/"), "zip"),
        (ErrorDetail(pointer="/data/attributes/zip", parameter="id"), "zip"),
        (ErrorDetail(parameter="filter/code"), "filter/code"),
        (ErrorDetail(detail="no source"), None),
    ],
)
def test_error_detail_field_names_the_attribute(
    detail: ErrorDetail, expected: str | None
) -> None:
    assert detail.field == expected


def test_invalid_document_field_errors_from_fixture() -> None:
    error = InvalidDocument(status=422, errors=errors_from("error-422.json"))

    field_errors = error.field_errors

    assert field_errors == {
        "email": ["Email can't be blank."],
        "time_slots": ["Choose a time slot."],
    }


def test_invalid_document_field_errors_fall_back_to_all_and_code() -> None:
    error = InvalidDocument(
        status=422,
        errors=[
            ErrorDetail(code="blank"),
            ErrorDetail(),
            ErrorDetail(pointer="/data/attributes/zip", detail="Zip is wrong."),
            ErrorDetail(pointer="/data/attributes/zip", detail="Zip is short."),
        ],
    )

    field_errors = error.field_errors

    assert field_errors == {
        "__all__": ["blank", "invalid"],
        "zip": ["Zip is wrong.", "Zip is short."],
    }


def test_api_error_message_joins_details() -> None:
    errors = errors_from("error-422.json")

    error = InvalidDocument(status=422, errors=errors, method="POST", path="/orders")

    assert str(error) == (
        "POST /orders answered 422: Email can't be blank.; Choose a time slot."
    )
    assert error.status == 422
    assert error.errors == tuple(errors)
    assert error.method == "POST"
    assert error.path == "/orders"


@pytest.mark.parametrize(
    ("error_class", "status", "default"),
    [
        (APIError, 418, "the Occasion API answered with an error"),
        (BadRequest, 400, "bad request"),
        (NotAuthorized, 401, "the API keys were rejected"),
        (Forbidden, 403, "that action is forbidden"),
        (NotFound, 404, "no such record"),
        (Conflict, 409, "the record's state does not allow this"),
        (UnsupportedMediaType, 415, "the request body was not JSON"),
        (InvalidDocument, 422, "the document was invalid"),
        (RateLimited, 429, "too many requests"),
        (UpstreamUnavailable, 503, "the Occasion API is unavailable; try again later"),
    ],
)
def test_api_error_message_defaults_without_details(
    error_class: type[APIError], status: int, default: str
) -> None:
    errors = [ErrorDetail(code="no_detail")]

    error = error_class(status=status, errors=errors, path="/products")

    assert str(error) == f"GET /products answered {status}: {default}"


def test_api_error_message_given_is_kept() -> None:
    error = NotFound("custom message", status=404, errors=errors_from("error-404.json"))

    assert str(error) == "custom message"
    assert error.errors[0].parameter == "id"


def test_api_error_errors_default_to_empty() -> None:
    error = APIError(status=500, path="/venues")

    assert error.errors == ()
    assert (
        str(error)
        == "GET /venues answered 500: the Occasion API answered with an error"
    )


def test_rate_limited_keeps_retry_after() -> None:
    errors = errors_from("error-429.json")

    error = RateLimited(status=429, errors=errors, retry_after=120.0, path="/venues")

    assert error.retry_after == 120.0
    assert (
        str(error)
        == "GET /venues answered 429: Request limit reached; try again later."
    )


def test_rate_limited_retry_after_defaults_to_none() -> None:
    error = RateLimited(status=429)

    assert error.retry_after is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "not a document"),
        ({"excerpt": "<html>"}, "not a document (excerpt: '<html>')"),
        ({"status": 200, "excerpt": ""}, "not a document"),
    ],
)
def test_malformed_response_message_shows_excerpt(
    kwargs: dict[str, Any], expected: str
) -> None:
    error = MalformedResponse("not a document", **kwargs)

    assert str(error) == expected
    assert error.status == kwargs.get("status")
    assert error.excerpt == kwargs.get("excerpt", "")
