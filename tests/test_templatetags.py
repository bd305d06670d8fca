from __future__ import annotations

import logging
from typing import Any

import pytest
from django.template import Context, Template
from django.test import override_settings

from django_occasion import services
from django_occasion.exceptions import InvalidQuery
from tests.conftest import FakeOccasion

EMPTY_LIST = (
    '\n<p class="occasion-empty">No classes or events to show right now.</p>\n\n'
)
ITEMS = {
    "p7Kd2x": '  <li class="occasion-product occasion-status-active">'
    '<img src="https://images.example.test/products/p7Kd2x/thumb.jpg" alt="" '
    'loading="lazy" width="160" height="120">\n'
    '<a href="/products/p7Kd2x/">Wheel Throwing for Beginners</a>\n'
    '<span class="occasion-venue">Riverbend Main Studio</span>\n'
    "\n</li>\n",
    "p9Rt4b": '  <li class="occasion-product occasion-status-sold_out">\n'
    '<a href="/products/p9Rt4b/">Glaze Lab: Saturday Workshop</a>\n'
    '<span class="occasion-venue">Riverbend Main Studio</span>\n'
    '<span class="occasion-unbookable">Sold out</span>\n'
    "</li>\n",
    "4411": '  <li class="occasion-product occasion-status-active">'
    '<img src="https://images.example.test/products/4411/thumb.png" alt="" '
    'loading="lazy" width="160" height="120">\n'
    '<a href="/products/4411/">Private Studio Rental</a>\n'
    '<span class="occasion-venue">Riverbend Annex</span>\n'
    "\n</li>\n",
}


def product_list(*product_ids: str) -> str:
    """What includes/product_list.html renders for these fixture products."""
    items = "".join("\n" + ITEMS[product_id] for product_id in product_ids)
    return f'\n<ul class="occasion-product-list">\n{items}\n</ul>\n\n'


SOLD_OUT_LIST = product_list("p9Rt4b")
PRODUCT_IDS = "{% for p in products %}{{ p.id }};{% endfor %}"
DOWN_PAGE = (
    "{% occasion_products as products %}{{ products|length }}|"
    '{% occasion_product "p7Kd2x" as product %}'
    "{% if product %}{{ product.title }}{% else %}none{% endif %}|"
    "{% occasion_product_list %}"
)
LINK_REL = 'rel="noopener noreferrer nofollow"'


def render(source: str, **context: Any) -> str:
    return Template("{% load occasion %}" + source).render(Context(context))


# -- occasion_products ---------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("", "p7Kd2x;p9Rt4b;4411;p2Wm8c;"),
        ('status="active"', "p7Kd2x;4411;"),
        ('status="sold_out"', "p9Rt4b;"),
        ('status="inactive"', ""),
        ('status=""', "p7Kd2x;p9Rt4b;4411;p2Wm8c;"),
        ('venue="v3Lk0"', "p7Kd2x;p9Rt4b;p2Wm8c;"),
        ("venue=872", "4411;"),
        ('venue="nowhere"', ""),
        ('status="active" venue="v3Lk0"', "p7Kd2x;"),
        ("limit=2", "p7Kd2x;p9Rt4b;"),
        ("limit=10", "p7Kd2x;p9Rt4b;4411;p2Wm8c;"),
        ('status="active" limit=1', "p7Kd2x;"),
        ('"expired"', "p2Wm8c;"),
    ],
)
def test_occasion_products_filters_into_variable(
    occasion: FakeOccasion, arguments: str, expected: str
) -> None:
    output = render(f"{{% occasion_products {arguments} as products %}}{PRODUCT_IDS}")

    assert output == expected


def test_occasion_products_filters_from_context(occasion: FakeOccasion) -> None:
    output = render(
        "{% occasion_products status=wanted limit=n as products %}" + PRODUCT_IDS,
        wanted="active",
        n=1,
    )

    assert output == "p7Kd2x;"


def test_occasion_products_unknown_status_raises(occasion: FakeOccasion) -> None:
    template = Template('{% load occasion %}{% occasion_products status="bogus" %}')

    with pytest.raises(InvalidQuery, match="unknown product status 'bogus'"):
        template.render(Context())


# -- occasion_product ----------------------------------------------------------


@pytest.mark.parametrize(
    ("product_id", "expected"),
    [
        ("p7Kd2x", "Wheel Throwing for Beginners (Riverbend Clay Studio)"),
        ("4411", "Private Studio Rental (Riverbend Clay Studio)"),
        (4411, "Private Studio Rental (Riverbend Clay Studio)"),
        ("zz999", "none"),
    ],
)
def test_occasion_product_by_id(
    occasion: FakeOccasion, product_id: Any, expected: str
) -> None:
    output = render(
        "{% occasion_product pid as product %}"
        "{% if product %}{{ product.title }} ({{ product.merchant.name }})"
        "{% else %}none{% endif %}",
        pid=product_id,
    )

    assert output == expected


