"""Time-step schedules and update policies (issue 12, items 2 and 3): what each changes, derived a
second way from the network's shapes, and which combinations are refused."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from click.testing import CliRunner

from tess_sim.api import from_dict, run
from tess_sim.cli import main
from tess_sim.simulator.network import build_network
from tess_sim.simulator.yaml_io import read_yaml

from .conftest import WORKLOADS


def _wl(small_dict, hardware=None, **sets):
    d = copy.deepcopy(small_dict)
    d["activity"] = {"source": "dense"}  # every weight touched every step: min(n_t, E) = E
    if hardware:
        d["hardware"] = read_yaml(WORKLOADS / "hw" / hardware)
    for key, value in sets.items():
        node = d
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return from_dict(d)


def _sum(ledger, **where):
    rows = ledger[ledger["convention"] == "full"]
    for col, value in where.items():
        rows = rows[rows[col] == value]
    return float(rows["count"].sum())


def _spilled_weights(small_dict, dataflow_hw=None):
    """A weight SRAM smaller than the network's weights, so they spill and stream from DRAM."""
    d = copy.deepcopy(small_dict)
    if dataflow_hw:
        d["hardware"] = read_yaml(WORKLOADS / "hw" / dataflow_hw)
    for m in d["hardware"]["memories"]:
        if m["name"] in ("weight_sram", "weight_buffer"):
            m["capacity_bytes"] = 256
    return d


@pytest.mark.parametrize("hardware", [None, "edge_mapped.yaml"])
@pytest.mark.parametrize("engine", ["analytical", "simpy"])
def test_layer_major_reads_spilled_weights_once_per_pass_not_per_step(small_dict, hardware, engine):
    d = _spilled_weights(small_dict, hardware)
    T = d["input"]["T"]
    step = run(_wl(d), engine)
    layer = run(_wl(d, schedule="layer_major"), engine)
    for name in ("c1", "c2", "fc"):  # no bias: every weight the slice holds is read each step
        s = _sum(step.ledger, rule="tess", layer=name, phase="fwd", unit="weights", memory="dram")
        lm = _sum(layer.ledger, rule="tess", layer=name, phase="fwd", unit="weights", memory="dram")
        assert s > 0
        np.testing.assert_allclose(s, T * lm, rtol=1e-9)
    # S-TLLR cannot run layer-major: the same counts as step-major
    assert _sum(step.ledger, rule="stllr", unit="weights", memory="dram") == \
        _sum(layer.ledger, rule="stllr", unit="weights", memory="dram")


def test_layer_major_keeps_every_step_of_the_spikes_between_layers(small_dict):
    step = run(_wl(small_dict), "analytical")
    layer = run(_wl(small_dict, schedule="layer_major"), "analytical")
    net = build_network(_wl(small_dict))
    T = net.T
    want_step = net.N_input + sum(b.N_post for b in net.blocks)  # one step of every map
    for res, k in ((step, 1), (layer, T)):
        held = res.ledger[(res.ledger["rule"] == "tess") & (res.ledger["action"] == "hold")
                          & (res.ledger["unit"] == "spikes") & (res.ledger["convention"] == "full")]
        assert held["count"].sum() == k * want_step
    # the local rule's memory is O(T·n) again; BPTT's history already keeps the inputs: no extra
    assert (layer.summary.loc["tess", "full_memory_MB"] > step.summary.loc["tess", "full_memory_MB"])
    assert layer.summary.loc["bptt", "full_memory_MB"] == step.summary.loc["bptt", "full_memory_MB"]


@pytest.mark.parametrize("hardware", [None, "edge_mapped.yaml"])
def test_per_step_removes_the_accumulator_and_its_traffic(small_dict, hardware):
    base = run(_wl(small_dict, hardware), "analytical")
    now = run(_wl(small_dict, hardware, **{"rules.tess.update": "per_step", "rules.tess.optimizer": "sgd"}),
              "analytical")
    net = build_network(_wl(small_dict))
    params = sum(b.params for b in net.layers)
    assert _sum(base.ledger, rule="tess", unit="gradients", action="hold") == params
    assert _sum(now.ledger, rule="tess", unit="gradients") == 0.0  # no buffer, no access
    assert _sum(now.ledger, rule="tess", phase="update") == 0.0  # SGD's step folds into the drain
    # the drain read-modify-writes the weights instead, at every learning step
    if hardware is None:
        T = net.T
        assert _sum(now.ledger, rule="tess", phase="wgrad", unit="weights", action="write") == T * params
    # the other rules keep theirs
    assert _sum(now.ledger, rule="stllr", unit="gradients", action="hold") == params


def test_per_step_adam_steps_every_learning_step(small_dict):
    now = run(_wl(small_dict, **{"rules.tess.update": "per_step"}), "analytical")
    base = run(_wl(small_dict), "analytical")
    T, batch = 4, 2
    # Adam's ops once per mini-batch (÷ batch per sample) against once per learning step
    np.testing.assert_allclose(_sum(now.ledger, rule="tess", phase="update", unit="pe"),
                               T * batch * _sum(base.ledger, rule="tess", phase="update", unit="pe"), rtol=1e-12)


def test_per_sample_updates_once_per_sample(small_dict):
    base = run(_wl(small_dict), "simpy")
    now = run(_wl(small_dict, **{"rules.bptt.update": "per_sample"}), "simpy")
    batch = small_dict["input"]["batch"]
    np.testing.assert_allclose(_sum(now.ledger, rule="bptt", phase="update"),
                               batch * _sum(base.ledger, rule="bptt", phase="update"), rtol=1e-12)
    assert _sum(now.ledger, rule="tess", phase="update") == _sum(base.ledger, rule="tess", phase="update")


@pytest.mark.parametrize("key,value,reason", [
    ("rules.stllr.schedule", "layer_major", "layer_major is not legal for S-TLLR"),
    ("rules.bptt.update", "per_step", "per_step is not legal for BPTT"),
    ("schedule", "time_major", "step_major"),
])
def test_illegal_schedules_and_policies_are_refused(key, value, reason, tmp_path):
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["run", str(WORKLOADS / "small.yaml"), "--set", f"{key}={value}",
                                  "--out", str(out), "--no-plot"])
    assert r.exit_code == 2, r.output
    assert not out.exists()
    assert reason in r.output and key.split(".")[-1] in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1
