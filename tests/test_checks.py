from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.checks import Error, Warning, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_occasion import checks

SETTINGS_HINT = "See the settings section of the django-occasion README."

E001 = Error(
    "No Occasion API login is configured.",
    hint="Set OCCASION_API_LOGIN to the merchant's API login key, or "
    "OCCASION_DEMO = True to use the built-in demo catalogue.",
    id="django_occasion.E001",
)
E002 = Error(
    "OCCASION_API_URL is not a valid base URL.",
    hint="Use an http(s) URL with a host and no query, fragment or credentials, "
    "such as 'https://app.getoccasion.com/api/v1'.",
    id="django_occasion.E002",
)
E006 = Error(
    "OCCASION_PARTNER is on but no OCCASION_MERCHANT_ID is set.",
    hint="A partner key must name one merchant on every collection request; "
    "Occasion answers 400 otherwise.",
    id="django_occasion.E006",
)
W002 = Warning(
    "OCCASION_DEMO is on: pages show the built-in demo catalogue, not the "
    "merchant's products.",
    hint="Turn OCCASION_DEMO off in production.",
    id="django_occasion.W002",
)


def timeout_error(name: str, value: Any) -> Error:
    return Error(
        f"OCCASION_{name} must be a positive number of seconds, not {value!r}.",
        hint=SETTINGS_HINT,
        id="django_occasion.E004",
    )


def count_error(name: str, value: Any, minimum: int = 1) -> Error:
    return Error(
        f"OCCASION_{name} must be a whole number of at least {minimum}, not {value!r}.",
        hint=SETTINGS_HINT,
        id="django_occasion.E005",
    )


def occasion_messages() -> list[Any]:
    """What ``manage.py check`` would report for the app, in a stable order.

    ``run_checks()`` ignores SILENCED_SYSTEM_CHECKS (only the command applies
    it), and Django keeps registered checks in a set, so their order varies.
    """
    messages = [
        m
        for m in run_checks()
        if m.id.startswith("django_occasion.")
        and m.id not in settings.SILENCED_SYSTEM_CHECKS
    ]
    return sorted(messages, key=lambda m: (m.id, m.msg))


# -- the test settings ---------------------------------------------------------


def test_run_checks_test_settings_report_only_w001() -> None:
    messages = run_checks()

    assert [m.id for m in messages] == ["django_occasion.W001"]


def test_check_command_test_settings_report_no_issues() -> None:
    stdout = StringIO()

    call_command("check", stdout=stdout)

    assert stdout.getvalue() == "System check identified no issues (1 silenced).\n"


def test_check_command_error_raises_system_check_error() -> None:
    with (
        override_settings(OCCASION_API_LOGIN="", OCCASION_PARTNER=True),
        pytest.raises(SystemCheckError) as caught,
    ):
        call_command("check", stdout=StringIO(), stderr=StringIO())

    message = str(caught.value)
    assert "?: (django_occasion.E001) No Occasion API login is configured." in message
    assert "?: (django_occasion.E006) OCCASION_PARTNER is on" in message
    assert "HINT: Set OCCASION_API_LOGIN to the merchant's API login key" in message
    assert "System check identified 2 issues (1 silenced)." in message


# -- E001: credentials ---------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "demo", "expected"),
    [
        ("", False, [E001]),
        (None, False, [E001]),
        ("", True, []),
        ("merchant-login", False, []),
        ("merchant-login", True, []),
    ],
)
def test_check_credentials_login_and_demo(
    login: str | None, demo: bool, expected: list[Error]
) -> None:
    with override_settings(OCCASION_API_LOGIN=login, OCCASION_DEMO=demo):
        messages = checks.check_credentials()

    assert messages == expected


def test_check_credentials_no_login_setting_at_all() -> None:
    with override_settings():
        del settings.OCCASION_API_LOGIN
        messages = checks.check_credentials()

    assert messages == [E001]


def test_run_checks_no_login_reports_e001() -> None:
    with override_settings(OCCASION_API_LOGIN=""):
        messages = occasion_messages()

    assert messages == [E001]


