"""A ``requests`` transport adapter that answers like the Occasion API.

Mounted on a session (see :func:`django_occasion.demo.mount_demo`), it serves
the demo catalogue under :data:`~django_occasion.conf.DEMO_API_URL` with the
API's query interface, paging, errors and basic authentication, without any
network: the app's client, services and views run unchanged on top of it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from http import HTTPStatus
from io import BytesIO
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import requests
from django.templatetags.static import static
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ..conf import DEMO_API_URL
from ..domain import PRODUCT_STATUSES
from .catalogue import (
    Catalogue,
    Coupon,
    GiftCard,
    Identifier,
    Product,
    Record,
    TimeSlot,
    catalogue,
    quote,
    time_slots,
)

JSON_API = "application/vnd.api+json"
STATIC_PREFIX = "django_occasion/demo/"

PAGE_SIZE = 50
TIME_SLOTS_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100

#: Where each relationship leads, to check ``include`` paths before use.
RELATED_TYPES: dict[tuple[str, str], str] = {
    ("products", "merchant"): "merchants",
    ("products", "venue"): "venues",
    ("products", "attributes"): "attributes",
    ("attributes", "attribute_options"): "attribute_options",
    ("attributes", "field_type"): "field_types",
    ("venues", "country"): "countries",
    ("venues", "state"): "states",
    ("venues", "merchant"): "merchants",
    ("merchants", "currency"): "currencies",
    ("merchants", "business_type"): "business_types",
    ("time_slots", "product"): "products",
}


class Filter(NamedTuple):
    """How ``filter[NAME]`` is matched: against an attribute or the id of a
    relationship, and whether a comma list means "any of these"."""

    relationship: bool = False
    listed: bool = False


#: Titles and names are matched whole: they may hold commas themselves.
FILTERS: dict[str, dict[str, Filter]] = {
    "products": {
        "status": Filter(listed=True),
        "venue": Filter(relationship=True, listed=True),
        "title": Filter(),
    },
    "merchants": {"name": Filter()},
    "venues": {"name": Filter(), "city": Filter(), "zip": Filter(listed=True)},
    # Read by their endpoints; listed here so that others are refused.
    "time_slots": {"status": Filter(), "last": Filter()},
    "redeemables": {"code": Filter()},
}

SORTABLE: dict[str, frozenset[str]] = {
    "products": frozenset({"title", "status", "created_at", "updated_at"}),
    "merchants": frozenset({"name", "created_at", "updated_at"}),
    "venues": frozenset({"name", "city", "created_at", "updated_at"}),
}

#: Attributes written at answer time, absent from the stored records.
COMPUTED_FIELDS: dict[str, frozenset[str]] = {
    "products": frozenset({"first_time_slot_starts_at"}),
    "time_slots": frozenset(
        {"starts_at", "time_zone", "duration", "spots_available", "product"}
    ),
    "coupons": frozenset({"name", "code", "discount_fixed", "discount_percentage"}),
    "gift_cards": frozenset({"code", "initial_value", "value"}),
}

UNAUTHORIZED = {
    "status": "401",
    "code": "unauthorized",
    "detail": "The API credentials provided are not valid.",
}

MAINTENANCE_PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Down for maintenance</title></head>
<body>
<h1>We&rsquo;ll be right back</h1>
<p>Occasion is down for scheduled maintenance. Please try again shortly.</p>
</body>
</html>
"""


