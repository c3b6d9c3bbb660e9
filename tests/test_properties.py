"""Property tests: local-rule memory independent of T, BPTT memory linear in T, no negative
counts, effective (rates) ≤ dense, counts monotone in activity."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tess_sim.simulator.activity import build_activity, dense, from_rates
from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.engines.analytical import run_analytical
from tess_sim.simulator.ledger import held
from tess_sim.simulator.network import build_network
from tess_sim.api import from_dict


@st.composite
def workloads(draw):
    c = draw(st.integers(1, 3))
    h = draw(st.sampled_from([4, 8]))
    layers = [{"type": "conv", "out_channels": draw(st.integers(1, 4)),
               "kernel": draw(st.sampled_from([1, 3])), "padding": draw(st.integers(0, 1))}]
    if draw(st.booleans()):
        layers.append({"type": draw(st.sampled_from(["maxpool", "avgpool"])), "kernel": 2})
    if draw(st.booleans()):
        layers.append({"type": "linear", "out_features": draw(st.integers(1, 6))})
    layers.append({"type": "readout", "bias": draw(st.booleans())})
    n_blocks = sum(l["type"] in ("conv", "linear") for l in layers)
    local = {"lambda_pre": 0.5, "alpha_post": draw(st.sampled_from([0.0, 1.0])),
             "window": draw(st.one_of(st.none(), st.integers(1, 4))),
             "optimizer": draw(st.sampled_from(["sgd", "adam"]))}
    return {"name": "p", "input": {"shape": [c, h, h], "T": draw(st.integers(1, 6)),
                                   "classes": draw(st.integers(2, 5)), "batch": draw(st.integers(1, 4)),
                                   "encoding": draw(st.sampled_from(["spikes", "analog"]))},
            "network": {"layers": layers},
            "rules": {"bptt": {}, "stllr": local, "tess": dict(local, lsg_pool=[1] * n_blocks)},
            "activity": {"source": "rates", "input": draw(st.floats(0, 1)), "default": draw(st.floats(0, 1))}}


def _ledger(wl, T=None, act=None):
    net = build_network(wl)
    if T is not None:
        net = dataclasses.replace(net, T=T)
    act = act or build_activity(net, wl.activity)
    return run_analytical(build_rules(wl, net), act, wl.hardware.precision, wl.input.batch), net


def _memory(ledger, conv):
    h = held(ledger[ledger.convention == conv])
    return (h["count"] * h["bits"]).groupby(h["rule"]).sum()


@settings(max_examples=30, deadline=None)
@given(workloads(), st.integers(1, 50), st.integers(1, 50))
def test_memory_in_T(d, T1, T2):
    wl = from_dict(d)
    m1 = {c: _memory(_ledger(wl, T1)[0], c) for c in ("paper", "full")}
    m2 = {c: _memory(_ledger(wl, T2)[0], c) for c in ("paper", "full")}
    for conv in ("paper", "full"):
        for rule in ("stllr", "tess"):
            assert m1[conv][rule] == m2[conv][rule]
    # BPTT: paper memory ∝ T; full memory affine in T with the history as the slope
    assert m1["paper"]["bptt"] * T2 == m2["paper"]["bptt"] * T1
    l1, _ = _ledger(wl, T1)
    hist = held(l1[(l1.rule == "bptt") & (l1.unit == "history") & (l1.convention == "full")])
    per_step = (hist["count"] * hist["bits"]).sum() / T1
    assert np.isclose(m2["full"]["bptt"] - m1["full"]["bptt"], per_step * (T2 - T1))


@settings(max_examples=30, deadline=None)
@given(workloads())
def test_no_negative_counts_and_effective_below_dense(d):
    wl = from_dict(d)
    led, net = _ledger(wl)
    assert (led["count"] >= 0).all()
    dense_led, _ = _ledger(wl, act=dense(net))
    key = ["convention", "rule", "layer", "phase", "unit", "action", "bits", "term", "memory"]
    merged = led.merge(dense_led, on=key, how="outer", suffixes=("_eff", "_dense"))
    merged[["count_eff", "count_dense"]] = merged[["count_eff", "count_dense"]].fillna(0.0)
    assert (merged["count_eff"] <= merged["count_dense"] + 1e-9).all()


@settings(max_examples=20, deadline=None)
@given(workloads(), st.floats(0, 1), st.floats(0, 1))
def test_counts_monotone_in_rates(d, r1, r2):
    wl = from_dict(d)
    net = build_network(wl)
    lo, hi = sorted([r1, r2])
    a_lo = from_rates(net, lo, {b.name: lo for b in net.blocks}, "lo")
    a_hi = from_rates(net, hi, {b.name: hi for b in net.blocks}, "hi")
    l_lo = _ledger(wl, act=a_lo)[0].groupby(["rule", "unit", "action"])["count"].sum()
    l_hi = _ledger(wl, act=a_hi)[0].groupby(["rule", "unit", "action"])["count"].sum()
    both = l_lo.to_frame("lo").join(l_hi.to_frame("hi"), how="outer").fillna(0.0)
    assert (both["lo"] <= both["hi"] + 1e-9).all()
