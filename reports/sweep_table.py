"""The sweep table's columns, read without drawing: which column is the total energy, the
latency, the cost panels; axis labels of swept keys; log-log slopes of cost versus a key; the
energy–latency Pareto front. The report page and the figures of :mod:`tess_sim.reports.sweep`
share them (this module imports no matplotlib, so a run's report needs none)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from tess_sim.simulator.vocab import PHASES

# column -> axis label (with units); energy / cycles columns are added when present
COST_PANELS = [("paper_memory_MB", "memory, paper convention (MB)"),
               ("full_memory_MB", "memory, full convention (MB)"),
               ("paper_mac_M", "learning MACs, paper convention (M)"),
               ("ops_learning", "learning ops, full convention (ops)")]
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


def pareto_front(energy, latency) -> np.ndarray:
    """Mask of the points that no other point dominates (≤ on both energy and latency, < on one);
    lower is better. O(n²) memory in the number of points, fine for sweeps."""
    e, t = np.asarray(energy, float), np.asarray(latency, float)
    le = (e[None, :] <= e[:, None]) & (t[None, :] <= t[:, None])
    lt = (e[None, :] < e[:, None]) | (t[None, :] < t[:, None])
    return ~(le & lt).any(axis=1)
