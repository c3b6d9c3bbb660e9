"""Complexity plot: memory and learning cost versus T, log-log, every rule, both conventions."""

from __future__ import annotations

import pandas as pd

from tess_sim.reports.axes import FONT, RULE_LINE, RULE_STYLE, curve_notes, figure_bytes, legend_with_room, new_figure

__all__ = ["RULE_STYLE", "complexity_figure", "figure_bytes", "plot_complexity"]

PANELS = [("paper", "memory_MB", "Memory, paper convention (MB)"),
          ("full", "memory_MB", "Memory, full convention (MB)"),
          ("paper", "learning_ops", "Learning MACs, paper convention"),
          ("full", "learning_ops", "Learning ops, full convention")]


def _slope(slopes: pd.DataFrame, rule: str, conv: str, metric: str, part: str) -> float | None:
    s = slopes[(slopes["rule"] == rule) & (slopes["convention"] == conv)
               & (slopes["metric"] == metric) & (slopes["part"] == part)]
    return round(float(s["slope"].iloc[0]), 2) + 0.0 if len(s) else None  # no "-0.00"


def plot_complexity(cx: pd.DataFrame, slopes: pd.DataFrame, T_mark: int, title: str,
                    fmt: str = "png", dpi: int = 80) -> bytes:
    """:func:`complexity_figure` as ``png`` or ``svg`` bytes (80 dpi: 880 × 688 px)."""
    return figure_bytes(complexity_figure(cx, slopes, T_mark, title), fmt, dpi)


def complexity_figure(cx: pd.DataFrame, slopes: pd.DataFrame, T_mark: int, title: str):
    """The 2×2 figure; slopes fitted over T = 16…1024 are in
    the legends, the workload's own T is the dotted line, curves that coincide are named in the
    legend's title ("S-TLLR = BPTT here") and drawn in nested styles. In the full-memory panel the
    dashed curve is BPTT's history alone (the buffer that grows with T)."""
    from matplotlib import ticker

    fig = new_figure(11, 8.6)
    axes = fig.subplots(2, 2)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.07, top=0.91, wspace=0.25, hspace=0.28)
    Ts = sorted(cx["T"].unique())
    for ax, (conv, metric, label) in zip(axes.flat, PANELS):
        curves = {}
        for rule, (name, colour) in RULE_STYLE.items():
            d = cx[(cx["rule"] == rule) & (cx["convention"] == conv) & (cx["metric"] == metric)
                   & (cx["part"] == "total")].sort_values("T")
            if d.empty:
                continue
            k = _slope(slopes, rule, conv, metric, "total")
            ax.plot(d["T"], d["value"], color=colour, label=f"{name} (slope {k + 0.0:.2f})" if k is not None else name,
                    **RULE_LINE[rule])
            curves[name] = (d["T"].to_numpy(), d["value"].to_numpy())
            if conv == "full" and metric == "memory_MB" and rule == "bptt":
                h = cx[(cx["rule"] == rule) & (cx["convention"] == conv) & (cx["metric"] == metric)
                       & (cx["part"] == "history")]
                kh = _slope(slopes, rule, conv, metric, "history")
                if not h.empty:
                    ax.plot(h["T"], h["value"], ":", color=colour, lw=1.5,
                            label=f"BPTT history only (slope {kh:.2f})")
        ax.axvline(T_mark, color="grey", ls=":", lw=1, label=f"workload T = {T_mark}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(Ts, [f"{t:g}" for t in Ts])
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        ax.set_xlabel("time steps T", fontsize=FONT["label"] + 0.5)
        ax.set_ylabel(label, fontsize=FONT["label"] + 0.5)
        ax.tick_params(labelsize=FONT["tick"])
        ax.grid(True, which="major", alpha=0.3)
        notes = curve_notes(curves)
        legend_with_room(ax, fig, "; ".join(notes) + " here" if notes else None)
    fig.suptitle(f"{title}: cost per sample versus T (slopes fitted over T = 16…1024)", fontsize=FONT["title"] + 2)
    return fig
