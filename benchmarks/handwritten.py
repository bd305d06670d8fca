"""What a developer writes without the app: one API call per page view.

It asks ``/products`` for exactly the page shown and renders the app's own
list template, so that both views send the same HTML and only the way the
products are obtained differs. It is deliberately plain (``requests.get``,
dictionaries, no cache), as such views are in the wild.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

PAGE_SIZE = 12


def _page_number(link: str | None) -> int | None:
    if not link:
        return None
    return int(parse_qs(urlsplit(link).query)["page[number]"][0])


def _product(
    item: dict[str, Any], included: dict[tuple[str, str], Any]
) -> dict[str, Any]:
    attributes = item["attributes"]
    venue = item["relationships"]["venue"]["data"]
    image = attributes.get("image")
    return {
        "id": str(item["id"]),
        "title": attributes["title"],
        "status": attributes["status"],
        "is_bookable": attributes["status"] == "active",
        "image": {"thumb_url": image["thumb"]["url"]} if image else None,
        "venue": included[("venues", str(venue["id"]))]["attributes"]
        if venue
        else None,
    }


def product_list(request: HttpRequest) -> HttpResponse:
    number = int(request.GET.get("page", 1))
    params: dict[str, str | int] = {
        "include": "merchant,venue",
        "page[size]": PAGE_SIZE,
        "page[number]": number,
    }
    response = requests.get(
        f"{settings.OCCASION_API_URL}/products",
        params=params,
        auth=(settings.OCCASION_API_LOGIN, ""),
        timeout=10,
    )
    response.raise_for_status()
    payload = response.json()
    included = {(r["type"], str(r["id"])): r for r in payload.get("included", [])}
    products = [_product(item, included) for item in payload["data"]]
    links = payload["links"]
    last = _page_number(links.get("last")) or number
    page = SimpleNamespace(
        number=number,
        has_previous=number > 1,
        has_next=bool(links.get("next")),
        previous_page_number=number - 1,
        next_page_number=number + 1,
    )
    context = {
        "products": products,
        "page_obj": page,
        "paginator": SimpleNamespace(num_pages=last),
        "is_paginated": last > 1,
        "filters": {"status": None, "venue": None},
    }
    return render(request, "django_occasion/product_list.html", context)
