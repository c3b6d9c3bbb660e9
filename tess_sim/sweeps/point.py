"""One sweep point: rebuild the workload from its resolved configuration, run it, and return a
JSON-able result. Runs in a worker process (or a Dask worker), so it takes and returns plain data.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from tess_sim.api import from_dict, run
from tess_sim.cost_models import cost_report
from tess_sim.outputs import NOT_APPLICABLE, check_finite, result_tables
from tess_sim.simulator.rules import build_rules
from tess_sim.sweeps import fingerprint
from tess_sim.version import __version__

SKIP_TABLES = ("ledger", "summary")


def _plain(v):
    """numpy / pandas scalars -> Python scalars (floats keep every bit)."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def records(df: pd.DataFrame) -> dict:
    """A DataFrame (index reset) as ``{"columns": [...], "data": [[...], ...]}`` of plain values
    (column order survives the store's sorted-key JSON)."""
    df = df.reset_index() if df.index.name or not isinstance(df.index, pd.RangeIndex) else df
    return {"columns": [str(c) for c in df.columns],
            "data": [[_plain(v) for v in row] for row in df.itertuples(index=False, name=None)]}


ENERGY_PARTS = ("compute", "sram", "dram", "leakage")


def with_energy(summary: pd.DataFrame, energy: pd.DataFrame) -> pd.DataFrame:
    """The summary plus the energy of the first cost model priced in pJ: ``energy_model``,
    ``energy_<compute|sram|dram|leakage>_pJ`` and ``energy_pJ`` (total) per sample. Every model's
    full energy table is kept as the point's ``energy`` table."""
    summary = summary.copy()
    pj = energy[energy["unit"] == "pJ"]
    if pj.empty:
        return summary
    first = pj[pj["model"] == pj["model"].iloc[0]].set_index("rule")
    summary["energy_model"] = first["model"].reindex(summary.index)
    for part in ENERGY_PARTS:
        summary[f"energy_{part}_pJ"] = first[part].reindex(summary.index).astype(float)
    summary["energy_pJ"] = first["total"].reindex(summary.index).astype(float)
    return summary


def compute_point(config: dict, engine: str) -> dict:
    """Run one resolved workload configuration on ``engine``.

    Returns ``{"version", "code", "summary": records (one row per rule), "tables": {name: records}}``
    (``code``: the worker's :func:`~.fingerprint.code_hash`; see
    :func:`records`): the summary of
    :func:`simulator.api.run` plus ``learning_steps`` (steps producing a learning signal, per
    sample), ``paper_mac_per_step_M`` (paper #MAC per learning step, millions),
    ``ops_learning_per_step`` and the energy columns of :func:`with_energy`; ``tables`` holds every
    other DataFrame the Results carry besides the ledger (timing, placement, …) and ``energy``
    (every cost model's pricing, :func:`cost_models.price.energy_summary`).
    """
    wl = from_dict(config, "<sweep point>")
    res = run(wl, engine=engine)
    costs = cost_report(res)  # the workload's cost_models (table paths made absolute by the plan)
    check_finite(result_tables(res, costs), NOT_APPLICABLE)  # a non-finite point fails, is never stored
    summary = with_energy(res.summary, costs.summary)
    steps = {r.name: r.learning_steps() for r in build_rules(wl, res.net)}
    summary["learning_steps"] = [steps[r] for r in summary.index]
    summary["paper_mac_per_step_M"] = summary["paper_mac_M"] / summary["learning_steps"]
    summary["ops_learning_per_step"] = summary["ops_learning"] / summary["learning_steps"]
    tables = {f.name: records(getattr(res, f.name)) for f in dataclasses.fields(res)
              if f.name not in SKIP_TABLES and isinstance(getattr(res, f.name), pd.DataFrame)}
    tables["energy"] = records(costs.summary)
    return {"version": __version__, "code": fingerprint.code_hash(), "summary": records(summary),
            "tables": tables}
