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
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simulator.rules.program import PHASES

from .complexity import RULE_STYLE, figure_bytes, style_loglog

# column -> axis label (with units); energy / cycles columns are added when present
COST_PANELS = [("paper_memory_MB", "memory, paper convention (MB)"),
               ("full_memory_MB", "memory, full convention (MB)"),
               ("paper_mac_M", "learning MACs, paper convention (M)"),
               ("ops_learning", "learning ops, full convention (ops)")]
PHASE_MARKERS = dict(zip(PHASES, "os^vDx*P"))
KEY_LABELS = {"input.T": "time steps T", "network.width_multiplier": "width multiplier (×)",
              "input.classes": "classes C", "input.batch": "batch size (samples)",
              "hardware.clock_mhz": "clock (MHz)", "hardware.cores": "cores", "hardware.pe.units": "PE units per core",
              "rules.tess.window": "TESS learning window (steps)", "rules.stllr.window": "S-TLLR learning window (steps)",
              "activity.default": "default firing rate (spikes/neuron/step)"}
_ENERGY_TOTAL = re.compile(r"^energy(_total)?_pJ$")
_ENERGY_PART = re.compile(r"^energy_(.+)_pJ$")


def key_label(key: str) -> str:
    """Axis label (with units) of a swept key; the key itself when it has no known label."""
    if key.startswith("hardware.precision."):
        return f"{key.rsplit('.', 1)[1]} precision (bits)"
    return KEY_LABELS.get(key, key)


def energy_total_column(table: pd.DataFrame) -> str | None:
    """The total-energy column (``energy_pJ`` or ``energy_total_pJ``), if a cost model gave one."""
    return next((c for c in table.columns if _ENERGY_TOTAL.match(c)), None)


def energy_part_columns(table: pd.DataFrame) -> list[str]:
    """``energy_<part>_pJ`` columns other than the total (the breakdown)."""
    return [c for c in table.columns if _ENERGY_PART.match(c) and not _ENERGY_TOTAL.match(c)
            and not c.endswith("_vs_bptt")]


def latency_column(table: pd.DataFrame) -> str | None:
    """The latency column (``cycles``, ``cycles_total``, ``latency_*``), if an engine gave one."""
    for c in table.columns:
        if (c in ("cycles", "cycles_total") or c.startswith("latency")) and not c.endswith("_vs_bptt"):
            return c
    return None


def latency_label(col: str) -> str:
    """Axis label of a latency column: ``cycles`` -> cycles, ``latency_ms`` -> ms."""
    unit = "ms" if col.endswith("_ms") else "s" if col.endswith("_s") else "cycles"
    return f"latency per sample ({unit})"


