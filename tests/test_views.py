from __future__ import annotations

import copy
import logging
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path
from django.utils import translation

from django_occasion import services, views
from django_occasion.domain import Product
from tests.conftest import FakeOccasion

FIXTURE_IDS = ["p7Kd2x", "p9Rt4b", "4411", "p2Wm8c"]
UNAVAILABLE_HEADING = "<h1>Classes and events are temporarily unavailable</h1>"


class MovedProductView(views.ProductDetailView):
    """Answers without a template: the mixin passes such responses through."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponseRedirect(f"/products/{self.get_object().id}/")


urlpatterns = [
    path("products/", include("django_occasion.urls")),
    path("moved/<str:product_id>/", MovedProductView.as_view()),
    path(
        "active/",
        views.ProductListView.as_view(
            status="active", filter_from_query=False, paginate_by=1
        ),
    ),
]


def ids(response: Any) -> list[str]:
    return [product.id for product in response.context["products"]]


def card(product_id: str, title: str, venue: str, thumb: str | None) -> str:
    image = (
        f'<img src="https://images.example.test/products/{product_id}/{thumb}" '
        'alt="" loading="lazy" width="160" height="120">'
        if thumb
        else ""
    )
    return (
        f"{image}\n"
        f'<a href="/products/{product_id}/">{title}</a>\n'
        f'<span class="occasion-venue">{venue}</span>\n'
    )


CARDS = {
    "p7Kd2x": card(
        "p7Kd2x", "Wheel Throwing for Beginners", "Riverbend Main Studio", "thumb.jpg"
    ),
    "p9Rt4b": card(
        "p9Rt4b", "Glaze Lab: Saturday Workshop", "Riverbend Main Studio", None
    ),
    "4411": card("4411", "Private Studio Rental", "Riverbend Annex", "thumb.png"),
    "p2Wm8c": card(
        "p2Wm8c",
        "Family Hand-Building Afternoon",
        "Riverbend Main Studio",
        "thumb.jpg",
    ),
}


# -- the list view -------------------------------------------------------------


def test_list_renders_every_product_card(
    client: Client, occasion: FakeOccasion
) -> None:
    response = client.get("/products/")

    content = response.content.decode()
    assert response.status_code == 200
    assert [t.name for t in response.templates][:2] == [
        "django_occasion/product_list.html",
        "django_occasion/base.html",
    ]
    assert ids(response) == FIXTURE_IDS
    for product_card in CARDS.values():
        assert product_card in content
    assert '<span class="occasion-unbookable">Sold out</span>' in content
    assert '<span class="occasion-unbookable">Past</span>' in content
    assert "occasion-pagination" not in content


def test_list_context_has_listing_keys(client: Client, occasion: FakeOccasion) -> None:
    response = client.get("/products/")

    context = response.context
    assert ids(response) == FIXTURE_IDS
    assert [p.id for p in context["page_obj"]] == FIXTURE_IDS
    assert context["paginator"].count == 4
    assert context["paginator"].per_page == 12
    assert context["is_paginated"] is False
    assert context["filters"] == {"status": None, "venue": None}
    assert isinstance(context["listing"], services.ProductListing)
    assert len(context["listing"]) == 4
    assert context["listing"].is_stale is False


@override_settings(OCCASION_PAGE_SIZE=2)
@pytest.mark.parametrize(
    ("query", "expected_ids", "nav"),
    [
        (
            "",
            ["p7Kd2x", "p9Rt4b"],
            '<nav class="occasion-pagination" aria-label="Pages">\n  \n'
            "  <span>Page 1 of 2</span>\n"
            '  <a rel="next" href="?page=2">Next</a>\n</nav>',
        ),
        (
            "?page=1",
            ["p7Kd2x", "p9Rt4b"],
            '<nav class="occasion-pagination" aria-label="Pages">\n  \n'
            "  <span>Page 1 of 2</span>\n"
            '  <a rel="next" href="?page=2">Next</a>\n</nav>',
        ),
        (
            "?page=2",
            ["4411", "p2Wm8c"],
            '<nav class="occasion-pagination" aria-label="Pages">\n'
            '  <a rel="prev" href="?page=1">Previous</a>\n'
            "  <span>Page 2 of 2</span>\n  \n</nav>",
        ),
        (
            "?page=last",
            ["4411", "p2Wm8c"],
            '<nav class="occasion-pagination" aria-label="Pages">\n'
            '  <a rel="prev" href="?page=1">Previous</a>\n'
            "  <span>Page 2 of 2</span>\n  \n</nav>",
        ),
    ],
)
def test_list_page_size_2_paginates(
    client: Client,
    occasion: FakeOccasion,
    query: str,
    expected_ids: list[str],
    nav: str,
) -> None:
    response = client.get(f"/products/{query}")

    content = response.content.decode()
    assert response.status_code == 200
    assert ids(response) == expected_ids
    assert response.context["is_paginated"] is True
    assert response.context["paginator"].num_pages == 2
    assert nav in content
    for product_id, product_card in CARDS.items():
        assert (product_card in content) is (product_id in expected_ids)


@override_settings(OCCASION_PAGE_SIZE=1)
def test_list_pagination_links_keep_filters(
    client: Client, occasion: FakeOccasion
) -> None:
    response = client.get("/products/?status=active&venue=&page=2")

    content = response.content.decode()
    assert ids(response) == ["4411"]
    assert '<a rel="prev" href="?status=active&amp;page=1">Previous</a>' in content
    assert "Next" not in content


@override_settings(OCCASION_PAGE_SIZE=2)
@pytest.mark.parametrize("page", ["3", "0", "-1", "abc", "2.0"])
def test_list_bad_page_is_404(
    client: Client, occasion: FakeOccasion, page: str
) -> None:
    response = client.get("/products/", {"page": page})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "expected_ids", "filters"),
    [
        ({"status": "active"}, ["p7Kd2x", "4411"], {"status": "active", "venue": None}),
        ({"status": "sold_out"}, ["p9Rt4b"], {"status": "sold_out", "venue": None}),
        ({"status": "inactive"}, [], {"status": "inactive", "venue": None}),
        ({"venue": "872"}, ["4411"], {"status": None, "venue": "872"}),
        (
            {"status": "active", "venue": "v3Lk0"},
            ["p7Kd2x"],
            {"status": "active", "venue": "v3Lk0"},
        ),
        ({"status": "  "}, FIXTURE_IDS, {"status": None, "venue": None}),
        ({"venue": "nowhere"}, [], {"status": None, "venue": "nowhere"}),
    ],
)
def test_list_filters_from_query(
    client: Client,
    occasion: FakeOccasion,
    query: dict[str, str],
    expected_ids: list[str],
    filters: dict[str, str | None],
) -> None:
    response = client.get("/products/", query)

    assert response.status_code == 200
    assert ids(response) == expected_ids
    assert response.context["filters"] == filters


def test_list_no_products_renders_empty_state(
    client: Client, occasion: FakeOccasion
) -> None:
    response = client.get("/products/", {"status": "inactive"})

    assert (
        '<p class="occasion-empty">No classes or events to show right now.</p>'
        in response.content.decode()
    )


@pytest.mark.parametrize(
    ("status", "echoed"),
    [
        ("bogus", "'bogus'"),
        ("<script>alert(1)</script>", "'<script>alert(1)</script>'"),
    ],
)
def test_list_unknown_status_is_400_plain_text(
    client: Client, occasion: FakeOccasion, status: str, echoed: str
) -> None:
    response = client.get("/products/", {"status": status})

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        f"unknown product status {echoed}; use one of active, inactive, expired, "
        "sold_out"
    )
    assert occasion.listing_calls == 0


def test_list_view_configured_status_ignores_query(
    client: Client, occasion: FakeOccasion, settings: Any
) -> None:
    settings.ROOT_URLCONF = __name__

    first = client.get("/active/", {"status": "sold_out"})
    second = client.get("/active/", {"page": "2"})

    assert ids(first) == ["p7Kd2x"]
    assert first.context["filters"] == {"status": "active", "venue": None}
    assert ids(second) == ["4411"]


@pytest.mark.parametrize(
    ("url", "status", "location"),
    [("/moved/4411/", 302, "/products/4411/"), ("/moved/zz999/", 404, None)],
)
def test_view_without_template_passes_through(
    client: Client,
    occasion: FakeOccasion,
    settings: Any,
    url: str,
    status: int,
    location: str | None,
) -> None:
    settings.ROOT_URLCONF = __name__

    response = client.get(url)

    assert response.status_code == status
    assert response.get("Location") == location


# -- the detail view -----------------------------------------------------------


@pytest.mark.parametrize(
    ("product_id", "fragments"),
    [
        (
            "p7Kd2x",
            [
                "<title>Wheel Throwing for Beginners</title>",
                "<h1>Wheel Throwing for Beginners</h1>",
                '<img src="https://images.example.test/products/p7Kd2x/full.jpg" '
                'alt="">',
                '<p class="occasion-venue">Riverbend Main Studio, 400 Kiln Street, '
                "Springfield, IL 62701, United States of America</p>",
                '<p class="occasion-merchant">Riverbend Clay Studio</p>',
                '<div class="occasion-description"><p>Six evenings at the wheel.</p>'
                "<ul><li>Clay and glazes included</li><li>Aprons provided</li></ul>"
                "</div>",
                '<p class="occasion-book">Reserve my seat</p>',
                '<p><a href="/products/">All classes and events</a></p>',
            ],
        ),
        (
            "p9Rt4b",
            [
                "<h1>Glaze Lab: Saturday Workshop</h1>",
                '<div class="occasion-description"><p>Mix your own <em>celadon</em>.'
                "</p></div>",
                '<p class="occasion-unbookable">This product is not taking bookings.'
                "</p>",
            ],
        ),
        (
            "4411",
            [
                "<h1>Private Studio Rental</h1>",
                '<p class="occasion-venue">Riverbend Annex, 12 Mill Lane, '
                "Springfield 62702</p>",
                '<div class="occasion-description">Two hours of studio time for up '
                "to eight guests.</div>",
                '<p class="occasion-book">Request booking</p>',
            ],
        ),
    ],
)
def test_detail_renders_product(
    client: Client, occasion: FakeOccasion, product_id: str, fragments: list[str]
) -> None:
    response = client.get(f"/products/{product_id}/")

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["product"].id == product_id
    for fragment in fragments:
        assert fragment in content


def test_detail_sanitises_description_and_escapes_title(
    client: Client, occasion: FakeOccasion
) -> None:
    product = copy.deepcopy(occasion.pages[0]["data"][0])
    product["attributes"]["title"] = "<b>Wheel</b> & kiln"
    product["attributes"]["description"] = (
        '<p onclick="steal()">Six evenings.</p><script>alert(1)</script>'
        '<a href="javascript:alert(2)">Book</a>'
        '<a href="https://riverbend.example.test/faq" onmouseover="x()">FAQ</a>'
    )
    occasion.set_products([product])

    response = client.get("/products/p7Kd2x/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "<h1>&lt;b&gt;Wheel&lt;/b&gt; &amp; kiln</h1>" in content
    assert (
        '<div class="occasion-description"><p>Six evenings.</p>'
        '<a rel="noopener noreferrer nofollow">Book</a>'
        '<a href="https://riverbend.example.test/faq" '
        'rel="noopener noreferrer nofollow">FAQ</a></div>'
    ) in content
    for unsafe in ("<script", "alert(1)", "onclick", "onmouseover", "javascript:"):
        assert unsafe not in content


def test_detail_product_missing_from_listing_is_404_without_request(
    client: Client, occasion: FakeOccasion
) -> None:
    services.refresh_catalogue()
    occasion.pages[0]["data"].append(
        {
            "type": "products",
            "id": "p5New",
            "attributes": {"title": "Raku Night", "status": "active"},
        }
    )
    calls = len(occasion.mock.calls)

    response = client.get("/products/p5New/")

    assert response.status_code == 404
    assert len(occasion.mock.calls) == calls


def test_detail_unknown_id_is_404(client: Client, occasion: FakeOccasion) -> None:
    response = client.get("/products/zz999/")

    assert response.status_code == 404


# -- Occasion is down ----------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/products/", "/products/?status=active", "/products/p7Kd2x/"]
)
@pytest.mark.parametrize("status", [500, 503, 401])
def test_upstream_down_nothing_cached_is_503(
    client: Client,
    occasion: FakeOccasion,
    caplog: pytest.LogCaptureFixture,
    url: str,
    status: int,
) -> None:
    occasion.fail_with = status

    response = client.get(url)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"  # OCCASION_FAILURE_BACKOFF
    assert [t.name for t in response.templates] == [
        "django_occasion/unavailable.html",
        "django_occasion/base.html",
    ]
    assert UNAVAILABLE_HEADING in response.content.decode()
    assert ("django_occasion.views", logging.WARNING) in [
        (r.name, r.levelno) for r in caplog.records
    ]


def test_upstream_down_second_request_backs_off(
    client: Client, occasion: FakeOccasion
) -> None:
    occasion.fail_with = 503
    client.get("/products/")

    response = client.get("/products/")

    assert response.status_code == 503
    assert occasion.listing_calls == 1


DOWN_PAGES = [
    ("/products/", FIXTURE_IDS[:2]),
    ("/products/?page=2", FIXTURE_IDS[2:]),
    ("/products/?status=active", ["p7Kd2x", "4411"]),
    ("/products/?status=expired", ["p2Wm8c"]),
    ("/products/?venue=872", ["4411"]),
]


@pytest.mark.parametrize("cache_timeout", [300, 0])
@pytest.mark.parametrize(("url", "expected_ids"), DOWN_PAGES)
def test_upstream_down_after_refresh_lists_serve_cache(
    client: Client,
    occasion: FakeOccasion,
    settings: Any,
    cache_timeout: int,
    url: str,
    expected_ids: list[str],
) -> None:
    # Through the fixture, not @override_settings: mixing the two restores
    # them out of order and leaks the page size into later tests.
    settings.OCCASION_PAGE_SIZE = 2
    services.refresh_catalogue()
    occasion.fail_with = 503
    settings.OCCASION_CACHE_TIMEOUT = cache_timeout

    response = client.get(url)

    assert response.status_code == 200
    assert ids(response) == expected_ids
    assert response.context["listing"].is_stale is (cache_timeout == 0)


@pytest.mark.parametrize("cache_timeout", [300, 0])
@pytest.mark.parametrize(
    ("product_id", "title"),
    [
        ("p7Kd2x", "Wheel Throwing for Beginners"),
        ("4411", "Private Studio Rental"),
        ("p2Wm8c", "Family Hand-Building Afternoon"),
    ],
)
def test_upstream_down_after_refresh_detail_serves_cache(
    client: Client,
    occasion: FakeOccasion,
    settings: Any,
    cache_timeout: int,
    product_id: str,
    title: str,
) -> None:
    services.refresh_catalogue()
    occasion.fail_with = 503
    settings.OCCASION_CACHE_TIMEOUT = cache_timeout

    response = client.get(f"/products/{product_id}/")

    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in response.content.decode()


@override_settings(OCCASION_CACHE_TIMEOUT=0, OCCASION_PAGE_SIZE=2)
def test_upstream_down_stale_pages_same_as_before(
    client: Client, occasion: FakeOccasion, caplog: pytest.LogCaptureFixture
) -> None:
    urls = [url for url, _ in DOWN_PAGES] + ["/products/p7Kd2x/", "/products/4411/"]
    before = [client.get(url).content for url in urls]
    occasion.fail_with = 503
    calls = occasion.listing_calls

    after = [client.get(url) for url in urls]

    assert [r.status_code for r in after] == [200] * len(urls)
    assert [r.content for r in after] == before
    assert occasion.listing_calls == calls + 1
    assert (
        "django_occasion.services",
        logging.WARNING,
        "Occasion listing failed; serving stale data: "
        "GET /api/v1/products answered 503: Simulated.",
    ) in caplog.record_tuples


# -- overriding templates ------------------------------------------------------

OVERRIDES = {
    "django_occasion/product_list.html": (
        "{% for product in products %}{{ product.title }}|{% endfor %}"
        "{% include 'django_occasion/includes/product_list.html' %}"
    ),
    "django_occasion/includes/product_card.html": "[{{ product.id }}]",
    "django_occasion/product_detail.html": "Detail: {{ product.title }}",
    "django_occasion/unavailable.html": "Down: {{ error_kind }}",
}
OVERRIDE_TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "loaders": [
                ("django.template.loaders.locmem.Loader", OVERRIDES),
                "django.template.loaders.app_directories.Loader",
            ]
        },
    }
]


@override_settings(TEMPLATES=OVERRIDE_TEMPLATES)
def test_templates_overridable_list(client: Client, occasion: FakeOccasion) -> None:
    response = client.get("/products/", {"status": "active"})

    assert response.content.decode() == (
        "Wheel Throwing for Beginners|Private Studio Rental|"
        '\n<ul class="occasion-product-list">\n\n'
        '  <li class="occasion-product occasion-status-active">[p7Kd2x]</li>\n\n'
        '  <li class="occasion-product occasion-status-active">[4411]</li>\n\n'
        "</ul>\n\n"
    )


@override_settings(TEMPLATES=OVERRIDE_TEMPLATES)
def test_templates_overridable_detail(client: Client, occasion: FakeOccasion) -> None:
    response = client.get("/products/p7Kd2x/")

    assert response.content.decode() == "Detail: Wheel Throwing for Beginners"


@override_settings(TEMPLATES=OVERRIDE_TEMPLATES)
def test_templates_overridable_unavailable(
    client: Client, occasion: FakeOccasion
) -> None:
    occasion.fail_with = 503

    response = client.get("/products/")

    assert response.status_code == 503
    assert response.content.decode() == "Down: UpstreamUnavailable"


# -- the rendered list, cached ---------------------------------------------------


class ListOverList(views.ProductListView):
    """Pages a plain list, which has no generation to key a fragment on."""

    products: list[Product] = []

    def get_queryset(self) -> list[Product]:  # type: ignore[override]
        return self.products


@pytest.fixture
def product_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The key of every listing chunk and product read from the cache."""
    reads: list[str] = []
    original = caches["default"].get_many

    def counting_get_many(keys: Any, *args: Any, **kwargs: Any) -> Any:
        keys = list(keys)
        reads.extend(key for key in keys if ":product:" in key or ":ids:" in key)
        return original(keys, *args, **kwargs)

    monkeypatch.setattr(caches["default"], "get_many", counting_get_many)
    return reads


