"""Silent layers (no spike at any step) on the SimPy engine: a Work whose counts are all zero has
no Count at all, and the engine still gives it T steps (it used to crash with IndexError)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tess_sim.api import run
from tess_sim.simulator.engines.analytical import run_analytical
from tess_sim.api import load, from_dict

from .conftest import ROOT, WORKLOADS
from .simpy_helpers import sim


@pytest.mark.parametrize("granularity", ["event", "tile", "phase"])
def test_small_with_silent_c1_runs_and_counts_match(granularity):
    """The issue's repro: ``--set activity.layers.c1=0`` on small.yaml, every granularity."""
    wl = load(WORKLOADS / "small.yaml", overrides={"activity.layers.c1": 0})
    res = run(wl, engine="simpy", granularity=granularity)
    ana = run(wl, engine="analytical")
    pd.testing.assert_frame_equal(res.ledger.reset_index(drop=True), ana.ledger.reset_index(drop=True),
                                  check_exact=True)
    cycles = res.summary["cycles"]
    assert (cycles > 0).all() and np.isfinite(cycles).all()
    # c1 is silent, so c2 integrates no input event: no synaptic op, and where the rule keeps no
    # input history (S-TLLR, TESS) its synaptic phase has no count and takes no time
    led = res.ledger
    assert led[(led.layer == "c2") & (led.phase == "fwd") & (led.unit == "pe")].empty
    t = res.timing
    c2_fwd = t[(t.scope == "layer_phase") & (t.name == "c2:fwd")].set_index("rule")["value"]
    assert c2_fwd["stllr"] == 0 and c2_fwd["tess"] == 0


def test_cli_run_with_a_silent_layer_exits_0(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tess_sim.cli", "run", str(WORKLOADS / "small.yaml"),
                          "--set", "activity.layers.c1=0", "--no-plot", "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    assert (tmp_path / "o" / "timing.csv").is_file()


LAYERS = ["c1", "c2", "fc"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(silent=st.sets(st.sampled_from(LAYERS + ["input"])), cores=st.sampled_from([1, 2]),
       rates=st.lists(st.sampled_from([0.05, 0.2, 0.6, 1.0]), min_size=4, max_size=4),
       granularity=st.sampled_from(["event", "tile", "phase"]), T=st.integers(1, 5))
def test_random_silent_layers_count_parity(small_dict, silent, cores, rates, granularity, T):
    """Random rate activity with random silent layers (rate 0), sometimes a silent input, on one
    and two cores: the engine runs and its executed counts equal the analytical engine's exactly."""
    d = copy.deepcopy(small_dict)
    d["input"]["T"] = T
    d["hardware"]["cores"] = cores
    d["simulation"] = {"tile": 8}
    layers = {name: (0.0 if name in silent else r) for name, r in zip(LAYERS, rates)}
    d["activity"] = {"source": "rates", "input": 0.0 if "input" in silent else rates[3], "default": 0.1,
                     "layers": layers}
    wl = from_dict(d)
    net, rules, act, s = sim(wl, granularity=granularity)
    a = run_analytical(rules, act, wl.hardware.precision, wl.input.batch)
    pd.testing.assert_frame_equal(s.raw.reset_index(drop=True), a.reset_index(drop=True), check_exact=True)
    for r in s.runs.values():
        assert np.isfinite(r.cycles) and r.cycles > 0
        assert np.isfinite(r.timing["value"]).all()