def test_occasion_product_literal_id(occasion: FakeOccasion) -> None:
    output = render('{% occasion_product "p9Rt4b" as p %}{{ p.title }}|{{ p.status }}')

    assert output == "Glaze Lab: Saturday Workshop|sold_out"


def test_occasion_product_unknown_id_is_none(occasion: FakeOccasion) -> None:
    output = render(
        '{% occasion_product "zz999" as product %}'
        "{% if product is None %}is None{% endif %}"
    )

    assert output == "is None"


# -- occasion_product_list -----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            '{% occasion_products status="sold_out" as products %}'
            "{% occasion_product_list products %}",
            SOLD_OUT_LIST,
        ),
        ('{% occasion_product_list status="sold_out" %}', SOLD_OUT_LIST),
        (
            '{% occasion_product_list status="active" %}',
            product_list("p7Kd2x", "4411"),
        ),
        (
            '{% occasion_product_list venue="v3Lk0" status="active" %}',
            product_list("p7Kd2x"),
        ),
        ("{% occasion_product_list limit=2 %}", product_list("p7Kd2x", "p9Rt4b")),
        ('{% occasion_product_list status="inactive" %}', EMPTY_LIST),
        (
            '{% occasion_products status="inactive" as products %}'
            "{% occasion_product_list products %}",
            EMPTY_LIST,
        ),
    ],
)
def test_occasion_product_list_renders_list(
    occasion: FakeOccasion, source: str, expected: str
) -> None:
    output = render(source)

    assert output == expected


def test_occasion_product_list_escapes_titles(occasion: FakeOccasion) -> None:
    product = {
        "type": "products",
        "id": "pX",
        "attributes": {"title": "<b>Raku</b> & smoke", "status": "inactive"},
    }
    occasion.set_products([product])

    output = render("{% occasion_product_list %}")

    assert output == (
        '\n<ul class="occasion-product-list">\n\n'
        '  <li class="occasion-product occasion-status-inactive">\n'
        '<a href="/products/pX/">&lt;b&gt;Raku&lt;/b&gt; &amp; smoke</a>\n\n'
        '<span class="occasion-unbookable">Not taking bookings</span>\n'
        "</li>\n\n"
        "</ul>\n\n"
    )


LIST_TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "loaders": [
                (
                    "django.template.loaders.locmem.Loader",
                    {
                        "my/list.html": (
                            "{% for p in products %}[{{ p.title }}]"
                            "{% empty %}(none){% endfor %}"
                        ),
                    },
                ),
                "django.template.loaders.app_directories.Loader",
            ]
        },
    }
]


@override_settings(TEMPLATES=LIST_TEMPLATES)
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ('status="active"', "[Wheel Throwing for Beginners][Private Studio Rental]"),
        ('status="inactive"', "(none)"),
        ("products", "[Family Hand-Building Afternoon]"),
    ],
)
def test_occasion_product_list_template_name_override(
    occasion: FakeOccasion, arguments: str, expected: str
) -> None:
    output = render(
        '{% occasion_products status="expired" as products %}'
        f'{{% occasion_product_list {arguments} template_name="my/list.html" %}}'
    )

    assert output == expected


# -- occasion_html -------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # Scripts and styles go with their contents.
        ("<p>Hi</p><script>alert(1)</script>", "<p>Hi</p>"),
        ("<ScRiPt>alert(1)</sCrIpT>after", "after"),
        ("<style>p{color:red}</style><p>x</p>", "<p>x</p>"),
        # Event handlers and inline styles are dropped, the element kept.
        ('<p onclick="steal()">Hi</p>', "<p>Hi</p>"),
        (
            '<a href="https://x.test/" onmouseover="x()">a</a>',
            f'<a href="https://x.test/" {LINK_REL}>a</a>',
        ),
        ('<span style="color:red">x</span>', "<span>x</span>"),
        # Unsafe URL schemes lose the href.
        ('<a href="javascript:alert(1)">x</a>', f"<a {LINK_REL}>x</a>"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', f"<a {LINK_REL}>x</a>"),
        ('<a href="java&#x09;script:alert(1)">x</a>', f"<a {LINK_REL}>x</a>"),
        (
            '<a href="data:text/html,<script>alert(1)</script>">d</a>',
            f"<a {LINK_REL}>d</a>",
        ),
        # Embedding and active elements are removed entirely.
        ('<iframe src="https://evil.test"></iframe>ok', "ok"),
        ('<img src=x onerror="alert(1)">', ""),
        ("<svg onload=alert(1)><circle/></svg>", ""),
        ('<object data="x"></object><embed src="y">', ""),
        ('<form action="/x"><input name="a"></form>', ""),
        ('<base href="https://evil.test/">', ""),
        ('<meta http-equiv="refresh" content="0">', ""),
        # Tags outside the list are unwrapped; their text stays.
        ("<h1>Big</h1><table><tr><td>cell</td></tr></table>", "Bigcell"),
        ("<!-- note --><p>x</p>", "<p>x</p>"),
        # What merchants write is kept.
        (
            "<p><strong>a</strong> <em>b</em> <b>c</b> <i>d</i> <u>e</u> <s>f</s>"
            "<br></p><ul><li>g</li></ul><ol><li>h</li></ol>"
            "<blockquote>i</blockquote><h2>j</h2><h6>k</h6><hr>",
            "<p><strong>a</strong> <em>b</em> <b>c</b> <i>d</i> <u>e</u> <s>f</s>"
            "<br></p><ul><li>g</li></ul><ol><li>h</li></ol>"
            "<blockquote>i</blockquote><h2>j</h2><h6>k</h6><hr>",
        ),
        ("<p>unclosed <b>bold", "<p>unclosed <b>bold</b></p>"),
        ("a < b & c", "a &lt; b &amp; c"),
        # Links get a safe rel, whatever they had.
        (
            '<a href="https://x.test/" title="t" rel="opener" target="_blank">x</a>',
            f'<a href="https://x.test/" title="t" {LINK_REL}>x</a>',
        ),
        (
            '<a href="mailto:a@x.test">m</a>',
            f'<a href="mailto:a@x.test" {LINK_REL}>m</a>',
        ),
        (
            '<a href="tel:+15550104400">t</a>',
            f'<a href="tel:+15550104400" {LINK_REL}>t</a>',
        ),
        ('<a href="/faq">f</a>', f'<a href="/faq" {LINK_REL}>f</a>'),
        # Nothing in, nothing out.
        (None, ""),
        ("", ""),
    ],
)
def test_occasion_html_sanitises(html: str | None, expected: str) -> None:
    output = render("{{ html|occasion_html }}", html=html)

    assert output == expected


