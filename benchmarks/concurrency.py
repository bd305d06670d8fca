"""Figure 4: many requests for a cold listing at once, on one shared Redis.

Each worker is a fresh process (spawned, as a web server's workers are
separate interpreters) with its own threads, each thread with its own test
client. The threads of all processes wait at one barrier and then request a
page of the listing; the stand-in counts how often the listing was fetched.
The threads ask for different pages and filters, which the app serves from
the same cached listing: one fetch must serve them all.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import Counter
from typing import Any

from django_occasion.conf import app_settings

from .harness import Row
from .redis_server import RedisServer
from .standin import VENUES, StandIn

PATHS = (
    "/products/",
    "/products/?status=active",
    f"/products/?venue={VENUES[1]['id']}",
    "/products/?page=2",
)
TIMEOUT = 120


def cold_worker(api_url: str, threads: int, barrier: Any, results: Any) -> None:
    """One web server process: ``threads`` requests once every process is ready."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    from django.test import Client, override_settings

    statuses: list[int | str] = []
    ready = threading.Barrier(threads + 1)

    def request(path: str) -> None:
        client = Client()
        ready.wait(TIMEOUT)
        try:
            statuses.append(client.get(path).status_code)
        except Exception as exc:  # counted and reported, not raised
            statuses.append(type(exc).__name__)

    with override_settings(OCCASION_API_URL=api_url, OCCASION_CACHE_ALIAS="redis"):
        workers = [
            threading.Thread(target=request, args=(PATHS[n % len(PATHS)],))
            for n in range(threads)
        ]
        for worker in workers:
            worker.start()
        barrier.wait(TIMEOUT)
        ready.wait(TIMEOUT)
        for worker in workers:
            worker.join(TIMEOUT)
    results.put(Counter(statuses))


def cold_listing(
    standin: StandIn, redis: RedisServer | None, *, processes: int, threads: int
) -> Row:
    label = (
        f"4 cold list, {threads} threads"
        if processes == 1
        else f"4 cold list, {processes} processes x {threads} threads"
    )
    if redis is None:
        return Row(label, "", "", "", "1 fetch", skipped=RedisServer.missing_reason())
    redis.flush()
    standin.reset()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(
            target=cold_worker, args=(standin.url, threads, barrier, results)
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    statuses: Counter[int | str] = Counter()
    for _ in workers:
        statuses.update(results.get(timeout=TIMEOUT))
    for worker in workers:
        worker.join(TIMEOUT)
    counts = standin.snapshot()
    fetches = counts["first_pages"]
    answers = ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items()))
    return Row(
        label + " (Redis)",
        f"{fetches} listing fetch{'es' if fetches != 1 else ''} "
        f"({counts['listing_pages']} page requests)",
        f"{processes * threads} page views: {answers}",
        f"{fetches} per key",
        "exactly 1",
        fetches == 1
        and counts["listing_pages"] == standin.pages(app_settings.API_PAGE_SIZE)
        and statuses == Counter({200: processes * threads}),
    )
