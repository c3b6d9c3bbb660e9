"""Buffer placement: sizes from the held state, spills, and access splitting that conserves counts."""

from __future__ import annotations

import pytest

from tess_sim.api import run

from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.engines.analytical import run_analytical
from tess_sim.simulator.network import build_network
from tess_sim.simulator.placement import place, with_memory
from tess_sim.simulator.workload import Hardware
from tess_sim.api import load, from_dict

from .conftest import WORKLOADS


def test_dvs_on_edge_spills_and_conserves():
    res = run(load(WORKLOADS / "dvs.yaml"))
    hw = res.workload.hardware
    pl = place(res.ledger, hw)
    # sizes: bytes = Σ count × bits / 8 of the held rows, per rule and unit
    full = res.ledger[(res.ledger.convention == "full") & (res.ledger.action == "hold")]
    for (rule, unit), g in full.groupby(["rule", "unit"]):
        row = pl[(pl.rule == rule) & (pl.unit == unit)].iloc[0]
        assert row["bytes"] == pytest.approx((g["count"] * g["bits"]).sum() / 8)
        assert row["on_chip_bytes"] + row["spilled_bytes"] == pytest.approx(row["bytes"])
    # VGG-9 weights (9.2 M at 8 bits) cannot fit a 512 KiB SRAM: they spill for every rule
    w = pl[pl.unit == "weights"].set_index("rule")
    assert (w["spilled_bytes"] > 0).all()
    assert (w["on_chip_bytes"] == 524288).all()
    # SRAM capacity is never exceeded
    for rule, g in pl.groupby("rule"):
        for m in hw.memories:
            if m.kind == "sram":
                assert g[g.memory == m.name]["on_chip_bytes"].sum() <= m.capacity_bytes
    # the run's ledger splits every access between memories and conserves counts
    raw = run_analytical(build_rules(res.workload, res.net), res.activity, hw.precision, res.workload.input.batch)
    a = res.ledger[res.ledger.convention == "full"].groupby(["rule", "unit", "action"])["count"].sum()
    b = raw[raw.convention == "full"].groupby(["rule", "unit", "action"])["count"].sum()
    assert (a - b).abs().max() < 1e-6 * b.abs().max()
    full = res.ledger[res.ledger.convention == "full"]
    assert (full[full.unit != "pe"]["memory"] != "").all()
    # streamed spills fetch each spilled slice once per phase and step: never more DRAM traffic
    # than the proportional bound, and strictly less here (membranes are re-used per synapse)
    prop = with_memory(raw, pl)
    dram = {m.name for m in hw.memories if m.kind == "dram"}
    acc = ["read", "write"]
    streamed = full[full.memory.isin(dram) & full.action.isin(acc)].groupby("rule")["count"].sum()
    bound = prop[prop.memory.isin(dram) & prop.action.isin(acc)].groupby("rule")["count"].sum()
    assert (streamed < bound).all()


def test_streamed_spill_by_hand(small_dict):
    """A membrane SRAM that holds a quarter of the membranes: DRAM serves, per step and phase,
    3/4 of min(accesses, the layer's membranes)."""
    small_dict["activity"] = {"source": "dense"}
    small_dict["rules"] = {"tess": {"lsg_pool": [2, 1, 1]}}
    wl = from_dict(small_dict)
    net = build_network(wl)
    bits = wl.hardware.precision.membrane
    n_mem = sum(b.N_pre for b in net.layers)  # membranes of every layer, readout included
    small_dict["hardware"]["memories"] = [
        {"name": "mem", "kind": "sram", "capacity_bytes": n_mem * bits // 8 // 4, "word_bits": 16},
        {"name": "dram", "kind": "dram"}]
    small_dict["hardware"]["placement"] = {"membrane": "mem"}
    wl = from_dict(small_dict)
    led = run(wl).ledger
    c1 = net.blocks[0]
    rows = led[(led.layer == c1.name) & (led.phase == "fwd") & (led.unit == "membrane") & (led.action == "read")]
    by_mem = rows.set_index("memory")["count"]
    T = wl.input.T
    # fwd reads one membrane per synaptic operation (S per step) of the layer's N_pre membranes
    assert by_mem["dram"] == pytest.approx(0.75 * T * min(c1.S, c1.N_pre))
    assert by_mem["mem"] + by_mem["dram"] == pytest.approx(T * c1.S)
    # the proportional policy charges 3/4 of every access instead
    small_dict["hardware"]["spill"] = "proportional"
    led_p = run(from_dict(small_dict)).ledger
    rows_p = led_p[(led_p.layer == c1.name) & (led_p.phase == "fwd") & (led_p.unit == "membrane")
                   & (led_p.action == "read")].set_index("memory")["count"]
    assert rows_p["dram"] == pytest.approx(0.75 * T * c1.S)


def test_every_accessed_buffer_is_held():
    for name in ("dvs", "cifar10", "small"):
        led = run(load(WORKLOADS / f"{name}.yaml")).ledger
        full = led[led.convention == "full"]
        for rule, g in full.groupby("rule"):
            accessed = set(g[g.action.isin(["read", "write"])]["unit"])
            held_units = set(g[(g.action == "hold") & (g["count"] > 0)]["unit"])
            assert accessed <= held_units, (name, rule, accessed - held_units)


def test_everything_fits_a_big_sram():
    res = run(load(WORKLOADS / "small.yaml"))
    hw = Hardware(memories=[{"name": "big", "kind": "sram", "capacity_bytes": 1 << 30},
                            {"name": "dram", "kind": "dram"}],
                  placement={k: "big" for k in ("weights", "membrane", "traces", "history", "errors",
                                                "gradients", "optimizer", "lsg", "spikes")})
    pl = place(res.ledger, hw)
    assert (pl["spilled_bytes"] == 0).all() and set(pl["memory"]) == {"big"}
