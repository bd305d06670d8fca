"""``python -m benchmarks`` (``make bench``): run every figure, print the table."""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import ExitStack

from .harness import Row, describe_machine, format_table
from .redis_server import RedisServer
from .standin import StandIn

SIZES = (50, 1000, 5000)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark django_occasion against a local stand-in API.",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20,
        help="Latency the stand-in adds to every request (default 20).",
    )
    parser.add_argument(
        "--products",
        type=int,
        default=1000,
        help="Catalogue size for figures 1, 2 and 4 (default 1000).",
    )
    parser.add_argument(
        "--refresh-products",
        type=int,
        default=2000,
        help="Catalogue size for figures 5 and 6 (default 2000).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="Fewer repeats: a rough table in about half the time.",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="Explain (time in parts, profile) every figure that can be, not "
        "only missed targets.",
    )
    return parser.parse_args(argv)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    latency = args.latency_ms / 1000
    repeat = 5 if args.quick else 15
    started = time.monotonic()
    with ExitStack() as stack:
        progress("Starting Redis and the stand-in APIs...")
        redis = stack.enter_context(RedisServer.running())
        if redis is not None:
            os.environ["OCCASION_BENCH_REDIS_URL"] = redis.url
        sizes = sorted({*SIZES, args.products, args.refresh_products})
        standins = {
            size: stack.enter_context(StandIn.running(size, latency)) for size in sizes
        }
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
        import django

        django.setup()
        # Only now: these import Django models, views and templates.
        from . import concurrency, listing, refresh

        rows: list[Row] = []
        progress("Figures 1 and 2: the warm list page...")
        rows += listing.warm_and_handwritten(standins[args.products], repeat=repeat)
        progress("Figure 3: catalogue sizes...")
        rows += listing.catalogue_sizes(
            [standins[size] for size in SIZES], repeat=repeat
        )
        progress("Figure 4: a cold listing under concurrency...")
        for processes in (1, 4):
            rows.append(
                concurrency.cold_listing(
                    standins[args.products], redis, processes=processes, threads=32
                )
            )
        progress("Figure 5: occasion_refresh...")
        refresh_standin = standins[args.refresh_products]
        rows += refresh.refresh_time(refresh_standin, runs=3 if args.quick else 7)
        progress("Figure 6: footprint...")
        rows += refresh.footprint(refresh_standin, redis)

        print(f"Machine: {describe_machine()}")
        redis_label = f"Redis {redis.version}" if redis else "no Redis"
        print(
            f"Stand-in API on 127.0.0.1, {args.latency_ms:g} ms added a request; "
            f"LocMem and {redis_label}; timings are medians of {repeat} repeats"
        )
        print()
        print(format_table(rows))
        missed = [row for row in rows if row.met is False]
        print()
        if missed:
            print("Missed: " + "; ".join(row.figure for row in missed))
        else:
            print("Every target is met.")
        printed: set[str] = set()
        for row in rows:
            if row.explain is not None and (row.met is False or args.explain):
                progress(f"Explaining: {row.figure}...")
                print()
                print(f"== Why: {row.figure} ==")
                for block in row.explain().split("\n\n"):
                    # Figures 1 and 2 share the warm page's explanation.
                    if block not in printed:
                        printed.add(block)
                        print()
                        print(block)
    progress(f"Done in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
