"""Figures 1 to 3: page 1 of the product list, warm, three ways and three sizes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import cast

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings

from django_occasion import services
from django_occasion.conf import app_settings
from django_occasion.domain import Product
from django_occasion.views import ProductListView

from . import handwritten
from .harness import Row, median, ms, per_call_times, profile
from .standin import StandIn

TEMPLATE = "django_occasion/product_list.html"
FACTORY = RequestFactory()
LIST_VIEW = ProductListView.as_view()
UNCACHED_LIST_VIEW = ProductListView.as_view(cache_fragment=False)

#: Figure 1: the warm page may cost at most this much more than the limit.
LIMIT_RATIO_TARGET = 1.3
#: Figure 2: the warm page must be at least this much faster than the
#: hand-written view.
SPEED_UP_TARGET = 100
#: Figure 3: page 1 of the largest catalogue against the smallest.
SIZE_RATIO_TARGET = 1.5
PROFILED_CALLS = 500


def using(standin: StandIn, alias: str = "default") -> AbstractContextManager[None]:
    """The app's settings for one stand-in catalogue and cache."""
    return override_settings(  # type: ignore[return-value]
        OCCASION_API_URL=standin.url, OCCASION_CACHE_ALIAS=alias
    )


def app_page() -> HttpResponse:
    """Page 1 from ``ProductListView``: what the app serves."""
    return cast(HttpResponse, LIST_VIEW(FACTORY.get("/products/")))


def uncached_page() -> HttpResponse:
    """Page 1 with the fragment cache off: products from the cache, rendered."""
    return cast(HttpResponse, UNCACHED_LIST_VIEW(FACTORY.get("/products/")))


def handwritten_page() -> HttpResponse:
    """Page 1 from a view that asks the API on every request."""
    return handwritten.product_list(FACTORY.get("/handwritten/"))


def limit_page_of(products: list[Product]) -> Callable[[], str]:
    """The limit: the same template over products already in a list."""

    def limit_page() -> str:
        request = FACTORY.get("/products/")
        paginator = Paginator(products, app_settings.PAGE_SIZE)
        page = paginator.page(1)
        context = {
            "paginator": paginator,
            "page_obj": page,
            "is_paginated": page.has_other_pages(),
            "object_list": page.object_list,
            "products": page.object_list,
            "filters": {"status": None, "venue": None},
        }
        return render_to_string(TEMPLATE, context, request=request)

    return limit_page


def warm(standin: StandIn, alias: str = "default") -> None:
    with using(standin, alias):
        services.refresh_catalogue()
        response = app_page()
    if response.status_code != 200:
        raise RuntimeError(f"the warm listing answered {response.status_code}")


def _check_same_html(pages: Mapping[str, str]) -> None:
    """Warn when the pages compared are not the same page."""
    first_name, first = next(iter(pages.items()))
    for name, html in pages.items():
        if html != first:
            print(
                f"warning: {name} does not render the same HTML as {first_name}; "
                "its figure compares different pages",
                file=sys.stderr,
            )


