"""Train a workload's rules with the functional engine and put accuracy beside cost.

For each rule (and, with ``training.control``, the readout-only control whose hidden weights stay
at their initialisation) the network is trained from the same seeded initialisation; then the
trained weights run the test images to measure activity, and the analytical engine prices one
training sample of that rule under that activity. Cost columns are per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tess_sim.simulator.activity import ActivityProfile, LayerActivity
from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.summary import summarize
from tess_sim.simulator.engines.analytical import run_analytical
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.functional.activity import measure_activity
from tess_sim.simulator.functional.data import load_digits_spikes
from tess_sim.simulator.measured.bridge import net_spec, rule_params
from tess_sim.simulator.functional.network import init_scheme
from tess_sim.simulator.functional.train import History, train
from tess_sim.simulator.network import build_network
from tess_sim.simulator.vocab import RULE_LABELS
from tess_sim.simulator.workload import Workload

CONTROL = "readout"
LABELS = {**RULE_LABELS, CONTROL: "readout only (control)"}


@dataclass
class TrainResult:
    """Per rule: the History, and the table of accuracy beside per-sample cost."""

    histories: dict[str, History]
    table: pd.DataFrame


def digits_data(wl: Workload):
    """The training data of a workload (today: the digits data set)."""
    where = wl.source or "<workload>"
    if wl.data is None or wl.data.format != "digits":
        raise UserError(where, "data.format", "tess-sim train supports data: {format: digits} "
                        "(event data sets are for measured activity)")
    if tuple(wl.input.shape) != (64,):
        raise UserError(where, "input.shape", f"digits are 64 pixels, got {wl.input.shape}")
    return load_digits_spikes(wl.input.T)


def measured_with(wl: Workload, net, weights: dict, x: np.ndarray, what: str) -> ActivityProfile:
    """Activity of ``weights`` on inputs ``x [T, N, *shape]``, per sample."""
    got = measure_activity(net_spec(net), weights, x)
    zeros = np.zeros(net.T)
    layers = {b.name: LayerActivity(got[b.name]["in_events"], got[b.name]["syn_ops"],
                                    got[b.name].get("out_spikes", zeros), got[b.name].get("post_events", zeros))
              for b in net.layers}
    return ActivityProfile("measured", what, layers)


def train_workload(wl: Workload, rules: list[str] | None = None, epochs: int | None = None,
                   seed: int | None = None, on_epoch=None, on_rule=None) -> TrainResult:
    """Train every rule in ``rules`` (default: the workload's, plus the control).

    ``on_epoch(rule, epoch, train_acc, test_acc)`` after each epoch; ``on_rule(rule, history,
    table)`` after each rule, with the table of the rules finished so far (to save them as they
    finish, so that an interrupted training keeps them)."""
    where = wl.source or "<workload>"
    tr = wl.training
    epochs = epochs or tr.epochs
    seed = tr.seed if seed is None else seed
    enabled = list(wl.rules.enabled())
    if rules is None:
        rules = enabled + ([CONTROL] if tr.control else [])
    for r in rules:
        if r not in enabled + [CONTROL]:
            raise UserError("--rule", "", f"rule '{r}' is not in the workload (enabled: {', '.join(enabled)}, "
                            f"or '{CONTROL}' for the readout-only control)")
    data = digits_data(wl)
    net = build_network(wl, where)
    spec = net_spec(net)
    w0 = init_scheme(spec, seed, tr.init)
    x_test = data.test_spikes()
    histories, rows = {}, []
    for r in rules:
        optimizer = wl.rules.enabled()[r].optimizer if r != CONTROL else "adam"
        cb = (lambda e, a, b, r=r: on_epoch(r, e, a, b)) if on_epoch else None
        h = train(spec, r, rule_params(wl, r), data, epochs, tr.batch or wl.input.batch, tr.lr,
                  optimizer, seed=seed, weights=w0, on_epoch=cb)
        histories[r] = h
        act = measured_with(wl, net, h.weights, x_test, f"measured: {x_test.shape[1]} test images, trained {r} weights")
        cost_rule = r if r != CONTROL else enabled[0]
        priced = [rule for rule in build_rules(wl, net, where) if rule.name == cost_rule]
        s = summarize(run_analytical(priced, act, wl.hardware.precision, wl.input.batch), priced).iloc[0]
        rows.append({"rule": r, "label": LABELS[r], "epochs": epochs, "train_acc": h.train_acc[-1],
                     "test_acc": h.test_acc[-1], "seconds": h.seconds,
                     "learning_ops_M": s["ops_learning"] / 1e6 if r != CONTROL else np.nan,
                     "total_ops_M": s["ops_total"] / 1e6 if r != CONTROL else np.nan,
                     "paper_mac_M": s["paper_mac_M"] if r != CONTROL else np.nan,
                     "full_memory_MB": s["full_memory_MB"] if r != CONTROL else np.nan,
                     "spike_rate": float(np.mean(list(act.rates(net).values())))})
        if on_rule:
            on_rule(r, h, pd.DataFrame(rows).set_index("rule"))
    return TrainResult(histories, pd.DataFrame(rows).set_index("rule"))

