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
        parser.add_argument(
            "--time-slots",
            action="store_true",
            help="Also fetch and cache the time slots of every active product.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=4,
            metavar="N",
            help="With --time-slots, fetch at most N products' time slots at "
            f"once (1 to {services.MAX_WORKERS}; default 4).",
        )

    def handle(
        self,
        *args: Any,
        dry_run: bool = False,
        time_slots: bool = False,
        workers: int = 4,
        **options: Any,
    ) -> None:
        verbosity: int = options["verbosity"]
        if time_slots and not 1 <= workers <= services.MAX_WORKERS:
            raise CommandError(
                f"--workers must be from 1 to {services.MAX_WORKERS}, not {workers}."
            )
        try:
            result = services.refresh_catalogue(dry_run=dry_run)
        except OccasionError as exc:
            kept = (
                "the cached products were kept"
                if services.get_catalogue().manifest_or_none() is not None
                else "no products were cached before"
            )
            raise CommandError(f"Refresh failed; {kept}. {exc}") from exc
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
        if time_slots:
            self._warm_time_slots(workers, dry_run=dry_run, verbosity=verbosity)

    def _warm_time_slots(self, workers: int, *, dry_run: bool, verbosity: int) -> None:
        product_ids = services.cached_product_ids(status="active")
        result = services.warm_time_slots(
            product_ids, max_workers=workers, dry_run=dry_run
        )
        for product_id, error in result.failed.items():
            self.stderr.write(
                self.style.WARNING(
                    f"Time slots of product {product_id} failed: {error}"
                )
            )
        if verbosity >= 1:
            products = "product" if result.products == 1 else "products"
            slots = "time slot" if result.time_slots == 1 else "time slots"
            workers_text = "worker" if result.workers == 1 else "workers"
            summary = (
                f"the time slots of {result.products} {products} "
                f"({result.time_slots} {slots}) in {result.elapsed:.2f} s "
                f"with {result.workers} {workers_text}"
            )
            if dry_run:
                summary = f"Dry run: fetched {summary}; the cache was not changed."
            else:
                summary = f"Cached {summary}."
            self.stdout.write(self.style.SUCCESS(summary))
        if result.failed:
            raise CommandError(
                f"The time slots of {len(result.failed)} of {len(product_ids)} "
                "products could not be fetched; their cached time slots were kept."
            )
