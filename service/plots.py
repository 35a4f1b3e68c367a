"""Pictures for the CLI: a forecast's outcome distribution against its target, its category
waterfall, backtested forecasts against actuals, and a scenario against its baseline with each
lever's own effect (a tornado chart). matplotlib draws off-screen (Agg) into PNG
files, so this works on a server without a display."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PlotRow:
    """What the pictures need of one forecast row, in major units of ``currency``."""

    title: str
    currency: str
    quantiles: Sequence[float]  # increasing, in (0, 1)
    values: Sequence[float]  # the outcome at each quantile
    mean: float
    target: float | None
    p_reach_target: float | None
    closed: float
    commit: float
    best_case: float
    pipeline: float


def forecast_figure(row: PlotRow, path: Path) -> None:
    """Write a PNG: left, the outcome's distribution function with P10/P50/P90 and the target;
    right, the waterfall closed -> commit -> best case -> pipeline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    left.step(row.values, row.quantiles, where="post", color="tab:blue", label="P(outcome <= x)")
    for q, label in ((0.1, "P10"), (0.5, "P50"), (0.9, "P90")):
        if q in row.quantiles:
            x = row.values[list(row.quantiles).index(q)]
            left.axvline(x, color="tab:gray", linestyle=":", linewidth=1)
            left.annotate(label, (x, q), textcoords="offset points", xytext=(4, -12))
    left.axvline(row.mean, color="tab:green", linestyle="--", linewidth=1, label="mean")
    if row.target is not None:
        reach = "" if row.p_reach_target is None else f" (P reach = {row.p_reach_target:.0%})"
        left.axvline(row.target, color="tab:red", linewidth=1.5, label=f"target{reach}")
    left.set_xlabel(f"bookings ({row.currency})")
    left.set_ylabel("cumulative probability")
    left.set_ylim(0, 1)
    left.set_title(f"Outcome distribution: {row.title}")
    left.legend(loc="lower right")

    steps = [("closed", row.closed), ("commit", row.commit), ("best case", row.best_case),
             ("pipeline", row.pipeline)]  # fmt: skip
    bottom = 0.0
    colors = ["tab:green", "tab:blue", "tab:orange", "tab:gray"]
    for (label, amount), color in zip(steps, colors, strict=True):
        right.bar(label, amount, bottom=bottom, color=color)
        right.annotate(f"{bottom + amount:,.0f}", (label, bottom + amount), ha="center",
                       textcoords="offset points", xytext=(0, 3))  # fmt: skip
        bottom += amount
    if row.target is not None:
        right.axhline(row.target, color="tab:red", linewidth=1.5, label="target")
        right.legend(loc="upper left")
    right.set_ylabel(f"cumulative amount ({row.currency})")
    right.set_title("Forecast categories (cumulative)")
    thousands = FuncFormatter(lambda x, _: f"{x:,.0f}")
    left.xaxis.set_major_formatter(thousands)
    right.yaxis.set_major_formatter(thousands)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def backtest_figure(
    periods: Sequence[str],
    classic: Sequence[float],
    period_aware: Sequence[float],
    actual: Sequence[float],
    complete: Sequence[bool],
    currency: str,
    path: Path,
) -> None:
    """Write a PNG: actual bookings per period as bars, the two forecasts made before each period
    as lines; periods whose actuals are not all known are hatched."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(10, 4.8), constrained_layout=True)
    x = list(range(len(periods)))
    bars = ax.bar(x, actual, color="tab:green", alpha=0.5, label="actual")
    for bar, done in zip(bars, complete, strict=True):
        if not done:
            bar.set_hatch("//")
    ax.plot(x, classic, marker="o", color="tab:gray", label="classic (weighted pipeline)")
    ax.plot(x, period_aware, marker="o", color="tab:blue", label="period-aware")
    ax.set_xticks(x, periods)
    ax.set_ylabel(f"bookings ({currency})")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title("Forecast made before each period against what was won")
    ax.legend(loc="upper left")
    fig.savefig(path, dpi=100)
    plt.close(fig)


@dataclass(frozen=True)
class ScenarioPicture:
    """One row of a scenario, in major units: the outcome quantiles before and after, the
    target, and the P50 each lever gives alone (lever label -> P50)."""

    title: str
    currency: str
    quantiles: Sequence[float]
    before: Sequence[float]
    after: Sequence[float]
    target: float | None
    alone: Sequence[tuple[str, float]]


def scenario_figure(row: ScenarioPicture, path: Path) -> None:
    """Write a PNG: left, the outcome's distribution function before and after the levers, with
    the target; right, a tornado chart of what each lever alone does to the P50."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    left.step(row.before, row.quantiles, where="post", color="tab:gray", label="baseline")
    left.step(row.after, row.quantiles, where="post", color="tab:blue", label="scenario")
    if row.target is not None:
        left.axvline(row.target, color="tab:red", linewidth=1.5, label="target")
    left.set_xlabel(f"bookings ({row.currency})")
    left.set_ylabel("cumulative probability")
    left.set_ylim(0, 1)
    left.set_title(f"Outcome: {row.title}")
    left.legend(loc="lower right")
    left.tick_params(axis="x", labelrotation=30)
    p50 = row.before[list(row.quantiles).index(0.5)] if 0.5 in row.quantiles else 0.0
    effects = sorted(((label, value - p50) for label, value in row.alone), key=lambda e: abs(e[1]))
    labels = [label for label, _ in effects]
    right.barh(labels, [e for _, e in effects],
               color=["tab:green" if e >= 0 else "tab:red" for _, e in effects])  # fmt: skip
    right.axvline(0, color="black", linewidth=0.8)
    right.set_xlabel(f"change of the P50 ({row.currency})")
    right.set_title("Each lever alone")
    thousands = FuncFormatter(lambda x, _: f"{x:,.0f}")
    left.xaxis.set_major_formatter(thousands)
    right.xaxis.set_major_formatter(thousands)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def funnel_figure(stages: Sequence[str], reached: Sequence[int],
                  dwell: Sequence[tuple[str, Sequence[float] | None]], title: str,
                  path: Path) -> None:  # fmt: skip
    """Write a PNG: left, the funnel (deals reaching each stage, with the conversion from the
    stage before); right, a box per stage of its completed stays (P10, quartiles, P90: the
    whiskers are P10 and P90), where it has any."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    y = list(range(len(stages)))[::-1]
    widest = max(max(reached, default=0), 1)
    left.barh(y, reached, left=[(widest - r) / 2 for r in reached], color="tab:blue")
    for k, (yy, r) in enumerate(zip(y, reached, strict=True)):
        note = f"{r:,}" if k == 0 or not reached[k - 1] else f"{r:,} ({r / reached[k - 1]:.0%})"
        left.annotate(note, (widest / 2, yy), ha="center", va="center", color="white")
    left.set_yticks(y, list(stages))
    left.set_xticks([])
    left.set_title(f"Funnel: {title}")
    boxes = [{"label": name, "whislo": q[0], "q1": q[1], "med": q[2], "q3": q[3],
              "whishi": q[4], "fliers": []} for name, q in dwell if q is not None]  # fmt: skip
    if boxes:
        right.bxp(boxes, showfliers=False)
        right.tick_params(axis="x", labelrotation=30)
    right.set_ylabel("days in stage")
    right.set_title("Dwell time per stage (completed stays; whiskers P10-P90)")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def waterfall_figure(before: float, after: float, steps: Sequence[tuple[str, float]], title: str,
                     currency: str, path: Path) -> None:  # fmt: skip
    """Write a PNG: bookings before, each factor's contribution, bookings after."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(9, 4.8), constrained_layout=True)
    labels = ["before", *(name for name, _ in steps), "after"]
    level = before
    tops = [before, after]
    ax.bar(0, before, color="tab:gray")
    for k, (_, change) in enumerate(steps, start=1):
        ax.bar(k, change, bottom=level, color="tab:green" if change >= 0 else "tab:red")
        up = change >= 0
        ax.annotate(f"{change:+,.0f}", (k, level + change),
                    ha="center", textcoords="offset points", xytext=(0, 3 if up else -12))  # fmt: skip
        level += change
        tops.append(level)
    ax.bar(len(labels) - 1, after, color="tab:blue")
    ax.set_ylim(min(0.0, *tops) * 1.15, max(tops) * 1.15 or 1)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel(f"bookings ({currency})")
    ax.set_title(f"Why bookings moved: {title}")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def report_page(title: str, head: Sequence[str], table: Sequence[Sequence[str]],
                png: Path | None) -> str:  # fmt: skip
    """A self-contained HTML page: a title, a picture (embedded) and a table; every value is
    escaped."""
    import base64
    from html import escape

    image = ""
    if png is not None:
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        image = f"<img alt='{escape(title)}' src='data:image/png;base64,{data}'>"
    rows = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in line) + "</tr>"
                   for line in table)  # fmt: skip
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}img{max-width:100%}</style>"
        f"</head><body><h1>{escape(title)}</h1>{image}<table><tr>"
        + "".join(f"<th>{escape(h)}</th>" for h in head)
        + "</tr>"
        + rows
        + "</table></body></html>\n"
    )


__all__ = [
    "PlotRow",
    "ScenarioPicture",
    "backtest_figure",
    "forecast_figure",
    "funnel_figure",
    "report_page",
    "scenario_figure",
    "waterfall_figure",
]
