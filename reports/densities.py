"""The densities of a measured run and its energy against the dense bound, as tables of strings
(``densities.csv`` and ``energy_dense_bound.csv`` of a run folder, written by
:mod:`tess_sim.densities`): what ``tess-sim run`` prints and the report page shows."""

from __future__ import annotations

import pandas as pd

from tess_sim.reports.format import NA, missing, number, percent
from tess_sim.simulator.vocab import RULE_LABELS


def _pct(v) -> str:
    """A density: ``17.2%``, ``0.031%`` below 0.1 %, ``0`` when none."""
    if missing(v):
        return NA
    v = float(v)
    if v == 0:
        return "0"
    return percent(v, 1) if v >= 1e-3 else f"{100 * v:.2g}%"


def _ops(n, dense) -> str:
    """``598 M / 1,012 M = 59.1%``: learning ops with zeros skipped / executed."""
    if missing(n) or missing(dense):
        return NA
    share = f" = {_pct(n / dense)}" if dense else ""
    return f"{number(n / 1e6, 3)} M / {number(dense / 1e6, 3)} M{share}"


def density_display(table: pd.DataFrame) -> pd.DataFrame:
    """Per layer (and ``all``): spike rate, Psi ≠ 0, and per rule its trace and signal densities
    and its learning ops with every zero operand skipped over those executed (rule programs)."""
    out = pd.DataFrame({"layer": table["layer"], "spike rate": table["spike_rate"].map(lambda v: f"{v:.4g}")})
    if "psi" in table:
        out["Psi≠0"] = table["psi"].map(_pct)
    for rule, label in RULE_LABELS.items():
        if f"{rule}_learning_ops" not in table:
            continue
        if f"{rule}_trace" in table:
            out[f"{label} tr_x≠0"] = table[f"{rule}_trace"].map(_pct)
        if f"{rule}_signal" in table:
            out[f"{label} {'δu' if rule == 'bptt' else 'm·Psi'}≠0"] = table[f"{rule}_signal"].map(_pct)
        out[f"{label} learning ops"] = [
            _ops(n, d) for n, d in zip(table[f"{rule}_learning_ops"], table[f"{rule}_learning_ops_dense"])]
    return out


DENSITY_NOTE = ("spike rate = spikes / neuron / step; densities per step: Psi≠0 and the learning signals over the "
                "layer's neurons (S-TLLR's and TESS's over their learning steps), tr_x over its inputs; learning "
                "ops (phases trace, lsg, bwd, wgrad, update, as the rule programs count them) with every zero "
                "operand skipped / executed")


def density_text(table: pd.DataFrame, zero: str) -> str:
    """:func:`density_display` as printable text under its note; ``zero``: the hardware's
    ``pe.zero``, which the run's own counts followed."""
    counted = {"none": "executed (dense)", "gate": "skipped (gated: their cycles kept)", "skip": "skipped"}[zero]
    return "\n".join([f"learning operands per layer (the run's hardware, pe.zero {zero}: zero operands {counted}):",
                      DENSITY_NOTE, density_display(table).to_string(index=False)])


def dense_bound_display(bound: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Per cost model: (its name and unit, a table with the rules as rows: total energy at the
    run's activity, under the dense bound, and their ratio; the same for the dynamic energy when
    the model prices leakage)."""
    out = []
    for model, g in bound.groupby("model", sort=False):
        energy = g["unit"].iloc[0] == "pJ"
        scale, unit = (1e6, "µJ") if energy else (1e6, "M actions")
        leak = not ((g["total"] == g["dynamic"]) & (g["dense_total"] == g["dense_dynamic"])).all()
        rows = {}
        for _, r in g.iterrows():
            cells = {}
            for what in ("total", "dynamic") if leak else ("total",):
                v, d = r[what], r[f"dense_{what}"]
                cells[f"{what}: this activity"] = number(v / scale)
                cells[f"{what}: dense bound"] = number(d / scale)
                cells[f"{what}: this / dense"] = NA if missing(d) or not d else f"{v / d:.3g}×"
            rows[RULE_LABELS.get(r["rule"], r["rule"])] = cells
        out.append((f"{model} ({unit} per sample)", pd.DataFrame.from_dict(rows, orient="index")))
    return out


BOUND_NOTE = ("energy at this run's activity beside the dense bound (every input element and neuron active "
              "every step, no zero operand; analytical engine, its leakage over the analytical estimate)")


def dense_bound_text(bound: pd.DataFrame) -> str:
    """:func:`dense_bound_display` as printable text under its note."""
    lines = [BOUND_NOTE]
    for head, table in dense_bound_display(bound):
        lines += [f"  {head}:", table.to_string()]
    return "\n".join(lines)
