"""The TESS paper's scaling claims, each out of one sweep, as tests on fitted slopes; and the
swept numbers checked against a second derivation (api.complexity, closed forms from the net)."""

from __future__ import annotations

import numpy as np
import pytest

from tess_sim.reports.sweep_table import fit_slope, sweep_slopes
from tess_sim.api import complexity
from tess_sim.simulator.network import build_network
from tess_sim.sweeps import sweep
from tess_sim.api import load, from_dict

from .conftest import WORKLOADS


def _slopes(table, key, x_min=None):
    return sweep_slopes(table, key, x_min=x_min).set_index(["rule", "metric"])["slope"]


@pytest.fixture(scope="module")
def dvs():
    return load(WORKLOADS / "dvs.yaml")


@pytest.fixture(scope="module")
def t_sweep(dvs, tmp_path_factory):
    return sweep(dvs, ["T=1..1024*2"], out=tmp_path_factory.mktemp("t"), executor="serial").table


def test_memory_vs_T_paper_convention(t_sweep):
    s = _slopes(t_sweep, "input.T", x_min=16)
    assert s["bptt", "paper_memory_MB"] == pytest.approx(1.0, abs=0.02)
    assert s["tess", "paper_memory_MB"] == pytest.approx(0.0, abs=0.02)
    assert s["stllr", "paper_memory_MB"] == pytest.approx(0.0, abs=0.02)


def test_T_sweep_matches_complexity(t_sweep, dvs):
    """Same numbers by another path: api.complexity re-times one built network, the sweep
    re-validates a whole workload per point."""
    cx = complexity(dvs)
    ref = cx[(cx.convention == "paper") & (cx.metric == "memory_MB")].set_index(["T", "rule"])["value"]
    got = t_sweep.set_index(["input.T", "rule"])["paper_memory_MB"]
    assert np.allclose(got.loc[ref.index], ref, rtol=1e-12)
    macs = cx[(cx.convention == "paper") & (cx.metric == "learning_ops")].set_index(["T", "rule"])["value"]
    assert np.allclose(t_sweep.set_index(["input.T", "rule"])["paper_mac_M"].loc[macs.index] * 1e6, macs, rtol=1e-12)


def _tess_per_step_closed_form(wl) -> float:
    """2·C·ΣD_l + in·C with D_l the LSG latent: C_out·s_l² for a conv block (adaptive pool to
    s_l×s_l), N_post for a linear block (docs/math.md §4), in = the readout's input features."""
    net = build_network(wl)
    pools = wl.rules.tess.lsg_pool
    C = wl.input.classes
    D = 0
    for b, s in zip(net.blocks, pools):
        D += b.post_shape[0] * s * s if b.kind == "conv" else b.N_post
    if wl.network.width_multiplier == 1:
        assert D == 10240  # docs/math.md §4: ΣD_l of the paper's VGG-9
    return 2 * C * D + net.readout.N_in * C


def test_per_step_macs_vs_width(dvs, tmp_path):
    tab = sweep(dvs, {"network.width_multiplier": "1..8*2"}, out=tmp_path, executor="serial").table
    s = _slopes(tab, "network.width_multiplier")
    assert s["tess", "paper_mac_per_step_M"] == pytest.approx(1.0, abs=0.1)
    assert s["bptt", "paper_mac_per_step_M"] == pytest.approx(2.0, abs=0.1)
    data = dvs.model_dump(mode="json", exclude_none=True)
    for w, got in tab[tab.rule == "tess"].set_index("network.width_multiplier")["paper_mac_per_step_M"].items():
        data["network"]["width_multiplier"] = w
        assert got * 1e6 == pytest.approx(_tess_per_step_closed_form(from_dict(data)), rel=1e-12)


def test_per_step_macs_vs_classes(dvs, tmp_path):
    tab = sweep(dvs, {"input.classes": "10,20,50,100,200,500,1000"}, out=tmp_path, executor="serial").table
    s = _slopes(tab, "input.classes")
    assert s["tess", "paper_mac_per_step_M"] == pytest.approx(1.0, abs=0.1)
    t = tab[tab.rule == "tess"]
    # exactly linear in C through the origin: per-step MACs / C is one constant
    ratio = t["paper_mac_per_step_M"] / t["input.classes"]
    assert np.allclose(ratio, ratio.iloc[0], rtol=1e-12)


def test_fit_slope_closed_forms():
    x = np.array([1, 2, 4, 8, 16.0])
    assert fit_slope(x, 3 * x ** 1.5) == pytest.approx(1.5, abs=1e-12)
    assert fit_slope(x, np.full(5, 7.0)) == pytest.approx(0.0, abs=1e-12)
    assert fit_slope([1, 1], [1, 2]) is None
