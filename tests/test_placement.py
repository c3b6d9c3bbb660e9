"""Buffer placement: sizes from the held state, spills, and access splitting that conserves counts."""

from __future__ import annotations

import pytest

from simulator.api import run
from simulator.placement import place, with_memory
from simulator.workload import Hardware, load_workload

from .conftest import WORKLOADS


def test_dvs_on_edge_spills_and_conserves():
    res = run(load_workload(WORKLOADS / "dvs.yaml"))
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
    led = with_memory(res.ledger, pl)
    a = led.groupby(["rule", "unit", "action"])["count"].sum()
    b = res.ledger[res.ledger.convention == "full"].groupby(["rule", "unit", "action"])["count"].sum()
    assert (a - b).abs().max() < 1e-6 * b.abs().max()
    assert (led[led.unit != "pe"]["memory"] != "").all()


def test_every_accessed_buffer_is_held():
    for name in ("dvs", "cifar10", "small"):
        led = run(load_workload(WORKLOADS / f"{name}.yaml")).ledger
        full = led[led.convention == "full"]
        for rule, g in full.groupby("rule"):
            accessed = set(g[g.action.isin(["read", "write"])]["unit"])
            held_units = set(g[(g.action == "hold") & (g["count"] > 0)]["unit"])
            assert accessed <= held_units, (name, rule, accessed - held_units)


def test_everything_fits_a_big_sram():
    res = run(load_workload(WORKLOADS / "small.yaml"))
    hw = Hardware(memories=[{"name": "big", "kind": "sram", "capacity_bytes": 1 << 30},
                            {"name": "dram", "kind": "dram"}],
                  placement={k: "big" for k in ("weights", "membrane", "traces", "history", "errors",
                                                "gradients", "optimizer", "lsg", "spikes")})
    pl = place(res.ledger, hw)
    assert (pl["spilled_bytes"] == 0).all() and set(pl["memory"]) == {"big"}