def fit_slope(x, y) -> float | None:
    """Least-squares slope of log(y) against log(x) over the points with x, y > 0."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = (x > 0) & (y > 0) & np.isfinite(y)
    if ok.sum() < 2 or np.unique(x[ok]).size < 2:
        return None
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def sweep_slopes(table: pd.DataFrame, key: str, columns: list[str] | None = None,
                 x_min: float | None = None, x_max: float | None = None) -> pd.DataFrame:
    """Log-log slope of every cost column versus ``key``, per rule: columns rule, metric, slope.
    Only meaningful when ``key`` is the one swept dimension (others held fixed)."""
    columns = columns or [c for c, _ in cost_panels(table)] + ["paper_mac_per_step_M", "ops_total"] + \
        [f"ops_{p}" for p in PHASES]
    sel = table
    if x_min is not None:
        sel = sel[sel[key] >= x_min]
    if x_max is not None:
        sel = sel[sel[key] <= x_max]
    rows = []
    for rule, g in sel.groupby("rule", sort=False):
        for col in columns:
            if col in g:
                k = fit_slope(g[key], g[col])
                if k is not None:
                    rows.append((rule, col, k))
    return pd.DataFrame(rows, columns=["rule", "metric", "slope"])


def cost_panels(table: pd.DataFrame) -> list[tuple[str, str]]:
    panels = list(COST_PANELS)
    if (e := energy_total_column(table)) is not None:
        panels.append((e, "energy per sample (pJ)"))
    if (c := latency_column(table)) is not None:
        panels.append((c, latency_label(c)))
    return panels


def _figure(n_panels: int, cols: int = 3, size: tuple[float, float] = (5.0, 3.8)):
    rows = -(-n_panels // cols)
    cols = min(cols, n_panels)
    fig = Figure(figsize=(size[0] * cols, size[1] * rows))
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def _base(values) -> int:
    v = np.asarray(values, float)
    v = v[v > 0]
    return 2 if v.size and np.allclose(np.log2(v), np.round(np.log2(v))) else 10


def _slope_label(name: str, k: float | None) -> str:
    return f"{name} (slope {round(k, 2) + 0.0:.2f})" if k is not None else name


def plot_cost_vs(table: pd.DataFrame, key: str, title: str, fmt: str = "png",
                 x_min: float | None = None, dpi: int = 100) -> bytes:
    """Cost per sample versus ``key`` for every rule: memory (both conventions), learning MACs,
    learning ops, total ops per phase, and energy / cycles when present; log-log, slopes (fitted
    over ``key`` ≥ ``x_min``) in the legends."""
    panels = cost_panels(table)
    fig, axes = _figure(len(panels) + 1)
    base = _base(table[key])
    fit = table if x_min is None else table[table[key] >= x_min]
    for ax, (col, label) in zip(axes, panels):
        for rule, (name, colour) in RULE_STYLE.items():
            d = table[table["rule"] == rule].sort_values(key)
            d = d[d[col] > 0]
            if d.empty:
                continue
            g = fit[fit["rule"] == rule]
            ax.plot(d[key], d[col], "o--" if rule == "stllr" else "o-", color=colour, ms=3,
                    label=_slope_label(name, fit_slope(g[key], g[col])))
        style_loglog(ax, key_label(key), label, base)
    ax = axes[len(panels)]
    for rule, (name, colour) in RULE_STYLE.items():
        d = table[table["rule"] == rule].sort_values(key)
        for phase in PHASES:
            col = f"ops_{phase}"
            if col in d and (d[col] > 0).any():
                ax.plot(d[key], d[col].where(d[col] > 0), "-", marker=PHASE_MARKERS[phase], color=colour,
                        ms=3, lw=0.8, alpha=0.8, label=f"{name} {phase}")
    style_loglog(ax, key_label(key), "ops per phase, full convention (ops)", base)
    ax.legend(fontsize=5, ncol=3)
    span = f" (slopes fitted over {key_label(key)} ≥ {x_min:g})" if x_min is not None else " (fitted slopes)"
    fig.suptitle(f"{title}: cost per sample versus {key_label(key)}{span}")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.91, wspace=0.3, hspace=0.3)
    return figure_bytes(fig, fmt, dpi)


def plot_heatmap(table: pd.DataFrame, x: str, y: str, metric: str, label: str, title: str,
                 fmt: str = "png") -> bytes:
    """``metric`` over the (x, y) grid, one panel per rule, colour on a log scale."""
    from matplotlib.colors import LogNorm

    rules = [r for r in RULE_STYLE if r in set(table["rule"])]
    fig, axes = _figure(len(rules), cols=len(rules) or 1, size=(4.6, 3.8))
    xs, ys = sorted(table[x].unique()), sorted(table[y].unique())
    pos = table[metric][table[metric] > 0]
    norm = LogNorm(vmin=pos.min(), vmax=pos.max()) if len(pos) else None
    for ax, rule in zip(axes, rules):
        grid = table[table["rule"] == rule].pivot_table(index=y, columns=x, values=metric).reindex(
            index=ys, columns=xs)
        im = ax.imshow(grid.to_numpy(float), origin="lower", aspect="auto", norm=norm, cmap="viridis")
        ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs], fontsize=7, rotation=45)
        ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys], fontsize=7)
        ax.set_xlabel(key_label(x))
        ax.set_ylabel(key_label(y))
        ax.set_title(RULE_STYLE[rule][0])
        fig.colorbar(im, ax=ax, label=label)
    fig.suptitle(f"{title}: {label}")
    fig.subplots_adjust(left=0.06, right=0.97, bottom=0.2, top=0.82, wspace=0.45)
    return figure_bytes(fig, fmt)


def _value(v) -> str:
    """A setting for a tick label: numbers compact, anything else as text."""
    return f"{v:g}" if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else str(v)


def plot_energy_breakdown(table: pd.DataFrame, keys: list[str], title: str, fmt: str = "png",
                          max_points: int = 8) -> bytes:
    """Energy per sample split by ``energy_<part>_pJ`` columns, stacked bars per (point, rule)."""
    parts = energy_part_columns(table)
    points = list(dict.fromkeys(table["point"]))
    if len(points) > max_points:
        points = [points[i] for i in np.linspace(0, len(points) - 1, max_points).round().astype(int)]
    d = table[table["point"].isin(points)]
    fig = Figure(figsize=(max(6.0, 0.5 * len(d) + 2), 4.5))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    bottom = np.zeros(len(d))
    for part in parts:
        v = d[part].fillna(0).to_numpy(float)
        ax.bar(range(len(d)), v, bottom=bottom, label=_ENERGY_PART.match(part)[1])
        bottom += v
    ticks = [RULE_STYLE.get(r, (r,))[0] + "".join(f"\n{k.split('.')[-1]}={_value(row[k])}" for k in keys)
             for r, (_, row) in zip(d["rule"], d.iterrows())]
    ax.set_xticks(range(len(d)), ticks, fontsize=6)
    ax.set_ylabel("energy per sample (pJ)")
    ax.legend(fontsize=7)
    ax.set_title(f"{title}: energy breakdown")
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.22, top=0.92)
    return figure_bytes(fig, fmt)


def pareto_front(energy, latency) -> np.ndarray:
    """Mask of the points that no other point dominates (≤ on both energy and latency, < on one);
    lower is better. O(n²) memory in the number of points, fine for sweeps."""
    e, t = np.asarray(energy, float), np.asarray(latency, float)
    le = (e[None, :] <= e[:, None]) & (t[None, :] <= t[:, None])
    lt = (e[None, :] < e[:, None]) | (t[None, :] < t[:, None])
    return ~(le & lt).any(axis=1)


def plot_pareto(table: pd.DataFrame, title: str, fmt: str = "png") -> bytes:
    """Energy versus latency of every (point, rule), the Pareto front of each rule as a line."""
    e_col, t_col = energy_total_column(table), latency_column(table)
    fig = Figure(figsize=(6.5, 4.8))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for rule, (name, colour) in RULE_STYLE.items():
        d = table[table["rule"] == rule]
        if d.empty:
            continue
        front = pareto_front(d[e_col], d[t_col])
        ax.scatter(d[t_col], d[e_col], s=14, color=colour, alpha=0.5, label=name)
        f = d[front].sort_values(t_col)
        ax.plot(f[t_col], f[e_col], "-o", color=colour, lw=1.2, ms=8, mfc="none",
                label=f"{name} Pareto front ({int(front.sum())} of {len(d)})")
    style_loglog(ax, latency_label(t_col), "energy per sample (pJ)", 10)
    ax.set_title(f"{title}: energy versus latency")
    fig.subplots_adjust(left=0.19, right=0.97, bottom=0.12, top=0.92)
    return figure_bytes(fig, fmt)


def sweep_figures(table: pd.DataFrame, keys: list[str], title: str,
                  fmt: str = "png", dpi: int = 100) -> dict[str, bytes]:
    """Every plot that fits the table: file stem -> image bytes.

    One swept numeric key: cost versus that key (T slopes fitted over T ≥ 16). Two: a heatmap of
    total ops (and energy / cycles when present) and cost versus each key at the first value of
    the other. Energy parts: the stacked breakdown. Energy and latency over a hardware sweep: the
    Pareto scatter.
    """
    out: dict[str, bytes] = {}
    if table.empty:
        return out
    numeric = [k for k in keys if pd.api.types.is_numeric_dtype(table[k]) and table[k].nunique() > 1]
    for k in numeric:
        sub = table
        for other in keys:
            if other != k:
                sub = sub[sub[other].astype(str) == str(table[other].iloc[0])]
        if sub[k].nunique() > 1:
            out[f"cost_vs_{k}"] = plot_cost_vs(sub, k, title, fmt, 16 if k == "input.T" else None, dpi)
    if len(numeric) == 2:
        x, y = numeric
        metrics = [("ops_total", "total ops per sample (ops)"), ("paper_memory_MB", "memory, paper convention (MB)")]
        if (e := energy_total_column(table)) is not None:
            metrics.append((e, "energy per sample (pJ)"))
        if (c := latency_column(table)) is not None:
            metrics.append((c, latency_label(c)))
        for col, label in metrics:
            out[f"heatmap_{col}"] = plot_heatmap(table, x, y, col, label, title, fmt)
    if energy_part_columns(table):
        out["energy_breakdown"] = plot_energy_breakdown(table, keys, title, fmt)
    if energy_total_column(table) and latency_column(table) and any(k.startswith("hardware.") for k in keys):
        out["energy_latency"] = plot_pareto(table, title, fmt)
    return out
