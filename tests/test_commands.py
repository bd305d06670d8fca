from __future__ import annotations

import copy
import re
import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_occasion import services
from django_occasion.exceptions import OccasionError
from tests.conftest import FakeOccasion

SECRET = "test-secret-never-shown"
NUMBER = r"\d+\.\d\d"
MOMENT = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
FIXTURE_IDS = ["p7Kd2x", "p9Rt4b", "4411", "p2Wm8c"]


def run(name: str, *args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command(name, *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def product_ids() -> list[str]:
    return [product.id for product in services.list_products()]


def generation() -> str:
    manifest = services.get_catalogue().manifest_or_none()
    assert manifest is not None
    return manifest.generation


def changed_catalogue(occasion: FakeOccasion) -> list[dict[str, Any]]:
    """The first page with p7Kd2x retitled, 4411 gone and p1New added."""
    retitled, unchanged, _ = copy.deepcopy(occasion.pages[0]["data"])
    retitled["attributes"]["title"] = "Wheel Throwing: Autumn Term"
    added = copy.deepcopy(unchanged)
    added["id"] = "p1New"
    return [retitled, unchanged, added]


# -- occasion_refresh ----------------------------------------------------------


def test_refresh_prints_summary_and_publishes(occasion: FakeOccasion) -> None:
    stdout, stderr = run("occasion_refresh")

    assert re.fullmatch(
        rf"Refreshed 4 products \(2 pages\) in {NUMBER} s: "
        r"4 added, 0 changed, 0 removed\.\n",
        stdout,
    )
    assert stderr == ""
    assert occasion.listing_calls == 2
    occasion.fail_with = 503
    assert product_ids() == FIXTURE_IDS


def test_refresh_one_page_says_page(occasion: FakeOccasion) -> None:
    occasion.set_products(occasion.pages[0]["data"][:1])

    stdout, _ = run("occasion_refresh")

    assert re.fullmatch(
        rf"Refreshed 1 products \(1 page\) in {NUMBER} s: "
        r"1 added, 0 changed, 0 removed\.\n",
        stdout,
    )


def test_refresh_again_unchanged_reports_nothing_changed(
    occasion: FakeOccasion,
) -> None:
    run("occasion_refresh")
    first = generation()

    stdout, _ = run("occasion_refresh", "--verbosity", "2")

    assert re.fullmatch(
        rf"Refreshed 4 products \(2 pages\) in {NUMBER} s: "
        r"0 added, 0 changed, 0 removed\.\n",
        stdout,
    )
    assert generation() != first


def test_refresh_dry_run_leaves_cache_unchanged(occasion: FakeOccasion) -> None:
    stdout, stderr = run("occasion_refresh", "--dry-run")
    occasion.fail_with = 503

    assert re.fullmatch(
        rf"Dry run: fetched 4 products \(2 pages\) in {NUMBER} s; "
        r"the cache was not changed\.\n",
        stdout,
    )
    assert stderr == ""
    assert services.get_catalogue().manifest_or_none() is None
    with pytest.raises(OccasionError):
        services.list_products()


def test_refresh_dry_run_keeps_previous_listing(occasion: FakeOccasion) -> None:
    run("occasion_refresh")
    before = generation()
    occasion.set_products(changed_catalogue(occasion))

    stdout, _ = run("occasion_refresh", "--dry-run", "--verbosity", "2")

    assert re.fullmatch(
        rf"Dry run: fetched 3 products \(1 page\) in {NUMBER} s; "
        r"the cache was not changed\.\n",
        stdout,
    )
    assert generation() == before
    assert product_ids() == FIXTURE_IDS


def test_refresh_verbosity_2_lists_added_changed_removed(
    occasion: FakeOccasion,
) -> None:
    first, _ = run("occasion_refresh", "--verbosity", "2")
    occasion.set_products(changed_catalogue(occasion))

    second, _ = run("occasion_refresh", "--verbosity", "2")

    assert re.fullmatch(
        "Added product 4411\n"
        "Added product p2Wm8c\n"
        "Added product p7Kd2x\n"
        "Added product p9Rt4b\n"
        rf"Refreshed 4 products \(2 pages\) in {NUMBER} s: "
        r"4 added, 0 changed, 0 removed\.\n",
        first,
    )
    assert re.fullmatch(
        "Added product p1New\n"
        "Changed product p7Kd2x\n"
        "Removed product 4411\n"
        "Removed product p2Wm8c\n"
        rf"Refreshed 3 products \(1 page\) in {NUMBER} s: "
        r"1 added, 1 changed, 2 removed\.\n",
        second,
    )
    assert product_ids() == ["p7Kd2x", "p9Rt4b", "p1New"]


@pytest.mark.parametrize("args", [(), ("--dry-run",)])
def test_refresh_verbosity_0_prints_nothing(
    occasion: FakeOccasion, args: tuple[str, ...]
) -> None:
    stdout, stderr = run("occasion_refresh", "--verbosity", "0", *args)

    assert (stdout, stderr) == ("", "")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, "GET /api/v1/products answered 401: Simulated."),
        (503, "GET /api/v1/products answered 503: Simulated."),
    ],
)
def test_refresh_upstream_failure_raises_one_line_without_secret(
    occasion: FakeOccasion, status: int, reason: str
) -> None:
    occasion.fail_with = status

    with pytest.raises(CommandError) as caught:
        run("occasion_refresh")

    message = str(caught.value)
    assert message == f"Refresh failed; no products were cached before. {reason}"
    assert "\n" not in message
    assert SECRET not in message
    assert services.get_catalogue().manifest_or_none() is None


