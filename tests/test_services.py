from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.test import override_settings

from django_occasion import services
from django_occasion.conf import app_settings
from django_occasion.exceptions import (
    CacheTooSmall,
    InvalidQuery,
    NotFound,
    OccasionError,
    UpstreamBackoff,
    UpstreamUnavailable,
)
from django_occasion.signals import catalogue_refreshed
from tests.conftest import FakeOccasion


def make_product(
    number: int, *, status: str = "active", venue: str = "v3Lk0"
) -> dict[str, Any]:
    return {
        "type": "products",
        "id": f"p{number}",
        "attributes": {"title": f"Product {number}", "status": status},
        "relationships": {
            "merchant": {"data": {"type": "merchants", "id": "m1Qa9"}},
            "venue": {"data": {"type": "venues", "id": venue}},
        },
    }


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def catalogue(occasion: FakeOccasion, clock: Clock) -> services.Catalogue:
    return services.Catalogue(services.get_client(), cache, clock=clock)


def titles(products: Any) -> list[str]:
    return [product.title for product in products]


def test_list_products_miss_fetches_every_page_then_hits(
    occasion: FakeOccasion,
) -> None:
    first = services.list_products()
    second = services.list_products()

    assert titles(first) == [
        "Wheel Throwing for Beginners",
        "Glaze Lab: Saturday Workshop",
        "Private Studio Rental",
        "Family Hand-Building Afternoon",
    ]
    assert titles(second) == titles(first)
    assert occasion.listing_calls == 2


def test_list_products_resolves_venue_and_merchant(occasion: FakeOccasion) -> None:
    products = list(services.list_products())

    assert [p.venue.name if p.venue else None for p in products] == [
        "Riverbend Main Studio",
        "Riverbend Main Studio",
        "Riverbend Annex",
        "Riverbend Main Studio",
    ]
    assert {p.merchant.name for p in products if p.merchant} == {
        "Riverbend Clay Studio"
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "active"}, ["p7Kd2x", "4411"]),
        ({"status": "sold_out"}, ["p9Rt4b"]),
        ({"status": "inactive"}, []),
        ({"venue": "872"}, ["4411"]),
        ({"venue": "v3Lk0", "status": "active"}, ["p7Kd2x"]),
        ({"venue": "nowhere"}, []),
    ],
)
def test_list_products_filters(
    occasion: FakeOccasion, filters: dict[str, str], expected: list[str]
) -> None:
    listing = services.list_products(**filters)

    assert [product.id for product in listing] == expected
    assert len(listing) == len(expected)


def test_list_products_unknown_status_is_rejected_before_any_request(
    occasion: FakeOccasion,
) -> None:
    with pytest.raises(InvalidQuery, match="unknown product status 'bogus'"):
        services.list_products(status="bogus")

    assert occasion.listing_calls == 0


def test_listing_slices_and_indexes_across_chunks(occasion: FakeOccasion) -> None:
    occasion.set_products([make_product(n) for n in range(250)])

    listing = services.list_products()

    assert len(listing) == 250
    assert listing.count() == 250
    assert [p.id for p in listing[95:105]] == [f"p{n}" for n in range(95, 105)]
    assert listing[0].id == "p0"
    assert listing[-1].id == "p249"
    assert [p.id for p in listing[240:300]] == [f"p{n}" for n in range(240, 250)]
    assert [p.id for p in listing[0:10:4]] == ["p0", "p4", "p8"]
    assert listing[300:310] == []
    assert [p.id for p in listing] == [f"p{n}" for n in range(250)]
    with pytest.raises(IndexError):
        listing[250]


