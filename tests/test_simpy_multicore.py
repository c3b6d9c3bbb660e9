"""PE-array dataflow (``pe.parallelism``), the LPT ``balanced`` mapping, and the multi-core
acceptance claim: 4 × 64 PEs with a balanced mapping beat 1 × 256 PEs on compute-bound VGG-9
when the array parallelises over output channels."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.mapping import core_of_layers, lpt
from tess_sim.api import from_dict

from .simpy_helpers import metric, sim
from .test_simpy_timing import _vgg9

PER = {"mac": 2, "ac": 1, "exp": 4, "div": 8}  # cycles per op kind of the hardware below


def _small(small_dict: dict, parallelism: str | None, units: int = 16) -> dict:
    """The small workload (c1: 4 channels, c2: 8, fc: 16 features, out: 4 classes) on one core of
    ``units`` PEs with ample, wide SRAM (compute-bound) and no event push."""
    d = copy.deepcopy(small_dict)
    hw = d["hardware"]
    hw["pe"] = {"units": units, "cycles_per_mac": 2, "cycles_per_ac": 1, "cycles_per_op": {"exp": 4, "div": 8}}
    if parallelism is not None:
        hw["pe"]["parallelism"] = parallelism
    for m in hw["memories"]:
        if m["kind"] == "sram":
            m.update(capacity_bytes=1 << 30, ports=4096, read_latency=0, write_latency=0)
    hw["placement"]["optimizer"] = "state_sram"
    return d


def test_output_channels_utilisation_by_hand(small_dict):
    """u_L = min(1, lanes / units) on 16 PEs: c1 4/16, c2 8/16, fc 16/16, out 4/16. Every layer's
    PE cycles are Σ ops × cycles_per_op / (16 · u_L), tasks compute-bound, counts unchanged."""
    u = {"c1": 4 / 16, "c2": 8 / 16, "fc": 1.0, "out": 4 / 16}
    ideal = sim(from_dict(_small(small_dict, "ideal")), granularity="phase", keep_tasks=True)[3]
    oc = sim(from_dict(_small(small_dict, "output_channels")), granularity="phase", keep_tasks=True)[3]
    import pandas as pd

    pd.testing.assert_frame_equal(ideal.raw, oc.raw, check_exact=True)  # counts never change
    for rule, r in oc.runs.items():
        led = oc.raw[(oc.raw.rule == rule) & (oc.raw.convention == "full") & (oc.raw.unit == "pe")]
        led = led.assign(cyc=led["count"] * led["action"].map(lambda a: PER.get(a, 1)))
        ops = led.groupby("layer")["cyc"].sum()  # op-cycles per layer, per sample (update amortised)
        t = r.tasks
        for layer, want_u in u.items():
            got = t[t.layer == layer]["compute"].sum()
            assert got == pytest.approx(ops[layer] / (16 * want_u), rel=1e-9), (rule, layer)
            ideal_got = ideal.runs[rule].tasks.query("layer == @layer")["compute"].sum()
            assert got == pytest.approx(ideal_got / want_u, rel=1e-9)  # c1: exactly 4 × the ideal cycles
        # c1's synaptic pieces are compute-bound: they last 4 × their ideal compute
        c1 = t[(t.layer == "c1") & (t.phase == "fwd")]
        assert len(c1) and np.allclose(c1.duration, c1.compute, rtol=1e-12, atol=0)
        busy = metric(r.timing, rule, "core", "pe_busy_cycles").iloc[0]
        useful = metric(r.timing, rule, "core", "pe_useful_cycles").iloc[0]
        assert busy == pytest.approx(sum(ops[k] / (16 * u[k]) for k in u), rel=1e-9)
        assert useful == pytest.approx(ops.sum() / 16, rel=1e-9)
        assert metric(r.timing, rule, "core", "pe_utilisation").iloc[0] == pytest.approx(useful / r.cycles)
        assert r.cycles >= busy - 1e-6  # one core: the sample is at least its PE busy time


def test_ideal_is_todays_model(small_dict):
    """``parallelism: ideal`` (the default) keeps the cycles measured before the dataflow model
    existed (commit 7d6e380), exactly."""
    from tess_sim.api import load

    from .conftest import WORKLOADS

    small = sim(load(WORKLOADS / "small.yaml"))[3]
    want = {"bptt": 6432.3993875, "stllr": 6649.2993875, "tess": 6109.0493875}
    assert {k: r.cycles for k, r in small.runs.items()} == pytest.approx(want, rel=1e-12, abs=0)
    for (cores, units), want in {(1, 256): 25967013.891601562, (4, 64): 42266444.75390625}.items():
        for par in (None, "ideal"):
            d = _vgg9(cores, units, 4, "ample")
            if par:
                d["hardware"]["pe"]["parallelism"] = par
            got = sim(from_dict(d), granularity="phase")[3].runs["tess"].cycles
            assert got == pytest.approx(want, rel=1e-12, abs=0), (cores, units, par)


def test_unknown_parallelism_is_a_user_error(small_dict):
    small_dict["hardware"]["pe"] = {"parallelism": "output_channel"}
    with pytest.raises(UserError, match="parallelism"):
        from_dict(small_dict)
    small_dict["hardware"]["pe"] = {}
    small_dict["hardware"]["mapping"] = "balance"
    with pytest.raises(UserError, match="mapping"):
        from_dict(small_dict)


def _makespan(assign, loads, cores):
    return np.bincount(np.asarray(assign), weights=np.asarray(loads, float), minlength=cores).max()


@settings(max_examples=200, deadline=None)
@given(loads=st.lists(st.integers(1, 50), min_size=1, max_size=6), cores=st.integers(1, 3))
def test_lpt_within_graham_bound_of_brute_force(loads, cores):
    opt = min(_makespan(a, loads, cores) for a in itertools.product(range(cores), repeat=len(loads)))
    got = lpt(loads, cores)
    assert len(got) == len(loads) and all(0 <= c < cores for c in got) and got[0] == 0
    assert _makespan(got, loads, cores) <= (4 / 3 - 1 / (3 * cores)) * opt + 1e-9
    if len(loads) <= cores:
        assert _makespan(got, loads, cores) == opt  # one layer per core


def test_lpt_known_case():
    # Graham's tight example for 2 machines: 3, 3, 2, 2, 2 -> LPT 7, optimum 6
    assert _makespan(lpt([3, 3, 2, 2, 2], 2), [3, 3, 2, 2, 2], 2) == 7
    assert lpt([4, 3, 3, 2], 2) == [0, 1, 1, 0]  # non-contiguous, renumbered so layer 0 is on core 0


def _vgg9_oc(cores: int, units: int, T: int, mapping: str = "auto") -> dict:
    d = _vgg9(cores, units, T, "ample")
    d["hardware"]["pe"]["parallelism"] = "output_channels"
    d["hardware"]["mapping"] = mapping
    return d


def _crossing(net, act, cores):
    names = [b.name for b in net.layers]
    return sum(act[names[i]].post_events.sum() for i in range(len(names) - 1)
               if cores[names[i]] != cores[names[i + 1]])


def test_acceptance_four_balanced_cores_beat_one_big_core_when_compute_bound():
    """DVS VGG-9, TESS, T = 20 (the workload's own), everything on chip, output-channel arrays:
    4 cores × 64 PEs with the LPT mapping take fewer cycles per sample than 1 core × 256 PEs (which
    idles 75 % / 50 % of its PEs on conv1 / conv2), and the router carries exactly the spikes that
    cross cores. At T = 4 this does not hold: filling the 8-stage pipeline costs more than the big
    core loses to idle lanes (docs/simpy.md: crossover near T = 10)."""
    T = 20
    wl1 = from_dict(_vgg9_oc(1, 256, T))
    wl4 = from_dict(_vgg9_oc(4, 64, T, "balanced"))
    one = sim(wl1, granularity="phase")[3].runs["tess"]
    net, rules, act, s = sim(wl4, granularity="phase")
    four = s.runs["tess"]
    assert four.cycles < one.cycles, f"4 x 64 balanced: {four.cycles:,.0f} cycles, 1 x 256: {one.cycles:,.0f}"
    cores = core_of_layers(net, wl4.hardware)
    assert sorted(set(cores.values())) == [0, 1, 2, 3]
    assert list(cores.values()) != sorted(cores.values())  # non-contiguous
    crossing = _crossing(net, act, cores)
    assert crossing > 0
    assert metric(four.timing, "tess", "router", "spike_packets").iloc[0] == pytest.approx(crossing, rel=1e-12)
    # the busiest core of the balanced mapping carries close to a quarter of the PE work
    busy = metric(four.timing, "tess", "core", "pe_busy_cycles")
    assert busy.max() < 0.26 * busy.sum(), busy.to_dict()
    # the contiguous 'auto' mapping does not beat the big core (busiest group > 36 % of the work)
    auto = sim(from_dict(_vgg9_oc(4, 64, T)), granularity="phase")[3].runs["tess"]
    assert auto.cycles > one.cycles, f"auto {auto.cycles:,.0f} vs 1 x 256 {one.cycles:,.0f}"
