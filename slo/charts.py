"""The charts of the nightly HTML page, one inline SVG per objective (matplotlib, imported only
when a chart is drawn; no scripts, no external files):

- budget burn-down: budget left (%) over the objective's window, the red line is zero;
- SLI per day (when the report has `sli_per_day`): the days with data, the target dashed.

The axis limits are computed apart from the drawing (`chart_limits`, `sli_limits`): the x-axis
is exactly the objective's window [window_start, window_end] (window_end is as_of, so never past
it), the y-axis keeps the interesting range readable and clamps outliers to its edge, where a
marker and a text ("lowest: -1,718 %") say what was cut off.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from runner.shared.tables import number

BLUE, RED, GREY = "#0969da", "#cf222e", "#57606a"
# Burn-down, in %: always show [-100, 100] (zero, where the budget is exhausted, mid-height);
# widen for data down to -200 %, clamp below that.
BURN_BASE, BURN_FLOOR, BURN_CEILING = (-100.0, 100.0), -200.0, 100.0
# SLI per day, in %: at least [target - 2 x room, 100] (room = 100 - target), data down to
# target - 10 x room; a day below that is clamped.
SLI_BASE_ROOMS, SLI_FLOOR_ROOMS = 2, 10
PAD = 0.06  # share of the y span added above and below


@dataclass(frozen=True)
class Limits:
    """Axis limits of one chart, and the points outside them (drawn at the edge)."""

    x: tuple[datetime, datetime]
    y: tuple[float, float]
    below: list[tuple[datetime, float]] = field(default_factory=list)
    above: list[tuple[datetime, float]] = field(default_factory=list)


def parse_time(text: str) -> datetime:
    """ISO 8601 (a trailing Z too) as an aware datetime; naive times are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def window(objective: dict[str, Any]) -> tuple[datetime, datetime]:
    return parse_time(objective["window_start"]), parse_time(objective["window_end"])


def _inside(t: datetime, span: tuple[datetime, datetime]) -> datetime:
    return min(max(t, span[0]), span[1])


def burn_down_points(objective: dict[str, Any]) -> list[tuple[datetime, float]]:
    """(time, budget left in %) of the burn-down points that have a value, inside the window."""
    span = window(objective)
    return [(_inside(parse_time(p["t"]), span), p["budget_remaining"] * 100)
            for p in objective.get("burn_down") or [] if p.get("budget_remaining") is not None]


def sli_points(objective: dict[str, Any]) -> list[tuple[datetime, float | None]]:
    """(middle of the day's part inside the window, SLI in % or None) for every day listed."""
    span = window(objective)
    points = []
    for day in objective.get("sli_per_day") or []:
        start = datetime.fromisoformat(day["day"]).replace(tzinfo=timezone.utc)
        first, last = _inside(start, span), _inside(start + timedelta(days=1), span)
        sli = day.get("sli")
        points.append((first + (last - first) / 2, None if sli is None else sli * 100))
    return points


def _limits(span: tuple[datetime, datetime], points: list[tuple[datetime, float]],
            base: tuple[float, float], floor: float, ceiling: float) -> Limits:
    values = [v for _, v in points]
    low = max(min([base[0], *values]), floor)
    high = min(max([base[1], *values]), ceiling)
    pad = (high - low) * PAD or 1.0
    low, high = low - pad, high + pad
    return Limits(span, (low, high), [(t, v) for t, v in points if v < low],
                  [(t, v) for t, v in points if v > high])


def chart_limits(objective: dict[str, Any]) -> Limits:
    """The burn-down's limits: x the window exactly, y [-100 %, 100 %] or a bit wider."""
    return _limits(window(objective), burn_down_points(objective), BURN_BASE, BURN_FLOOR,
                   BURN_CEILING)


def sli_limits(objective: dict[str, Any]) -> Limits:
    """The SLI-per-day chart's limits: x the window, y around the target and the data."""
    target = objective["target"] * 100
    room = 100 - target
    points = [(t, v) for t, v in sli_points(objective) if v is not None]
    return _limits(window(objective), points, (target - SLI_BASE_ROOMS * room, 100.0),
                   max(0.0, target - SLI_FLOOR_ROOMS * room), 100.0)


# -- drawing ---------------------------------------------------------------------------


def _clip(value: float, limits: Limits) -> float:
    return min(max(value, limits.y[0]), limits.y[1])