def cached_fragment(listing: services.ProductListing, **vary: Any) -> Any:
    """The list as ``product_list.html`` cached it, by what it varies on."""
    values = {
        "status": None,
        "venue": None,
        "page": 1,
        "per_page": 12,
        "language": "en-us",
        "path": "/products/",
        **vary,
    }
    key = make_template_fragment_key(
        "django_occasion_product_list", [listing.generation, *values.values()]
    )
    return caches["default"].get(key)


def test_list_second_render_reads_no_product_and_is_identical(
    client: Client, occasion: FakeOccasion, product_reads: list[str]
) -> None:
    first = client.get("/products/")
    assert product_reads
    product_reads.clear()

    second = client.get("/products/")

    assert second.status_code == 200
    assert second.content == first.content
    assert product_reads == []
    assert repr(second.context["products"]) == "<ProductSlice [0:4], unread>"


def test_list_fragment_holds_the_list_and_page_links_only(
    client: Client, occasion: FakeOccasion
) -> None:
    response = client.get("/products/")

    fragment = cached_fragment(response.context["listing"])
    assert fragment.lstrip().startswith('<ul class="occasion-product-list">')
    assert fragment.rstrip().endswith("</ul>")
    assert (
        f"<h1>Classes and events</h1>\n  {fragment}\n</section>"
        in response.content.decode()
    )


