"""The cached catalogue on every cache backend a site may configure.

Each test runs on LocMem, the database cache, Redis and Memcached, against
the fake API over real HTTP. The catalogue's clock is injected; expiry that
the cache itself enforces (failure back-off, locks) runs in real time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import BaseCache, caches
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from django_occasion import services
from django_occasion.exceptions import (
    NotFound,
    UpstreamBackoff,
    UpstreamUnavailable,
)
from django_occasion.services import Catalogue, Manifest
from tests.servers import DEFAULT, Answer, FakeAPI, close_caches

FIXTURE_IDS = ["p7Kd2x", "p9Rt4b", "4411", "p2Wm8c"]
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
DATABASE = "django.core.cache.backends.db.DatabaseCache"
UNAVAILABLE = Answer(503, {"errors": [{"status": "503", "detail": "Maintenance."}]})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Worker(threading.Thread):
    """Runs ``target`` in a thread, as another process of the site would.

    The thread opens cache connections of its own. The database cache runs
    on the test's in-memory SQLite database, which only the test's own
    connection can see, so that connection is shared (as Django's
    ``LiveServerTestCase`` does).
    """

    def __init__(self, target: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.target = target
        self.connection = connections["default"]
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        connections["default"] = self.connection
        try:
            self.result = self.target()
        except BaseException as exc:
            self.error = exc
        finally:
            close_caches()

    def __enter__(self) -> Worker:
        self.connection.inc_thread_sharing()
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.join(10)
        self.connection.dec_thread_sharing()

    def outcome(self) -> Any:
        self.join(10)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error
        return self.result


def product(
    product_id: str, title: str, *, status: str = "active", venue: str = "v3Lk0"
) -> dict[str, Any]:
    return {
        "type": "products",
        "id": product_id,
        "attributes": {"title": title, "status": status},
        "relationships": {
            "merchant": {"data": {"type": "merchants", "id": "m1Qa9"}},
            "venue": {"data": {"type": "venues", "id": venue}},
        },
    }


def ids(products: Any) -> list[str]:
    return [p.id for p in products]


def generation_keys(catalogue: Catalogue, manifest: Manifest) -> list[str]:
    """Every key a published generation wrote, its products included."""
    generation = manifest.generation
    members = catalogue.cache.get(catalogue.key(generation, "members"))
    keys = [
        catalogue.key(generation, "related"),
        catalogue.key(generation, "members"),
        *(catalogue.chunk_key(generation, key, 0) for key in manifest.counts),
        *(catalogue.key(generation, "lookup", n) for n in range(manifest.buckets)),
        *(catalogue.product_key(digest) for digest in members.values()),
    ]
    return keys


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture(
    params=[
        "locmem",
        "database",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("memcached", marks=pytest.mark.memcached),
    ]
)
def cache_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "locmem":
        return {"BACKEND": LOCMEM, "LOCATION": "occasion-backend-tests"}
    if request.param == "database":
        request.getfixturevalue("db")
        return {"BACKEND": DATABASE, "LOCATION": "occasion_cache"}
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.location,
        }
    server = request.getfixturevalue("memcached_server")
    return {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": server.location,
    }


@pytest.fixture
def backend(cache_config: dict[str, Any], fake_api: FakeAPI) -> Iterator[BaseCache]:
    with fake_api.settings(
        CACHES={
            "default": {"BACKEND": LOCMEM, "LOCATION": "default"},
            "occasion": cache_config,
        },
        OCCASION_CACHE_ALIAS="occasion",
        OCCASION_CACHE_TIMEOUT=60,
        OCCASION_MAX_STALENESS=3600,
        OCCASION_LOCK_TIMEOUT=5,
    ):
        if cache_config["BACKEND"] == DATABASE:
            call_command("createcachetable", verbosity=0)
        cache = caches["occasion"]
        cache.clear()
        yield cache
        cache.clear()
        close_caches()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def catalogue(backend: BaseCache, clock: FakeClock) -> Catalogue:
    return Catalogue(services.get_client(), backend, clock=clock)


def another_catalogue(clock: FakeClock) -> Catalogue:
    """The catalogue as another process sees it: its own cache connection."""
    return Catalogue(services.get_client(), caches["occasion"], clock=clock)


def test_listing_miss_fetches_every_page_once_then_hits(
    catalogue: Catalogue, fake_api: FakeAPI
) -> None:
    first = ids(catalogue.listing())
    calls_after_miss = fake_api.count("products")
    second = ids(catalogue.listing())
    detail = catalogue.product("4411")

    assert first == second == FIXTURE_IDS
    assert calls_after_miss == 2
    assert fake_api.count("products") == 2
    assert detail.title == "Private Studio Rental"
    assert fake_api.count("products/4411") == 0


def test_refresh_publishes_a_new_generation_and_deletes_the_old_one(
    catalogue: Catalogue, backend: BaseCache, fake_api: FakeAPI
) -> None:
    catalogue.refresh()
    old = catalogue.manifest_or_none()
    assert old is not None
    old_keys = generation_keys(catalogue, old)
    assert set(backend.get_many(old_keys)) == set(old_keys)
    fake_api.set_products(
        [product("n1", "Raku Night"), product("p7Kd2x", "Wheel Throwing II")]
    )

    result = catalogue.refresh()

    new = catalogue.manifest_or_none()
    assert new is not None
    assert new.generation == result.generation != old.generation
    assert backend.get_many(old_keys) == {}
    assert [p.title for p in catalogue.listing()] == ["Raku Night", "Wheel Throwing II"]
    assert result.added == {"n1"}
    assert result.changed == {"p7Kd2x"}
    assert result.removed == {"p9Rt4b", "4411", "p2Wm8c"}


def test_listing_taken_before_a_refresh_reads_the_new_generation_whole(
    catalogue: Catalogue, fake_api: FakeAPI
) -> None:
    catalogue.refresh()
    listing = catalogue.listing()
    fake_api.set_products(
        [product("n1", "Raku Night"), product("p7Kd2x", "Wheel Throwing II")]
    )
    generation = catalogue.refresh().generation

    titles = [p.title for p in listing]

    assert titles == ["Raku Night", "Wheel Throwing II"]
    assert listing.manifest.generation == generation


def test_refresh_failing_on_a_later_page_keeps_the_previous_generation(
    catalogue: Catalogue, fake_api: FakeAPI
) -> None:
    catalogue.refresh()
    before = catalogue.manifest_or_none()
    fake_api.script("products", DEFAULT, UNAVAILABLE)

    with pytest.raises(UpstreamUnavailable):
        catalogue.refresh()

    assert catalogue.manifest_or_none() == before
    assert ids(catalogue.listing()) == FIXTURE_IDS
    assert fake_api.count("products") == 4
    last_refresh = catalogue.last_refresh()
    assert last_refresh is not None
    assert last_refresh["ok"] is False


def test_stale_listing_is_served_while_another_process_refreshes(
    catalogue: Catalogue, fake_api: FakeAPI, clock: FakeClock
) -> None:
    old = catalogue.refresh().generation
    clock.advance(61)
    gate = threading.Event()
    fake_api.script("products", Answer(action="default", gate=gate))

    with Worker(lambda: another_catalogue(clock).listing().manifest) as other:
        assert fake_api.wait_for("products", 3)
        served = catalogue.listing()
        gate.set()
        refreshed = other.outcome()

    assert served.manifest.generation == old
    assert served.is_stale
    assert refreshed.generation != old
    assert fake_api.count("products") == 4
    assert ids(served) == FIXTURE_IDS


def test_failure_backoff_skips_upstream_until_it_expires(
    catalogue: Catalogue, backend: BaseCache, fake_api: FakeAPI, clock: FakeClock
) -> None:
    old = catalogue.refresh().generation
    clock.advance(61)
    fake_api.script("products", UNAVAILABLE)

    # The cache enforces the back-off in real time. The database cache and
    # Memcached count whole seconds and may end it up to a second early.
    with override_settings(OCCASION_FAILURE_BACKOFF=2):
        after_failure = catalogue.listing()
        within_backoff = catalogue.listing()
    calls_within_backoff = fake_api.count("products")
    expired = wait_until(
        lambda: backend.get(catalogue.key("failure", "listing")) is None
    )
    after_backoff = catalogue.listing()

    assert after_failure.manifest.generation == old
    assert within_backoff.manifest.generation == old
    assert calls_within_backoff == 3
    assert expired
    assert after_backoff.manifest.generation != old
    assert fake_api.count("products") == 5


def test_listing_past_max_staleness_raises_but_keeps_the_old_manifest(
    catalogue: Catalogue, fake_api: FakeAPI, clock: FakeClock
) -> None:
    old = catalogue.refresh().generation
    clock.advance(3601)
    fake_api.script("products", UNAVAILABLE)

    with pytest.raises(UpstreamUnavailable):
        catalogue.listing()
    with pytest.raises(UpstreamBackoff):
        catalogue.listing()

    assert fake_api.count("products") == 3
    manifest = catalogue.manifest_or_none()
    assert manifest is not None
    assert manifest.generation == old


def test_held_lock_with_a_stale_listing_serves_it_without_calling_upstream(
    catalogue: Catalogue, backend: BaseCache, fake_api: FakeAPI, clock: FakeClock
) -> None:
    old = catalogue.refresh().generation
    clock.advance(61)
    assert backend.add(catalogue.key("lock", "listing"), "another-process", 60)

    listing = catalogue.listing()

    assert listing.manifest.generation == old
    assert ids(listing) == FIXTURE_IDS
    assert fake_api.count("products") == 2


def test_cold_listing_with_held_lock_waits_for_the_other_writer(
    catalogue: Catalogue, backend: BaseCache, fake_api: FakeAPI, clock: FakeClock
) -> None:
    lock = catalogue.key("lock", "listing")
    assert backend.add(lock, "another-process", 60)

    # The writer keeps its lock: the reader must notice the published
    # listing itself, not wait for the lock to go.
    def other_writer() -> str | None:
        time.sleep(0.3)
        return another_catalogue(clock).refresh().generation

    with Worker(other_writer) as other:
        listing = catalogue.listing()
        published = other.outcome()

    assert listing.manifest.generation == published
    assert ids(listing) == FIXTURE_IDS
    assert fake_api.count("products") == 2


def test_cold_listing_raises_backoff_when_the_lock_goes_without_data(
    catalogue: Catalogue, backend: BaseCache, fake_api: FakeAPI
) -> None:
    lock = catalogue.key("lock", "listing")
    assert backend.add(lock, "another-process", 60)

    def failed_writer() -> None:
        time.sleep(0.3)
        caches["occasion"].delete(lock)

    with Worker(failed_writer), pytest.raises(UpstreamBackoff):
        catalogue.listing()

    assert fake_api.count("products") == 0


def test_unusual_ids_make_valid_cache_keys(
    catalogue: Catalogue, fake_api: FakeAPI
) -> None:
    # Memcached refuses keys with spaces, control characters or over 250
    # bytes; the other backends warn, and warnings are errors here.
    odd = [
        product("id with spaces", "Spaces", venue="venue 1 ü"),
        product("prodüct-ünïcode", "Unicode", status="on hold"),
        product("日本語", "CJK"),
        product("x" * 300, "Long"),
    ]
    fake_api.set_products(odd)

    catalogue.refresh()

    assert ids(catalogue.listing()) == [item["id"] for item in odd]
    assert ids(catalogue.listing(venue="venue 1 ü")) == ["id with spaces"]
    assert [catalogue.product(item["id"]).title for item in odd] == [
        "Spaces",
        "Unicode",
        "CJK",
        "Long",
    ]
    for _attempt in range(2):
        with pytest.raises(NotFound):
            catalogue.product("no such product ü")
    # The listing holds every product: an id it lacks costs no request.
    assert fake_api.count("products/no such product ü") == 0