# -- E002: base URL ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://app.getoccasion.com/api/v1",
        "app.getoccasion.com/api/v1",
        "https:///api/v1",
        "https://",
        "",
        "https://app.getoccasion.com/api/v1?key=abc",
        "https://app.getoccasion.com/api/v1#top",
        "https://login:secret@app.getoccasion.com/api/v1",
        "https://login@app.getoccasion.com/api/v1",
        "https://[::1/api/v1",
        "https://app.getoccasion.com:https/api/v1",
        "https://app.getoccasion.com:99999/api/v1",
        None,
        42,
        b"https://app.getoccasion.com/api/v1",
        ["https://app.getoccasion.com/api/v1"],
    ],
)
def test_check_api_url_malformed_is_e002(url: Any) -> None:
    with override_settings(OCCASION_API_URL=url):
        messages = checks.check_api_url()

    assert messages == [E002]


@pytest.mark.parametrize(
    "url",
    [
        "https://app.getoccasion.com/api/v1",
        "https://occ.sn/api/v1/",
        "http://localhost:8000/api/v1",
        "https://127.0.0.1",
        "https://[::1]:8443/api/v1",
    ],
)
def test_check_api_url_valid_passes(url: str) -> None:
    with override_settings(OCCASION_API_URL=url):
        messages = checks.check_api_url()

    assert messages == []


def test_check_api_url_default_passes() -> None:
    with override_settings():
        del settings.OCCASION_API_URL
        messages = checks.check_api_url()

    assert messages == []


def test_run_checks_malformed_url_reports_e002() -> None:
    with override_settings(OCCASION_API_URL="ftp://occasion.test/api/v1"):
        messages = occasion_messages()

    assert messages == [E002]


# -- E003 and W001: the cache --------------------------------------------------

REDIS = {"BACKEND": "django.core.cache.backends.redis.RedisCache"}
LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
DUMMY = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}


def test_check_cache_unknown_alias_is_e003() -> None:
    with override_settings(
        CACHES={"default": LOCMEM, "shared": REDIS}, OCCASION_CACHE_ALIAS="occasion"
    ):
        messages = checks.check_cache()

    assert messages == [
        Error(
            "OCCASION_CACHE_ALIAS names the cache 'occasion', which is not in CACHES.",
            hint="Use one of: default, shared.",
            id="django_occasion.E003",
        )
    ]


def test_run_checks_unknown_alias_reports_e003() -> None:
    with override_settings(OCCASION_CACHE_ALIAS="nope"):
        messages = occasion_messages()

    assert [m.id for m in messages] == ["django_occasion.E003"]


def test_check_cache_dummy_backend_is_w003() -> None:
    with override_settings(
        CACHES={"default": LOCMEM, "occasion": DUMMY}, OCCASION_CACHE_ALIAS="occasion"
    ):
        messages = checks.check_cache()

    assert messages == [
        Warning(
            "The Occasion cache 'occasion' uses DummyCache, which keeps nothing: "
            "every page view calls Occasion.",
            hint="Use the file-based, database, Redis or Memcached cache.",
            id="django_occasion.W003",
        )
    ]


def test_check_cache_process_local_backend_is_w001() -> None:
    with override_settings(
        CACHES={"default": LOCMEM, "occasion": LOCMEM}, OCCASION_CACHE_ALIAS="occasion"
    ):
        messages = checks.check_cache()

    assert messages == [
        Warning(
            "The Occasion cache 'occasion' uses LocMemCache, which each "
            "process keeps to itself.",
            hint="manage.py occasion_refresh cannot warm it for the web server; "
            "use the file-based, database, Redis or Memcached cache.",
            id="django_occasion.W001",
        )
    ]


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.redis.RedisCache",
        "django.core.cache.backends.filebased.FileBasedCache",
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.memcached.PyMemcacheCache",
    ],
)
def test_check_cache_shared_backend_passes(backend: str) -> None:
    with override_settings(CACHES={"default": {"BACKEND": backend}}):
        messages = checks.check_cache()

    assert messages == []