def test_list_refresh_renders_the_new_generation(
    client: Client, occasion: FakeOccasion
) -> None:
    client.get("/products/")
    changed = copy.deepcopy(occasion.pages)
    changed[0]["data"][0]["attributes"]["title"] = "Wheel Throwing, renamed"
    occasion.pages = changed
    services.refresh_catalogue()

    response = client.get("/products/")

    content = response.content.decode()
    assert '<a href="/products/p7Kd2x/">Wheel Throwing, renamed</a>' in content
    assert "Wheel Throwing for Beginners" not in content


@override_settings(OCCASION_PAGE_SIZE=2)
def test_list_filters_and_pages_have_fragments_of_their_own(
    client: Client, occasion: FakeOccasion, product_reads: list[str]
) -> None:
    pages = {
        "/products/": ["p7Kd2x", "p9Rt4b"],
        "/products/?page=2": ["4411", "p2Wm8c"],
        "/products/?status=active": ["p7Kd2x", "4411"],
        "/products/?venue=872": ["4411"],
    }
    for url in pages:
        client.get(url)
    product_reads.clear()

    contents = {url: client.get(url).content.decode() for url in pages}

    assert product_reads == []
    for url, expected_ids in pages.items():
        for product_id, product_card in CARDS.items():
            assert (product_card in contents[url]) is (product_id in expected_ids)