def _mark_clamped(axes: Any, limits: Limits) -> None:
    """The most extreme point cut off (below, above): a marker at the edge and its value.
    (The line itself runs along the edge wherever it is cut off.)"""
    middle = limits.x[0] + (limits.x[1] - limits.x[0]) / 2
    for points, edge, marker, word, pick, dy in (
            (limits.below, limits.y[0], "v", "lowest", min, 8),
            (limits.above, limits.y[1], "^", "highest", max, -14)):
        if not points:
            continue
        t, value = pick(points, key=lambda p: p[1])
        axes.plot([t], [edge], linestyle="none", marker=marker, color=RED, markersize=8,
                  clip_on=False, zorder=5)
        axes.annotate(f"{word}: {number(value, suffix=' %')}", xy=(t, edge),
                      xytext=(-6 if t > middle else 6, dy), textcoords="offset points",
                      ha="right" if t > middle else "left", fontsize=8, color=RED,
                      fontweight="bold", zorder=6)


def _axes_style(axes: Any, limits: Limits, title: str, ylabel: str) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import FuncFormatter

    locator = AutoDateLocator(minticks=3, maxticks=7)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: number(v)))
    axes.set_xlim(*limits.x)
    axes.set_ylim(*limits.y)
    axes.set_title(title, fontsize=9, loc="left")
    axes.set_ylabel(ylabel, fontsize=8)
    axes.tick_params(labelsize=7)
    axes.xaxis.get_offset_text().set_fontsize(7)
    axes.grid(True, color="#eaeef2", linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _no_data(axes: Any, text: str = "no data") -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", color=GREY, transform=axes.transAxes)


def draw_burn_down(axes: Any, objective: dict[str, Any]) -> None:
    limits = chart_limits(objective)
    points = burn_down_points(objective)
    if points:
        times = [t for t, _ in points]
        values = [_clip(v, limits) for _, v in points]
        axes.plot(times, values, drawstyle="steps-post", color=BLUE, linewidth=1.5)
        axes.fill_between(times, values, 0, step="post", alpha=0.15, color=BLUE, linewidth=0)
    else:
        _no_data(axes)
    axes.axhline(0, color=RED, linewidth=1)
    _mark_clamped(axes, limits)
    _axes_style(axes, limits, f"{objective['name']}: budget left ({objective['window']})",
                "budget left (%)")


def draw_sli_per_day(axes: Any, objective: dict[str, Any]) -> None:
    limits = sli_limits(objective)
    target = objective["target"] * 100
    points = sli_points(objective)
    axes.axhline(target, color=GREY, linestyle="--", linewidth=1)
    axes.annotate(f"target {number(target, 4, ' %')}", xy=(1, target),
                  xycoords=("axes fraction", "data"), xytext=(-2, 3),
                  textcoords="offset points", ha="right", fontsize=7, color=GREY)
    if any(v is not None for _, v in points):
        # a missing day (None -> NaN) breaks the line: only days with data are drawn
        values = [float("nan") if v is None else _clip(v, limits) for _, v in points]
        axes.plot([t for t, _ in points], values, color=BLUE, linewidth=1)
        for colour, keep in ((BLUE, lambda v: v >= target), (RED, lambda v: v < target)):
            shown = [(t, _clip(v, limits)) for t, v in points if v is not None and keep(v)]
            if shown:  # unclipped and empty, a line would count as a point at (0, 0) in layout
                axes.plot([t for t, _ in shown], [v for _, v in shown], linestyle="none",
                          marker="o", markersize=3.5, color=colour, clip_on=False)
    else:
        _no_data(axes, "no day with data")
    _mark_clamped(axes, limits)
    _axes_style(axes, limits, "SLI per day", "SLI (%)")


def objective_figure(objective: dict[str, Any]) -> Any:
    """A matplotlib Figure: the burn-down, and the SLI per day beside it when reported."""
    from matplotlib.figure import Figure

    panels = [draw_burn_down] + ([draw_sli_per_day] if "sli_per_day" in objective else [])
    # Fixed margins: a constrained layout re-draws the figure to measure it, which doubled the
    # nightly's rendering time (~0.2 s per objective).
    figure = Figure(figsize=(4.8 * len(panels), 2.5), dpi=100)
    figure.subplots_adjust(left=0.075 * 2 / len(panels), right=0.985, bottom=0.2, top=0.88,
                           wspace=0.22)
    for axes, draw in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels,
                          strict=True):
        draw(axes, objective)
    return figure


def objective_svg(objective: dict[str, Any]) -> str:
    """The objective's figure as an inline SVG (text as text, not paths)."""
    try:
        import matplotlib
    except ImportError:  # a dependency, but a broken install must not cost the whole report
        return "<p>(charts need matplotlib: pip install matplotlib)</p>"

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": objective["name"],
                                "font.family": "sans-serif"}):
        buffer = io.StringIO()
        objective_figure(objective).savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog: the SVG is inlined