def test_check_cache_test_settings_locmem_is_w001() -> None:
    messages = checks.check_cache()

    assert [m.id for m in messages] == ["django_occasion.W001"]


# -- E004 and E005: numbers ----------------------------------------------------

BAD_SECONDS = [0, -1, -0.5, "10", None, True, False, float("inf"), float("nan")]


@pytest.mark.parametrize("name", checks.TIMEOUT_SETTINGS)
@pytest.mark.parametrize("value", BAD_SECONDS)
def test_check_numbers_bad_timeout_is_e004(name: str, value: Any) -> None:
    with override_settings(**{f"OCCASION_{name}": value}):
        messages = checks.check_numbers()

    assert messages == [timeout_error(name, value)]


@pytest.mark.parametrize("name", checks.TIMEOUT_SETTINGS)
@pytest.mark.parametrize("value", [1, 0.25, 3.05, 86400])
def test_check_numbers_positive_timeout_passes(name: str, value: float) -> None:
    with override_settings(**{f"OCCASION_{name}": value}):
        messages = checks.check_numbers()

    assert messages == []


@pytest.mark.parametrize(
    "value", [0, -1, "3600", True, False, float("inf"), float("-inf")]
)
def test_check_numbers_bad_max_staleness_is_e004(value: Any) -> None:
    with override_settings(OCCASION_MAX_STALENESS=value):
        messages = checks.check_numbers()

    assert messages == [
        Error(
            "OCCASION_MAX_STALENESS must be None (serve stale data for ever) or a "
            f"positive number of seconds, not {value!r}.",
            hint=SETTINGS_HINT,
            id="django_occasion.E004",
        )
    ]


@pytest.mark.parametrize(
    ("staleness", "cache_timeout"),
    [(None, 300), (300, 300), (7 * 24 * 3600, 300), (0.5, 0.25)],
)
def test_check_numbers_valid_max_staleness_passes(
    staleness: float | None, cache_timeout: float
) -> None:
    with override_settings(
        OCCASION_MAX_STALENESS=staleness, OCCASION_CACHE_TIMEOUT=cache_timeout
    ):
        messages = checks.check_numbers()

    assert messages == []


@pytest.mark.parametrize(
    ("staleness", "cache_timeout"), [(299, 300), (1, 300), (0.5, 1)]
)
def test_check_numbers_max_staleness_below_cache_timeout_is_e004(
    staleness: float, cache_timeout: float
) -> None:
    with override_settings(
        OCCASION_MAX_STALENESS=staleness, OCCASION_CACHE_TIMEOUT=cache_timeout
    ):
        messages = checks.check_numbers()

    assert messages == [
        Error(
            f"OCCASION_MAX_STALENESS ({staleness}) is shorter than "
            f"OCCASION_CACHE_TIMEOUT ({cache_timeout}).",
            hint="Data stays fresh for CACHE_TIMEOUT and may then be served stale "
            "until MAX_STALENESS: make it the longer one.",
            id="django_occasion.E004",
        )
    ]


@pytest.mark.parametrize("name", checks.COUNT_SETTINGS)
@pytest.mark.parametrize("value", [0, -3, 1.5, 12.0, "12", None, True])
def test_check_numbers_bad_count_is_e005(name: str, value: Any) -> None:
    with override_settings(**{f"OCCASION_{name}": value}):
        messages = checks.check_numbers()

    assert messages == [count_error(name, value)]


@pytest.mark.parametrize("name", checks.COUNT_SETTINGS)
@pytest.mark.parametrize("value", [1, 12, 1000])
def test_check_numbers_positive_count_passes(name: str, value: int) -> None:
    with override_settings(**{f"OCCASION_{name}": value}):
        messages = checks.check_numbers()

    assert messages == []