def test_occasion_html_fixture_description_kept(occasion: FakeOccasion) -> None:
    output = render(
        '{% occasion_product "p7Kd2x" as product %}'
        "{{ product.description|occasion_html }}"
    )

    assert output == (
        "<p>Six evenings at the wheel.</p>"
        "<ul><li>Clay and glazes included</li><li>Aprons provided</li></ul>"
    )


# -- Occasion is down ----------------------------------------------------------


@pytest.mark.parametrize("status", [503, 500, 401])
def test_tags_upstream_down_nothing_cached_render_empty_state(
    occasion: FakeOccasion, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    occasion.fail_with = status
    caplog.set_level(logging.WARNING, logger="django_occasion")

    output = render(DOWN_PAGE)

    assert output == "0|none|" + EMPTY_LIST
    reason = f"GET /api/v1/products answered {status}: Simulated."
    backoff = (
        f"Occasion failed for listing moments ago ({reason}); "
        "not asking again for 30 seconds"
    )
    assert [
        r
        for r in caplog.record_tuples
        if r[0] == "django_occasion.templatetags.occasion"
    ] == [
        (
            "django_occasion.templatetags.occasion",
            logging.WARNING,
            f"Occasion products unavailable; rendering none: {reason}",
        ),
        (
            "django_occasion.templatetags.occasion",
            logging.WARNING,
            "Occasion product p7Kd2x unavailable: Occasion is failing, so "
            f"product-detail:p7Kd2x was not asked for ({reason}); "
            "not asking again for 30 seconds",
        ),
        (
            "django_occasion.templatetags.occasion",
            logging.WARNING,
            f"Occasion products unavailable; rendering none: {backoff}",
        ),
    ]
    assert occasion.listing_calls == 1


def test_tags_upstream_down_empty_state_with_custom_empty_branch(
    occasion: FakeOccasion,
) -> None:
    occasion.fail_with = 503

    output = render(
        '{% occasion_products status="active" limit=3 as products %}'
        "{% for p in products %}{{ p.title }}{% empty %}Nothing today.{% endfor %}"
    )

    assert output == "Nothing today."


@pytest.mark.parametrize("cache_timeout", [300, 0])
def test_tags_upstream_down_warm_cache_render_products(
    occasion: FakeOccasion,
    caplog: pytest.LogCaptureFixture,
    settings: Any,
    cache_timeout: int,
) -> None:
    services.refresh_catalogue()
    occasion.fail_with = 503
    settings.OCCASION_CACHE_TIMEOUT = cache_timeout
    caplog.set_level(logging.WARNING, logger="django_occasion")

    output = render(
        '{% occasion_products status="active" as products %}' + PRODUCT_IDS + "|"
        '{% occasion_product "p7Kd2x" as product %}{{ product.title }}|'
        '{% occasion_product_list status="sold_out" %}'
    )

    assert output == ("p7Kd2x;4411;|Wheel Throwing for Beginners|" + SOLD_OUT_LIST)
    assert [
        r
        for r in caplog.record_tuples
        if r[0] == "django_occasion.templatetags.occasion"
    ] == []


@pytest.mark.parametrize("limit", ["-1", "0", "'3'", "'abc'", "True"])
def test_products_tag_rejects_a_bad_limit(occasion: FakeOccasion, limit: str) -> None:
    template = "{% load occasion %}{% occasion_products limit=" + limit + " as p %}"

    with pytest.raises(InvalidQuery, match="limit must be a whole number"):
        Template(template).render(Context())

    assert occasion.listing_calls == 0
