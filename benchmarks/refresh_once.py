"""One ``occasion_refresh`` in a process of its own; prints its peak memory.

``python -m benchmarks.refresh_once API_URL [--baseline] [--tracemalloc]``
prints one line of JSON: ``peak_rss_kib`` (the process's peak resident size)
and, with ``--tracemalloc``, ``heap_peak`` (bytes). ``--baseline`` does all
but the refresh itself, so the difference is what refreshing costs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tracemalloc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.refresh_once")
    parser.add_argument("api_url", help="The stand-in API's base URL.")
    parser.add_argument(
        "--baseline", action="store_true", help="Set up, but do not refresh."
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="Also trace Python allocations and report their peak.",
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    from django.core.management import call_command, load_command_class
    from django.test import override_settings

    from django_occasion import services

    load_command_class("django_occasion", "occasion_refresh")
    with override_settings(OCCASION_API_URL=args.api_url):
        services.get_catalogue()
        if args.tracemalloc:
            tracemalloc.start()
        if not args.baseline:
            call_command("occasion_refresh", verbosity=0)
        heap_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    print(json.dumps({"peak_rss_kib": peak_rss_kib(), "heap_peak": heap_peak}))


def peak_rss_kib() -> int:
    """The peak resident size of this process image, in KiB.

    Not ``getrusage().ru_maxrss``: Linux carries it over ``exec``, so a child
    of a large parent reports the parent's peak. ``VmHWM`` starts afresh.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux


if __name__ == "__main__":
    main()
