"""The HTTP client: the one place that speaks to the Occasion API.

It knows HTTP, authentication, retries and the JSON:API reader, and nothing
about caching: :mod:`django_occasion.services` is its only caller in the app.
Every ``requests`` failure is translated here into the app's own exceptions.

The ``requests.Session`` is the seam for everything that is not the real API:
the demo catalogue, tests and users' own fakes mount an adapter on it
(``session.mount(url, adapter)``) and the rest of the code runs unchanged.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import logging
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

from . import __version__
from .exceptions import (
    ErrorDetail,
    MalformedResponse,
    NetworkError,
    PagingError,
    RateLimited,
    UpstreamTimeout,
    error_class_for_status,
)
from .jsonapi import Document, parse_document

logger = logging.getLogger(__name__)

USER_AGENT = f"django-occasion/{__version__} python-requests/{requests.__version__}"
# Sent with every request rather than set on the session, so that a session
# passed in (the demo's, a test's) sends them too.
HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "application/vnd.api+json, application/json",
    "Content-Type": "application/json",
}
RETRY_STATUSES = frozenset({429, 502, 503, 504})
EXCERPT_LENGTH = 120


class BudgetedRetry(Retry):
    """urllib3's ``Retry``, bounded by a total time budget per request.

    ``Retry`` alone counts attempts; a ``Retry-After: 3600`` or a string of
    slow failures would still hold a web request for minutes. The budget
    starts at the first failure and no retry is made whose wait would end
    past it: the last answer (say, the 429) is then returned to the caller.
    """

    def __init__(self, *args: Any, budget: float = 10.0, **kwargs: Any) -> None:
        self.budget = budget
        self.deadline: float | None = kwargs.pop("deadline", None)
        # No ``retry_after_max`` here: urllib3 would clip a long Retry-After
        # to it, and the budget check below would then wait out the clipped
        # value instead of giving up at once.
        super().__init__(*args, **kwargs)

    def get_retry_after(self, response: Any) -> float | None:
        # A Retry-After that is neither seconds nor a date must not turn a
        # rate limit into a network error: it is ignored like a missing one.
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None

    def new(self, **kwargs: Any) -> BudgetedRetry:
        kwargs.setdefault("budget", self.budget)
        kwargs.setdefault("deadline", self.deadline)
        return super().new(**kwargs)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> BudgetedRetry:
        retry: BudgetedRetry = super().increment(
            method, url, response, error, _pool, _stacktrace
        )
        now = time.monotonic()
        if retry.deadline is None:
            retry.deadline = now + self.budget
        wait = retry.get_backoff_time()
        if response is not None and self.respect_retry_after_header:
            retry_after = retry.get_retry_after(response)
            if retry_after is not None:
                wait = retry_after
        if now + wait > retry.deadline:
            raise MaxRetryError(_pool, url or "", reason=error)
        return retry


def make_retry(max_retries: int, budget: float) -> BudgetedRetry:
    """Retries for reads only: a POST that timed out may have created an order."""
    return BudgetedRetry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        other=0,
        allowed_methods=frozenset({"GET", "HEAD"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.25,
        backoff_max=4,
        raise_on_status=False,
        respect_retry_after_header=True,
        budget=budget,
    )


HTML_TAG = re.compile(r"<[^>]*>")


def _excerpt(text: str) -> str:
    # Error pages are often HTML: their text says more in a log line than
    # their markup does.
    return " ".join(html.unescape(HTML_TAG.sub(" ", text)).split())[:EXCERPT_LENGTH]


def _retry_reason(exc: requests.RequestException) -> BaseException | None:
    """The urllib3 error behind a ``MaxRetryError`` that requests wrapped."""
    cause = exc.args[0] if exc.args else None
    return cause.reason if isinstance(cause, MaxRetryError) else None


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return Retry().parse_retry_after(value)
    except Exception:
        return None


class OccasionClient:
    """A client for one Occasion account (or partner key) and base URL.

    Public calls send the API login alone; only calls made with
    ``private=True`` add the secret, so answers meant for anonymous visitors
    can never carry private fields.
    """

    def __init__(
        self,
        base_url: str,
        login: str,
        secret: str = "",
        *,
        merchant_id: str | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        max_retries: int = 3,
        retry_budget: float = 10.0,
        max_pages: int = 1000,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self._login = login
        self._secret = secret
        self.merchant_id = merchant_id
        self.timeout = (connect_timeout, read_timeout)
        self.max_pages = max_pages
        self.session = session or self._new_session(max_retries, retry_budget)

    def __repr__(self) -> str:
        # The login is no secret on its own, but repr() ends up in logs and
        # error pages: show neither key.
        return f"<OccasionClient {self.base_url} merchant_id={self.merchant_id!r}>"

    @staticmethod
    def _new_session(max_retries: int, retry_budget: float) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=make_retry(max_retries, retry_budget))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()

    def url(self, path: str) -> str:
        """An absolute URL for a path relative to the base URL (or a URL)."""
        return urljoin(self.base_url, path.lstrip("/"))

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        private: bool = False,
        collection: bool = False,
    ) -> Document:
        """GET one document. ``collection=True`` adds the partner scope."""
        return self.request(
            "GET", path, params=self._scoped(params, collection), private=private
        )

    def post(
        self, path: str, document: Mapping[str, Any], *, private: bool = True
    ) -> Document:
        """POST a JSON:API document; private (with the secret) unless told."""
        return self.request("POST", path, json=document, private=private)

    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        private: bool = False,
    ) -> Iterator[Document]:
        """Every page of a collection, following ``links.next`` to its end."""
        url: str | None = self.url(path)
        request_params: Mapping[str, Any] | None = self._scoped(params, True)
        seen: set[str] = set()
        while url is not None:
            if len(seen) >= self.max_pages:
                raise PagingError(
                    f"GET {urlsplit(url).path} went past {self.max_pages} pages"
                )
            document = self.request("GET", url, params=request_params, private=private)
            seen.add(self._page_key(url, request_params))
            yield document
            url = self._next_url(document.next_url)
            if url is not None:
                # A next link already holds the whole query.
                request_params = None
                if self._page_key(url, None) in seen:
                    raise PagingError(
                        f"GET {urlsplit(url).path}: links.next repeats a page "
                        "already read"
                    )

    def _next_url(self, link: str | None) -> str | None:
        """``links.next``, moved onto the configured base URL's host.

        The API may name another of its hosts in links (answers from
        ``occ.sn`` link to ``app.getoccasion.com``); the keys go only to the
        host the settings name. A partner scope the link dropped is added.
        """
        if link is None:
            return None
        base = urlsplit(self.base_url)
        parts = urlsplit(urljoin(self.base_url, link))
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            parts = parts._replace(scheme=base.scheme, netloc=base.netloc)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if self.merchant_id and not any(name == "merchant_id" for name, _ in query):
            query.append(("merchant_id", self.merchant_id))
            parts = parts._replace(query=urlencode(query))
        return urlunsplit(parts)

    def _page_key(self, url: str, params: Mapping[str, Any] | None) -> str:
        return requests.Request("GET", url, params=params).prepare().url or url

    def _scoped(
        self, params: Mapping[str, Any] | None, collection: bool
    ) -> dict[str, Any]:
        scoped = dict(params or {})
        if collection and self.merchant_id:
            scoped.setdefault("merchant_id", self.merchant_id)
        return scoped

    # The secret is in ``auth``: keep it out of Django's error reports.
    @method_decorator(sensitive_variables("auth"))
    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        private: bool = False,
    ) -> Document:
        """One request, read as a JSON:API document.

        Raises the :mod:`~django_occasion.exceptions` error that fits any
        failure; GETs are retried as the session's adapter allows.
        """
        url = self.url(path_or_url)
        path = urlsplit(url).path
        auth = (self._login, self._secret if private else "")
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                auth=auth,
                headers=HEADERS,
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise UpstreamTimeout(
                f"{method} {path}: the Occasion API did not answer in time"
            ) from exc
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise MalformedResponse(
                f"{method} {path}: the answer was cut short or garbled"
            ) from exc
        except requests.ConnectionError as exc:
            # Once read errors count as retries, urllib3 reports a read timeout
            # as MaxRetryError(reason=ReadTimeoutError), which requests raises
            # as a ConnectionError rather than a ReadTimeout. (A refused
            # connection is a NewConnectionError, which urllib3 derives from
            # its timeout error for compatibility.)
            reason = _retry_reason(exc)
            if isinstance(reason, Urllib3Timeout) and not isinstance(
                reason, NewConnectionError
            ):
                raise UpstreamTimeout(
                    f"{method} {path}: the Occasion API did not answer in time"
                ) from exc
            raise NetworkError(
                f"{method} {path}: could not reach the Occasion API "
                f"({type(reason or exc.__context__ or exc).__name__})"
            ) from exc
        except requests.RequestException as exc:
            raise NetworkError(
                f"{method} {path}: the request failed ({type(exc).__name__})"
            ) from exc
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.debug(
            "Occasion %s %s answered %s in %.0f ms",
            method,
            path,
            response.status_code,
            elapsed_ms,
        )
        return self._read(method, path, response)

    def _mask(self, text: str) -> str:
        # Proxies and debug pages may echo the request's headers back: mask
        # the secret, and the Authorization value that carries it, before
        # any text of an answer reaches a message or a log.
        if self._secret:
            credentials = f"{self._login}:{self._secret}".encode()
            for value in (base64.b64encode(credentials).decode(), self._secret):
                text = text.replace(value, "[masked]")
        return text

    def _excerpt(self, text: str) -> str:
        return _excerpt(self._mask(text))

    def _read(self, method: str, path: str, response: requests.Response) -> Document:
        status = response.status_code
        try:
            payload = response.json()
        except (ValueError, RecursionError):  # RecursionError: absurdly deep JSON
            payload = None
            body_excerpt = self._excerpt(response.text)
        else:
            body_excerpt = ""
        if status >= 400:
            raise self._error(method, path, response, payload, body_excerpt)
        if payload is None:
            raise MalformedResponse(
                f"{method} {path} answered {status} with a body that is not JSON",
                status=status,
                excerpt=body_excerpt,
            )
        try:
            return parse_document(payload)
        except MalformedResponse as exc:
            raise MalformedResponse(
                f"{method} {path} answered {status}: {exc.args[0]}",
                status=status,
                excerpt=self._excerpt(response.text),
            ) from exc

    def _error(
        self,
        method: str,
        path: str,
        response: requests.Response,
        payload: Any,
        body_excerpt: str,
    ) -> Exception:
        status = response.status_code
        raw_errors = payload.get("errors") if isinstance(payload, Mapping) else None
        errors = [
            dataclasses.replace(error, detail=self._mask(error.detail))
            if error.detail
            else error
            for error in map(ErrorDetail.from_json, raw_errors or [])
        ]
        if not errors and body_excerpt:
            errors = [ErrorDetail(status=str(status), detail=body_excerpt)]
        error_class = error_class_for_status(status)
        kwargs: dict[str, Any] = {
            "status": status,
            "errors": errors,
            "method": method,
            "path": path,
        }
        if error_class is RateLimited:
            kwargs["retry_after"] = _retry_after_seconds(
                response.headers.get("Retry-After")
            )
        return error_class(**kwargs)
