"""Complexity plot: memory and learning cost versus T, log-log, every rule, both conventions."""

from __future__ import annotations

import io

import pandas as pd
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

RULE_STYLE = {"bptt": ("BPTT", "tab:red"), "stllr": ("S-TLLR", "tab:blue"), "tess": ("TESS", "tab:green")}
PANELS = [("paper", "memory_MB", "Memory, paper convention (MB)"),
          ("full", "memory_MB", "Memory, full convention (MB)"),
          ("paper", "learning_ops", "Learning MACs, paper convention"),
          ("full", "learning_ops", "Learning ops, full convention")]


def style_loglog(ax, xlabel: str, ylabel: str, base: int = 2, xticks=None) -> None:
    """The house style of a cost-versus-x panel: log-log axes with plain tick labels (no
    mathtext: it costs more than the whole plot) and no minor ticks, light grid, small legend
    in a fixed corner (``loc="best"`` is slow); x ticks at ``xticks`` when given."""
    ax.set_xscale("log", base=base)
    ax.set_yscale("log")
    if xticks is not None:
        ax.set_xticks(xticks, [f"{t:g}" for t in xticks])
    else:
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.3g}"))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.yaxis.set_minor_locator(ticker.NullLocator())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left")


def figure_bytes(fig: Figure, fmt: str = "png", dpi: int = 100) -> bytes:
    """A Figure as ``png`` or ``svg`` bytes (no pyplot, no global state)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    return buf.getvalue()


def _slope(slopes: pd.DataFrame, rule: str, conv: str, metric: str, part: str) -> float | None:
    s = slopes[(slopes["rule"] == rule) & (slopes["convention"] == conv)
               & (slopes["metric"] == metric) & (slopes["part"] == part)]
    return round(float(s["slope"].iloc[0]), 2) + 0.0 if len(s) else None  # no "-0.00"


def plot_complexity(cx: pd.DataFrame, slopes: pd.DataFrame, T_mark: int, title: str,
                    fmt: str = "png") -> bytes:
    """The 2×2 figure as image bytes (``png`` or ``svg``); slopes fitted over T = 16…1024 are in
    the legends, the workload's own T is the dotted line. In the full-memory panel the dashed
    curve is BPTT's history alone (the buffer that grows with T)."""
    fig = Figure(figsize=(11, 8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.07, top=0.92, wspace=0.25, hspace=0.25)
    for ax, (conv, metric, label) in zip(axes.flat, PANELS):
        for rule, (name, colour) in RULE_STYLE.items():
            d = cx[(cx["rule"] == rule) & (cx["convention"] == conv) & (cx["metric"] == metric)
                   & (cx["part"] == "total")]
            if d.empty:
                continue
            k = _slope(slopes, rule, conv, metric, "total")
            ax.plot(d["T"], d["value"], "o--" if rule == "stllr" else "o-", color=colour, ms=3,
                    lw=3.5 if rule == "stllr" else 1.5,  # wide, so a curve TESS equals stays visible
                    label=f"{name} (slope {k + 0.0:.2f})" if k is not None else name)
            if conv == "full" and metric == "memory_MB" and rule == "bptt":
                h = cx[(cx["rule"] == rule) & (cx["convention"] == conv) & (cx["metric"] == metric)
                       & (cx["part"] == "history")]
                kh = _slope(slopes, rule, conv, metric, "history")
                if not h.empty:
                    ax.plot(h["T"], h["value"], "--", color=colour,
                            label=f"BPTT history only (slope {kh:.2f})")
        ax.axvline(T_mark, color="grey", ls=":", lw=1, label=f"workload T = {T_mark}")
        style_loglog(ax, "time steps T", label, xticks=sorted(cx["T"].unique()))
    fig.suptitle(f"{title}: cost per sample versus T (slopes fitted over T = 16…1024)")
    return figure_bytes(fig, fmt, dpi=80)
