"""Rule-program counts against a step-by-step enumeration of a tiny network (tests/brute.py)."""

from __future__ import annotations

import pytest

from tess_sim.api import run
from tess_sim.api import from_dict

from .brute import brute_ops, brute_shapes


def _ops_by_phase(ledger, rule):
    o = ledger[(ledger.convention == "full") & (ledger.rule == rule) & (ledger.unit == "pe")]
    return {k: v for k, v in o.groupby(["phase", "action"])["count"].sum().items() if v}


@pytest.mark.parametrize("rule", ["bptt", "stllr", "tess"])
@pytest.mark.parametrize("variant", ["plain", "window", "alpha_post0", "analog", "sgd", "stride"])
def test_full_ops_equal_enumeration(small_dict, rule, variant):
    d = small_dict
    d["activity"] = {"source": "dense"}
    d["network"]["layers"][-1]["bias"] = True
    if variant == "window":
        for r in ("stllr", "tess"):
            d["rules"][r] = dict(d["rules"][r] or {}, window=2)
    if variant == "alpha_post0":
        for r in ("stllr", "tess"):
            d["rules"][r] = dict(d["rules"][r] or {}, alpha_post=0.0)
    if variant == "analog":
        d["input"]["encoding"] = "analog"
    if variant == "sgd":
        for r in ("bptt", "stllr", "tess"):
            d["rules"][r] = dict(d["rules"][r] or {}, optimizer="sgd")
    if variant == "stride":
        d["network"]["layers"][0].update(kernel=3, stride=2, padding=1)
        d["network"]["layers"][1] = {"type": "avgpool", "kernel": 1}
    wl = from_dict(d)
    got = _ops_by_phase(run(wl).ledger, rule)
    want = brute_ops(wl, rule)
    assert set(got) == set(want)
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-12), key


def test_shapes_equal_enumeration(small_dict):
    from tess_sim.simulator.network import build_network

    d = small_dict
    d["network"]["layers"][0].update(kernel=3, stride=2, padding=1)
    d["network"]["layers"][1] = {"type": "avgpool", "kernel": 1}
    wl = from_dict(d)
    net = build_network(wl)
    blocks, ro = brute_shapes(wl)
    for b, bb in zip(net.blocks, blocks):
        assert (b.N_in, b.N_pre, b.N_post, b.F, b.S, b.weights) == \
               (bb["n_in"], bb["n_pre"], bb["n_post"], bb["F"], bb["S"], bb["weights"])
    assert (net.readout.N_in, net.readout.weights) == (ro["n_in"], ro["weights"])
