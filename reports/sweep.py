"""Sweep plots from the tidy sweep table (one row per point × rule): cost versus a swept key on
log-log axes with fitted slopes, a heatmap for two-dimensional sweeps, the energy breakdown as
stacked bars and the energy–latency scatter with its Pareto front (when a cost model / timing
engine put ``energy_*_pJ`` / ``cycles*`` columns in the summary).

Every function returns image bytes (``png`` or ``svg``); :func:`sweep_figures` picks the plots
that fit a table.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tess_sim.simulator.vocab import PHASES

from tess_sim.reports.axes import (FONT, RULE_LINE, RULE_STYLE, curve_notes, data_ylim, figure_bytes, legend_with_room,
                   new_figure, set_log_ticks, x_value_ticks)
from tess_sim.reports.breakdown import breakdown_figure, setting_text, short_setting
from tess_sim.reports.sweep_table import (cost_panels, energy_part_columns, energy_total_column, fit_slope, key_label,
                                          latency_column, latency_label, pareto_front)

PHASE_MARKERS = dict(zip(PHASES, "os^vDxP*"))
PHASE_COLOURS = dict(zip(PHASES, ["tab:purple", "tab:orange", "tab:cyan", "tab:olive", "tab:brown", "tab:pink",
                                  "tab:gray", "black"]))


def _grid(fig, n: int, cols: int, panel: tuple[float, float], strip: float = 0.0, gap_w: float = 0.9,
          right: float = 0.25):
    """``n`` axes on a ``cols``-wide grid of ``panel``-sized (inches) cells, margins in inches, and
    the unused cells; ``strip`` inches kept free at the bottom (for a figure legend), ``gap_w``
    between columns, ``right`` after the last one."""
    rows = -(-n // cols)
    w, h = panel
    left, top, bottom, gap_h = 0.9, 0.8, 0.6 + strip, 0.95
    fig.set_size_inches(left + right + cols * w + (cols - 1) * gap_w, top + bottom + rows * h + (rows - 1) * gap_h)
    W, H = fig.get_size_inches()
    fig.subplots_adjust(left=left / W, right=1 - right / W, top=1 - top / H, bottom=bottom / H,
                        wspace=gap_w / w, hspace=gap_h / h)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    return list(axes[:n]), list(axes[n:])


def _panel(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel, fontsize=FONT["label"])
    ax.set_ylabel(ylabel, fontsize=FONT["label"])
    ax.tick_params(labelsize=FONT["tick"])
    ax.grid(True, which="major", alpha=0.3)


def _slope_label(name: str, k: float | None) -> str:
    return f"{name} (slope {round(k, 2) + 0.0:.2f})" if k is not None else name


def _notes_title(notes: list[str]) -> str | None:
    return "; ".join(notes) + " here" if notes else None


def cost_figure(table: pd.DataFrame, key: str, title: str, x_min: float | None = None) -> Figure:
    """Cost per sample versus ``key`` for every rule: memory (both conventions), learning MACs,
    learning ops, energy / latency when present, then the ops of each phase, one panel per rule;
    log-log, slopes (fitted over ``key`` ≥ ``x_min``) in the legends, coinciding curves named
    ("S-TLLR = BPTT here") and drawn in nested styles so each stays visible."""
    panels = cost_panels(table)
    rules = [r for r in RULE_STYLE if r in set(table["rule"])]
    n = len(panels) + len(rules)
    fig = new_figure(1, 1)
    axes, spare = _grid(fig, n, 2, (4.3, 3.0), strip=0.0 if n % 2 else 0.55)
    fit = table if x_min is None else table[table[key] >= x_min]
    xs = table[key].unique()
    for ax, (col, label) in zip(axes, panels):
        curves, ys = {}, []
        for rule in rules:
            name, colour = RULE_STYLE[rule]
            d = table[table["rule"] == rule].sort_values(key)
            d = d[d[col] > 0]
            if d.empty:
                continue
            g = fit[fit["rule"] == rule]
            ax.plot(d[key], d[col], color=colour, label=_slope_label(name, fit_slope(g[key], g[col])),
                    **RULE_LINE[rule])
            curves[name] = (d[key].to_numpy(), d[col].to_numpy())
            ys += list(d[col])
        _panel(ax, key_label(key), label)
        x_value_ticks(ax, xs)
        data_ylim(ax, ys)
        if curves:
            legend_with_room(ax, fig, _notes_title(curve_notes(curves)))
        else:
            set_log_ticks(ax.yaxis)
    phase_handles = {}
    for ax, rule in zip(axes[len(panels):], rules):
        d = table[table["rule"] == rule].sort_values(key)
        curves, ys = {}, []
        for i, phase in enumerate(PHASES):
            col = f"ops_{phase}"
            if col not in d or not (d[col] > 0).any():
                continue
            y = d[col].where(d[col] > 0)
            earlier = [c for c in curve_notes({**curves, phase: (d[key].to_numpy(), y.to_numpy())})
                       if c.startswith(f"{phase} ")]
            line, = ax.plot(d[key], y, color=PHASE_COLOURS[phase], marker=PHASE_MARKERS[phase],
                            ls=(0, (4, 2)) if earlier else "-", lw=1.6 if earlier else 1.3,
                            ms=4.5 if earlier else 7, mew=2 if earlier else 1.2,
                            mfc=PHASE_COLOURS[phase] if earlier else "none", label=phase)
            phase_handles.setdefault(phase, line)
            curves[phase] = (d[key].to_numpy(), y.to_numpy())
            ys += list(y.dropna())
        _panel(ax, key_label(key), "ops per sample, full convention")
        x_value_ticks(ax, xs)
        data_ylim(ax, ys)
        set_log_ticks(ax.yaxis)
        notes = curve_notes(curves)
        ax.set_title(f"{RULE_STYLE[rule][0]}: ops per phase" + (f"\n({'; '.join(notes)})" if notes else ""),
                     fontsize=FONT["label"])
    handles = [phase_handles[p] for p in PHASES if p in phase_handles]
    if spare:
        spare[0].set_visible(False)
        box = spare[0].get_position()
        fig.legend(handles, [h.get_label() for h in handles], loc="center", ncol=2, fontsize=FONT["label"],
                   title="phase (one panel per rule)", title_fontsize=FONT["label"],
                   bbox_to_anchor=(box.x0 + box.width / 2, box.y0 + box.height / 2))
        for ax in spare[1:]:
            ax.set_visible(False)
    elif handles:
        fig.legend(handles, [h.get_label() for h in handles], loc="lower center", ncol=len(handles),
                   fontsize=FONT["label"], title="phase (one panel per rule)", title_fontsize=FONT["label"],
                   bbox_to_anchor=(0.5, 0.005))
    span = f"slopes fitted over {key_label(key)} ≥ {x_min:g}" if x_min is not None else "fitted slopes"
    fig.suptitle(f"{title}: cost per sample versus {key_label(key)}\n({span}; MB = 2²⁰ bytes)",
                 fontsize=FONT["title"] + 1)
    return fig


def is_categorical(table: pd.DataFrame, key: str) -> bool:
    """A swept key whose values are not numbers (``hardware=FILE``, ``activity.source=…``)."""
    return not pd.api.types.is_numeric_dtype(table[key]) and table[key].astype(str).nunique() > 1


def category_figure(table: pd.DataFrame, key: str, title: str) -> Figure:
    """Cost per sample at each category of ``key`` (a non-numeric swept key, e.g. the hardware
    presets): one panel per metric of :func:`cost_panels` (energy and latency when present), a bar
    group per category with a bar per rule, log y axis."""
    panels = [(c, label) for c, label in cost_panels(table) if c in table and (table[c] > 0).any()]
    rules = [r for r in RULE_STYLE if r in set(table["rule"])]
    cats = list(dict.fromkeys(table[key].astype(str)))
    step = len(rules) + 1  # a gap between groups
    fig = new_figure(1, 1)
    axes, spare = _grid(fig, len(panels), 2, (4.3, 3.0))
    for ax, (col, label) in zip(axes, panels):
        ys = []
        for j, rule in enumerate(rules):
            name, colour = RULE_STYLE[rule]
            d = table[table["rule"] == rule]
            value = dict(zip(d[key].astype(str), d[col]))
            xs = [i * step + j for i, c in enumerate(cats) if value.get(c, 0) > 0]
            hs = [value[c] for c in cats if value.get(c, 0) > 0]
            ax.bar(xs, hs, 0.85, color=colour, label=name, edgecolor="black", linewidth=0.4)
            ys += hs
        ax.set_yscale("log")
        data_ylim(ax, ys)
        ax.set_xticks([i * step + (len(rules) - 1) / 2 for i in range(len(cats))],
                      [short_setting(c) for c in cats], fontsize=FONT["tick"])
        ax.set_xlabel(key_label(key), fontsize=FONT["label"])
        ax.set_ylabel(label, fontsize=FONT["label"])
        ax.tick_params(labelsize=FONT["tick"])
        ax.grid(True, axis="y", which="major", alpha=0.3)
        legend_with_room(ax, fig, loc="upper left")
    for ax in spare:
        ax.set_visible(False)
    fig.suptitle(f"{title}: cost per sample for each {key_label(key)}\n(bars left to right: "
                 f"{', '.join(RULE_STYLE[r][0] for r in rules)}; MB = 2²⁰ bytes)", fontsize=FONT["title"] + 1)
    return fig


def plot_cost_vs(table: pd.DataFrame, key: str, title: str, fmt: str = "png",
                 x_min: float | None = None, dpi: int = 100) -> bytes:
    """:func:`cost_figure` as image bytes."""
    return figure_bytes(cost_figure(table, key, title, x_min), fmt, dpi)


def heatmap_figure(table: pd.DataFrame, x: str, y: str, metric: str, label: str, title: str) -> Figure:
    """``metric`` over the (x, y) grid, one panel per rule, colour on a shared log scale."""
    from matplotlib.colors import LogNorm

    rules = [r for r in RULE_STYLE if r in set(table["rule"])]
    fig = new_figure(1, 1)
    axes, _ = _grid(fig, max(len(rules), 1), max(len(rules), 1), (3.2, 2.8), gap_w=2.0, right=1.2)
    xs, ys = sorted(table[x].unique()), sorted(table[y].unique())
    pos = table[metric][table[metric] > 0]
    lo, hi = (pos.min(), pos.max()) if len(pos) else (1.0, 10.0)
    if hi / lo < 1.5:
        lo, hi = lo / 1.5, hi * 1.5
    norm = LogNorm(vmin=lo, vmax=hi)
    for ax, rule in zip(axes, rules):
        grid = table[table["rule"] == rule].pivot_table(index=y, columns=x, values=metric).reindex(
            index=ys, columns=xs)
        im = ax.imshow(grid.to_numpy(float), origin="lower", aspect="auto", norm=norm, cmap="viridis")
        ax.set_xticks(range(len(xs)), [setting_text(v) for v in xs], fontsize=FONT["tick"])
        ax.set_yticks(range(len(ys)), [setting_text(v) for v in ys], fontsize=FONT["tick"])
        ax.set_xlabel(key_label(x), fontsize=FONT["label"])
        ax.set_ylabel(key_label(y), fontsize=FONT["label"])
        ax.set_title(RULE_STYLE[rule][0], fontsize=FONT["title"])
        bar = fig.colorbar(im, ax=ax, fraction=0.08, pad=0.04)
        bar.set_label(label, fontsize=FONT["label"])
        set_log_ticks(bar.ax.yaxis, lo, hi)
        bar.ax.tick_params(labelsize=FONT["tick"])
    fig.suptitle(f"{title}: {label}", fontsize=FONT["title"] + 1)
    return fig


def pareto_figure(table: pd.DataFrame, title: str) -> Figure:
    """Energy versus latency of every (point, rule), the Pareto front of each rule as a line; the
    legend to the right of the axes."""
    e_col, t_col = energy_total_column(table), latency_column(table)
    fig = new_figure(8.6, 4.6)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.11, right=0.64, bottom=0.13, top=0.9)
    for rule, (name, colour) in RULE_STYLE.items():
        d = table[table["rule"] == rule]
        if d.empty:
            continue
        front = pareto_front(d[e_col], d[t_col])
        ax.scatter(d[t_col], d[e_col], s=18, color=colour, alpha=0.6, marker=RULE_LINE[rule]["marker"], label=name)
        f = d[front].sort_values(t_col)
        ax.plot(f[t_col], f[e_col], "-o", color=colour, lw=1.2, ms=9, mfc="none",
                label=f"{name} Pareto front ({int(front.sum())} of {len(d)})")
    _panel(ax, latency_label(t_col), "energy per sample (pJ)")
    for axis, col in ((ax.xaxis, t_col), (ax.yaxis, e_col)):
        v = table[col][table[col] > 0]
        lo, hi = v.min(), v.max()
        pad = 1.5 if hi / lo < 1.5 else 1.15
        (ax.set_xlim if axis is ax.xaxis else ax.set_ylim)(lo / pad, hi * pad)
        set_log_ticks(axis)
    ax.legend(fontsize=FONT["legend"] + 0.5, loc="center left", bbox_to_anchor=(1.03, 0.5), borderaxespad=0)
    ax.set_title(f"{title}: energy versus latency", fontsize=FONT["title"] + 1)
    return fig


def plot_energy_breakdown(table: pd.DataFrame, keys: list[str], title: str, fmt: str = "png",
                          dpi: int = 100) -> bytes:
    """The energy breakdown (:func:`reports.breakdown.breakdown_figure`) as image bytes."""
    return figure_bytes(breakdown_figure(table, keys, energy_part_columns(table), title,
                                         energy_total_column(table)), fmt, dpi)


def plot_pareto(table: pd.DataFrame, title: str, fmt: str = "png", dpi: int = 100) -> bytes:
    """:func:`pareto_figure` as image bytes."""
    return figure_bytes(pareto_figure(table, title), fmt, dpi)


def plot_heatmap(table: pd.DataFrame, x: str, y: str, metric: str, label: str, title: str,
                 fmt: str = "png", dpi: int = 100) -> bytes:
    """:func:`heatmap_figure` as image bytes."""
    return figure_bytes(heatmap_figure(table, x, y, metric, label, title), fmt, dpi)


def sweep_figure_objects(table: pd.DataFrame, keys: list[str], title: str) -> dict[str, Figure]:
    """Every plot that fits the table: file stem -> matplotlib Figure.

    One swept numeric key: cost versus that key (T slopes fitted over T ≥ 16). Two: a heatmap of
    total ops (and energy / cycles when present) and cost versus each key at the first value of
    the other. Energy parts: the breakdown (every point). Energy and latency over a hardware
    sweep: the Pareto scatter.
    """
    out: dict[str, Figure] = {}
    if table.empty:
        return out
    numeric = [k for k in keys if pd.api.types.is_numeric_dtype(table[k]) and table[k].nunique() > 1]
    categorical = [k for k in keys if is_categorical(table, k)]
    for k in numeric:
        # one figure per category of a categorical key (hardware=FILE × T: the T curves per preset)
        for stem, sub in _slices(table, k, keys, categorical):
            if sub[k].nunique() > 1:
                out[f"cost_vs_{k}{stem}"] = cost_figure(sub, k, title + _slice_title(sub, categorical),
                                                        16 if k == "input.T" else None)
    for k in categorical:
        for stem, sub in _slices(table, k, keys, []):
            out[f"cost_by_{k}{stem}"] = category_figure(sub, k, title + _slice_title(sub, [o for o in keys if o != k]))
    if len(numeric) == 2:
        x, y = numeric
        held = table  # a categorical key is held at its first value, never averaged over
        for k in categorical:
            held = held[held[k].astype(str) == str(table[k].iloc[0])]
        metrics = [("ops_total", "total ops per sample (ops)"), ("paper_memory_MB", "memory, paper convention (MB)")]
        if (e := energy_total_column(table)) is not None:
            metrics.append((e, "energy per sample (pJ)"))
        if (c := latency_column(table)) is not None:
            metrics.append((c, latency_label(c)))
        for col, label in metrics:
            out[f"heatmap_{col}"] = heatmap_figure(held, x, y, col, label, title + _slice_title(held, categorical))
    if parts := energy_part_columns(table):
        varying = [k for k in keys if table[k].astype(str).nunique() > 1] or keys[:1]
        out["energy_breakdown"] = breakdown_figure(table, varying, parts, title, energy_total_column(table))
    if energy_total_column(table) and latency_column(table) and any(k.split(".")[0] == "hardware" for k in keys):
        out["energy_latency"] = pareto_figure(table, title)
    return out


def _slices(table: pd.DataFrame, key: str, keys: list[str], split: list[str]):
    """(file-stem suffix, rows) for plotting against ``key``: one slice per category of each key in
    ``split`` (suffix ``_<category>``), every other swept key held at its first value."""
    base = table
    for other in keys:
        if other != key and other not in split:
            base = base[base[other].astype(str) == str(table[other].iloc[0])]
    split = [k for k in split if k != key]
    if not split:
        yield "", base
        return
    for values, sub in base.groupby([base[k].astype(str) for k in split], sort=False):
        values = values if isinstance(values, tuple) else (values,)
        yield "_" + "_".join(re.sub(r"[^A-Za-z0-9.-]+", "-", short_setting(v)) for k, v in zip(split, values)), sub


def _slice_title(sub: pd.DataFrame, categorical: list[str]) -> str:
    """`` (hardware edge)`` for a slice at one category of each categorical key."""
    parts = [f"{k.split('.')[-1]} {short_setting(sub[k].iloc[0])}" for k in categorical if k in sub]
    return f" ({', '.join(parts)})" if parts else ""


def sweep_figures(table: pd.DataFrame, keys: list[str], title: str,
                  fmt: str = "png", dpi: int = 100) -> dict[str, bytes]:
    """:func:`sweep_figure_objects` as image bytes (``png`` / ``svg``) at ``dpi``: stem -> bytes."""
    return {stem: figure_bytes(fig, fmt, dpi) for stem, fig in sweep_figure_objects(table, keys, title).items()}
