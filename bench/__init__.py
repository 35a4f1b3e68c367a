"""On-demand benchmarks of Quotient, each against a baseline measured in the same run.

The benchmarks are not part of the test suite: they take minutes, need the ``bench`` extra
(``./dev bench``) and their absolute figures depend on the machine. What they assert is
correctness (the compared implementations give identical results); what they print are rates and
ratios against a baseline run in the same process, so that a slow or noisy machine moves both sides
of a ratio alike. Run one with ``.venv/bin/python -m bench.<name> --help``; see bench/README.md.

This package holds the helpers the benchmarks share: timing, percentiles and table printing.
"""

from __future__ import annotations

import json
import math
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def time_repeats(fn: Callable[[], object], repeats: int) -> list[float]:
    """Call ``fn`` ``repeats`` times and return each call's wall time in seconds."""
    out: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t0) / 1e9)
    return out


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0..100) of already sorted values (nearest rank)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


def fmt_rate(per_s: float) -> str:
    """Format a rate with a k/M suffix (``12.3M``)."""
    if math.isnan(per_s):
        return "n/a"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_s >= div:
            return f"{per_s / div:,.2f}{suffix}"
    return f"{per_s:,.1f}"


def fmt_ratio(x: float) -> str:
    """Format a ratio with two decimals, or three significant digits when it is under 0.1."""
    if math.isnan(x):
        return "n/a"
    return f"{x:,.2f}x" if x >= 0.1 else f"{x:.3g}x"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows as a plain aligned table (first column left-aligned, the rest right-aligned)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [
            row[i].ljust(widths[i]) if i == 0 else row[i].rjust(widths[i]) for i in range(len(row))
        ]
        return "  ".join(parts).rstrip()

    print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def machine_summary() -> dict[str, Any]:
    """Describe where the figures were measured (for the JSON output and the header)."""
    import os

    import numpy as np

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")


__all__ = [
    "ROOT",
    "fmt_rate",
    "fmt_ratio",
    "machine_summary",
    "median",
    "percentile",
    "print_table",
    "time_repeats",
    "write_json",
]
