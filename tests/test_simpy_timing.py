"""SimPy engine timing: the ODIN anchor, task and sample bounds, granularity agreement, spills,
multi-core pipelining and router traffic."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tess_sim.api import run
from tess_sim.simulator.engines.analytical import run_analytical
from tess_sim.simulator.mapping import core_of_layers
from tess_sim.simulator.network import build_network
from tess_sim.simulator.placement import place
from tess_sim.simulator.spills import history_max_T
from tess_sim.simulator.yaml_io import read_yaml
from tess_sim.api import from_dict

from .conftest import WORKLOADS
from .simpy_helpers import metric, random_activity, sim


def odin_fc(spikes: int, rule: str = "tess") -> dict:
    """One fully connected 256-neuron layer on ODIN, ``spikes`` input events at the single step."""
    return {"name": "odin_fc", "input": {"shape": [256], "T": 1, "classes": 2, "batch": 1},
            "network": {"layers": [{"type": "linear", "out_features": 256}, {"type": "readout"}]},
            "rules": {rule: {}}, "activity": {"source": "rates", "input": spikes / 256, "default": 0.0},
            "hardware": read_yaml(WORKLOADS / "hw" / "odin.yaml"), "simulation": {"granularity": "event"}}


@pytest.mark.parametrize("spikes", [1, 2, 7, 256])
@pytest.mark.parametrize("rule", ["tess", "stllr"])
def test_odin_anchor_513_cycles_per_input_spike(spikes, rule):
    wl = from_dict(odin_fc(spikes, rule))
    net, rules, act, s = sim(wl, keep_tasks=True)
    run_ = s.runs[rule]
    assert metric(run_.timing, rule, "layer_phase", "cycles", "linear1:fwd").iloc[0] == spikes * (1 + 256 * 2)
    tasks = run_.tasks[(run_.tasks.layer == "linear1") & (run_.tasks.phase == "fwd")]
    assert len(tasks) == spikes and (tasks.duration == 513).all()  # one SimPy task per spike


def _random_hw(draw_units, ports, lat, bw, cap, cores):
    hw = read_yaml(WORKLOADS / "hw" / "edge.yaml")
    hw["pe"] = {"units": draw_units, "cycles_per_mac": 2, "cycles_per_ac": 1, "event_push_cycles": lat % 3,
                "cycles_per_op": {"exp": 4, "div": 8}}
    hw["memories"][0].update(capacity_bytes=cap, ports=ports, read_latency=lat, write_latency=lat)
    hw["memories"][1].update(capacity_bytes=cap // 2, ports=ports)
    hw["memories"][2].update(bandwidth_bytes_per_cycle=bw)
    hw["cores"] = cores
    return hw


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(units=st.sampled_from([1, 4, 64, 512]), ports=st.integers(1, 4), lat=st.integers(0, 5),
       bw=st.sampled_from([0.5, 8.0, 64.0]), cap=st.sampled_from([512, 4096, 1 << 20]),
       cores=st.integers(1, 3), gran=st.sampled_from(["event", "tile", "phase"]), seed=st.integers(0, 99))
def test_task_and_sample_bounds(small_dict, units, ports, lat, bw, cap, cores, gran, seed):
    d = copy.deepcopy(small_dict)
    d["hardware"] = _random_hw(units, ports, lat, bw, cap, cores)
    d["simulation"] = {"tile": 32}
    wl = from_dict(d)
    act = random_activity(build_network(wl), seed)
    net, rules, act, s = sim(wl, act, granularity=gran, keep_tasks=True)
    hw = wl.hardware
    for rule in rules:
        r = s.runs[rule.name]
        t = r.tasks
        assert (t.duration >= t.compute - 1e-9).all() and (t.duration >= t.memory - 1e-9).all()
        assert (t.end - t.start >= t.duration - 1e-6).all()
        lo = metric(r.timing, rule.name, "sample", "bound_overlap_cycles").iloc[0]
        hi = metric(r.timing, rule.name, "sample", "bound_serial_cycles").iloc[0]
        assert lo - 1e-6 <= r.cycles <= hi + 1e-6
        # PE busy cycles a second way: the ledger's ops priced by the hardware, plus the pushes
        led = s.raw[(s.raw.rule == rule.name) & (s.raw.convention == "full")]
        ops = led[led.unit == "pe"]
        per = {"mac": 2, "ac": 1, "exp": 4, "div": 8}
        pe = (ops["count"] * ops["action"].map(lambda a: per.get(a, 1))).sum() / units
        fwd_spikes = led[(led.phase == "fwd") & (led.unit == "spikes") & (led.action == "read") & (led.bits == 1)]
        pe += fwd_spikes["count"].sum() * hw.pe.event_push_cycles
        busy = metric(r.timing, rule.name, "core", "pe_busy_cycles").sum()
        assert busy == pytest.approx(pe, rel=1e-9)
        # one core: the sample takes exactly the sum of its task durations (one controller)
        if cores == 1:
            assert r.cycles == pytest.approx(t.duration.sum(), rel=1e-9)


@pytest.mark.parametrize("cores,mapping", [(2, [0, 0, 1, 1]), (3, [0, 1, 2, 2]), (3, "auto")])
@pytest.mark.parametrize("seed", [1, 2])
def test_granularity_agreement(small_dict, cores, mapping, seed):
    small_dict["input"]["T"] = 8
    small_dict["hardware"].update(cores=cores, mapping=mapping)
    small_dict["simulation"] = {"tile": 16}
    wl = from_dict(small_dict)
    act = random_activity(build_network(wl), seed)
    cyc = {g: {r: x.cycles for r, x in sim(wl, act, granularity=g)[3].runs.items()}
           for g in ("event", "tile", "phase")}
    for rule, ev in cyc["event"].items():
        assert abs(cyc["tile"][rule] / ev - 1) <= 0.05, (rule, cyc)
        assert abs(cyc["phase"][rule] / ev - 1) <= 0.15, (rule, cyc)


def _at_T(d: dict, T: int) -> dict:
    e = copy.deepcopy(d)
    e["input"]["T"] = T
    return e


def test_bptt_history_spills_beyond_the_printed_T_and_dram_grows_linearly(small_dict):
    wl = from_dict(small_dict)
    res = run(wl, engine="simpy", granularity="phase")
    t_max = int(res.summary.loc["bptt", "history_max_T"])
    assert t_max > 4

    def hist(T):
        wl_T = from_dict(_at_T(small_dict, T))
        net = build_network(wl_T)
        from tess_sim.simulator.rules import build_rules
        from tess_sim.simulator.activity import build_activity

        rules = build_rules(wl_T, net)
        led = run_analytical(rules, build_activity(net, wl_T.activity), wl_T.hardware.precision, wl_T.input.batch)
        p = place(led, wl_T.hardware)
        return p[(p.rule == "bptt") & (p.unit == "history")].iloc[0]

    # brute force: the history is whole on chip at t_max and spills at t_max + 1
    assert hist(t_max)["spilled_bytes"] == 0 and hist(t_max + 1)["spilled_bytes"] > 0
    assert history_max_T(res.placement, wl.hardware, wl.T) == t_max
    Ts = [t_max + 1, t_max + 9, t_max + 17, t_max + 33]
    dram = []
    for T in Ts:
        r = run(from_dict(_at_T(small_dict, T)), engine="simpy", granularity="phase")
        assert "history" in r.summary.loc["bptt", "spills"]
        led = r.ledger[(r.ledger.rule == "bptt") & (r.ledger.memory == "dram")
                       & r.ledger.action.isin(["read", "write"])]
        dram.append((led["count"] * led["bits"]).sum() / 8)
    slopes = np.diff(dram) / np.diff(Ts)
    assert slopes[0] > 0 and np.allclose(slopes, slopes[0], rtol=1e-6)


def test_local_rules_placement_and_dram_per_step_do_not_depend_on_T(small_dict):
    from tess_sim.simulator.activity import build_activity
    from tess_sim.simulator.rules import build_rules

    small_dict["hardware"]["memories"][0]["capacity_bytes"] = 2048  # so that the local rules spill too
    small_dict["hardware"]["memories"][1]["capacity_bytes"] = 1024
    ref = None
    for T in [1, 2, 3, 5, 8, 13, 64, 100, 512, 1024]:
        wl = from_dict(_at_T(small_dict, T))
        net = build_network(wl)
        led = run_analytical(build_rules(wl, net), build_activity(net, wl.activity), wl.hardware.precision, 2)
        p = place(led, wl.hardware)
        p = p[p.rule != "bptt"].reset_index(drop=True)
        if ref is None:
            ref = p
        assert p.equals(ref), T
    per_step = {}
    for T in [1, 7, 64, 1024]:
        r = run(from_dict(_at_T(small_dict, T)), engine="simpy", granularity="phase")
        led = r.ledger[(r.ledger.memory == "dram") & (r.ledger.phase != "update") & (r.ledger.rule != "bptt")
                       & r.ledger.action.isin(["read", "write"])]
        per_step[T] = ((led["count"] * led["bits"]).groupby(led.rule).sum() / 8 / T)
    assert (per_step[1] > 0).all() and (ref.spilled_bytes > 0).any()
    for T, v in per_step.items():
        assert np.allclose(v.to_numpy(), per_step[1].to_numpy(), rtol=1e-9), T


def test_vgg9_weights_do_not_fit_for_any_rule():
    wl = from_dict({**read_yaml(WORKLOADS / "dvs.yaml"),
                             "hardware": read_yaml(WORKLOADS / "hw" / "edge.yaml")})
    res = run(wl, engine="simpy", granularity="phase")
    for rule in ("bptt", "stllr", "tess"):
        assert res.summary.loc[rule, "spills"].startswith("weights ")
        w = res.placement[(res.placement.rule == rule) & (res.placement.unit == "weights")].iloc[0]
        assert w["bytes"] == pytest.approx(sum(b.params for b in res.net.layers) * 8 / 8)


def _vgg9(cores: int, units: int, T: int = 2, memories: str = "edge") -> dict:
    d = read_yaml(WORKLOADS / "dvs.yaml")
    d["hardware"] = hw = read_yaml(WORKLOADS / "hw" / "edge.yaml")
    d["input"]["T"] = T
    d["rules"] = {"tess": d["rules"]["tess"]}
    hw.update(cores=cores)
    hw["pe"]["units"] = units
    if memories == "ample":  # compute-bound: everything on chip, wide ports
        for m in hw["memories"]:
            m.update(capacity_bytes=1 << 34, ports=4096) if m["kind"] == "sram" else None
        hw["placement"]["optimizer"] = "state_sram"
    return d


@pytest.mark.parametrize("mapping", ["auto", "balanced", [3, 0, 2, 1, 3, 0, 0, 2, 1]])
def test_multicore_router_traffic_is_the_spikes_that_cross_cores(mapping):
    """Contiguous, LPT and a scrambled mapping (backward and non-adjacent hops): the router carries
    exactly the spikes that cross cores, and each message pays hop_latency × |i − j|."""
    d = _vgg9(4, 64)
    d["hardware"]["mapping"] = mapping
    d["hardware"]["router"] = {"hop_latency": 3}
    wl = from_dict(d)
    for gran in ("tile", "phase"):
        net, rules, act, s = sim(wl, granularity=gran)
        cores = core_of_layers(net, wl.hardware)
        names = [b.name for b in net.layers]
        edges = [(names[i], names[i + 1]) for i in range(len(names) - 1) if cores[names[i]] != cores[names[i + 1]]]
        crossing = sum(act[a].post_events.sum() for a, _ in edges)
        assert crossing > 0
        r = s.runs["tess"]
        assert metric(r.timing, "tess", "router", "spike_packets").iloc[0] == pytest.approx(crossing, rel=1e-12)
        assert metric(r.timing, "tess", "router", "error_packets").iloc[0] == 0  # TESS learns locally
        if gran == "phase":  # one message per crossing edge and step (dense activity: spikes every step)
            hops = sum(abs(cores[a] - cores[b]) for a, b in edges)
            assert metric(r.timing, "tess", "router", "hop_cycles").iloc[0] == 3 * hops * net.T


def test_multicore_pipelines_across_steps():
    T = 6
    one = sim(from_dict(_vgg9(1, 64, T, "ample")), granularity="phase")[3].runs["tess"]
    four = sim(from_dict(_vgg9(4, 64, T, "ample")), granularity="phase")[3].runs["tess"]
    busy = metric(four.timing, "tess", "core", "pe_busy_cycles")
    # the cores overlap: the sample is shorter than the cores' work laid end to end, and shorter
    # than one core of the same PE array; steps pipeline, so it approaches T × the busiest core
    assert four.cycles < 0.6 * busy.sum()
    assert four.cycles < 0.6 * one.cycles
    assert four.cycles < busy.max() * (1 + 3.0 / T)


def test_four_cores_beat_one_core_with_the_same_total_pes_when_memory_bound():
    """Each core has its own SRAM ports: on the edge memories (memory-bound VGG-9) 4 × 64 PEs beat
    1 × 256 PEs. When compute-bound they do not (the busiest contiguous group of VGG-9 layers
    carries 37 % of the work, not 25 %): see docs/simpy.md."""
    one = sim(from_dict(_vgg9(1, 256, 4)), granularity="phase")[3].runs["tess"]
    four = sim(from_dict(_vgg9(4, 64, 4)), granularity="phase")[3].runs["tess"]
    assert four.cycles < one.cycles
