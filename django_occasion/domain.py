"""Plain, immutable Python objects for what the Occasion API describes.

They are built from :class:`~django_occasion.jsonapi.Resource` objects and a
:class:`~django_occasion.jsonapi.ResourceIndex` to resolve relationships,
the same way whether the resources came from the API or from the cache.
Missing or malformed attributes become ``None`` rather than errors: real
answers leave attributes out, and one odd product must not hide the others.
Attributes the app does not model stay reachable through ``extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .jsonapi import Resource, ResourceIndex

PRODUCT_STATUSES = ("active", "inactive", "expired", "sold_out")


def to_text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value)
    return text or None


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def to_datetime(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string, or ``None``.

    A timestamp without an offset is not trusted to be in any zone, so it is
    treated as missing rather than guessed.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def to_bool(value: Any) -> bool:
    return value is True or value == "true"


def _extra(resource: Resource, known: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in resource.attributes.items() if k not in known}


@dataclass(frozen=True, slots=True)
class Image:
    """A product image: the full-size ``url`` and the ``thumb_url``."""

    url: str
    thumb_url: str

    @classmethod
    def from_json(cls, data: Any) -> Image | None:
        if not isinstance(data, Mapping):
            return None
        url = to_text(data.get("url"))
        thumb = data.get("thumb")
        thumb_url = to_text(thumb.get("url")) if isinstance(thumb, Mapping) else None
        if url is None and thumb_url is None:
            return None
        return cls(url=url or thumb_url or "", thumb_url=thumb_url or url or "")


@dataclass(frozen=True, slots=True)
class Merchant:
    id: str
    name: str
    time_zone: str | None = None
    tax_percentage: Decimal | None = None
    profile_picture: str | None = None
    facebook_page: str | None = None
    currency_name: str | None = None
    currency_symbol: str | None = None
    business_type: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    _known = frozenset(
        {"name", "time_zone", "tax_percentage", "profile_picture", "facebook_page"}
    )

    @classmethod
    def from_resource(
        cls, resource: Resource, index: ResourceIndex | None = None
    ) -> Merchant:
        attrs = resource.attributes
        index = index or ResourceIndex()
        currency = index.related(resource, "currency")
        business_type = index.related(resource, "business_type")
        return cls(
            id=resource.id or "",
            name=to_text(attrs.get("name")) or "",
            time_zone=to_text(attrs.get("time_zone")),
            tax_percentage=to_decimal(attrs.get("tax_percentage")),
            profile_picture=to_text(attrs.get("profile_picture")),
            facebook_page=to_text(attrs.get("facebook_page")),
            currency_name=to_text(currency.attributes.get("name"))
            if currency
            else None,
            currency_symbol=to_text(currency.attributes.get("code"))
            if currency
            else None,
            business_type=(
                to_text(business_type.attributes.get("name")) if business_type else None
            ),
            extra=_extra(resource, cls._known),
        )


@dataclass(frozen=True, slots=True)
class Region:
    """A country or state: its ``name`` and ``code``."""

    name: str
    code: str | None = None

    @classmethod
    def from_resource(cls, resource: Resource | None) -> Region | None:
        if resource is None:
            return None
        return cls(
            name=to_text(resource.attributes.get("name")) or "",
            code=to_text(resource.attributes.get("code")),
        )


@dataclass(frozen=True, slots=True)
class Venue:
    id: str
    name: str
    address: str | None = None
    city: str | None = None
    zip: str | None = None
    website: str | None = None
    email: str | None = None
    phone: str | None = None
    time_zone: str | None = None
    country: Region | None = None
    state: Region | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    _known = frozenset(
        {"name", "address", "city", "zip", "website", "email", "phone", "time_zone"}
    )

    @classmethod
    def from_resource(
        cls, resource: Resource, index: ResourceIndex | None = None
    ) -> Venue:
        attrs = resource.attributes
        index = index or ResourceIndex()
        return cls(
            id=resource.id or "",
            name=to_text(attrs.get("name")) or "",
            address=to_text(attrs.get("address")),
            city=to_text(attrs.get("city")),
            zip=to_text(attrs.get("zip")),
            website=to_text(attrs.get("website")),
            email=to_text(attrs.get("email")),
            phone=to_text(attrs.get("phone")),
            time_zone=to_text(attrs.get("time_zone")),
            country=Region.from_resource(index.related(resource, "country")),
            state=Region.from_resource(index.related(resource, "state")),
            extra=_extra(resource, cls._known),
        )

    @property
    def address_lines(self) -> list[str]:
        """The postal address as lines: street, then "city, STATE zip", country."""
        lines = [self.address] if self.address else []
        state = self.state.code or self.state.name if self.state else None
        locality = ", ".join(part for part in (self.city, state) if part)
        locality = " ".join(part for part in (locality, self.zip) if part)
        if locality:
            lines.append(locality)
        if self.country and self.country.name:
            lines.append(self.country.name)
        return lines

    @property
    def formatted_address(self) -> str:
        return ", ".join(self.address_lines)


@dataclass(frozen=True, slots=True)
class Product:
    """A product (class, event, session) as anonymous visitors may see it."""

    id: str
    title: str
    status: str | None = None
    description: str | None = None
    image: Image | None = None
    tax_percentage: Decimal | None = None
    order_button_text: str | None = None
    post_transactional_message: str | None = None
    show_occurrence_availability: bool = False
    show_time_slot_duration: bool = False
    sells_sessions: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    widget_contact_title: str | None = None
    widget_time_slots_title: str | None = None
    widget_questions_title: str | None = None
    widget_payment_title: str | None = None
    widget_total_due_title: str | None = None
    merchant: Merchant | None = None
    venue: Venue | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    _known = frozenset(
        {
            "title",
            "status",
            "description",
            "image",
            "tax_percentage",
            "order_button_text",
            "post_transactional_message",
            "show_occurrence_availability",
            "show_time_slot_duration",
            "sells_sessions",
            "created_at",
            "updated_at",
            "widget_contact_title",
            "widget_occurrences_title",
            "widget_time_slots_title",
            "widget_attributes_title",
            "widget_questions_title",
            "widget_payment_title",
            "widget_total_due_title",
        }
    )

    @classmethod
    def from_resource(
        cls, resource: Resource, index: ResourceIndex | None = None
    ) -> Product:
        attrs = resource.attributes
        index = index or ResourceIndex()
        merchant = index.related(resource, "merchant")
        venue = index.related(resource, "venue")
        return cls(
            id=resource.id or "",
            title=to_text(attrs.get("title")) or "",
            status=to_text(attrs.get("status")),
            description=to_text(attrs.get("description")),
            image=Image.from_json(attrs.get("image")),
            tax_percentage=to_decimal(attrs.get("tax_percentage")),
            order_button_text=to_text(attrs.get("order_button_text")),
            post_transactional_message=to_text(attrs.get("post_transactional_message")),
            show_occurrence_availability=to_bool(
                attrs.get("show_occurrence_availability")
            ),
            show_time_slot_duration=to_bool(attrs.get("show_time_slot_duration")),
            sells_sessions=to_bool(attrs.get("sells_sessions")),
            created_at=to_datetime(attrs.get("created_at")),
            updated_at=to_datetime(attrs.get("updated_at")),
            widget_contact_title=to_text(attrs.get("widget_contact_title")),
            # Newer answers renamed two section titles; either name is accepted.
            widget_time_slots_title=to_text(
                attrs.get("widget_time_slots_title")
                or attrs.get("widget_occurrences_title")
            ),
            widget_questions_title=to_text(
                attrs.get("widget_questions_title")
                or attrs.get("widget_attributes_title")
            ),
            widget_payment_title=to_text(attrs.get("widget_payment_title")),
            widget_total_due_title=to_text(attrs.get("widget_total_due_title")),
            merchant=Merchant.from_resource(merchant, index) if merchant else None,
            venue=Venue.from_resource(venue, index) if venue else None,
            extra=_extra(resource, cls._known),
        )

    @property
    def is_bookable(self) -> bool:
        """Only active products take orders."""
        return self.status == "active"
