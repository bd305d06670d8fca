"""Stampede control: many processes and threads ask for a cold listing at once.

The processes run this module as a script (``python -m
tests.test_multiprocess``), share the suite's Redis, and are released
together once every one of them is ready. The fake API answers slowly, so
that they all arrive while the first fetch is still running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import override_settings

from django_occasion import services
from tests.servers import FakeAPI, Service, close_caches

pytestmark = pytest.mark.redis

FIXTURE_IDS = ["p7Kd2x", "p9Rt4b", "4411", "p2Wm8c"]
ROOT = Path(__file__).resolve().parent.parent
PROCESSES = 4
THREADS = 32
LATENCY = 0.3


def redis_caches(location: str) -> dict[str, dict[str, str]]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
        }
    }


def main() -> None:
    """One process of the site: wait for "go", read the listing, report it."""
    import django
    from django.conf import settings

    settings.CACHES = redis_caches(os.environ["OCCASION_WORKER_REDIS"])
    settings.OCCASION_API_URL = os.environ["OCCASION_WORKER_API_URL"]
    settings.OCCASION_READ_TIMEOUT = 5.0
    django.setup()
    caches["default"].get("warm-up")  # connect before the race, not in it
    print("ready", flush=True)
    sys.stdin.readline()
    listing = services.list_products()
    result = {"ids": [p.id for p in listing], "generation": listing.manifest.generation}
    print(json.dumps(result), flush=True)


def test_processes_fetch_a_cold_listing_once(
    fake_api: FakeAPI, redis_server: Service
) -> None:
    fake_api.latency = LATENCY
    with override_settings(CACHES=redis_caches(redis_server.location)):
        caches["default"].clear()
        close_caches()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "OCCASION_WORKER_REDIS": redis_server.location,
        "OCCASION_WORKER_API_URL": fake_api.url,
        "PYTHONPATH": str(ROOT),
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.test_multiprocess"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline() == "ready\n", worker.communicate()[1]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=30) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()

    results = [json.loads(stdout) for stdout, _stderr in outputs]
    assert [worker.returncode for worker in workers] == [0] * PROCESSES
    assert [result["ids"] for result in results] == [FIXTURE_IDS] * PROCESSES
    assert len({result["generation"] for result in results}) == 1
    # Two pages: one fetch of the whole listing.
    assert fake_api.count("products") == 2


def test_threads_fetch_a_cold_listing_once(
    fake_api: FakeAPI, redis_server: Service
) -> None:
    fake_api.latency = LATENCY
    barrier = threading.Barrier(THREADS)

    def read() -> list[str]:
        barrier.wait()
        try:
            return [p.id for p in services.list_products()]
        finally:
            close_caches()

    with fake_api.settings(
        CACHES=redis_caches(redis_server.location), OCCASION_READ_TIMEOUT=5.0
    ):
        caches["default"].clear()
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(read) for _ in range(THREADS)]
            results = [future.result(timeout=30) for future in futures]
        close_caches()

    assert results == [FIXTURE_IDS] * THREADS
    assert fake_api.count("products") == 2


if __name__ == "__main__":
    main()
