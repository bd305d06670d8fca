"""Template tags: ``{% load occasion %}``.

Every tag asks the service layer and never breaks the page: when Occasion is
down and nothing is cached it logs a warning and renders its empty state.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import nh3
from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import ngettext

from .. import services
from ..domain import (
    Merchant,
    Product,
    Question,
    RedeemableResult,
    RedeemableStatus,
    TimeSlot,
    Venue,
)
from ..exceptions import InvalidQuery, NotFound, OccasionError

logger = logging.getLogger(__name__)
register = template.Library()

# What merchant-written descriptions may keep: text structure and links.
ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "em", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "li", "ol", "p", "s", "span", "strong", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}
PRODUCT_LIST_TEMPLATE = "django_occasion/includes/product_list.html"


def _listing(
    status: str | None, venue: str | int | None, limit: int | None
) -> list[Product]:
    # Venue ids are numbers in some answers, and so in templates: venue=872.
    venue = None if venue in (None, "") else str(venue)
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
    ):
        raise InvalidQuery(f"limit must be a whole number of at least 1, not {limit!r}")
    try:
        listing = services.list_products(status=status or None, venue=venue)
        return list(listing[:limit] if limit else listing)
    except InvalidQuery:
        raise
    except OccasionError as exc:
        logger.warning("Occasion products unavailable; rendering none: %s", exc)
        return []


@register.simple_tag
def occasion_products(
    status: str | None = None,
    venue: str | int | None = None,
    limit: int | None = None,
) -> list[Product]:
    """``{% occasion_products status="active" limit=6 as products %}``"""
    return _listing(status, venue, limit)


@register.simple_tag
def occasion_product(product_id: Any) -> Product | None:
    """``{% occasion_product "p7Kd2x" as product %}``; ``None`` if unavailable."""
    try:
        return services.get_product(str(product_id))
    except NotFound:
        return None
    except OccasionError as exc:
        logger.warning("Occasion product %s unavailable: %s", product_id, exc)
        return None


@register.simple_tag(takes_context=True)
def occasion_product_list(
    context: template.Context,
    products: list[Product] | None = None,
    *,
    status: str | None = None,
    venue: str | int | None = None,
    limit: int | None = None,
    template_name: str = PRODUCT_LIST_TEMPLATE,
) -> SafeString:
    """Render products (given, or fetched with the same filters) as a list.

    ``{% occasion_product_list status="active" limit=3 %}`` or
    ``{% occasion_product_list products template_name="my/list.html" %}``.
    """
    if products is None:
        products = _listing(status, venue, limit)
    return render_to_string(
        template_name,
        {"products": products},
        request=getattr(context, "request", None),
    )


@register.filter
def occasion_html(value: str | None) -> SafeString:
    """Merchant-written HTML with scripts, handlers and unsafe URLs removed."""
    if not value:
        return mark_safe("")
    return mark_safe(
        nh3.clean(
            str(value),
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=ALLOWED_URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
        )
    )


# -- time slots, venues, merchants, questions and codes -------------------------


def _product(product: Product | str | int | None) -> Product | None:
    """``product`` itself, or the product with that id; ``None`` if unknown."""
    if isinstance(product, Product):
        return product
    if product is None or product == "":
        return None
    try:
        return services.get_product(str(product))
    except OccasionError as exc:
        logger.warning("Occasion product %s unavailable: %s", product, exc)
        return None


@register.simple_tag
def occasion_time_slots(
    product: Product | str | int, limit: int = 5, status: str = "bookable"
) -> list[TimeSlot]:
    """``{% occasion_time_slots product limit=5 as slots %}``

    The product's next bookable (or, with ``status="upcoming"``, also sold
    out) time slots; ``product`` is a product or its id. Empty when Occasion
    cannot say. A bad ``status`` or ``limit`` is an error in the template.
    """
    time_zone = None
    if isinstance(product, Product):
        place = product.venue or product.merchant
        time_zone = place.time_zone if place else None
        product = product.id
    try:
        return services.list_time_slots(
            str(product), status=status, limit=limit, time_zone=time_zone
        )
    except InvalidQuery:
        raise
    except OccasionError as exc:
        logger.warning("Occasion time slots of %s unavailable: %s", product, exc)
        return []


@register.simple_tag
def occasion_venue(product: Product | str | int) -> Venue | None:
    """``{% occasion_venue product as venue %}``: with country and state."""
    found = _product(product)
    return services.venue_of(found) if found else None


@register.simple_tag
def occasion_merchant(product: Product | str | int) -> Merchant | None:
    """``{% occasion_merchant product as merchant %}``: with its currency."""
    found = _product(product)
    return services.merchant_of(found) if found else None


@register.simple_tag
def occasion_questions(product: Product | str | int) -> list[Question]:
    """``{% occasion_questions product as questions %}``; empty if unknown."""
    product_id = product.id if isinstance(product, Product) else str(product)
    try:
        return services.get_questions(product_id)
    except OccasionError as exc:
        logger.warning("Occasion questions of %s unavailable: %s", product_id, exc)
        return []


@register.simple_tag
def occasion_redeemable(
    product: Product | str | int, code: str | None
) -> RedeemableResult | None:
    """``{% occasion_redeemable product code as result %}``

    What a coupon or gift card code is worth for this product: a result
    whose ``status`` is ``valid``, ``unknown``, ``unusable`` or (for a
    malformed code, which costs no request) ``invalid``. ``None`` for an
    empty code or when Occasion cannot say.
    """
    if not code or not str(code).strip():
        return None
    try:
        code = services.clean_redeemable_code(code)
    except InvalidQuery:
        return RedeemableResult(str(code)[:64], RedeemableStatus.INVALID)
    product_id = product.id if isinstance(product, Product) else str(product)
    try:
        return services.check_redeemable(product_id, code)
    except OccasionError as exc:
        logger.warning("Occasion could not check a code for %s: %s", product_id, exc)
        return None


@register.filter
def occasion_duration(value: timedelta | None) -> str:
    """A time slot's duration in words: "2 hours", "1 hour 30 minutes"."""
    if not isinstance(value, timedelta):
        return ""
    hours, minutes = divmod(round(value.total_seconds() / 60), 60)
    parts = []
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes or not hours:
        parts.append(
            ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
        )
    return " ".join(parts)