@pytest.mark.parametrize("status", [401, 503])
def test_refresh_upstream_failure_keeps_cached_products(
    occasion: FakeOccasion, status: int
) -> None:
    run("occasion_refresh")
    before = generation()
    occasion.fail_with = status

    with pytest.raises(
        CommandError, match=r"^Refresh failed; the cached products were kept"
    ):
        run("occasion_refresh")

    assert generation() == before
    assert product_ids() == FIXTURE_IDS


def test_refresh_dry_run_upstream_failure_raises(occasion: FakeOccasion) -> None:
    occasion.fail_with = 503

    with pytest.raises(
        CommandError,
        match=r"^Refresh failed; no products were cached before\. "
        r"GET /api/v1/products answered 503: Simulated\.$",
    ):
        run("occasion_refresh", "--dry-run")


def test_refresh_from_command_line_failure_exits_1_with_one_line(
    occasion: FakeOccasion, capsys: pytest.CaptureFixture[str]
) -> None:
    occasion.fail_with = 401
    utility = ManagementUtility(["manage.py", "occasion_refresh", "--no-color"])

    with pytest.raises(SystemExit) as caught:
        utility.execute()

    out, err = capsys.readouterr()
    assert caught.value.code == 1
    assert out == ""
    assert err == (
        "CommandError: Refresh failed; no products were cached before. "
        "GET /api/v1/products answered 401: Simulated.\n"
    )
    assert SECRET not in err


def test_refresh_failure_secret_absent_from_error_chain(
    occasion: FakeOccasion,
) -> None:
    occasion.fail_with = 401

    with pytest.raises(CommandError) as caught:
        run("occasion_refresh", "--verbosity", "3")

    assert SECRET not in repr(caught.value)
    assert SECRET not in repr(caught.value.__cause__)


# -- occasion_status -----------------------------------------------------------


def test_status_before_any_refresh() -> None:
    stdout, stderr = run("occasion_status")

    assert stdout == "listing: not cached\nlast refresh: none recorded\n"
    assert stderr == ""


def test_status_after_refresh_is_fresh(occasion: FakeOccasion) -> None:
    run("occasion_refresh")

    stdout, _ = run("occasion_status")

    assert re.fullmatch(
        rf"listing: generation {generation()}, fetched {MOMENT} \(\d+ s ago\), "
        r"fresh; 4 products\n"
        rf"last refresh: succeeded at {MOMENT} after {NUMBER} s: "
        r"4 products in 2 pages\n",
        stdout,
    )


def test_status_after_failed_refresh_says_failed(occasion: FakeOccasion) -> None:
    run("occasion_refresh")
    occasion.fail_with = 503
    with pytest.raises(CommandError):
        run("occasion_refresh")

    stdout, _ = run("occasion_status")

    assert re.fullmatch(
        rf"listing: generation {generation()}, fetched {MOMENT} \(\d+ s ago\), "
        r"fresh; 4 products\n"
        rf"last refresh: FAILED at {MOMENT} after {NUMBER} s: "
        r"GET /api/v1/products answered 503: Simulated\.\n",
        stdout,
    )


def test_status_failed_first_refresh_not_cached(occasion: FakeOccasion) -> None:
    occasion.fail_with = 401
    with pytest.raises(CommandError):
        run("occasion_refresh")

    stdout, _ = run("occasion_status")

    assert re.fullmatch(
        r"listing: not cached\n"
        rf"last refresh: FAILED at {MOMENT} after {NUMBER} s: "
        r"GET /api/v1/products answered 401: Simulated\.\n",
        stdout,
    )
    assert SECRET not in stdout


@override_settings(OCCASION_CACHE_TIMEOUT=0)
def test_status_stale_listing_backing_off(occasion: FakeOccasion) -> None:
    run("occasion_refresh")
    occasion.fail_with = 503
    assert product_ids() == FIXTURE_IDS

    stdout, _ = run("occasion_status")

    assert re.fullmatch(
        rf"listing: generation {generation()}, fetched {MOMENT} \(\d+ s ago\), "
        r"stale; 4 products; backing off after: "
        r"GET /api/v1/products answered 503: Simulated\.\n"
        rf"last refresh: FAILED at {MOMENT} after {NUMBER} s: "
        r"GET /api/v1/products answered 503: Simulated\.\n",
        stdout,
    )


@override_settings(OCCASION_CACHE_TIMEOUT=0.001, OCCASION_MAX_STALENESS=0.001)
def test_status_listing_past_max_staleness_too_old(occasion: FakeOccasion) -> None:
    run("occasion_refresh")
    time.sleep(0.01)

    stdout, _ = run("occasion_status")

    assert re.fullmatch(
        rf"listing: generation {generation()}, fetched {MOMENT} \(\d+ s ago\), "
        r"too old to serve; 4 products\n"
        rf"last refresh: succeeded at {MOMENT} after {NUMBER} s: "
        r"4 products in 2 pages\n",
        stdout,
    )


def test_status_clear_removes_listing(occasion: FakeOccasion) -> None:
    run("occasion_refresh")

    stdout, stderr = run("occasion_status", "--clear")

    assert stdout == "Removed the cached listing (4 products).\n"
    assert stderr == ""
    assert run("occasion_status")[0].startswith("listing: not cached\n")
    occasion.fail_with = 503
    with pytest.raises(OccasionError):
        services.list_products()


def test_status_clear_nothing_cached() -> None:
    stdout, _ = run("occasion_status", "--clear")

    assert stdout == "Removed the cached listing (0 products).\n"
