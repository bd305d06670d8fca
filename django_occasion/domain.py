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
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


# -- time slots, questions, redeemables and prices ------------------------------

#: What one unit of a time slot's ``duration`` stands for (see ``TimeSlot``).
DURATION_UNIT = timedelta(minutes=1)


def to_int(value: Any) -> int | None:
    """A whole number from a number or numeric text, or ``None``."""
    number = to_decimal(value)
    # "1e999999" is a valid Decimal whose int() takes minutes to build.
    if number is None or number.adjusted() > 18:
        return None
    if number != number.to_integral_value():
        return None
    return int(number)


def to_duration(value: Any) -> timedelta | None:
    """A duration in :data:`DURATION_UNIT` units, or ``None``."""
    number = to_decimal(value)
    if number is None or number < 0:
        return None
    try:
        return DURATION_UNIT * float(number)
    except OverflowError:
        return None


def to_zone(name: Any) -> ZoneInfo | None:
    """The IANA time zone named ``name``, or ``None`` if there is none such."""
    text = to_text(name)
    if text is None:
        return None
    try:
        return ZoneInfo(text)
    # A key that is a path ("../x") is a ValueError; a directory of the zone
    # database ("America") has been an OSError on some Python versions.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


@dataclass(frozen=True, slots=True)
class TimeSlot:
    """One date of a product that can be (or, if ``upcoming``, could be) booked.

    ``starts_at`` is aware, in the first valid time zone of: the slot's own
    ``time_zone`` (newer answers carry one), then ``default_time_zone`` given
    by the caller (the venue's or merchant's); with neither it keeps the
    offset the API wrote. ``None`` if the answer held no usable start.

    ``duration`` is read as **minutes** (:data:`DURATION_UNIT`). The API
    documentation says seconds, but the official JavaScript client reads the
    value as minutes, and recorded answers hold 60 and 120 for one- and
    two-hour classes: read as seconds they would be one- and two-minute
    classes. ``None`` when missing or negative.

    ``spots_available`` is the number of places left; ``None`` means the slot
    has no limit (the API writes ``null``).
    """

    id: str
    starts_at: datetime | None
    duration: timedelta | None = None
    spots_available: int | None = None
    time_zone: str | None = None
    product_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    _known = frozenset({"starts_at", "duration", "spots_available", "time_zone"})

    @classmethod
    def from_resource(
        cls,
        resource: Resource,
        index: ResourceIndex | None = None,
        *,
        default_time_zone: str | None = None,
    ) -> TimeSlot:
        attrs = resource.attributes
        own_zone = to_text(attrs.get("time_zone"))
        zone = to_zone(own_zone) or to_zone(default_time_zone)
        starts_at = to_datetime(attrs.get("starts_at"))
        if starts_at is not None and zone is not None:
            try:
                starts_at = starts_at.astimezone(zone)
            except OverflowError:  # a year 9999 slot moved past the calendar
                starts_at = None
        spots = to_int(attrs.get("spots_available"))
        product = resource.relationships.get("product")
        return cls(
            id=resource.id or "",
            starts_at=starts_at,
            duration=to_duration(attrs.get("duration")),
            spots_available=None if spots is None else max(spots, 0),
            time_zone=zone.key if zone is not None else own_zone,
            product_id=product[1]
            if product and not isinstance(product[0], tuple)
            else None,
            extra=_extra(resource, cls._known),
        )

    @property
    def ends_at(self) -> datetime | None:
        if self.starts_at is None or self.duration is None:
            return None
        return self.starts_at + self.duration

    @property
    def is_unlimited(self) -> bool:
        return self.spots_available is None

    @property
    def is_sold_out(self) -> bool:
        return self.spots_available == 0


@dataclass(frozen=True, slots=True)
class FieldType:
    """How a question is asked: its ``form_control`` and ``category``.

    Recorded values: ``category`` ``price`` (the answer changes the price)
    or ``info``; ``form_control`` such as ``drop_down`` or ``text_area``.
    """

    id: str
    category: str | None = None
    form_control: str | None = None
    operation: str | None = None
    reflective: bool = False

    @classmethod
    def from_resource(cls, resource: Resource | None) -> FieldType | None:
        if resource is None:
            return None
        attrs = resource.attributes
        return cls(
            id=resource.id or "",
            category=to_text(attrs.get("category")),
            form_control=to_text(attrs.get("form_control")),
            operation=to_text(attrs.get("operation")),
            reflective=to_bool(attrs.get("reflective")),
        )


def _parameters(resource: Resource) -> Mapping[str, Any]:
    parameters = resource.attributes.get("parameters")
    return parameters if isinstance(parameters, Mapping) else {}


@dataclass(frozen=True, slots=True)
class QuestionOption:
    """One answer a visitor may choose; ``price`` is what it adds, if any."""

    id: str
    title: str
    position: int | None = None
    is_default: bool = False
    price: Decimal | None = None

    @classmethod
    def from_resource(cls, resource: Resource) -> QuestionOption:
        attrs = resource.attributes
        return cls(
            id=resource.id or "",
            title=to_text(attrs.get("title")) or "",
            position=to_int(attrs.get("position")),
            is_default=to_bool(attrs.get("default")),
            price=to_decimal(_parameters(resource).get("price")),
        )


