"""Axis helpers shared by every figure: log-axis ticks that always label something, one line
style per rule that keeps equal curves visible, notes naming the curves that coincide, and room
above the data for a legend so it never covers a point.

matplotlib is imported where a figure is made (:func:`new_figure`), not with this module: the run
command draws its plot in a child process (:mod:`tess_sim.background`), so its own process never
pays the import."""

from __future__ import annotations

import io
import math

from typing import TYPE_CHECKING

import numpy as np

from tess_sim.reports.format import power
from tess_sim.simulator.vocab import RULE_LABELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RULE_STYLE = {rule: (RULE_LABELS[rule], colour) for rule, colour in
              (("bptt", "tab:red"), ("stllr", "tab:blue"), ("tess", "tab:green"))}
# drawn in this order: each later curve is thinner with a smaller marker, so a curve equal to an
# earlier one leaves the earlier one's edges (and its hollow marker) visible around it
RULE_LINE = {"bptt": dict(ls="-", lw=3.2, marker="o", ms=7, mfc="none", mew=1.4),
             "stllr": dict(ls=(0, (5, 2)), lw=1.9, marker="s", ms=4.5),
             "tess": dict(ls="-", lw=1.0, marker="^", ms=3.5)}
FONT = {"tick": 10, "label": 10, "legend": 9, "title": 10.5}


def tick_text(v: float) -> str:
    """A tick label without mathtext: plain below 10^5, ``2×10⁶`` / ``10⁶`` above (and below 10^-3)."""
    if v == 0 or 1e-3 <= abs(v) < 1e5:
        return str(int(round(v))) if abs(v) >= 1 and math.isclose(v, round(v), rel_tol=1e-9) else f"{v:.4g}"
    return power(v)


def log_ticks(lo: float, hi: float, max_ticks: int = 7) -> list[float]:
    """At least two tick positions inside [lo, hi] (lo > 0) on a log axis: decades when three or more
    fall inside (every k-th one when there are many), else 1-2-5 steps, else 1…9 steps, else two or three
    round values spread over the range."""
    lo, hi = sorted((lo, hi))
    e0, e1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    inside = lambda ts: [t for t in ts if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]  # noqa: E731
    decades = inside([10.0 ** e for e in range(e0, e1 + 1)])
    if len(decades) >= 3:
        step = -(-len(decades) // max_ticks)
        return decades[::step]
    for mantissas in ((1, 2, 5), range(1, 10)):
        steps = inside([m * 10.0 ** e for e in range(e0, e1 + 1) for m in mantissas])
        if len(steps) >= 2:
            return steps[:: -(-len(steps) // max_ticks)]
    out = []
    for v in np.geomspace(lo, hi, 4)[1:-1] if hi / lo > 1.02 else [lo, hi]:
        digits = 2 if hi / lo > 1.2 else 3
        r = float(f"{v:.{digits}g}")
        if r not in out and lo <= r <= hi:
            out.append(r)
    while len(out) < 2:  # a range so narrow that rounding merges the values: label its ends
        out = [float(f"{lo:.4g}"), float(f"{hi:.4g}")]
        if out[0] == out[1]:
            out = [lo, hi]
    return out


def set_log_ticks(axis, lo: float | None = None, hi: float | None = None) -> None:
    """Fixed, labelled major ticks on a log ``axis`` (ax.xaxis / ax.yaxis / a colorbar's axis) over
    its view interval (or [lo, hi]); no minor ticks."""
    from matplotlib import ticker

    if lo is None:
        lo, hi = axis.get_view_interval()
    ticks = log_ticks(lo, hi)
    axis.set_major_locator(ticker.FixedLocator(ticks))
    axis.set_major_formatter(ticker.FixedFormatter([tick_text(t) for t in ticks]))
    axis.set_minor_locator(ticker.NullLocator())


def x_value_ticks(ax, values, max_labels: int = 7) -> None:
    """Ticks at the swept ``values`` of a log x axis, labelled (every k-th when there are many)."""
    from matplotlib import ticker

    values = sorted({float(v) for v in values if v > 0})
    step = -(-len(values) // max_labels)
    ax.xaxis.set_major_locator(ticker.FixedLocator(values))
    ax.xaxis.set_major_formatter(ticker.FixedFormatter(
        [tick_text(v) if i % step == 0 else "" for i, v in enumerate(values)]))
    ax.xaxis.set_minor_locator(ticker.NullLocator())


def curve_notes(curves: dict[str, tuple], close: float = 0.02) -> list[str]:
    """Which curves coincide: ``"S-TLLR = BPTT"`` (equal to 1e-9) or ``"TESS ≈ S-TLLR"`` (every
    point within ``close``, relative), each later curve against the first earlier one it matches.
    ``curves``: name -> (x, y), in drawing order."""
    notes, items = [], list(curves.items())
    for i, (name, (x, y)) in enumerate(items):
        x, y = np.asarray(x, float), np.asarray(y, float)
        for other, (xo, yo) in items[:i]:
            xo, yo = np.asarray(xo, float), np.asarray(yo, float)
            if x.shape != xo.shape or not np.array_equal(x, xo) or not len(y):
                continue
            if np.allclose(y, yo, rtol=1e-9, atol=0):
                notes.append(f"{name} = {other}")
                break
            if np.all(np.abs(y - yo) <= close * np.maximum(np.abs(yo), 1e-300)):
                notes.append(f"{name} ≈ {other}")
                break
    return notes


def legend_with_room(ax, fig, title: str | None = None, loc: str = "upper left", fontsize=None) -> None:
    """A legend in the top corner of a log-y ``ax`` (``title`` on top, e.g. the curve notes), with
    the y range raised so the data stay below it; then labelled y ticks over the new range."""
    fontsize = fontsize or FONT["legend"]
    leg = ax.legend(fontsize=fontsize, loc=loc, title=title, title_fontsize=fontsize, frameon=True,
                    framealpha=0.9, borderaxespad=0.3, handlelength=3.2)
    leg._legend_box.align = "left"
    lo, hi = ax.get_ylim()
    r = fig.canvas.get_renderer()
    frac = leg.get_window_extent(r).height / ax.get_window_extent(r).height + 0.04
    frac = min(frac, 0.75)
    span = math.log10(hi) - math.log10(lo)
    ax.set_ylim(lo, 10 ** (math.log10(lo) + span / (1 - frac)))
    set_log_ticks(ax.yaxis)


def data_ylim(ax, values) -> None:
    """Log y limits around ``values`` (> 0), widened to a factor 1.5 either side of a flat curve."""
    v = np.asarray([x for x in values if np.isfinite(x) and x > 0], float)
    if not v.size:
        return
    lo, hi = v.min(), v.max()
    pad = 1.5 if hi / lo < 1.5 else max(1.15, (hi / lo) ** 0.05)
    ax.set_ylim(lo / pad, hi * pad)


def new_figure(width: float, height: float) -> Figure:
    """A Figure on an Agg canvas (no pyplot, no global state); size in inches."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def figure_bytes(fig: Figure, fmt: str = "png", dpi: int = 100) -> bytes:
    """A Figure as ``png`` or ``svg`` bytes at ``dpi`` pixels per inch."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    return buf.getvalue()