def test_list_language_has_a_fragment_of_its_own(
    client: Client, occasion: FakeOccasion, product_reads: list[str]
) -> None:
    english = client.get("/products/")
    product_reads.clear()

    with translation.override("fr"):
        client.get("/products/")

    listing = english.context["listing"]
    assert product_reads != []
    assert cached_fragment(listing, language="fr") == cached_fragment(listing)


VISITOR_TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "context_processors": ["django.template.context_processors.request"],
            "loaders": [
                (
                    "django.template.loaders.locmem.Loader",
                    {
                        "django_occasion/base.html": (
                            "Hello {{ request.GET.visitor }}|"
                            "{% block content %}{% endblock %}"
                        )
                    },
                ),
                "django.template.loaders.app_directories.Loader",
            ],
        },
    }
]


@override_settings(TEMPLATES=VISITOR_TEMPLATES)
def test_list_visitor_parts_are_rendered_for_each_visitor(
    client: Client, occasion: FakeOccasion, product_reads: list[str]
) -> None:
    ann = client.get("/products/", {"visitor": "ann"}).content.decode()
    product_reads.clear()

    bob = client.get("/products/", {"visitor": "bob"}).content.decode()

    assert product_reads == []
    assert ann.startswith('Hello ann|\n<section class="occasion-products">')
    assert bob == ann.replace("Hello ann|", "Hello bob|", 1)