class DemoError(Exception):
    """An error answer: its status and the JSON:API ``errors`` list."""

    def __init__(
        self,
        status: int,
        errors: Sequence[Mapping[str, Any]],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.errors = list(errors)
        self.headers = dict(headers or {})


def error(
    status: int,
    code: str,
    detail: str,
    *,
    parameter: str | None = None,
    pointer: str | None = None,
) -> dict[str, Any]:
    """One entry of an ``errors`` list."""
    entry: dict[str, Any] = {"status": str(status), "code": code, "detail": detail}
    if parameter is not None:
        entry["source"] = {"parameter": parameter}
    elif pointer is not None:
        entry["source"] = {"pointer": pointer}
    return entry


def bad_parameter(parameter: str, detail: str) -> DemoError:
    return DemoError(400, [error(400, "invalid", detail, parameter=parameter)])


def decimal_text(amount: Decimal) -> str:
    """An amount as the API writes it: "90.0", "13.5", "6.31"."""
    whole, _, cents = f"{amount:f}".partition(".")
    return f"{whole}.{cents.rstrip('0') or '0'}"


def _static_url(path: str) -> str:
    return static(STATIC_PREFIX + path)


@dataclass
class Exchange:
    """One request being answered: its query, its rights and its clock."""

    base_url: str
    params: dict[str, str]
    private: bool
    now: datetime
    body: bytes
    content_type: str
    data: Catalogue

    def __post_init__(self) -> None:
        # A page shows the same few pictures many times; resolving each
        # once keeps ManifestStaticFilesStorage lookups off the hot path.
        self._static: dict[str, str] = {}
        self._fields: dict[str, frozenset[str]] = {}
        for key, value in self.params.items():
            if key.startswith("fields[") and key.endswith("]"):
                self._fields[key[7:-1]] = self._field_names(key, value)

    def _field_names(self, parameter: str, value: str) -> frozenset[str]:
        resource_type = parameter[7:-1]
        known = known_fields(resource_type)
        if not known:
            raise bad_parameter(parameter, f"{resource_type} is not a resource type.")
        names = frozenset(name for name in value.split(",") if name)
        unknown = sorted(names - known)
        if unknown:
            raise bad_parameter(
                parameter, f"{', '.join(unknown)} is not a field of {resource_type}."
            )
        return names

    # Reading the query.

    def integer(self, name: str, default: int, maximum: int | None = None) -> int:
        raw = self.params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1 or (maximum is not None and value > maximum):
            limit = f" and at most {maximum}" if maximum is not None else ""
            raise bad_parameter(name, f"{name} must be a whole number from 1{limit}.")
        return value

    def includes(self, primary_type: str) -> list[tuple[str, ...]]:
        paths = []
        for path in filter(None, self.params.get("include", "").split(",")):
            names = tuple(path.split("."))
            resource_type = primary_type
            for name in names:
                found = RELATED_TYPES.get((resource_type, name))
                if found is None:
                    raise bad_parameter(
                        "include", f"{path} is not a relationship of {primary_type}."
                    )
                resource_type = found
            paths.append(names)
        return paths

    def filter_values(self, resource_type: str) -> dict[str, set[str]]:
        """The ``filter[...]`` values, refusing filters the type lacks."""
        allowed = FILTERS[resource_type]
        found = {}
        for key, value in self.params.items():
            if key.startswith("filter[") and key.endswith("]"):
                name = key[7:-1]
                if name not in allowed:
                    raise bad_parameter(key, f"{name} is not a filter here.")
                listed = allowed[name].listed
                found[name] = set(value.split(",")) if listed else {value}
        return found

    def filter(self, resource_type: str, records: Sequence[Record]) -> list[Record]:
        kept = list(records)
        for name, values in self.filter_values(resource_type).items():
            if FILTERS[resource_type][name].relationship:
                kept = [r for r in kept if r.related_id(name) in values]
            else:
                kept = [r for r in kept if r.attributes.get(name) in values]
        return kept

    def sort(self, records: list[Record], resource_type: str) -> list[Record]:
        sortable = SORTABLE[resource_type]
        keys = []
        for part in filter(None, self.params.get("sort", "-created_at").split(",")):
            name = part.removeprefix("-")
            if name not in sortable:
                raise bad_parameter("sort", f"{name} is not a sort field.")
            keys.append((name, part.startswith("-")))
        # Sorting by the last key first, and stably, gives the comma list's
        # meaning; the id makes the order total, so pages never overlap.
        ordered = sorted(records, key=lambda record: record.id)
        for name, descending in reversed(keys):
            ordered.sort(
                key=lambda record: record.sort_values[name], reverse=descending
            )
        return ordered

    # Writing the answer.

    def link(self, path: str, replacing: Mapping[str, str]) -> str:
        query = [(k, v) for k, v in self.params.items() if k not in replacing]
        query.extend(replacing.items())
        return f"{self.base_url}/{path}?{urlencode(query)}"

    def static_url(self, path: str) -> str:
        url = self._static.get(path)
        if url is None:
            url = self._static[path] = _static_url(path)
        return url

    def resource(self, record: Record) -> dict[str, Any]:
        attributes = dict(record.attributes)
        if self.private:
            attributes.update(record.private_attributes)
        for name, image in record.images.items():
            url = self.static_url(image.path)
            attributes[name] = (
                {"url": url, "thumb": {"url": url}} if image.thumb else url
            )
        if record.type == "products":
            attributes["first_time_slot_starts_at"] = self.first_slot(record.id)
        relationships: dict[str, Any] = {
            name: {"data": {"type": related[0], "id": related[1]}}
            for name, related in record.to_one.items()
        }
        for name, many in record.to_many.items():
            relationships[name] = {"data": [{"type": t, "id": i} for t, i in many]}
        fields = self._fields.get(record.type)
        if fields is not None:
            attributes = {k: v for k, v in attributes.items() if k in fields}
            relationships = {k: v for k, v in relationships.items() if k in fields}
        resource: dict[str, Any] = {
            "type": record.type,
            "id": record.id,
            "attributes": attributes,
        }
        if relationships:
            resource["relationships"] = relationships
        if record.addressable:
            resource["links"] = {"self": f"{self.base_url}/{record.type}/{record.id}"}
        return resource

    def first_slot(self, product_id: str) -> str | None:
        for slot in time_slots(product_id, self.now.date()):
            if slot.starts_at > self.now:
                return slot.starts_at.isoformat(timespec="milliseconds")
        return None

    def included(
        self, primary: Sequence[Record], paths: Sequence[tuple[str, ...]]
    ) -> list[dict[str, Any]]:
        seen = {record.identifier for record in primary}
        found: list[Record] = []
        for path in paths:
            frontier: Sequence[Record] = primary
            for name in path:
                reached: dict[Identifier, Record] = {}
                for record in frontier:
                    for identifier in record.related(name):
                        reached[identifier] = self.data.records[identifier]
                for identifier, target in reached.items():
                    if identifier not in seen:
                        seen.add(identifier)
                        found.append(target)
                frontier = list(reached.values())
        return [self.resource(record) for record in found]

    def document(
        self,
        primary: Record | Sequence[Record],
        resource_type: str,
        **members: Any,
    ) -> dict[str, Any]:
        records = [primary] if isinstance(primary, Record) else list(primary)
        document: dict[str, Any] = {
            "data": (
                self.resource(primary)
                if isinstance(primary, Record)
                else [self.resource(record) for record in records]
            )
        }
        if "include" in self.params:
            paths = self.includes(resource_type)
            document["included"] = self.included(records, paths)
        document.update(members)
        return document


@functools.cache
def known_fields(resource_type: str) -> frozenset[str]:
    """Every attribute and relationship name a type's records may carry."""
    names: set[str] = set(COMPUTED_FIELDS.get(resource_type, ()))
    for record in catalogue().by_type.get(resource_type, ()):
        names.update(record.attributes, record.private_attributes)
        names.update(record.to_one, record.to_many, record.images)
    return frozenset(names)


Handler = Callable[["DemoAdapter", Exchange, list[str]], Any]


class DemoAdapter(BaseAdapter):
    """Answers requests with the demo catalogue, like the Occasion API.

    With ``outage=True`` every request gets a 503 maintenance page instead,
    to show how a site behaves while Occasion is down.
    """

    def __init__(self, outage: bool = False, *, base_url: str = DEMO_API_URL) -> None:
        super().__init__()
        self.outage = outage
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme, parts.netloc.lower())
        self._base_path = parts.path

    def __repr__(self) -> str:
        return f"<DemoAdapter {self.base_url} outage={self.outage}>"

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if self.outage:
            return self._response(
                request,
                503,
                MAINTENANCE_PAGE,
                "text/html; charset=utf-8",
                {"Retry-After": "600"},
            )
        try:
            status, payload = 200, self._answer(request)
            headers: dict[str, str] = {}
        except DemoError as exc:
            status, payload = exc.status, {"errors": exc.errors}
            headers = exc.headers
        body = json.dumps(payload, separators=(",", ":")).encode()
        return self._response(request, status, body, JSON_API, headers)

    def close(self) -> None:
        """Nothing to release: no connection was ever opened."""

    def _response(
        self,
        request: requests.PreparedRequest,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.reason = HTTPStatus(status).phrase
        response.headers = CaseInsensitiveDict(
            {
                "Content-Type": content_type,
                "Content-Length": str(len(body)),
                **(headers or {}),
            }
        )
        # ``raw`` is what a real adapter streams from; reading it fills
        # ``content`` the same way, for ``stream=True`` callers too.
        response.raw = BytesIO(body)
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def _answer(self, request: requests.PreparedRequest) -> Any:
        url = urlsplit(request.url or "")
        path = url.path
        inside = path == self._base_path or path.startswith(self._base_path + "/")
        if (url.scheme, url.netloc.lower()) != self._origin or not inside:
            raise _no_route(path)
        private = self._authenticate(request)
        segments = [unquote(s) for s in path[len(self._base_path) :].split("/") if s]
        handlers, captured = _route(segments)
        if handlers is None:
            raise _no_route(path)
        method = (request.method or "GET").upper()
        handler = handlers.get(method)
        if handler is None:
            allowed = ", ".join(sorted(handlers))
            raise DemoError(
                405,
                [
                    error(
                        405,
                        "method_not_allowed",
                        f"{method} is not allowed here; use {allowed}.",
                    )
                ],
                {"Allow": allowed},
            )
        exchange = Exchange(
            base_url=self.base_url,
            params=dict(parse_qsl(url.query, keep_blank_values=True)),
            private=private,
            now=datetime.now(UTC),
            body=_body(request),
            content_type=_header(request, "Content-Type"),
            data=catalogue(),
        )
        return handler(self, exchange, captured)

    @staticmethod
    def _authenticate(request: requests.PreparedRequest) -> bool:
        """Check for basic auth with a login; true when a secret came too."""
        scheme, _, encoded = _header(request, "Authorization").partition(" ")
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        login, _, secret = decoded.partition(":")
        if scheme.lower() != "basic" or not login:
            raise DemoError(
                401, [UNAUTHORIZED], {"WWW-Authenticate": 'Basic realm="Occasion"'}
            )
        return bool(secret)

    # Endpoints.

    def list_products(self, exchange: Exchange, _: list[str]) -> Any:
        records = self._scoped(exchange, exchange.data.by_type["products"])
        statuses = exchange.filter_values("products").get("status", set())
        unknown = sorted(statuses - set(PRODUCT_STATUSES))
        if unknown:
            raise bad_parameter(
                "filter[status]", f"{', '.join(map(repr, unknown))} is no status."
            )
        return self._numbered_page(exchange, "products", records)

    def show_product(self, exchange: Exchange, captured: list[str]) -> Any:
        return exchange.document(
            self._record(exchange, "products", captured[0]), "products"
        )

    def list_merchants(self, exchange: Exchange, _: list[str]) -> Any:
        records = exchange.data.by_type["merchants"]
        merchant_id = self._merchant_id(exchange)
        if merchant_id is not None:
            records = tuple(r for r in records if r.id == merchant_id)
        return self._numbered_page(exchange, "merchants", records)

    def show_merchant(self, exchange: Exchange, captured: list[str]) -> Any:
        record = self._record(exchange, "merchants", captured[0])
        return exchange.document(record, "merchants")

    def list_venues(self, exchange: Exchange, _: list[str]) -> Any:
        records = self._scoped(exchange, exchange.data.by_type["venues"])
        return self._numbered_page(exchange, "venues", records)

    def show_venue(self, exchange: Exchange, captured: list[str]) -> Any:
        return exchange.document(
            self._record(exchange, "venues", captured[0]), "venues"
        )

    def list_time_slots(self, exchange: Exchange, captured: list[str]) -> Any:
        product = self._record(exchange, "products", captured[0])
        exchange.filter_values("time_slots")
        status = exchange.params.get("filter[status]")
        if status not in ("bookable", "upcoming"):
            raise bad_parameter(
                "filter[status]", 'filter[status] must be "bookable" or "upcoming".'
            )
        size = exchange.integer("page[size]", TIME_SLOTS_PAGE_SIZE, MAX_PAGE_SIZE)
        every = time_slots(product.id, exchange.now.date())
        wanted: list[TimeSlot] = [
            slot
            for slot in every
            if slot.starts_at > exchange.now
            and (status == "upcoming" or slot.is_bookable(exchange.now))
        ]
        last = exchange.params.get("filter[last]")
        if last:
            cursor = next((slot for slot in every if slot.id == last), None)
            if cursor is None:
                raise bad_parameter("filter[last]", f"No time slot has id: {last}")
            wanted = [slot for slot in wanted if slot.starts_at > cursor.starts_at]
        page = wanted[:size]
        path = f"products/{product.id}/time_slots"
        links: dict[str, str] = {"self": exchange.link(path, {})}
        if len(wanted) > size:
            # The cursor pagination of the API: the next page starts after
            # the last slot of this one.
            links["next"] = exchange.link(
                path, {"filter[last]": page[-1].id, "page[size]": str(size)}
            )
        return exchange.document(
            [slot.to_record() for slot in page], "time_slots", links=links
        )

    def redeemables(self, exchange: Exchange, captured: list[str]) -> Any:
        self._record(exchange, "products", captured[0])
        exchange.filter_values("redeemables")
        code = exchange.params.get("filter[code]", "").strip()
        if not code:
            raise bad_parameter("filter[code]", "Enter a code to check.")
        item = exchange.data.redeemable(code)
        if item is None:
            raise DemoError(
                404,
                [
                    error(
                        404,
                        "not_found",
                        f"No coupon or gift card has code: {code}",
                        parameter="filter/code",
                    )
                ],
            )
        if isinstance(item, GiftCard) and not item.is_usable:
            raise DemoError(
                409,
                [
                    error(
                        409,
                        "unavailable",
                        "That code was found but can no longer be used.",
                        parameter="filter/code",
                    )
                ],
            )
        # The API wraps this one document in a list.
        return [{"data": exchange.resource(item.to_record())}]

    def price(self, exchange: Exchange, _: list[str]) -> Any:
        # The API notes list the orders endpoints as private. The demo answers
        # public calls too: a demo site has no secret to send, and quoting a
        # price reveals nothing private.
        if "json" not in exchange.content_type.lower():
            raise DemoError(
                415,
                [error(415, "unsupported_media_type", "Send the order as JSON.")],
            )
        try:
            body = json.loads(exchange.body)
        except ValueError:
            raise DemoError(
                400, [error(400, "invalid_json", "The request body is not JSON.")]
            ) from None
        return _price_document(exchange.data, body)

    # Helpers.

    def _record(self, exchange: Exchange, resource_type: str, record_id: str) -> Record:
        record = exchange.data.get(resource_type, record_id)
        if record is None:
            noun = resource_type.removesuffix("s")
            raise DemoError(
                404,
                [
                    error(
                        404,
                        "not_found",
                        f"No {noun} has id: {record_id}",
                        parameter="id",
                    )
                ],
            )
        return record

    def _merchant_id(self, exchange: Exchange) -> str | None:
        merchant_id = exchange.params.get("merchant_id")
        if merchant_id is None:
            return None
        if merchant_id not in exchange.data.merchants:
            raise DemoError(
                404,
                [
                    error(
                        404,
                        "not_found",
                        f"No merchant has id: {merchant_id}",
                        parameter="merchant_id",
                    )
                ],
            )
        return merchant_id

    def _scoped(
        self, exchange: Exchange, records: Sequence[Record]
    ) -> Sequence[Record]:
        merchant_id = self._merchant_id(exchange)
        if merchant_id is None:
            return records
        return [r for r in records if r.related_id("merchant") == merchant_id]

    def _numbered_page(
        self, exchange: Exchange, resource_type: str, records: Sequence[Record]
    ) -> Any:
        size = exchange.integer("page[size]", PAGE_SIZE, MAX_PAGE_SIZE)
        number = exchange.integer("page[number]", 1)
        ordered = exchange.sort(exchange.filter(resource_type, records), resource_type)
        last = max(1, math.ceil(len(ordered) / size))

        def link(page: int) -> str:
            return exchange.link(
                resource_type, {"page[number]": str(page), "page[size]": str(size)}
            )

        links: dict[str, str | None] = {
            "self": link(number),
            "first": link(1),
            "last": link(last),
            "next": link(number + 1) if number < last else None,
        }
        if number > 1:
            links["prev"] = link(min(number - 1, last))
        return exchange.document(
            ordered[(number - 1) * size : number * size],
            resource_type,
            links=links,
            meta={"record_count": len(ordered), "page_count": last},
        )


ROUTES: list[tuple[tuple[str | None, ...], dict[str, Handler]]] = [
    (("products",), {"GET": DemoAdapter.list_products}),
    (("products", None), {"GET": DemoAdapter.show_product}),
    (("products", None, "time_slots"), {"GET": DemoAdapter.list_time_slots}),
    (("products", None, "redeemables"), {"GET": DemoAdapter.redeemables}),
    (("merchants",), {"GET": DemoAdapter.list_merchants}),
    (("merchants", None), {"GET": DemoAdapter.show_merchant}),
    (("venues",), {"GET": DemoAdapter.list_venues}),
    (("venues", None), {"GET": DemoAdapter.show_venue}),
    (("orders", "price"), {"POST": DemoAdapter.price}),
]


def _route(segments: list[str]) -> tuple[dict[str, Handler] | None, list[str]]:
    for pattern, handlers in ROUTES:
        if len(pattern) != len(segments):
            continue
        captured = []
        for expected, segment in zip(pattern, segments, strict=True):
            if expected is None:
                captured.append(segment)
            elif expected != segment:
                break
        else:
            return handlers, captured
    return None, []


def _body(request: requests.PreparedRequest) -> bytes:
    if isinstance(request.body, str):
        return request.body.encode()
    # A streamed body (a file, a generator) is read as empty: the demo's
    # only POST endpoint takes a JSON document, which requests never streams.
    return request.body if isinstance(request.body, bytes) else b""


def _header(request: requests.PreparedRequest, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _no_route(path: str) -> DemoError:
    return DemoError(404, [error(404, "not_found", f"No route matches {path}.")])


def _relationship_data(relationships: Any, name: str) -> Any:
    relationship = (
        relationships.get(name) if isinstance(relationships, Mapping) else None
    )
    return relationship.get("data") if isinstance(relationship, Mapping) else None


def _price_document(data: Catalogue, body: Any) -> dict[str, Any]:
    """Answer ``POST /orders/price`` for a JSON body, or raise its errors."""
    order = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(order, Mapping):
        raise DemoError(
            422, [error(422, "blank", "Send an order document.", pointer="/data")]
        )
    if order.get("type") != "orders":
        raise DemoError(
            409,
            [
                error(
                    409,
                    "invalid",
                    "The document must be an order.",
                    pointer="/data/type",
                )
            ],
        )
    attributes = order.get("attributes")
    attributes = attributes if isinstance(attributes, Mapping) else {}
    relationships = order.get("relationships")
    errors: list[dict[str, Any]] = []

    product = _order_product(data, _relationship_data(relationships, "product"), errors)
    quantity = attributes.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        errors.append(
            error(
                422,
                "invalid",
                "Quantity must be a whole number of at least 1.",
                pointer="/data/attributes/quantity",
            )
        )
    extras = (
        _order_extras(
            product, _relationship_data(relationships, "attribute_values"), errors
        )
        if product is not None
        else ()
    )
    coupon = _order_coupon(data, _relationship_data(relationships, "coupon"), errors)
    if errors or product is None:
        raise DemoError(422, errors)

    result = quote(
        product.price,
        tax_percentage=data.tax_percentage(product),
        quantity=quantity,
        extras=extras,
        coupon=coupon,
    )
    return {
        "data": {
            "type": "orders",
            "attributes": {
                "subtotal": decimal_text(result.subtotal),
                "coupon_amount": decimal_text(result.coupon_amount),
                "coupon_description": coupon.name if coupon else None,
                "tax": decimal_text(result.tax),
                "tax_percentage": decimal_text(result.tax_percentage),
                "total": decimal_text(result.total),
                "quantity": quantity,
            },
            "relationships": {
                "product": {"data": {"type": "products", "id": product.id}}
            },
        }
    }


def _order_product(
    data: Catalogue, linkage: Any, errors: list[dict[str, Any]]
) -> Product | None:
    pointer = "/data/relationships/product"
    product_id = linkage.get("id") if isinstance(linkage, Mapping) else None
    if product_id is None:
        errors.append(error(422, "blank", "Choose a product.", pointer=pointer))
        return None
    product = data.products.get(str(product_id))
    if product is None:
        errors.append(
            error(422, "not_found", f"No product has id: {product_id}", pointer=pointer)
        )
        return None
    if product.status != "active":
        errors.append(
            error(
                422,
                "unavailable",
                f"{product.title} is not taking orders ({product.status}).",
                pointer=pointer,
            )
        )
        return None
    return product


def _order_extras(
    product: Product, answers: Any, errors: list[dict[str, Any]]
) -> tuple[Decimal, ...]:
    """The prices of the chosen options, defaults standing in for no answer."""
    chosen: dict[str, str] = {}
    for position, answer in enumerate(answers if isinstance(answers, list) else []):
        pointer = f"/data/relationships/attribute_values/data/{position}"
        answer = answer if isinstance(answer, Mapping) else {}
        question_link = _relationship_data(answer.get("relationships"), "attribute")
        question_id = (
            question_link.get("id") if isinstance(question_link, Mapping) else None
        )
        question = product.question(str(question_id))
        if question is None:
            errors.append(
                error(
                    422,
                    "not_found",
                    f"{product.title} has no question with id: {question_id}",
                    pointer=f"{pointer}/relationships/attribute",
                )
            )
            continue
        values = answer.get("attributes")
        value = values.get("value") if isinstance(values, Mapping) else None
        if question.options and question.option(str(value)) is None:
            errors.append(
                error(
                    422,
                    "inclusion",
                    f"Choose one of the options of “{question.title}”.",
                    pointer=f"{pointer}/attributes/value",
                )
            )
            continue
        chosen[question.id] = str(value)
    extras = []
    for question in product.questions:
        if not question.is_priced:
            continue
        option = (
            question.option(chosen[question.id])
            if question.id in chosen
            else question.default_option
        )
        if option is not None:
            extras.append(option.price)
    return tuple(extras)


def _order_coupon(
    data: Catalogue, linkage: Any, errors: list[dict[str, Any]]
) -> Coupon | None:
    if not isinstance(linkage, Mapping):
        return None
    pointer = "/data/relationships/coupon"
    coupon_id = linkage.get("id")
    item: Coupon | GiftCard | None
    if coupon_id is not None:
        label = f"id: {coupon_id}"
        item = next(
            (r for r in data.redeemables.values() if r.id == str(coupon_id)), None
        )
    else:
        attributes = linkage.get("attributes")
        code = attributes.get("code") if isinstance(attributes, Mapping) else None
        code = str(code or "")
        label = f"code: {code}"
        item = data.redeemable(code) if code else None
    if isinstance(item, Coupon):
        return item
    if isinstance(item, GiftCard):
        detail = f"The gift card with {label} pays for an order; it is no coupon."
        errors.append(error(422, "invalid", detail, pointer=pointer))
    else:
        errors.append(
            error(422, "not_found", f"No coupon has {label}", pointer=pointer)
        )
    return None
