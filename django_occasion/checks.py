"""System checks for the ``OCCASION_*`` settings (``manage.py check``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .conf import app_settings

# Backends whose entries live in one process: ``occasion_refresh`` run from
# cron would warm a cache that the web server never reads.
PROCESS_LOCAL_BACKENDS = frozenset({"django.core.cache.backends.locmem.LocMemCache"})

TIMEOUT_SETTINGS = (
    "CACHE_TIMEOUT",
    "FAILURE_BACKOFF",
    "LOCK_TIMEOUT",
    "TIME_SLOTS_TIMEOUT",
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "RETRY_BUDGET",
)
COUNT_SETTINGS = ("PAGE_SIZE", "API_PAGE_SIZE", "MAX_PAGES")


def _is_positive_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value > 0
        and value != float("inf")
    )


def _split_url(url: Any) -> SplitResult | None:
    """The parts of ``url``, or ``None`` if it is no string urlsplit can read."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        # urlsplit() accepts "host:abc"; reading the port is what validates it.
        parts.port  # noqa: B018
    except ValueError:  # an unclosed IPv6 bracket, a port out of range
        return None
    return parts


@register(Tags.compatibility)
def check_credentials(**kwargs: Any) -> list[CheckMessage]:
    if app_settings.API_LOGIN or app_settings.DEMO:
        return []
    return [
        Error(
            "No Occasion API login is configured.",
            hint="Set OCCASION_API_LOGIN to the merchant's API login key, or "
            "OCCASION_DEMO = True to use the built-in demo catalogue.",
            id="django_occasion.E001",
        )
    ]


@register(Tags.compatibility)
def check_api_url(**kwargs: Any) -> list[CheckMessage]:
    url = getattr(settings, "OCCASION_API_URL", app_settings.API_URL)
    parts = _split_url(url)
    if (
        parts is not None
        and parts.scheme in ("http", "https")
        and parts.hostname
        and not parts.query
        and not parts.fragment
        and not parts.username
        and not parts.password
    ):
        return []
    return [
        Error(
            "OCCASION_API_URL is not a valid base URL.",
            hint="Use an http(s) URL with a host and no query, fragment or "
            "credentials, such as 'https://app.getoccasion.com/api/v1'.",
            id="django_occasion.E002",
        )
    ]


@register(Tags.caches)
def check_cache(**kwargs: Any) -> list[CheckMessage]:
    alias = app_settings.CACHE_ALIAS
    if alias not in settings.CACHES:
        return [
            Error(
                f"OCCASION_CACHE_ALIAS names the cache {alias!r}, which is not "
                "in CACHES.",
                hint="Use one of: " + ", ".join(sorted(settings.CACHES)) + ".",
                id="django_occasion.E003",
            )
        ]
    backend = settings.CACHES[alias].get("BACKEND", "")
    if backend == "django.core.cache.backends.dummy.DummyCache":
        return [
            Warning(
                f"The Occasion cache {alias!r} uses DummyCache, which keeps "
                "nothing: every page view calls Occasion.",
                hint="Use the file-based, database, Redis or Memcached cache.",
                id="django_occasion.W003",
            )
        ]
    if backend in PROCESS_LOCAL_BACKENDS:
        return [
            Warning(
                f"The Occasion cache {alias!r} uses {backend.rsplit('.', 1)[-1]}, "
                "which each process keeps to itself.",
                hint="manage.py occasion_refresh cannot warm it for the web "
                "server; use the file-based, database, Redis or Memcached cache.",
                id="django_occasion.W001",
            )
        ]
    return []


@register(Tags.compatibility)
def check_numbers(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for name in TIMEOUT_SETTINGS:
        value = getattr(app_settings, name)
        if not _is_positive_number(value):
            messages.append(
                Error(
                    f"OCCASION_{name} must be a positive number of seconds, "
                    f"not {value!r}.",
                    hint="See the settings section of the django-occasion README.",
                    id="django_occasion.E004",
                )
            )
    staleness = app_settings.MAX_STALENESS
    if staleness is not None and not _is_positive_number(staleness):
        messages.append(
            Error(
                "OCCASION_MAX_STALENESS must be None (serve stale data for ever) "
                f"or a positive number of seconds, not {staleness!r}.",
                hint="See the settings section of the django-occasion README.",
                id="django_occasion.E004",
            )
        )
    elif (
        staleness is not None
        and _is_positive_number(app_settings.CACHE_TIMEOUT)
        and staleness < app_settings.CACHE_TIMEOUT
    ):
        messages.append(
            Error(
                f"OCCASION_MAX_STALENESS ({staleness}) is shorter than "
                f"OCCASION_CACHE_TIMEOUT ({app_settings.CACHE_TIMEOUT}).",
                hint="Data stays fresh for CACHE_TIMEOUT and may then be "
                "served stale until MAX_STALENESS: make it the longer one.",
                id="django_occasion.E004",
            )
        )
    for name in COUNT_SETTINGS:
        value = getattr(app_settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            messages.append(
                Error(
                    f"OCCASION_{name} must be a whole number of at least 1, "
                    f"not {value!r}.",
                    hint="See the settings section of the django-occasion README.",
                    id="django_occasion.E005",
                )
            )
    retries = app_settings.MAX_RETRIES
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        messages.append(
            Error(
                f"OCCASION_MAX_RETRIES must be a whole number of at least 0, "
                f"not {retries!r}.",
                hint="See the settings section of the django-occasion README.",
                id="django_occasion.E005",
            )
        )
    return messages


@register(Tags.compatibility)
def check_partner_scope(**kwargs: Any) -> list[CheckMessage]:
    if app_settings.PARTNER and not app_settings.MERCHANT_ID:
        return [
            Error(
                "OCCASION_PARTNER is on but no OCCASION_MERCHANT_ID is set.",
                hint="A partner key must name one merchant on every collection "
                "request; Occasion answers 400 otherwise.",
                id="django_occasion.E006",
            )
        ]
    return []


@register(Tags.compatibility)
def check_demo(**kwargs: Any) -> list[CheckMessage]:
    if app_settings.DEMO and not settings.DEBUG:
        return [
            Warning(
                "OCCASION_DEMO is on: pages show the built-in demo catalogue, "
                "not the merchant's products.",
                hint="Turn OCCASION_DEMO off in production.",
                id="django_occasion.W002",
            )
        ]
    return []
