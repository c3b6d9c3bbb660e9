"""SimPy engine counts: pieces sum back exactly, and the engine's executed counts equal the
analytical engine's exactly for every paper workload, rule, activity mode and granularity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tess_sim.simulator.engines.analytical import run_analytical
from tess_sim.simulator.engines.simpy.pieces import split
from tess_sim.simulator.yaml_io import read_yaml
from tess_sim.api import from_dict

from .conftest import WORKLOADS
from .simpy_helpers import random_activity, sim

counts_st = st.lists(st.floats(0, 1e7, allow_nan=False, allow_infinity=False) | st.integers(0, 10**9).map(float),
                     min_size=1, max_size=6)


@settings(max_examples=120, deadline=None)
@given(st.lists(counts_st, min_size=1, max_size=4), st.floats(0.5, 5000) | st.just(float('inf')), st.data())
def test_pieces_sum_back_exactly(rows, size, data):
    T = min(len(r) for r in rows)
    counts = np.array([r[:T] for r in rows])
    driver = np.array(data.draw(st.lists(st.floats(0, 3000), min_size=T, max_size=T)))
    p = split(counts, driver, size)
    assert np.array_equal(p.per_step(), counts)  # exact, not approximately
    assert (p.ints >= 0).all() and (p.fracs >= 0).all()
    busy = counts.any(axis=0)
    expect = np.where(busy, np.maximum(1, np.ceil(driver / size)) if size < float('inf') else 1, 0)
    assert np.array_equal(p.n, expect)
    # a brute-force sum of the pieces step by step, with the fraction added last
    for t in range(T):
        rows_t = slice(p.start[t], p.start[t] + p.n[t])
        for k in range(counts.shape[0]):
            assert sum(p.ints[rows_t, k]) + sum(p.fracs[rows_t, k]) == counts[k, t]
    # the driver splits too: no piece gets more than `size` driver units
    assert (p.driver <= size * (1 + 1e-9)).all()
    assert np.allclose(np.bincount(p.step, p.driver, minlength=T), np.where(busy, driver, 0))


def _hw_inline(name: str) -> dict:
    d = read_yaml(WORKLOADS / f"{name}.yaml")
    d["hardware"] = read_yaml(WORKLOADS / "hw" / "edge.yaml")
    return d


RATES = {"source": "rates", "input": 0.3, "default": 0.07, "layers": {"conv3": 0.21}}


@pytest.mark.parametrize("name", ["dvs", "cifar10", "cifar100", "cifar10dvs"])
@pytest.mark.parametrize("activity", ["dense", "rates"])
@pytest.mark.parametrize("granularity", ["phase", "tile"])
def test_count_parity_with_analytical(name, activity, granularity):
    d = _hw_inline(name)
    d["activity"] = {"source": "dense"} if activity == "dense" else RATES
    d["simulation"] = {"tile": 2048}  # bigger tiles keep the VGG-9 runs quick; splitting is the same code
    wl = from_dict(d)
    net, rules, act, s = sim(wl, granularity=granularity)
    a = run_analytical(rules, act, wl.hardware.precision, wl.input.batch)
    pd.testing.assert_frame_equal(s.raw.reset_index(drop=True), a.reset_index(drop=True), check_exact=True)
    # the memory split conserves every count
    full = a[a.convention == "full"].groupby(["rule", "layer", "phase", "unit", "action"])["count"].sum()
    led = s.ledger[s.ledger.convention == "full"].groupby(["rule", "layer", "phase", "unit", "action"])["count"].sum()
    assert np.allclose(led.reindex(full.index).to_numpy(), full.to_numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("granularity", ["event", "tile", "phase"])
@pytest.mark.parametrize("mapping", ["auto", [0, 1, 0, 1]])
def test_count_parity_random_activity_multicore(small_dict, granularity, mapping):
    """Also an interleaved mapping: spikes and errors cross cores both ways without deadlock."""
    small_dict["input"]["T"] = 6
    small_dict["hardware"]["cores"] = 2
    small_dict["hardware"]["mapping"] = mapping
    small_dict["simulation"] = {"tile": 16}
    wl = from_dict(small_dict)
    from tess_sim.simulator.network import build_network

    act = random_activity(build_network(wl), seed=11)
    net, rules, act, s = sim(wl, act, granularity=granularity)
    a = run_analytical(rules, act, wl.hardware.precision, wl.input.batch)
    pd.testing.assert_frame_equal(s.raw.reset_index(drop=True), a.reset_index(drop=True), check_exact=True)
