"""Figures 5 and 6: ``occasion_refresh`` against its floor, and the footprint."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from collections.abc import Iterable

import requests
from django.core.cache import caches
from django.core.management import call_command

from django_occasion import services
from django_occasion.conf import app_settings

from .harness import Row, median, profile
from .listing import using
from .redis_server import RedisServer
from .standin import StandIn

#: Figure 5: a refresh may take this much longer than the API's latency alone.
FLOOR_RATIO_TARGET = 1.25
MIB = 1024 * 1024


def one_refresh() -> None:
    """``manage.py occasion_refresh`` as cron runs it: a new connection, cold."""
    # A cron job starts a new process; closing the process-wide client's
    # connections makes this run open its own, as that process would.
    services.get_client().close()
    services.get_catalogue().clear()
    call_command("occasion_refresh", verbosity=0)


def bare_listing(standin: StandIn) -> int:
    """Every page read with ``requests`` alone and decoded; returns the bytes.

    The part of a refresh that no client can avoid: one connection, the
    round trips, the transfer and ``json.loads`` of each page.
    """
    total = 0
    url: str | None = f"{standin.url}/products"
    params: dict[str, str | int] | None = {
        "include": services.LISTING_INCLUDE,
        "page[size]": app_settings.API_PAGE_SIZE,
    }
    with requests.Session() as session:
        while url:
            response = session.get(url, params=params, auth=("bench", ""), timeout=10)
            total += len(response.content)
            url, params = response.json()["links"]["next"], None
    return total


def refresh_time(standin: StandIn, *, runs: int) -> list[Row]:
    """Figure 5, with the bare transport's time for comparison."""
    times = []
    bare_times = []
    connections = []
    requests_made = []
    with using(standin):
        for _ in range(runs):
            services.get_client().close()
            services.get_catalogue().clear()
            standin.reset()
            started = time.perf_counter()
            call_command("occasion_refresh", verbosity=0)
            times.append(time.perf_counter() - started)
            counts = standin.snapshot()
            connections.append(counts["connections"])
            requests_made.append(counts["requests"])

            started = time.perf_counter()
            bare_listing(standin)
            bare_times.append(time.perf_counter() - started)

    def explain() -> str:
        with using(standin):
            return "\n\n".join(
                [
                    breakdown(standin, runs=runs),
                    profile(f"refresh-{standin.products}", one_refresh, calls=3),
                ]
            )

    wall = median(times)
    bare = median(bare_times)
    pages = standin.pages(app_settings.API_PAGE_SIZE)
    floor = pages * standin.latency
    floor_label = f"floor {floor * 1000:.0f} ms: {pages} pages x "
    floor_label += f"{standin.latency * 1000:.0f} ms"
    opened = max(connections)
    return [
        Row(
            f"5 refresh, {standin.products:,} products",
            f"{wall * 1000:.0f} ms",
            floor_label,
            f"{wall / floor:.2f}x",
            f"<= {FLOOR_RATIO_TARGET}x",
            wall / floor <= FLOOR_RATIO_TARGET,
            explain=explain,
        ),
        Row(
            "5 same pages, bare requests",
            f"{bare * 1000:.0f} ms",
            floor_label,
            f"{bare / floor:.2f}x",
            "",
        ),
        Row(
            "5 TCP connections, refresh",
            str(opened),
            f"{max(requests_made)} requests",
            f"{max(requests_made) / max(opened, 1):.0f} requests each",
            "1",
            opened == 1,
        ),
    ]


def breakdown(standin: StandIn, *, runs: int) -> str:
    """Fetching against publishing, timed without a profiler."""

    def dry_run() -> None:
        services.get_client().close()
        services.refresh_catalogue(dry_run=True)

    def full() -> None:
        services.get_client().close()
        services.get_catalogue().clear()
        services.refresh_catalogue()

    def bare() -> None:
        bare_listing(standin)

    parts = {
        "occasion_refresh (command, cold cache)": one_refresh,
        "refresh_catalogue() (cold cache)": full,
        "refresh_catalogue(dry_run=True): fetch and parse only": dry_run,
        "the same pages with bare requests and json": bare,
    }
    times: dict[str, list[float]] = {label: [] for label in parts}
    for _ in range(runs):
        for label, function in parts.items():
            if function is one_refresh or function is full:
                services.get_catalogue().clear()
            started = time.perf_counter()
            function()
            times[label].append(time.perf_counter() - started)
    width = max(map(len, parts))
    lines = ["Timed breakdown of the refresh (medians, no profiler):"]
    lines += [
        f"  {label.ljust(width)}  {median(values) * 1000:.0f} ms"
        for label, values in times.items()
    ]
    return "\n".join(lines)


