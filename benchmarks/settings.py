"""Django settings for the benchmarks: the app alone, no database, no middleware.

The stand-in API's address is set per figure with ``override_settings``; the
Redis cache exists only when ``OCCASION_BENCH_REDIS_URL`` names a server.
"""

from __future__ import annotations

import os

SECRET_KEY = "benchmarks-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = ["django_occasion"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "benchmarks.urls"
DATABASES: dict[str, dict[str, str]] = {}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": ["django.template.context_processors.request"]
        },
    }
]
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "django-occasion-benchmarks",
        # LocMemCache keeps 300 entries by default and culls a third of them
        # when full; the catalogue holds one entry per product, so 5,000
        # products need room.
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }
}
if os.environ.get("OCCASION_BENCH_REDIS_URL"):
    CACHES["redis"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["OCCASION_BENCH_REDIS_URL"],
    }

OCCASION_API_LOGIN = "bench-login"
OCCASION_API_URL = "http://127.0.0.1:9/api/v1"  # replaced by each figure
OCCASION_PAGE_SIZE = 12
OCCASION_API_PAGE_SIZE = 100
OCCASION_CACHE_TIMEOUT = 3600
SILENCED_SYSTEM_CHECKS = ["django_occasion.W001"]