def test_listing_page_reads_do_not_grow_with_the_catalogue(
    occasion: FakeOccasion,
) -> None:
    occasion.set_products([make_product(n) for n in range(1000)])
    listing = services.list_products()
    again = services.list_products()
    reads: list[list[str]] = []
    original = cache.get_many

    def counting_get_many(keys: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(list(keys))
        return original(keys, *args, **kwargs)

    cache.get_many = counting_get_many  # type: ignore[method-assign]
    try:
        page = listing[500:512]
        page_again = again[500:512]
    finally:
        del cache.get_many

    assert [p.id for p in page] == [f"p{n}" for n in range(500, 512)]
    assert page_again == page
    # The first read takes the chunk with the merchants and venues, then the
    # 12 products; the process has built them all, so the next takes the chunk.
    assert [len(keys) for keys in reads] == [2, 12, 1]


def test_refresh_publishes_a_new_generation_and_removes_the_old(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    catalogue.refresh()
    old = catalogue.manifest_or_none()
    assert old is not None
    changed = copy.deepcopy(occasion.pages)
    changed[0]["data"][0]["attributes"]["title"] = "Wheel Throwing, renamed"
    occasion.pages = changed

    result = catalogue.refresh()

    new = catalogue.manifest_or_none()
    assert new is not None and new.generation != old.generation
    assert result.changed == frozenset({"p7Kd2x"})
    assert result.added == result.removed == frozenset()
    assert cache.get(catalogue.key(old.generation, "related")) is None
    assert cache.get(catalogue.chunk_key(old.generation, "all", 0)) is None
    assert titles(catalogue.listing())[0] == "Wheel Throwing, renamed"


def test_refresh_writes_only_products_that_changed(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    catalogue.refresh()
    written: list[str] = []
    original = cache.set_many

    def recording_set_many(values: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        written.extend(values)
        return original(values, *args, **kwargs)

    cache.set_many = recording_set_many  # type: ignore[method-assign]
    try:
        catalogue.refresh()
    finally:
        del cache.set_many

    assert [key for key in written if ":product:" in key] == []


def test_refresh_reports_added_and_removed_products(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    occasion.set_products([make_product(1), make_product(2)])
    catalogue.refresh()
    occasion.set_products([make_product(2), make_product(3)])

    result = catalogue.refresh()

    assert result.added == frozenset({"p3"})
    assert result.removed == frozenset({"p1"})
    assert result.products == 2
    assert result.pages == 1


def test_refresh_sends_the_catalogue_refreshed_signal(
    occasion: FakeOccasion,
) -> None:
    received: list[services.RefreshResult] = []

    def handler(sender: Any, result: services.RefreshResult, **kwargs: Any) -> None:
        received.append(result)

    catalogue_refreshed.connect(handler)
    try:
        result = services.refresh_catalogue()
    finally:
        catalogue_refreshed.disconnect(handler)

    assert received == [result]


def test_dry_run_fetches_but_leaves_the_cache_alone(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    result = catalogue.refresh(dry_run=True)

    assert (result.products, result.pages, result.dry_run) == (4, 2, True)
    assert catalogue.manifest_or_none() is None


def test_failed_refresh_keeps_the_previous_data(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    catalogue.refresh()
    before = catalogue.manifest_or_none()
    occasion.fail_with = 503

    with pytest.raises(UpstreamUnavailable):
        catalogue.refresh()

    assert catalogue.manifest_or_none() == before
    assert len(catalogue.listing()) == 4
    outcome = catalogue.last_refresh()
    assert outcome is not None and outcome["ok"] is False


def test_failure_on_a_later_page_keeps_the_previous_data(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    catalogue.refresh()
    before = catalogue.manifest_or_none()
    occasion.pages[1] = {"not": "json:api"}

    with pytest.raises(Exception, match="holds no JSON:API data"):
        catalogue.refresh()

    assert catalogue.manifest_or_none() == before


def test_stale_listing_is_refreshed_by_the_reader(
    occasion: FakeOccasion, catalogue: services.Catalogue, clock: Clock
) -> None:
    catalogue.refresh()
    first = catalogue.manifest_or_none()
    clock.now += app_settings.CACHE_TIMEOUT + 1

    listing = catalogue.listing()

    assert listing.manifest != first
    assert occasion.listing_calls == 4


def test_stale_listing_is_served_when_the_upstream_fails(
    occasion: FakeOccasion,
    catalogue: services.Catalogue,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalogue.refresh()
    clock.now += app_settings.CACHE_TIMEOUT + 1
    occasion.fail_with = 500

    listing = catalogue.listing()
    again = catalogue.listing()

    assert len(listing) == len(again) == 4
    assert listing.is_stale
    assert occasion.listing_calls == 3  # one failed try, then the back-off
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "serving stale data" in warnings[0].getMessage()


def test_back_off_ends_after_its_window(
    occasion: FakeOccasion, catalogue: services.Catalogue, clock: Clock
) -> None:
    occasion.fail_with = 503
    with pytest.raises(UpstreamUnavailable):
        catalogue.listing()
    with pytest.raises(UpstreamBackoff):
        catalogue.listing()
    assert occasion.listing_calls == 1
    # The window has passed: both the entry's and the API-wide marks expire.
    cache.delete_many([catalogue.key("failure", "listing"), catalogue.key("outage")])
    occasion.fail_with = None

    listing = catalogue.listing()

    assert len(listing) == 4
    assert occasion.listing_calls == 3


@override_settings(OCCASION_CACHE_TIMEOUT=30, OCCASION_MAX_STALENESS=60)
def test_too_old_listing_is_not_served_but_kept(
    occasion: FakeOccasion, catalogue: services.Catalogue, clock: Clock
) -> None:
    catalogue.refresh()
    kept = catalogue.manifest_or_none()
    clock.now += 61
    occasion.fail_with = 503

    with pytest.raises(UpstreamUnavailable):
        catalogue.listing()

    assert catalogue.manifest_or_none() == kept


def test_get_product_reads_the_listing_without_a_request(
    occasion: FakeOccasion,
) -> None:
    services.refresh_catalogue()
    occasion.fail_with = 503

    product = services.get_product("4411")

    assert product.title == "Private Studio Rental"
    assert product.venue is not None and product.venue.name == "Riverbend Annex"


def test_get_product_missing_from_the_listing_is_not_found_without_a_request(
    occasion: FakeOccasion,
) -> None:
    services.refresh_catalogue()
    occasion.pages[0]["data"].append(make_product(99))  # created after the refresh
    calls = len(occasion.mock.calls)

    with pytest.raises(NotFound, match="no product has id 'p99'"):
        services.get_product("p99")

    assert len(occasion.mock.calls) == calls


def test_get_product_without_a_listing_is_fetched_alone_and_cached(
    occasion: FakeOccasion,
) -> None:
    occasion.pages[1] = {"not": "json:api"}  # the listing cannot be read

    first = services.get_product("p7Kd2x")
    occasion.fail_with = 503
    second = services.get_product("p7Kd2x")

    assert first == second
    assert first.title == "Wheel Throwing for Beginners"


@pytest.mark.parametrize("product_id", ["..", "a/b", "p1?x=1", "id with space"])
def test_get_product_odd_id_never_reaches_a_url(
    occasion: FakeOccasion, product_id: str
) -> None:
    occasion.pages[1] = {"not": "json:api"}

    with pytest.raises(NotFound, match="is not a product id"):
        services.get_product(product_id)

    assert [c.request.path_url for c in occasion.mock.calls] == [
        "/api/v1/products?include=merchant%2Cvenue&page%5Bsize%5D=100",
        "/api/v1/products?include=merchant%2Cvenue&page%5Bnumber%5D=2&page%5Bsize%5D=3",
    ]


def test_outage_backs_off_every_entry_not_just_the_failed_one(
    occasion: FakeOccasion,
) -> None:
    occasion.fail_with = 503
    with pytest.raises(UpstreamUnavailable):
        services.list_products()

    with pytest.raises(UpstreamBackoff):
        services.get_product("p7Kd2x")

    assert len(occasion.mock.calls) == 1


def test_get_product_with_nothing_cached_and_upstream_down_raises(
    occasion: FakeOccasion,
) -> None:
    occasion.fail_with = 503

    with pytest.raises(UpstreamBackoff, match="answered 503"):
        services.get_product("p7Kd2x")

    assert len(occasion.mock.calls) == 1


def test_private_attributes_never_reach_the_cache(occasion: FakeOccasion) -> None:
    product = make_product(1)
    product["attributes"].update(email_subject="Secret", from_name="Owner")
    occasion.set_products([product])

    services.refresh_catalogue()

    stored = [
        value
        for key, value in cache._cache.items()  # type: ignore[attr-defined]
        if b"Secret" in value or b"Owner" in value
    ]
    assert stored == []
    assert services.get_product("p1").extra == {}


def test_cache_entries_are_plain_json(occasion: FakeOccasion) -> None:
    catalogue = services.get_catalogue()
    catalogue.refresh()
    manifest = catalogue.manifest_or_none()
    assert manifest is not None

    chunk = cache.get(catalogue.chunk_key(manifest.generation, "all", 0))
    digest = chunk[0][1]
    product = json.loads(cache.get(catalogue.product_key(digest)))

    assert json.loads(json.dumps(cache.get(catalogue.key("current")))) == (
        manifest.to_json()
    )
    assert product["id"] == "p7Kd2x"
    assert product["relationships"]["venue"] == {
        "data": {"type": "venues", "id": "v3Lk0"}
    }


def test_evicted_products_are_skipped_and_the_listing_refreshed(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    catalogue.refresh()
    manifest = catalogue.manifest_or_none()
    assert manifest is not None
    chunk = cache.get(catalogue.chunk_key(manifest.generation, "all", 0))
    cache.delete(catalogue.product_key(chunk[1][1]))

    damaged = catalogue.listing()[0:4]
    repaired = catalogue.listing()

    assert [p.id for p in damaged] == ["p7Kd2x", "4411", "p2Wm8c"]
    assert [p.id for p in repaired] == ["p7Kd2x", "p9Rt4b", "4411", "p2Wm8c"]
    assert occasion.listing_calls == 4


def test_reader_follows_a_refresh_that_replaced_its_generation(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    catalogue.refresh()
    listing = catalogue.listing()
    occasion.set_products([make_product(1), make_product(2)])
    catalogue.refresh()

    products = listing[0:4]

    assert [p.id for p in products] == ["p1", "p2"]


@pytest.mark.parametrize("value", ["p7Kd2x", "4411", "a_b-c.d"])
def test_safe_key_part_keeps_simple_ids(value: str) -> None:
    assert services.safe_key_part(value) == value


@pytest.mark.parametrize("value", ["has space", "ünïcode", "x" * 65, "", "a:b"])
def test_safe_key_part_digests_other_ids(value: str) -> None:
    result = services.safe_key_part(value)

    assert result.startswith("h")
    assert len(result) == 25
    assert result.isalnum()


@override_settings(OCCASION_API_LOGIN="other-login")
def test_scope_differs_per_account_and_holds_no_key() -> None:
    other = services.scope_name(app_settings)

    with override_settings(OCCASION_API_LOGIN="test-login"):
        mine = services.scope_name(app_settings)

    assert other != mine
    assert "login" not in mine


@override_settings(OCCASION_DEMO=True)
def test_scope_of_demo_mode_is_named() -> None:
    assert services.scope_name(app_settings) == "demo"


@pytest.fixture
def second_cache() -> Iterator[str]:
    with override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "occasion": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "occasion-alias",
            },
        },
        OCCASION_CACHE_ALIAS="occasion",
    ):
        yield "occasion"


def test_cache_alias_setting_is_honoured(
    occasion: FakeOccasion, second_cache: str
) -> None:
    services.refresh_catalogue()

    assert services.get_catalogue().cache is caches[second_cache]
    assert caches[second_cache].get(services.get_catalogue().key("current"))


def test_list_products_accepts_numeric_venue_ids(occasion: FakeOccasion) -> None:
    listing = services.list_products(venue=872)

    assert [product.id for product in listing] == ["4411"]


@pytest.mark.parametrize(
    ("timeout", "expected"), [(0.2, 1), (1, 1), (1.5, 2), (30, 30)]
)
def test_whole_seconds_never_rounds_a_lock_away(timeout: float, expected: int) -> None:
    assert services.whole_seconds(timeout) == expected


@override_settings(OCCASION_LOCK_TIMEOUT=0.4, OCCASION_FAILURE_BACKOFF=0.4)
def test_sub_second_lock_and_back_off_are_kept_a_whole_second(
    occasion: FakeOccasion,
) -> None:
    occasion.fail_with = 503
    with pytest.raises(UpstreamUnavailable):
        services.list_products()

    with pytest.raises(UpstreamBackoff):
        services.list_products()

    assert occasion.listing_calls == 1


# -- products built once a process ----------------------------------------------


@pytest.fixture
def cache_reads(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The keys of every ``get_many`` on the default cache, call by call."""
    reads: list[list[str]] = []
    original = caches["default"].get_many

    def counting_get_many(keys: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(list(keys))
        return original(keys, *args, **kwargs)

    monkeypatch.setattr(caches["default"], "get_many", counting_get_many)
    return reads


@pytest.fixture
def memos(monkeypatch: pytest.MonkeyPatch) -> tuple[services._Memo[Any, Any], ...]:
    """Empty memos of the usual sizes, so that a test can count what they hold."""
    products: services._Memo[Any, Any] = services._Memo(services.PRODUCT_MEMO_SIZE)
    related: services._Memo[Any, Any] = services._Memo(services.RELATED_MEMO_SIZE)
    monkeypatch.setattr(services, "_product_memo", products)
    monkeypatch.setattr(services, "_related_memo", related)
    return products, related


def test_warm_page_reads_the_manifest_and_one_chunk_only(
    occasion: FakeOccasion, cache_reads: list[list[str]]
) -> None:
    occasion.set_products([make_product(n) for n in range(30)])
    first = services.list_products()[0:12]
    cache_reads.clear()

    listing = services.list_products()
    page = listing[0:12]

    catalogue = services.get_catalogue()
    assert page == first
    assert cache_reads == [
        [catalogue.key("current"), catalogue.key("damaged")],
        [catalogue.chunk_key(listing.generation, "all", 0)],
    ]


def test_memoised_product_is_served_after_its_entry_is_evicted(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    catalogue.refresh()
    before = catalogue.listing()[0:4]
    manifest = catalogue.manifest_or_none()
    assert manifest is not None
    chunk = cache.get(catalogue.chunk_key(manifest.generation, "all", 0))
    cache.delete(catalogue.product_key(chunk[1][1]))

    after = catalogue.listing()[0:4]

    assert after == before
    assert [p.id for p in after] == ["p7Kd2x", "p9Rt4b", "4411", "p2Wm8c"]
    assert cache.get(catalogue.key("damaged")) is None


def test_memo_is_kept_per_namespace(
    occasion: FakeOccasion, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both accounts publish a generation of the same name holding the same
    # product entries; only their venues differ.
    monkeypatch.setattr(services.secrets, "token_hex", lambda n: "0" * 2 * n)
    client = services.get_client()
    mine = services.Catalogue(client, cache, clock=clock, namespace="occasion:mine")
    theirs = services.Catalogue(client, cache, clock=clock, namespace="occasion:theirs")
    mine.refresh()
    mine_first = mine.listing()[0]
    for page in occasion.pages:
        for resource in page.get("included", []):
            if resource["type"] == "venues":
                resource["attributes"]["name"] = "Their studio"
    theirs.refresh()

    theirs_first = theirs.listing()[0]

    assert mine.listing().generation == theirs.listing().generation
    assert mine_first.venue is not None
    assert mine_first.venue.name == "Riverbend Main Studio"
    assert theirs_first.venue is not None
    assert theirs_first.venue.name == "Their studio"


def test_memo_is_bounded_and_drops_the_least_recently_used() -> None:
    memo: services._Memo[str, int] = services._Memo(3)
    memo.set_many({"a": 1, "b": 2, "c": 3})
    memo.get("a")

    memo.set_many({"d": 4})

    assert len(memo) == 3
    assert memo.get_many(["a", "b", "c", "d"]) == {"a": 1, "c": 3, "d": 4}
    assert services._product_memo.maxsize == services.PRODUCT_MEMO_SIZE
    assert services._related_memo.maxsize == services.RELATED_MEMO_SIZE


def test_listing_memo_holds_at_most_its_size(
    occasion: FakeOccasion,
    monkeypatch: pytest.MonkeyPatch,
    cache_reads: list[list[str]],
) -> None:
    occasion.set_products([make_product(n) for n in range(30)])
    small: services._Memo[Any, Any] = services._Memo(5)
    monkeypatch.setattr(services, "_product_memo", small)
    services.list_products()[0:12]
    cache_reads.clear()

    page = services.list_products()[0:12]

    assert [p.id for p in page] == [f"p{n}" for n in range(12)]
    assert len(small) == 5
    # The 5 products the memo kept are not read again; the other 7 are.
    assert [len(keys) for keys in cache_reads] == [2, 1, 7]


def test_products_built_without_their_venues_are_not_memoised(
    occasion: FakeOccasion,
    catalogue: services.Catalogue,
    memos: tuple[services._Memo[Any, Any], ...],
) -> None:
    catalogue.refresh()
    manifest = catalogue.manifest_or_none()
    assert manifest is not None
    cache.delete(catalogue.key(manifest.generation, "related"))

    damaged = catalogue.listing()[0:4]

    assert [p.venue for p in damaged] == [None] * 4
    assert [len(memo) for memo in memos] == [0, 0]
    assert cache.get(catalogue.key("damaged")) == manifest.generation


def test_get_product_reuses_the_products_a_page_built(
    occasion: FakeOccasion, cache_reads: list[list[str]]
) -> None:
    listed = services.list_products()[0:4]
    cache_reads.clear()

    product = services.get_product("4411")

    assert product is listed[2]
    assert [len(keys) for keys in cache_reads] == [2, 1]
    assert not any(":product:" in key for keys in cache_reads for key in keys)


def test_product_slice_reads_once_on_first_use(
    occasion: FakeOccasion, cache_reads: list[list[str]]
) -> None:
    listing = services.list_products()
    cache_reads.clear()
    part = services.ProductSlice(listing, 1, 3)
    unread = repr(part)

    used = [part[0].id, [p.id for p in part[0:2]], len(part), [p.id for p in part]]

    assert unread == "<ProductSlice [1:3], unread>"
    assert used == ["p9Rt4b", ["p9Rt4b", "4411"], 2, ["p9Rt4b", "4411"]]
    assert len(cache_reads) == 2  # the chunk (with venues), then the products
    assert repr(part) == "<ProductSlice [1:3], read>"


def test_listing_reversed_slice_reads_every_product(occasion: FakeOccasion) -> None:
    listing = services.list_products()

    assert [p.id for p in listing[::-1]] == ["p2Wm8c", "4411", "p9Rt4b", "p7Kd2x"]


def test_evicted_lookup_bucket_still_finds_the_product(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    catalogue.refresh()
    manifest = catalogue.manifest_or_none()
    assert manifest is not None
    cache.delete_many(
        [
            catalogue.key(manifest.generation, "lookup", n)
            for n in range(manifest.buckets)
        ]
    )

    product = catalogue.product("p7Kd2x")

    assert product.title == "Wheel Throwing for Beginners"
    assert cache.get(catalogue.key("damaged")) == manifest.generation


def test_private_venue_fields_never_reach_the_cache(occasion: FakeOccasion) -> None:
    for venue in occasion.pages[0]["included"]:
        venue["attributes"].update(capacity=99, public=True)

    services.refresh_catalogue()

    product = services.get_product("p7Kd2x")
    assert product.venue is not None
    assert product.venue.extra == {}


def test_overlapping_publish_waits_for_the_first(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    cache.add(catalogue.key("lock", "publish"), "someone else", 60)

    with (
        override_settings(OCCASION_LOCK_TIMEOUT=0.2),
        pytest.raises(OccasionError, match="another refresh has been publishing"),
    ):
        catalogue.refresh()

    assert catalogue.manifest_or_none() is None
    outcome = catalogue.last_refresh()
    assert outcome is not None and outcome["ok"] is False


def test_failed_publish_is_recorded(
    occasion: FakeOccasion, catalogue: services.Catalogue
) -> None:
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "tiny",
                "OPTIONS": {"MAX_ENTRIES": 5},
            }
        }
    ):
        tiny = services.Catalogue(catalogue.client, caches["default"])
        with pytest.raises(CacheTooSmall):
            tiny.refresh()
        outcome = tiny.last_refresh()

    assert outcome is not None and outcome["ok"] is False
    assert "keeps at most 5 entries" in outcome["detail"]
