"""The learning ops under the hardware's zero handling (``pe.zero``) with measured operands, on
the tiny network of tests/functional/operand_net.py:

- ``none``: the ledger (and the simulated time) is the one without operands, exactly;
- ``skip``: BPTT's error propagation and weight gradient count the brute-force number of
  synapses whose operands are all non-zero; the other learning ops their measured non-zeros;
- ``gate``: the ops priced are skip's, the cycles none's (SimPy, the analytical estimate and a
  mapped array's compute cycles);
- the event_driven and the mapped dataflow count the same learning ops; both engines agree.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest

from tess_sim.api import from_dict, mapper_of, run
from tess_sim.densities import density_table
from tess_sim.simulator.activity import ActivityProfile
from tess_sim.simulator.engines.mapped import map_all
from tess_sim.simulator.engines.rows import raw_ledger
from tess_sim.simulator.functional.network import forward
from tess_sim.simulator.functional.rules import gradients
from tess_sim.simulator.measured.bridge import profile_of, rule_params
from tess_sim.simulator.network import build_network
from tess_sim.simulator.placement import place
from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.yaml_io import read_yaml

from .conftest import WORKLOADS
from .functional.operand_net import tiny, tiny_dict
from .functional.test_operand_density import brute_fanin, brute_pairs


def _wl(zero: str, hw: str = "edge.yaml"):
    d = tiny_dict(read_yaml(WORKLOADS / "hw" / hw))
    d["hardware"]["pe"]["zero"] = zero
    return from_dict(copy.deepcopy(d))


@pytest.fixture(scope="module", params=[False, True], ids=["active", "silent c2"])
def case(request):
    wl, net, w, x, labels = tiny(request.param)
    return net, w, x, labels, profile_of(wl, net, w, x, labels, "tiny"), request.param


def _without_operands(act: ActivityProfile) -> ActivityProfile:
    return dataclasses.replace(act, layers={k: dataclasses.replace(a, operands={}) for k, a in act.layers.items()})


def _ops(res, rule, phase=None, term=None, action=None):
    led = res.ledger
    rows = led[(led["convention"] == "full") & (led["rule"] == rule) & (led["unit"] == "pe")]
    for col, v in (("phase", phase), ("term", term), ("action", action)):
        if v is not None:
            rows = rows[rows[col] == v]
    return rows


@pytest.mark.parametrize("hw", ["edge.yaml", "sata.yaml"])
def test_none_counts_every_learning_op_as_today(case, hw):
    act = case[-2]
    wl = _wl("none", hw)
    got, today = run(wl, "analytical", activity=act), run(wl, "analytical", activity=_without_operands(act))
    pd.testing.assert_frame_equal(got.ledger, today.ledger, check_exact=True)
    assert got.seconds == today.seconds
    if hw == "edge.yaml":  # the simulated time too
        s_got, s_today = run(wl, "simpy", activity=act), run(wl, "simpy", activity=_without_operands(act))
        pd.testing.assert_frame_equal(s_got.timing, s_today.timing, check_exact=True)


def _brute_bptt(net, w, x, labels):
    """Per block: Σ_t brute-force synapses with non-zero operands of Wᵀ·δu and corr(x, δu)."""
    records, _ = forward(net, w, x)
    _, info = gradients(net, "bptt", rule_params(_wl("none"), "bptt"), w, x, labels, trace=True)
    out = {}
    for b, rec in zip(net.blocks, records):
        delta = info[b.name + ".delta"]
        out[b.name] = (brute_fanin(b, delta).sum() if b.index else None, brute_pairs(b, rec.x, delta).sum())
    return out


@pytest.mark.parametrize("hw", ["edge.yaml", "sata.yaml"])
def test_skip_counts_bptt_backward_ops_of_non_zero_operands(case, hw):
    net, w, x, labels, act, silent = case
    res = run(_wl("skip", hw), "analytical", activity=act)
    dense = run(_wl("none", hw), "analytical", activity=act)
    brute = _brute_bptt(net, w, x, labels)
    for b in net.blocks:
        prop, wgrad = brute[b.name]
        rows = _ops(res, "bptt", "wgrad", "corr(x[t], δu[t])")
        assert float(rows[rows["layer"] == b.name]["count"].sum()) == pytest.approx(wgrad, rel=1e-12, abs=0), b.name
        rows = _ops(res, "bptt", "bwd", "error propagation Wᵀ·δu")
        got_prop = float(rows[rows["layer"] == b.name]["count"].sum())
        if prop is None:
            assert got_prop == 0
        else:
            assert got_prop == pytest.approx(prop, rel=1e-12, abs=0), b.name
            d = _ops(dense, "bptt", "bwd", "error propagation Wᵀ·δu")
            assert got_prop <= float(d[d["layer"] == b.name]["count"].sum())
    prop = _ops(res, "bptt", "bwd", "error propagation Wᵀ·δu")
    if silent:  # the silent c2 has no δu: nothing to propagate from it or to correlate below it, and fc's
        assert set(prop["layer"]) == {"fc"}  # input (c2's spikes) is zero: no pair of its correlation
        assert _ops(res, "bptt", "wgrad", "corr(x[t], δu[t])").empty
    assert _ops(res, "bptt", "bwd")["count"].sum() < _ops(dense, "bptt", "bwd")["count"].sum()


def test_gate_prices_the_non_zero_ops_and_spends_the_dense_cycles(case):
    act = case[-2]
    gate, skip, none = (run(_wl(z), "simpy", activity=act) for z in ("gate", "skip", "none"))
    pd.testing.assert_frame_equal(gate.ledger, skip.ledger, check_exact=True)  # priced: the non-zero ops
    learning = ["bwd", "wgrad", "trace"]
    g_ops = _ops(gate, "bptt")
    n_ops = _ops(none, "bptt")
    assert g_ops[g_ops.phase.isin(learning)]["count"].sum() < n_ops[n_ops.phase.isin(learning)]["count"].sum()

    def pe_busy(res, rule):
        t = res.timing
        return float(t[(t.rule == rule) & (t.scope == "core") & (t.metric == "pe_busy_cycles")]["value"].sum())

    for rule in ("bptt", "stllr", "tess"):
        assert pe_busy(gate, rule) == pytest.approx(pe_busy(none, rule), rel=1e-12)  # cycles: dense
        assert pe_busy(skip, rule) < pe_busy(gate, rule)
        assert gate.summary.loc[rule, "cycles"] >= skip.summary.loc[rule, "cycles"]
    a_gate, a_none = run(_wl("gate"), "analytical", activity=act), run(_wl("none"), "analytical", activity=act)
    for rule, s in a_gate.seconds.items():  # the analytical estimate times the gated ops too
        assert s == pytest.approx(a_none.seconds[rule], rel=1e-12)


@pytest.mark.parametrize("zero", ["gate", "skip"])
def test_both_engines_agree_with_operands(case, zero):
    act = case[-2]
    for hw in ("edge.yaml", "sata.yaml"):
        a, s = run(_wl(zero, hw), "analytical", activity=act), run(_wl(zero, hw), "simpy", activity=act)
        keys = [c for c in a.ledger.columns if c != "count"]
        pd.testing.assert_frame_equal(a.ledger[keys], s.ledger[keys])
        np.testing.assert_allclose(s.ledger["count"], a.ledger["count"], rtol=1e-12, atol=0)


def test_mapped_and_event_driven_count_the_same_learning_ops_under_skip(case):
    act = case[-2]
    ev = run(_wl("skip", "edge.yaml"), "analytical", activity=act)
    mp = run(_wl("skip", "edge_mapped.yaml"), "analytical", activity=act)
    for rule in ("bptt", "stllr", "tess"):
        key = ["layer", "phase", "action", "term"]
        e = _ops(ev, rule).groupby(key)["count"].sum()
        m = _ops(mp, rule).groupby(key)["count"].sum()
        learning = [k for k in e.index.union(m.index) if k[1] in ("bwd", "wgrad", "trace")]
        pd.testing.assert_series_equal(e.reindex(learning).fillna(0), m.reindex(learning).fillna(0), rtol=1e-12)


def _bwd_cycles(zero, act, layer):
    wl = _wl(zero, "sata.yaml")
    net = build_network(wl)
    rules = [r for r in build_rules(wl, net) if r.name == "bptt"]
    works = {r.name: r.works(act) for r in rules}
    placement = place(raw_ledger(rules, works, wl.hardware.precision, wl.input.batch), wl.hardware)
    mapped, _ = map_all(rules, works, wl.hardware, placement, mapper_of(wl))
    (w,) = [w for w in mapped["bptt"] if w.layer == layer and w.phase == "bwd"]
    assert not any(c.gated for c in w.counts if c.action == "mac")  # the mapping times the nest
    return w.cycles, net


def test_a_mapped_array_gates_at_the_dense_cycles_and_skips_at_the_density(case):
    act, silent = case[-2], case[-1]
    gate, net = _bwd_cycles("gate", act, "fc")
    none, _ = _bwd_cycles("none", act, "fc")
    skip, _ = _bwd_cycles("skip", act, "fc")
    np.testing.assert_allclose(gate, none, rtol=1e-12)
    b = net.block("fc")
    prop = act["fc"].operands["bptt_prop_ops"]
    # fc's backward nest is its propagation alone (sparse only): skip = the dense cycles × density;
    # the elementwise ops (δo·Psi, the pool) take no mapped cycles
    np.testing.assert_allclose(skip, gate * prop / b.F, rtol=1e-12, atol=0)
    assert (skip == 0).all() == (not prop.any())


def test_the_density_table_counts_what_the_runs_count(case):
    """densities.csv's learning ops: with zeros skipped = a skip run's summary, executed = a none
    run's; the signal densities are the operand columns over the neurons (and learning steps)."""
    net, w, x, labels, act, silent = case
    table = density_table(_wl("none"), net, act).set_index("layer")
    skip, none = run(_wl("skip"), "analytical", activity=act), run(_wl("none"), "analytical", activity=act)
    for rule in ("bptt", "stllr", "tess"):
        assert table.loc["all", f"{rule}_learning_ops"] == pytest.approx(skip.summary.loc[rule, "ops_learning"], rel=1e-12)
        assert table.loc["all", f"{rule}_learning_ops_dense"] == pytest.approx(none.summary.loc[rule, "ops_learning"],
                                                                               rel=1e-12)
    steps = np.arange(net.T) >= 1  # S-TLLR's window 3 of T = 4
    for b in net.blocks:
        ops = act[b.name].operands
        assert table.loc[b.name, "bptt_signal"] == pytest.approx(ops["bptt_signal_nonzero"].mean() / b.N_pre)
        assert table.loc[b.name, "stllr_signal"] == pytest.approx(ops["stllr_signal_nonzero"][steps].mean() / b.N_pre)
        assert table.loc[b.name, "tess_trace"] == pytest.approx(ops["tess_trace_nonzero"].mean() / b.N_in)
    assert (table.loc["c2", "bptt_signal"] == 0) == silent
