from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import services
from ...exceptions import OccasionError


class Command(BaseCommand):
    help = "Fetch every Occasion product and publish them to the cache in one step."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Fetch every page but leave the cache as it is.",
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        verbosity: int = options["verbosity"]
        try:
            result = services.refresh_catalogue(dry_run=dry_run)
        except OccasionError as exc:
            raise CommandError(
                f"Refresh failed; the cached products were kept. {exc}"
            ) from exc
        if verbosity >= 2 and not dry_run:
            for label, ids in (
                ("Added", result.added),
                ("Changed", result.changed),
                ("Removed", result.removed),
            ):
                for product_id in sorted(ids):
                    self.stdout.write(f"{label} product {product_id}")
        if verbosity >= 1:
            pages = "page" if result.pages == 1 else "pages"
            if dry_run:
                summary = (
                    f"Dry run: fetched {result.products} products "
                    f"({result.pages} {pages}) in {result.elapsed:.2f} s; "
                    "the cache was not changed."
                )
            else:
                summary = (
                    f"Refreshed {result.products} products ({result.pages} {pages}) "
                    f"in {result.elapsed:.2f} s: {len(result.added)} added, "
                    f"{len(result.changed)} changed, {len(result.removed)} removed."
                )
            self.stdout.write(self.style.SUCCESS(summary))
