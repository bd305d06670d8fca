"""Timing, the results table and profiles: the parts every figure shares.

Timings use ``timeit`` (garbage collection off while timing, as ``timeit``
does): each repeat runs the code as many times as ``Timer.autorange`` finds
fill 0.2 s, and a figure is the median of the repeats' per-call times.
Two pieces of code compared with each other are timed in alternation, so
that a slow moment of the machine costs both alike.
"""

from __future__ import annotations

import cProfile
import os
import platform
import pstats
import re
import statistics
import timeit
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import django

PROFILE_DIR = Path(".bench")


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    figure: str
    measured: str
    compared_with: str
    ratio: str
    target: str
    met: bool | None = None  # None: a figure to report, with no target
    skipped: str = ""
    #: Explains a missed target: returns timings and profiles to print.
    explain: Callable[[], str] | None = field(default=None, compare=False, repr=False)

    @property
    def verdict(self) -> str:
        if self.skipped:
            return "skipped"
        if self.met is None:
            return "-"
        return "yes" if self.met else "NO"


def per_call_times(
    functions: Sequence[Callable[[], object]],
    *,
    repeat: int,
    contexts: Sequence[Callable[[], AbstractContextManager[object]]] | None = None,
) -> list[list[float]]:
    """Per-call seconds of each function, ``repeat`` times, in alternation.

    ``contexts`` (one per function) are entered around each timing, untimed:
    the settings a function needs, say.
    """
    timers = [timeit.Timer(function) for function in functions]
    around = contexts or [nullcontext] * len(functions)
    numbers = []
    for timer, context in zip(timers, around, strict=True):
        with context():
            numbers.append(timer.autorange()[0])
    results: list[list[float]] = [[] for _ in functions]
    for _ in range(repeat):
        for timer, number, times, context in zip(
            timers, numbers, results, around, strict=True
        ):
            with context():
                times.append(timer.timeit(number) / number)
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms" if seconds < 0.01 else f"{seconds * 1000:.1f} ms"


def format_table(rows: Sequence[Row]) -> str:
    header = ("figure", "measured", "compared with", "ratio", "target", "met?")
    cells = [header] + [
        (
            r.figure,
            f"skipped: {r.skipped}" if r.skipped else r.measured,
            r.compared_with,
            r.ratio,
            r.target,
            r.verdict,
        )
        for r in rows
    ]
    widths = [max(len(cell[n]) for cell in cells) for n in range(len(header))]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True))
        for cell in cells
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
    except (OSError, IndexError, ValueError):
        return ""
    return f", {kib / 1024 / 1024:.0f} GiB"


def describe_machine() -> str:
    return (
        f"{os.cpu_count()} CPUs ({_cpu_model()}){_memory()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, "
        f"Django {django.get_version()}"
    )


def profile(
    name: str, function: Callable[[], object], *, calls: int, top: int = 12
) -> str:
    """Profile ``calls`` calls of ``function``: where its time goes.

    Lists the functions with the most time of their own, then the app's own
    functions by time including their callees, both as shares of the whole.
    The full profile is kept in ``.bench/NAME.prof`` for ``python -m pstats``
    or any viewer of cProfile files.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        function()
    profiler.disable()
    PROFILE_DIR.mkdir(exist_ok=True)
    path = PROFILE_DIR / f"{name}.prof"
    profiler.dump_stats(path)
    # ``Stats.stats`` is undocumented but stable: {(file, line, name): totals}.
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    code = function.__code__
    total = stats[(code.co_filename, code.co_firstlineno, code.co_name)][3]
    entries = [
        (_short(filename), line, function_name, own, cumulative)
        for (filename, line, function_name), (_, _, own, cumulative, _) in stats.items()
    ]
    by_own = sorted(entries, key=lambda entry: entry[3], reverse=True)[:top]
    app = sorted(
        (entry for entry in entries if entry[0].startswith("django_occasion/")),
        key=lambda entry: entry[4],
        reverse=True,
    )[:top]
    lines = [
        f"Profile of {name}: {total / calls * 1000:.3f} ms a call under cProfile "
        f"({calls} calls; {path})",
        "  own time    function",
        *(
            f"  {own / total:>8.1%}  {where}:{line} {fn}"
            for where, line, fn, own, _ in by_own
        ),
        "  with callees  django_occasion function",
        *(
            f"  {cumulative / total:>12.1%}  {where}:{line} {fn}"
            for where, line, fn, _, cumulative in app
        ),
    ]
    return "\n".join(lines)


def _short(filename: str) -> str:
    for pattern in (r"/site-packages/(.+)$", r"/lib/python3\.\d+/(.+)$"):
        library = re.search(pattern, filename)
        if library:
            return library.group(1)
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd()))
    except ValueError:
        return filename
