"""What a run at measured activity shows beside its figures (issue 13, item 4): per layer the spike
rate and the learning operands' densities (``densities.csv``), and each rule's energy under the
dense bound beside its energy at the run's activity (``energy_dense_bound.csv``).

- :func:`density_table`: one row per spiking block and one ``all`` row (every layer, the readout
  included): neurons, spike rate (spikes / neuron / step), ``psi`` (Psi ≠ 0 / neurons), per rule
  its learning signal's density (BPTT δu ≠ 0; S-TLLR and TESS m·Psi ≠ 0, over their learning
  steps), the local rules' input-trace density (tr_x ≠ 0 / inputs), and its learning ops
  (phases trace, lsg, bwd, wgrad, update; the rule programs' counts) with every zero operand
  skipped (``<rule>_learning_ops``) and executed (``<rule>_learning_ops_dense``). Columns a
  profile does not carry are left out; None without measured operands.
- :func:`dense_bound`: per cost model and rule, total and dynamic energy per sample at the run's
  activity and under the dense bound (every input element and neuron active every step: no zero
  operand), the latter from the analytical engine (its leakage over the analytical estimate).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from tess_sim.api import run
from tess_sim.cost_models import cost_report
from tess_sim.simulator.activity import ActivityProfile, dense
from tess_sim.simulator.network import Net
from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.rules.program import learning_mask
from tess_sim.simulator.vocab import LEARNING_PHASES
from tess_sim.simulator.workload import Workload

#: the operand column of each rule's learning signal
SIGNALS = {"bptt": "bptt_signal_nonzero", "stllr": "stllr_signal_nonzero", "tess": "tess_signal_nonzero"}


def _learning_ops(rule, act: ActivityProfile, zero: str) -> dict[str, float]:
    """Per layer, the rule's learning-phase ops per sample under ``zero``."""
    r = copy.copy(rule)
    r.zero = zero
    out: dict[str, float] = {}
    batch = rule.net.batch
    for w in r.works(act):
        if w.phase not in LEARNING_PHASES:
            continue
        scale = 1.0 / batch if w.direction == "batch" else 1.0
        n = sum(float(c.per_step.sum()) for c in w.counts if c.unit == "pe") * scale
        out[w.layer] = out.get(w.layer, 0.0) + n
    return out


def density_table(wl: Workload, net: Net, act: ActivityProfile, where: str = "<workload>") -> pd.DataFrame | None:
    """The per-layer densities of a profile with measured operands (module docstring), else None."""
    if not act.measured_operands:
        return None
    rules = build_rules(wl, net, where)
    rates = act.rates(net)
    rows = {b.name: {"layer": b.name, "neurons": float(b.N_pre), "spike_rate": rates[b.name]} for b in net.blocks}
    total_neurons = float(sum(b.N_pre for b in net.blocks))
    spikes = sum(float(act[b.name].out_spikes.mean()) for b in net.blocks)
    rows["all"] = {"layer": "all", "neurons": total_neurons, "spike_rate": spikes / total_neurons}

    def density(key: str, col: str, size, mask=None) -> None:
        """rows[*][key] = mean over the (masked) steps of ``col`` / ``size(b)``; ``all``: Σ / Σ size."""
        steps = np.ones(net.T) if mask is None else np.asarray(mask, dtype=float)
        n = float(steps.sum())
        have = [b for b in net.blocks if col in act[b.name].operands]
        if not have or not n:
            return
        per_step = {b.name: float((act[b.name].operands[col] * steps).sum()) / n for b in have}
        for b in have:
            rows[b.name][key] = per_step[b.name] / size(b)
        rows["all"][key] = sum(per_step.values()) / sum(size(b) for b in have)

    density("psi", "psi_nonzero", lambda b: b.N_pre)
    for rule in rules:
        if rule.name != "bptt":
            density(f"{rule.name}_trace", f"{rule.name}_trace_nonzero", lambda b: b.N_in)
        mask = None if rule.name == "bptt" else learning_mask(net.T, rule.params.window)
        density(f"{rule.name}_signal", SIGNALS[rule.name], lambda b: b.N_pre, mask)
        skipped, executed = _learning_ops(rule, act, "skip"), _learning_ops(rule, act, "none")
        for b in net.blocks:
            rows[b.name][f"{rule.name}_learning_ops"] = skipped.get(b.name, 0.0)
            rows[b.name][f"{rule.name}_learning_ops_dense"] = executed.get(b.name, 0.0)
        rows["all"][f"{rule.name}_learning_ops"] = sum(skipped.values())
        rows["all"][f"{rule.name}_learning_ops_dense"] = sum(executed.values())
    return pd.DataFrame(list(rows.values()))


def dense_bound(wl: Workload, net: Net, costs, models) -> pd.DataFrame:
    """Per cost model and rule (module docstring): ``total`` and ``dynamic`` energy per sample at
    the run's activity (``costs``: its cost report) and under the dense bound (``dense_total``,
    ``dense_dynamic``), in the model's ``unit``."""
    bound = cost_report(run(wl, "analytical", activity=dense(net)), models=models).summary
    cols = ["model", "rule", "unit", "total", "dynamic"]
    got = costs.summary[cols].merge(bound[["model", "rule", "total", "dynamic"]].rename(
        columns={"total": "dense_total", "dynamic": "dense_dynamic"}), on=["model", "rule"], how="left")
    return got
