"""tess-sim grad (golden model) and tess-sim train, through the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.functional.bridge import net_spec, rule_params
from simulator.functional.golden import compute_gradients
from simulator.functional.network import init_scheme
from simulator.network import build_network
from simulator.workload import load_workload

from .conftest import WORKLOADS


@pytest.fixture
def golden_files(tmp_path):
    wl = load_workload(WORKLOADS / "small.yaml")
    spec = net_spec(build_network(wl))
    w = init_scheme(spec, 3, "paper", np.float64)
    rng = np.random.default_rng(0)
    x = (rng.random((wl.input.T, 3, *wl.input.shape)) < 0.3).astype(np.float64)
    labels = np.array([0, 2, 3])
    np.savez(tmp_path / "W.npz", **w)
    np.savez(tmp_path / "D.npz", x=x, labels=labels)
    return wl, spec, w, x, labels, tmp_path


@pytest.mark.parametrize("rule", ["bptt", "stllr", "tess"])
def test_grad_cli_equals_api(golden_files, rule):
    wl, spec, w, x, labels, tmp = golden_files
    r = CliRunner().invoke(main, ["grad", str(WORKLOADS / "small.yaml"), "--weights", str(tmp / "W.npz"),
                                  "--data", str(tmp / "D.npz"), "--out", str(tmp / "sub" / "G.npz"),
                                  "--rule", rule, "--trace"])
    assert r.exit_code == 0, r.output
    g = np.load(tmp / "sub" / "G.npz")
    want = compute_gradients(spec, rule, rule_params(wl, rule), w, x, labels, np.float64)
    for key in w:
        np.testing.assert_array_equal(g[key], want[key])
    assert g["spikes"].shape == (len(spec.blocks), wl.input.T)
    assert any(k.endswith(".u") for k in g.files)  # --trace


def test_grad_bad_inputs_exit_2(golden_files):
    wl, spec, w, x, labels, tmp = golden_files
    bad_w = dict(w)
    bad_w["c1"] = np.full_like(w["c1"], np.nan)
    np.savez(tmp / "Wnan.npz", **bad_w)
    np.savez(tmp / "Dshape.npz", x=x[:2], labels=labels)
    base = ["grad", str(WORKLOADS / "small.yaml"), "--out", str(tmp / "G.npz")]
    cases = [(["--weights", str(tmp / "Wnan.npz"), "--data", str(tmp / "D.npz"), "--rule", "tess"], "c1: contains"),
             (["--weights", str(tmp / "W.npz"), "--data", str(tmp / "Dshape.npz"), "--rule", "tess"], "x: has 2 time steps"),
             (["--weights", str(tmp / "W.npz"), "--data", str(tmp / "D.npz")], "--rule"),
             (["--weights", str(tmp / "W.npz"), "--data", str(tmp / "D.npz"), "--rule", "nope"], "unknown or disabled rule")]
    for args, msg in cases:
        r = CliRunner().invoke(main, base + args)
        assert r.exit_code == 2, r.output
        assert msg in r.output
        assert not (tmp / "G.npz").exists()


def test_train_cli_short(tmp_path):
    """Two epochs: every rule beats chance, TESS beats the frozen control; files written."""
    r = CliRunner().invoke(main, ["train", str(WORKLOADS / "digits.yaml"), "--epochs", "2",
                                  "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    import pandas as pd

    t = pd.read_csv(tmp_path / "training.csv", index_col="rule")
    assert set(t.index) == {"bptt", "stllr", "tess", "readout"}
    assert (t.loc[["bptt", "stllr", "tess"], "test_acc"] > 0.6).all()
    assert t.loc["tess", "test_acc"] > t.loc["readout", "test_acc"] + 0.1
    w = np.load(tmp_path / "weights_tess.npz")
    assert set(w.files) == {"fc1", "fc2", "out", "out.bias"}
    # the cost column comes from the ledger: the paper #MAC of TESS on this MLP is, per step,
    # 2·C·D_l for the two linear blocks (D = 128) plus 128·C for the readout
    assert t.loc["tess", "paper_mac_M"] == pytest.approx(8 * (2 * 10 * 128 * 2 + 128 * 10) / 1e6)