def generation_keys(catalogue: services.Catalogue) -> tuple[list[str], list[str]]:
    """The published listing's keys: (product entries, everything else)."""
    manifest = catalogue.manifest_or_none()
    if manifest is None:
        raise RuntimeError("nothing is published to measure")
    generation = manifest.generation
    members: dict[str, str] = catalogue.cache.get(catalogue.key(generation, "members"))
    product_keys = [catalogue.product_key(d) for d in sorted(set(members.values()))]
    index_keys = [
        catalogue.key("current"),
        catalogue.key(generation, "related"),
        catalogue.key(generation, "members"),
        *(catalogue.key(generation, "lookup", n) for n in range(manifest.buckets)),
    ]
    for filter_key, count in manifest.counts.items():
        chunks = -(-count // services.CHUNK_SIZE)
        index_keys.extend(
            catalogue.chunk_key(generation, filter_key, n) for n in range(chunks)
        )
    return product_keys, index_keys


def _pickled_sizes(keys: Iterable[str]) -> int:
    # What LocMemCache stores for each value.
    cache = caches[app_settings.CACHE_ALIAS]
    values = cache.get_many(list(keys))
    return sum(len(pickle.dumps(v, pickle.HIGHEST_PROTOCOL)) for v in values.values())


def _redis_sizes(server: RedisServer, keys: Iterable[str]) -> int:
    cache = caches[app_settings.CACHE_ALIAS]
    return sum(
        server.client.memory_usage(cache.make_key(key), samples=0) or 0 for key in keys
    )


def _refresh_process(standin: StandIn, *options: str) -> dict[str, int]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.refresh_once", standin.url, *options],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(completed.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def footprint(standin: StandIn, redis: RedisServer | None) -> list[Row]:
    """Figure 6."""
    products = standin.products
    per_product_api = bare_listing(standin) / products
    rows = []
    stores: list[tuple[str, str]] = [("default", "LocMem, pickled")]
    if redis is not None:
        stores.append(("redis", "Redis MEMORY USAGE"))
    for alias, how in stores:
        with using(standin, alias):
            services.refresh_catalogue()
            product_keys, index_keys = generation_keys(services.get_catalogue())
            if alias == "redis":
                assert redis is not None
                in_products = _redis_sizes(redis, product_keys)
                in_index = _redis_sizes(redis, index_keys)
            else:
                in_products = _pickled_sizes(product_keys)
                in_index = _pickled_sizes(index_keys)
        total = (in_products + in_index) / products
        rows.append(
            Row(
                f"6 cache bytes a product ({how})",
                f"{total:,.0f} B ({in_products / products:,.0f} entry "
                f"+ {in_index / products:,.0f} index)",
                f"{per_product_api:,.0f} B a product in the API's pages",
                f"{total / per_product_api:.2f}x",
                "report",
            )
        )
    if redis is None:
        rows.append(
            Row(
                "6 cache bytes a product (Redis)",
                "",
                "",
                "",
                "report",
                skipped=RedisServer.missing_reason(),
            )
        )

    baseline = _refresh_process(standin, "--baseline")
    refresh = _refresh_process(standin)
    traced = _refresh_process(standin, "--tracemalloc")
    rows.append(
        Row(
            f"6 peak RSS, refresh of {products:,}",
            f"{refresh['peak_rss_kib'] / 1024:.1f} MiB",
            f"{baseline['peak_rss_kib'] / 1024:.1f} MiB: same process, no refresh",
            f"+{(refresh['peak_rss_kib'] - baseline['peak_rss_kib']) / 1024:.1f} MiB",
            "report",
        )
    )
    rows.append(
        Row(
            f"6 peak heap, refresh of {products:,}",
            f"{traced['heap_peak'] / MIB:.1f} MiB (tracemalloc)",
            f"{per_product_api * products / MIB:.1f} MiB of API JSON",
            f"{traced['heap_peak'] / (per_product_api * products):.1f}x",
            "report",
        )
    )
    return rows
