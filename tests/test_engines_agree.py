"""One placement: both engines give the same ledger (``memory`` column included) and the same
placement table on single- and multi-core hardware, and a multi-core chip holds every core's copy
of each SRAM (issue 11: on DVS with 4 cores the analytical engine used one core's capacity)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tess_sim.api import load, run
from tess_sim.cost_models import cost_report

from .conftest import WORKLOADS

PRESETS = sorted(p.name for p in (WORKLOADS / "hw").glob("*.yaml"))
# (workload, hardware preset or None, cores, SimPy granularity or None = the workload's).
# Counts and the memory split do not depend on the granularity (tests/test_simpy_counts.py), so
# the VGG-9 case runs at ``phase`` (0.7 s instead of 14 s at ``tile``).
CASES = ([("dvs", None, 4, "phase")] + [("small", None, c, None) for c in (1, 2, 4)]
         + [("small", hw, c, None) for hw in PRESETS for c in (1, 4)])


def _both(name, hw, cores, granularity, sets=None):
    wl = load(WORKLOADS / f"{name}.yaml", WORKLOADS / "hw" / hw if hw else None, {"hardware.cores": cores, **(sets or {})})
    return run(wl, "analytical"), run(wl, "simpy", granularity=granularity)


@pytest.mark.parametrize("name,hw,cores,granularity,sets", [c + (None,) for c in CASES] + [
    ("small", hw, 1, None, {"network.weight_standardisation": "scaled"}) for hw in ("edge.yaml", "sata.yaml")])
def test_both_engines_give_one_ledger_and_one_placement(name, hw, cores, granularity, sets):
    a, s = _both(name, hw, cores, granularity, sets)
    assert a.workload.hardware.cores == cores
    assert list(a.ledger.columns) == list(s.ledger.columns) and "memory" in a.ledger.columns
    keys = [c for c in a.ledger.columns if c != "count"]
    pd.testing.assert_frame_equal(a.ledger[keys], s.ledger[keys])  # same rows, same order, same memory
    np.testing.assert_allclose(s.ledger["count"].to_numpy(), a.ledger["count"].to_numpy(), rtol=1e-12, atol=0)
    pd.testing.assert_frame_equal(a.placement, s.placement, check_exact=True)
    # a second derivation of the placement's sizes: Σ count × bits / 8 of each held buffer
    held = a.ledger[(a.ledger.convention == "full") & (a.ledger.action == "hold")]
    size = (held["count"] * held["bits"] / 8).groupby([held["rule"], held["unit"]]).sum()
    pl = a.placement.set_index(["rule", "unit"])
    np.testing.assert_allclose(pl.loc[size.index, "bytes"], size, rtol=1e-12)
    # no SRAM holds more than every core's copy of it
    for m in a.workload.hardware.memories:
        if m.kind == "sram":
            on = a.placement[a.placement.memory == m.name].groupby("rule")["on_chip_bytes"].sum()
            assert (on <= cores * m.capacity_bytes).all(), (m.name, on)


def test_dvs_on_four_cores_fills_four_copies_and_prices_the_same():
    """VGG-9's 9.2 MB of weights cannot fit four copies of edge's 512 KiB weight SRAM: exactly
    4 × 524288 bytes stay on chip (one core's copy, 524288, was the analytical engine's old view),
    and every cost figure of both engines but the leakage (different times) agrees."""
    a, s = _both("dvs", None, 4, "phase")
    w = a.placement[a.placement.unit == "weights"].set_index("rule")
    assert (w["on_chip_bytes"] == 4 * 524288).all()
    assert (w["spilled_bytes"] == w["bytes"] - 4 * 524288).all()
    ea = cost_report(a, ["horowitz45", "counts"]).summary.set_index(["model", "rule"])
    es = cost_report(s, ["horowitz45", "counts"]).summary.set_index(["model", "rule"])
    for col in ("compute", "sram", "dram", "total"):
        np.testing.assert_allclose(ea[col], es[col], rtol=1e-12, err_msg=col)