def warm_and_handwritten(standin: StandIn, *, repeat: int) -> list[Row]:
    """Figures 1 and 2."""
    warm(standin)
    with using(standin):
        products = list(services.list_products())
        limit_page = limit_page_of(products)
        _check_same_html(
            {
                "ProductListView": app_page().content.decode(),
                "ProductListView, fragment cache off": (
                    uncached_page().content.decode()
                ),
                "the limit": limit_page(),
                "the hand-written view": handwritten_page().content.decode(),
            }
        )
        standin.reset()
        app_times, limit_times, uncached_times = per_call_times(
            [app_page, limit_page, uncached_page], repeat=repeat
        )
        upstream_while_warm = standin.snapshot()["requests"]
        (handwritten_times,) = per_call_times(
            [handwritten_page], repeat=max(3, repeat // 3)
        )

    @functools.cache  # figures 1 and 2 share it
    def explain() -> str:
        with using(standin):
            return "\n\n".join(
                [
                    breakdown(products, limit_page, repeat=repeat),
                    profile("warm-page", app_page, calls=PROFILED_CALLS),
                    profile("limit-page", limit_page, calls=PROFILED_CALLS),
                ]
            )

    app, limit, uncached, by_hand = (
        median(app_times),
        median(limit_times),
        median(uncached_times),
        median(handwritten_times),
    )
    ratio = app / limit
    uncached_ratio = uncached / limit
    speed_up = by_hand / app
    products_label = f"{standin.products:,} products"
    if upstream_while_warm:
        print(
            f"warning: {upstream_while_warm} upstream requests while timing the "
            "warm page",
            file=sys.stderr,
        )
    return [
        Row(
            "1 warm list page",
            ms(app),
            f"limit {ms(limit)}: same template, products in a list",
            f"{ratio:.2f}x",
            f"<= {LIMIT_RATIO_TARGET}x",
            ratio <= LIMIT_RATIO_TARGET,
            explain=explain,
        ),
        Row(
            "1 same, fragment cache off",
            ms(uncached),
            f"limit {ms(limit)}",
            f"{uncached_ratio:.2f}x",
            f"<= {LIMIT_RATIO_TARGET}x",
            uncached_ratio <= LIMIT_RATIO_TARGET,
            explain=explain,
        ),
        Row(
            "2 hand-written view",
            ms(by_hand),
            f"warm list page {ms(app)} ({products_label})",
            f"{speed_up:.0f}x faster",
            f">= {SPEED_UP_TARGET}x",
            speed_up >= SPEED_UP_TARGET,
            explain=lambda: (
                f"A {SPEED_UP_TARGET}x speed-up on {ms(by_hand)} needs a page of "
                f"at most {ms(by_hand / SPEED_UP_TARGET)}; the warm page takes "
                f"{ms(app)} (rendering the template, {ms(limit)}, is left to "
                f"the fragment cache).\n\n{explain()}"
            ),
        ),
        Row(
            "2 hand-written vs limit",
            ms(by_hand),
            f"limit {ms(limit)} (cached data, page rendered)",
            f"{by_hand / limit:.0f}x faster",
            "",
        ),
    ]


def breakdown(
    products: list[Product], limit_page: Callable[[], str], *, repeat: int
) -> str:
    """Where the warm page's time goes, timed without a profiler."""

    class ProductListOverList(ProductListView):
        def get_queryset(self) -> list[Product]:  # type: ignore[override]
            return products

    over_list = ProductListOverList.as_view()

    def view_over_list() -> HttpResponse:
        return cast(HttpResponse, over_list(FACTORY.get("/products/")))

    def read_page() -> list[Product]:
        return services.list_products()[: app_settings.PAGE_SIZE]

    parts = {
        "ProductListView, warm cache": app_page,
        "ProductListView, fragment cache off": uncached_page,
        "the limit: render_to_string over a list": limit_page,
        "ProductListView over the same list (view and template)": view_over_list,
        "list_products()[:12] alone (cache reads and Product objects)": read_page,
    }
    times = per_call_times(list(parts.values()), repeat=repeat)
    width = max(map(len, parts))
    lines = ["Timed breakdown of the warm page (medians, no profiler):"]
    for label, values in zip(parts, times, strict=True):
        lines.append(f"  {label.ljust(width)}  {ms(median(values))}")
    return "\n".join(lines)


def catalogue_sizes(standins: list[StandIn], *, repeat: int) -> list[Row]:
    """Figure 3: page 1 from catalogues of several sizes, all warm."""
    for standin in standins:
        warm(standin)
    timings = per_call_times(
        [app_page] * len(standins),
        repeat=repeat,
        contexts=[lambda s=standin: using(s) for standin in standins],  # type: ignore[misc]
    )
    smallest = median(timings[0])
    rows = []
    for standin, times in zip(standins, timings, strict=True):
        figure = median(times)
        is_largest = standin is standins[-1]
        rows.append(
            Row(
                f"3 page 1 of {standin.products:,} products",
                ms(figure),
                f"page 1 of {standins[0].products:,}: {ms(smallest)}",
                f"{figure / smallest:.2f}x",
                f"<= {SIZE_RATIO_TARGET}x" if is_largest else "",
                figure / smallest <= SIZE_RATIO_TARGET if is_largest else None,
                explain=_size_profile(standin) if is_largest else None,
            )
        )
    return rows


def _size_profile(standin: StandIn) -> Callable[[], str]:
    def run() -> str:
        with using(standin):
            return profile(
                f"page-1-of-{standin.products}", app_page, calls=PROFILED_CALLS
            )

    return run
