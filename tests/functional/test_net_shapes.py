"""The functional engine takes its shapes from the network description (simulator.network.Net):
on every shipped workload, the arrays of a real forward pass, the initial weights and the
gradients have exactly the shapes the Net states, and the measured synaptic operations of an
all-ones input equal the counting side's border-exact S."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tess_sim.simulator.functional.activity import measure_activity
from tess_sim.simulator.functional.golden import compute_gradients
from tess_sim.simulator.functional.network import forward, init_scheme, weight_shapes
from tess_sim.simulator.functional.rules import RuleParams
from tess_sim.simulator.measured.bridge import rule_params
from tess_sim.simulator.network import build_network
from tess_sim.simulator.workload import load_workload, shipped_names

SHIPPED = shipped_names()


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request):
    wl = load_workload(request.param)
    net = build_network(wl)
    w = init_scheme(net, 0, wl.training.init, np.float64)
    x = np.ones((1, 1) + net.input_shape)  # T = 1, batch 1, every input element active
    return wl, net, w, x


def test_every_shipped_workload_is_covered():
    assert {"dvs", "cifar10", "cifar100", "cifar10dvs", "small", "digits"} <= set(SHIPPED)


def test_weights_have_the_net_shapes(shipped):
    wl, net, w, _ = shipped
    assert list(w) == list(weight_shapes(net))
    for b in net.layers:
        assert w[b.name].shape == b.weight_shape
        assert w[b.name].size + (w[b.name + ".bias"].size if b.bias else 0) == b.params
    assert sum(a.size for a in w.values()) == sum(b.params for b in net.layers)


def test_forward_arrays_have_the_net_shapes(shipped):
    wl, net, w, x = shipped
    records, y = forward(net, w, x, np.float64, keep_cols=True)
    assert len(records) == len(net.blocks)
    for b, rec in zip(net.blocks, records):
        lead = x.shape[:2]
        assert rec.x.shape == lead + b.in_shape, b.name
        for a in (rec.u, rec.o, rec.s, rec.psi):
            assert a.shape == lead + b.pre_shape, b.name
        assert rec.z.shape == lead + b.post_shape, b.name
        if b.kind == "conv":  # im2col: one row per (step, sample, output position), one column per tap
            assert rec.cols.shape == (math.prod(lead) * b.pre_shape[1] * b.pre_shape[2], b.fan_in)
    assert math.prod(records[-1].z.shape[2:]) == net.readout.N_in
    assert y.shape == x.shape[:2] + net.readout.pre_shape == (1, 1, net.classes)


def test_all_ones_input_measures_the_border_exact_S(shipped):
    wl, net, w, x = shipped
    first = net.blocks[0]
    act = measure_activity(net, w, x, np.float64)
    assert act[first.name]["in_events"][0] == first.N_in
    assert act[first.name]["syn_ops"][0] == first.S <= first.F


def test_gradients_have_the_weight_shapes(shipped):
    wl, net, w, x = shipped
    rule = "tess" if "tess" in wl.rules.enabled() else next(iter(wl.rules.enabled()))
    params = rule_params(wl, rule) if rule != "bptt" else RuleParams()
    g = compute_gradients(net, rule, params, w, x, np.zeros(1, dtype=np.int64), trace=True)
    for key, shape in weight_shapes(net).items():
        assert g[key].shape == shape, key
    assert g["spikes"].shape == (len(net.blocks), 1)
    for b in net.blocks:
        assert g[b.name + ".m"].shape == x.shape[:2] + b.pre_shape
