from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ... import services


def _moment(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Command(BaseCommand):
    help = "Show what the Occasion cache holds: age, freshness and generation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clear",
            action="store_true",
            help="Remove the cached listing, so nothing stale can be served.",
        )

    def handle(self, *args: Any, clear: bool = False, **options: Any) -> None:
        catalogue = services.get_catalogue()
        if clear:
            count = catalogue.clear()
            self.stdout.write(
                self.style.SUCCESS(f"Removed the cached listing ({count} products).")
            )
            return
        for state in catalogue.states():
            if state.generation is None or state.fetched_at is None:
                self.stdout.write(f"{state.name}: {state.detail}")
                continue
            freshness = (
                "fresh"
                if state.fresh
                else "stale"
                if state.servable
                else "too old to serve"
            )
            self.stdout.write(
                f"{state.name}: generation {state.generation}, "
                f"fetched {_moment(state.fetched_at)} ({state.age:.0f} s ago), "
                f"{freshness}; {state.detail}"
            )
        outcome = catalogue.last_refresh()
        if outcome is None:
            self.stdout.write("last refresh: none recorded")
        else:
            verdict = "succeeded" if outcome["ok"] else "FAILED"
            line = (
                f"last refresh: {verdict} at {_moment(outcome['at'])} "
                f"after {outcome['elapsed']:.2f} s: {outcome['detail']}"
            )
            style = self.style.SUCCESS if outcome["ok"] else self.style.ERROR
            self.stdout.write(style(line))
