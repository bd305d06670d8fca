"""The app's settings: every ``OCCASION_*`` Django setting, with its default.

Values are read from ``django.conf.settings`` on each access, so
``override_settings`` in tests and changes at start-up just work. Bad values
are reported by the system checks in :mod:`django_occasion.checks`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

DEFAULT_API_URL = "https://app.getoccasion.com/api/v1"

#: The demo API answers on this URL only; ``.invalid`` never resolves, so a
#: request that escaped the demo adapter could not reach any real host.
DEMO_API_URL = "https://demo.occasion.invalid/api/v1"
DEMO_API_LOGIN = "demo-login"

DEFAULTS: dict[str, Any] = {
    "API_LOGIN": "",
    "API_SECRET": "",
    "API_URL": DEFAULT_API_URL,
    "DEMO": False,
    "DEMO_OUTAGE": False,
    "MERCHANT_ID": None,
    "PARTNER": False,
    "CACHE_ALIAS": "default",
    "CACHE_TIMEOUT": 300,
    "MAX_STALENESS": 7 * 24 * 3600,
    "FAILURE_BACKOFF": 30,
    "LOCK_TIMEOUT": 60,
    "TIME_SLOTS_TIMEOUT": 60,
    "CONNECT_TIMEOUT": 3.05,
    "READ_TIMEOUT": 10.0,
    "RETRY_BUDGET": 10.0,
    "MAX_RETRIES": 3,
    "PAGE_SIZE": 12,
    "API_PAGE_SIZE": 100,
    "MAX_PAGES": 1000,
}


class OccasionSettings:
    """Typed, lazy access to the ``OCCASION_*`` settings."""

    def _get(self, name: str) -> Any:
        return getattr(django_settings, f"OCCASION_{name}", DEFAULTS[name])

    @property
    def API_LOGIN(self) -> str:
        return self._get("API_LOGIN") or ""

    @property
    def API_SECRET(self) -> str:
        return self._get("API_SECRET") or ""

    @property
    def API_URL(self) -> str:
        return str(self._get("API_URL")).rstrip("/")

    @property
    def DEMO(self) -> bool:
        return bool(self._get("DEMO"))

    @property
    def DEMO_OUTAGE(self) -> bool:
        return bool(self._get("DEMO_OUTAGE"))

    @property
    def MERCHANT_ID(self) -> str | None:
        value = self._get("MERCHANT_ID")
        return None if value in (None, "") else str(value)

    @property
    def PARTNER(self) -> bool:
        return bool(self._get("PARTNER"))

    @property
    def CACHE_ALIAS(self) -> str:
        return str(self._get("CACHE_ALIAS"))

    @property
    def CACHE_TIMEOUT(self) -> float:
        return self._get("CACHE_TIMEOUT")  # type: ignore[no-any-return]

    @property
    def MAX_STALENESS(self) -> float | None:
        return self._get("MAX_STALENESS")  # type: ignore[no-any-return]

    @property
    def FAILURE_BACKOFF(self) -> float:
        return self._get("FAILURE_BACKOFF")  # type: ignore[no-any-return]

    @property
    def LOCK_TIMEOUT(self) -> int:
        return self._get("LOCK_TIMEOUT")  # type: ignore[no-any-return]

    @property
    def TIME_SLOTS_TIMEOUT(self) -> float:
        return self._get("TIME_SLOTS_TIMEOUT")  # type: ignore[no-any-return]

    @property
    def CONNECT_TIMEOUT(self) -> float:
        return self._get("CONNECT_TIMEOUT")  # type: ignore[no-any-return]

    @property
    def READ_TIMEOUT(self) -> float:
        return self._get("READ_TIMEOUT")  # type: ignore[no-any-return]

    @property
    def RETRY_BUDGET(self) -> float:
        return self._get("RETRY_BUDGET")  # type: ignore[no-any-return]

    @property
    def MAX_RETRIES(self) -> int:
        return self._get("MAX_RETRIES")  # type: ignore[no-any-return]

    @property
    def PAGE_SIZE(self) -> int:
        return self._get("PAGE_SIZE")  # type: ignore[no-any-return]

    @property
    def API_PAGE_SIZE(self) -> int:
        return self._get("API_PAGE_SIZE")  # type: ignore[no-any-return]

    @property
    def MAX_PAGES(self) -> int:
        return self._get("MAX_PAGES")  # type: ignore[no-any-return]

    @property
    def effective_api_url(self) -> str:
        return DEMO_API_URL if self.DEMO else self.API_URL

    @property
    def effective_login(self) -> str:
        return self.API_LOGIN or (DEMO_API_LOGIN if self.DEMO else "")


app_settings = OccasionSettings()