@pytest.mark.parametrize("value", [-1, 2.0, "3", None, True])
def test_check_numbers_bad_max_retries_is_e005(value: Any) -> None:
    with override_settings(OCCASION_MAX_RETRIES=value):
        messages = checks.check_numbers()

    assert messages == [count_error("MAX_RETRIES", value, minimum=0)]


@pytest.mark.parametrize("value", [0, 1, 5])
def test_check_numbers_max_retries_from_zero_passes(value: int) -> None:
    with override_settings(OCCASION_MAX_RETRIES=value):
        messages = checks.check_numbers()

    assert messages == []


def test_check_numbers_several_bad_values_each_reported() -> None:
    with override_settings(
        OCCASION_CACHE_TIMEOUT=0,
        OCCASION_READ_TIMEOUT="slow",
        OCCASION_MAX_STALENESS=-1,
        OCCASION_PAGE_SIZE=0,
    ):
        messages = checks.check_numbers()

    assert [(m.id, m.msg) for m in messages] == [
        ("django_occasion.E004", timeout_error("CACHE_TIMEOUT", 0).msg),
        ("django_occasion.E004", timeout_error("READ_TIMEOUT", "slow").msg),
        (
            "django_occasion.E004",
            "OCCASION_MAX_STALENESS must be None (serve stale data for ever) or "
            "a positive number of seconds, not -1.",
        ),
        ("django_occasion.E005", count_error("PAGE_SIZE", 0).msg),
    ]


def test_run_checks_bad_numbers_report_e004_and_e005() -> None:
    with override_settings(OCCASION_LOCK_TIMEOUT=0, OCCASION_API_PAGE_SIZE=0):
        messages = occasion_messages()

    assert [m.id for m in messages] == ["django_occasion.E004", "django_occasion.E005"]


# -- E006: partner scope -------------------------------------------------------


@pytest.mark.parametrize(
    ("partner", "merchant_id", "expected"),
    [
        (True, None, [E006]),
        (True, "", [E006]),
        (True, "m1Qa9", []),
        (True, 42, []),
        (False, None, []),
    ],
)
def test_check_partner_scope_needs_merchant_id(
    partner: bool, merchant_id: Any, expected: list[Error]
) -> None:
    with override_settings(OCCASION_PARTNER=partner, OCCASION_MERCHANT_ID=merchant_id):
        messages = checks.check_partner_scope()

    assert messages == expected


def test_run_checks_partner_without_merchant_reports_e006() -> None:
    with override_settings(OCCASION_PARTNER=True):
        messages = occasion_messages()

    assert messages == [E006]


# -- W002: demo in production --------------------------------------------------


@pytest.mark.parametrize(
    ("demo", "debug", "expected"),
    [(True, False, [W002]), (True, True, []), (False, False, [])],
)
def test_check_demo_warns_without_debug(
    demo: bool, debug: bool, expected: list[Warning]
) -> None:
    with override_settings(OCCASION_DEMO=demo, DEBUG=debug):
        messages = checks.check_demo()

    assert messages == expected


def test_run_checks_demo_without_login_reports_only_w002() -> None:
    with override_settings(OCCASION_DEMO=True, OCCASION_API_LOGIN=""):
        messages = occasion_messages()

    assert messages == [W002]


# -- every message -------------------------------------------------------------


def test_every_message_has_stable_id_and_hint() -> None:
    with override_settings(
        OCCASION_API_LOGIN="",
        OCCASION_API_URL="ftp://x",
        OCCASION_CACHE_ALIAS="nope",
        OCCASION_CACHE_TIMEOUT=0,
        OCCASION_MAX_STALENESS=0,
        OCCASION_PAGE_SIZE=0,
        OCCASION_MAX_RETRIES=-1,
        OCCASION_PARTNER=True,
    ):
        messages = occasion_messages()

    assert [m.id for m in messages] == [
        "django_occasion.E001",
        "django_occasion.E002",
        "django_occasion.E003",
        "django_occasion.E004",
        "django_occasion.E004",
        "django_occasion.E005",
        "django_occasion.E005",
        "django_occasion.E006",
    ]
    assert all(m.hint for m in messages)
