"""Template tags: ``{% load occasion %}``.

Every tag asks the service layer and never breaks the page: when Occasion is
down and nothing is cached it logs a warning and renders its empty state.
"""

from __future__ import annotations

import logging
from typing import Any

import nh3
from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .. import services
from ..domain import Product
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