def test_list_cache_fragment_false_renders_every_time(
    rf: RequestFactory, occasion: FakeOccasion, product_reads: list[str]
) -> None:
    view = views.ProductListView.as_view(cache_fragment=False)
    first = view(rf.get("/products/"))
    product_reads.clear()

    second = view(rf.get("/products/"))

    assert second.content == first.content
    assert product_reads != []
    assert second.context_data["occasion_cache_alias"] is None


def test_list_over_a_plain_list_is_not_cached(
    rf: RequestFactory, occasion: FakeOccasion
) -> None:
    products = list(services.list_products())

    first = ListOverList.as_view(products=products[:1])(rf.get("/products/"))
    second = ListOverList.as_view(products=products[1:2])(rf.get("/products/"))

    assert [p.id for p in first.context_data["products"]] == ["p7Kd2x"]
    assert CARDS["p7Kd2x"] in first.content.decode()
    assert CARDS["p9Rt4b"] in second.content.decode()
    assert CARDS["p7Kd2x"] not in second.content.decode()


def test_list_mounted_twice_keeps_a_fragment_for_each(
    client: Client, occasion: FakeOccasion, settings: Any
) -> None:
    settings.ROOT_URLCONF = __name__
    client.get("/products/", {"status": "active"})

    response = client.get("/active/")

    content = response.content.decode()
    assert CARDS["p7Kd2x"] in content
    assert CARDS["4411"] not in content
    assert '<a rel="next" href="?status=active&amp;page=2">Next</a>' in content


def test_list_filter_matching_nothing_caches_no_fragment(
    client: Client, occasion: FakeOccasion
) -> None:
    client.get("/products/")
    entries = len(caches["default"]._cache)  # type: ignore[attr-defined]

    for n in range(5):
        client.get(f"/products/?venue=made-up-{n}")

    assert len(caches["default"]._cache) == entries  # type: ignore[attr-defined]