def _by_position(item: Question | QuestionOption) -> tuple[bool, int]:
    return item.position is None, item.position or 0


@dataclass(frozen=True, slots=True)
class Question:
    """A question of a product's order form (an API ``attribute``).

    ``options`` are in their ``position`` order; a question without options
    takes free text.
    """

    id: str
    title: str
    position: int | None = None
    field_type: FieldType | None = None
    options: tuple[QuestionOption, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    _known = frozenset({"title", "position"})

    @classmethod
    def from_resource(
        cls, resource: Resource, index: ResourceIndex | None = None
    ) -> Question:
        index = index or ResourceIndex()
        options = index.related_many(resource, "attribute_options") or (
            index.related_many(resource, "question_options")
        )
        return cls(
            id=resource.id or "",
            title=to_text(resource.attributes.get("title")) or "",
            position=to_int(resource.attributes.get("position")),
            field_type=FieldType.from_resource(index.related(resource, "field_type")),
            options=tuple(
                sorted(map(QuestionOption.from_resource, options), key=_by_position)
            ),
            extra=_extra(resource, cls._known),
        )

    @classmethod
    def list_for(cls, product: Resource, index: ResourceIndex) -> list[Question]:
        """The questions of ``product``, in order (either relationship name)."""
        resources = index.related_many(product, "attributes") or index.related_many(
            product, "questions"
        )
        questions = [cls.from_resource(resource, index) for resource in resources]
        return sorted(questions, key=_by_position)

    @property
    def has_options(self) -> bool:
        return bool(self.options)

    @property
    def default_option(self) -> QuestionOption | None:
        return next((option for option in self.options if option.is_default), None)


@dataclass(frozen=True, slots=True)
class Coupon:
    """A discount code: either ``discount_fixed`` or ``discount_percentage``."""

    id: str
    code: str
    name: str | None = None
    discount_fixed: Decimal | None = None
    discount_percentage: Decimal | None = None

    @classmethod
    def from_resource(cls, resource: Resource) -> Coupon:
        attrs = resource.attributes
        return cls(
            id=resource.id or "",
            code=to_text(attrs.get("code")) or "",
            name=to_text(attrs.get("name")),
            discount_fixed=to_decimal(attrs.get("discount_fixed")),
            discount_percentage=to_decimal(attrs.get("discount_percentage")),
        )


@dataclass(frozen=True, slots=True)
class GiftCard:
    """A gift card: ``value`` is what is left of ``initial_value``."""

    id: str
    code: str
    initial_value: Decimal | None = None
    value: Decimal | None = None

    @classmethod
    def from_resource(cls, resource: Resource) -> GiftCard:
        attrs = resource.attributes
        return cls(
            id=resource.id or "",
            code=to_text(attrs.get("code")) or "",
            initial_value=to_decimal(attrs.get("initial_value")),
            value=to_decimal(attrs.get("value")),
        )


class RedeemableStatus(StrEnum):
    """The outcome of checking a code."""

    VALID = "valid"
    UNKNOWN = "unknown"  # the API answered 404
    UNUSABLE = "unusable"  # the API answered 409: found, but used up or expired
    INVALID = "invalid"  # not a well-formed code: the API was not asked


REDEEMABLE_MESSAGES = {
    RedeemableStatus.VALID: "This code can be used.",
    RedeemableStatus.UNKNOWN: "We do not know that code.",
    RedeemableStatus.UNUSABLE: "That code can no longer be used.",
    RedeemableStatus.INVALID: "That is not a valid code.",
}


@dataclass(frozen=True, slots=True)
class RedeemableResult:
    """What a coupon or gift card code turned out to be.

    ``redeemable`` is the :class:`Coupon` or :class:`GiftCard` when
    ``status`` is ``valid``, else ``None``.
    """

    code: str
    status: RedeemableStatus
    redeemable: Coupon | GiftCard | None = None

    @property
    def is_valid(self) -> bool:
        return self.status == RedeemableStatus.VALID

    @property
    def coupon(self) -> Coupon | None:
        return self.redeemable if isinstance(self.redeemable, Coupon) else None

    @property
    def gift_card(self) -> GiftCard | None:
        return self.redeemable if isinstance(self.redeemable, GiftCard) else None

    @property
    def message(self) -> str:
        return REDEEMABLE_MESSAGES[self.status]


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """What an order would cost: ``total = subtotal - discount + tax``.

    ``discount`` is the API's ``coupon_amount`` (zero without a coupon);
    ``redeemable`` is the outcome of the coupon code given, if any.
    """

    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    redeemable: RedeemableResult | None = None

    @classmethod
    def from_resource(
        cls, resource: Resource, redeemable: RedeemableResult | None = None
    ) -> PriceQuote | None:
        """The quote, or ``None`` if the answer lacks its subtotal or total."""
        attrs = resource.attributes
        subtotal = to_decimal(attrs.get("subtotal"))
        total = to_decimal(attrs.get("total"))
        if subtotal is None or total is None:
            return None
        return cls(
            subtotal=subtotal,
            discount=to_decimal(attrs.get("coupon_amount")) or Decimal(0),
            tax=to_decimal(attrs.get("tax")) or Decimal(0),
            total=total,
            redeemable=redeemable,
        )
