"""Everything that can go wrong while talking to Occasion.

Every error the app raises derives from :class:`OccasionError`; errors of
``requests`` are translated at the client boundary (``raise ... from``), so
callers never need to know about the HTTP library::

    OccasionError
    ├── NetworkError                 could not reach the API
    │   └── UpstreamTimeout          connected, but no answer in time
    ├── APIError                     the API answered with an error status
    │   ├── BadRequest               400
    │   ├── NotAuthorized            401: wrong keys, or the secret is missing
    │   ├── Forbidden                403
    │   ├── NotFound                 404: no such record or code
    │   ├── Conflict                 409: e.g. a used-up gift card
    │   ├── UnsupportedMediaType     415
    │   ├── InvalidDocument          422: one entry per bad field
    │   ├── RateLimited              429
    │   └── UpstreamUnavailable      5xx: server error or maintenance
    ├── MalformedResponse            an answer that is not a JSON:API document
    │   └── PagingError              ``links.next`` loops or never ends
    ├── InvalidQuery                 a query refused before any request
    ├── CacheTooSmall                the cache would cull the listing
    └── UpstreamBackoff              a recent failure; not asking again yet

Messages never contain a credential: they are built from the method, the
path (without query string) and what the API said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class OccasionError(Exception):
    """The root of every error raised by django-occasion."""


class NetworkError(OccasionError):
    """The API could not be reached (DNS, refused or reset connection)."""


class UpstreamTimeout(NetworkError):
    """The API did not connect or answer within the configured timeouts."""


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of a JSON:API ``errors`` list."""

    status: str | None = None
    code: str | None = None
    detail: str | None = None
    pointer: str | None = None
    parameter: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> ErrorDetail:
        if not isinstance(data, Mapping):
            return cls(detail=str(data)[:200])
        source = data.get("source")
        source = source if isinstance(source, Mapping) else {}

        def text(value: Any) -> str | None:
            return None if value is None else str(value)

        return cls(
            status=text(data.get("status")),
            code=text(data.get("code")),
            detail=text(data.get("detail") or data.get("title")),
            pointer=text(source.get("pointer")),
            parameter=text(source.get("parameter")),
        )

    @property
    def field(self) -> str | None:
        """The attribute a 422 error is about: the pointer's last part."""
        if self.pointer:
            return self.pointer.rstrip("/").rsplit("/", 1)[-1]
        return self.parameter


class APIError(OccasionError):
    """The API answered with an error status.

    ``status`` is the HTTP status and ``errors`` the API's ``errors`` list as
    :class:`ErrorDetail` objects (empty when the body held none).
    """

    default_message = "the Occasion API answered with an error"

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int,
        errors: Sequence[ErrorDetail] = (),
        method: str = "GET",
        path: str = "",
    ) -> None:
        self.status = status
        self.errors = tuple(errors)
        self.method = method
        self.path = path
        if message is None:
            details = "; ".join(e.detail for e in self.errors if e.detail)
            message = f"{method} {path} answered {status}: " + (
                details or self.default_message
            )
        super().__init__(message)


class BadRequest(APIError):
    default_message = "bad request"


class NotAuthorized(APIError):
    default_message = "the API keys were rejected"


class Forbidden(APIError):
    default_message = "that action is forbidden"


class NotFound(APIError):
    default_message = "no such record"


class Conflict(APIError):
    default_message = "the record's state does not allow this"


class UnsupportedMediaType(APIError):
    default_message = "the request body was not JSON"


class InvalidDocument(APIError):
    default_message = "the document was invalid"

    @property
    def field_errors(self) -> dict[str, list[str]]:
        """Error messages by field name, as a form would show them."""
        fields: dict[str, list[str]] = {}
        for error in self.errors:
            fields.setdefault(error.field or "__all__", []).append(
                error.detail or error.code or "invalid"
            )
        return fields


class RateLimited(APIError):
    default_message = "too many requests"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class UpstreamUnavailable(APIError):
    default_message = "the Occasion API is unavailable; try again later"


class MalformedResponse(OccasionError):
    """An answer that could not be read as a JSON:API document."""

    def __init__(
        self, message: str, *, status: int | None = None, excerpt: str = ""
    ) -> None:
        self.status = status
        self.excerpt = excerpt
        if excerpt:
            message = f"{message} (excerpt: {excerpt!r})"
        super().__init__(message)


class PagingError(MalformedResponse):
    """Following ``links.next`` repeated a page or ran past the page limit."""


class InvalidQuery(OccasionError, ValueError):
    """A filter, sort, field or include that the app refuses to send."""


class CacheTooSmall(OccasionError):
    """The configured cache keeps too few entries to hold the listing."""


class UpstreamBackoff(OccasionError):
    """Occasion failed moments ago and nothing servable is cached.

    The service layer waits ``OCCASION_FAILURE_BACKOFF`` seconds after a
    failure before it asks again, so that a down API costs one slow request
    per window instead of one per page view.
    """


STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: NotAuthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    415: UnsupportedMediaType,
    422: InvalidDocument,
    429: RateLimited,
}


def error_class_for_status(status: int) -> type[APIError]:
    if status >= 500:
        return UpstreamUnavailable
    return STATUS_ERRORS.get(status, APIError)
