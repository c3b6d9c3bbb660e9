"""``tess-sim data synth`` (synthetic datasets from the CLI) and ``tess-sim data npz`` (W.npz /
D.npz for ``tess-sim grad``), issue 10.9."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from tess_sim.simulator.events import load_frames, synthetic
from tess_sim.commands.data import data

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tess_sim.cli", *map(str, args)],
                          capture_output=True, text=True, env=ENV, cwd=REPO_ROOT, timeout=300)


def invoke(*args):
    return CliRunner().invoke(data, list(map(str, args)))


# --- data synth -------------------------------------------------------------------------

@pytest.mark.parametrize("layout,n_classes", [("dvsgesture", 11), ("cifar10dvs", 10), ("npy", 11)])
def test_synth_writes_what_format_synthetic_reads(tmp_path, layout, n_classes):
    out = tmp_path / "ds"
    r = invoke("synth", out, "--layout", layout, "--samples", 3, "--seed", 7,
               "--duration-us", 20_000)
    assert r.exit_code == 0, r.output
    r = invoke("info", out)
    assert r.exit_code == 0 and f"{layout} dataset" in r.output and "samples     3" in r.output
    # the folder is the same data `data: {format: synthetic}` generates from the same seed
    opts = dict(T=4, shape=(2, 16, 16), n_samples=3, seed=7)
    syn, syn_lab, _ = load_frames({"format": "synthetic", "layout": layout,
                                   "duration_us": 20_000}, **opts)
    real, real_lab, _ = load_frames({"format": layout, "root": str(out)}, **opts)
    assert sorted(f.tobytes() for f in syn) == sorted(f.tobytes() for f in real)
    assert sorted(syn_lab.tolist()) == sorted(real_lab.tolist())
    assert syn.sum() > 0 and real_lab.max() < n_classes


def test_synth_classes_limits_the_labels(tmp_path):
    out = tmp_path / "ds"
    r = invoke("synth", out, "--layout", "npy", "--samples", 6, "--classes", 2,
               "--duration-us", 5_000)
    assert r.exit_code == 0, r.output
    _, labels, _ = load_frames({"format": "npy", "root": str(out)}, T=2, shape=(2, 8, 8),
                               n_samples=6, seed=0)
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1, 1]
    assert sorted(p.name for p in out.iterdir()) == ["00_right", "01_left"]


def test_synth_refuses_bad_options_and_leaves_nothing(tmp_path, monkeypatch):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    r = invoke("synth", tmp_path / "full")
    assert r.exit_code == 2 and "already exists and is not an empty folder" in r.output
    assert os.listdir(tmp_path / "full") == ["keep.txt"]
    for args, needle in ((["--layout", "cifar10dvs", "--classes", 11], "--classes: must be in 1..10"),
                         (["--samples", 0], "--samples: must be in 1..10000"),
                         (["--samples", 10_000, "--duration-us", 60_000_000], "limit is 600 s"),
                         (["--layout", "npy", "--gap-us", 5], "--gap-us: only applies")):
        r = invoke("synth", tmp_path / "new", *args)
        assert r.exit_code == 2 and needle in r.output, r.output
    # a failure after some files were written: neither the folder nor a temporary one remains
    real = synthetic.write_layout

    def fail_after_writing(root, *a, **k):
        real(root, *a, **k)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(synthetic, "write_layout", fail_after_writing)
    r = invoke("synth", tmp_path / "new", "--samples", 1, "--duration-us", 2_000)
    assert r.exit_code == 2 and "No space left on device" in r.output
    assert sorted(os.listdir(tmp_path)) == ["full"]


def test_synth_then_measured_run_end_to_end(tmp_path):
    """synth -> a workload with data: {format: dvsgesture, root: OUT} -> run (measured)."""
    out = tmp_path / "gestures"
    r = cli("data", "synth", out, "--samples", 3, "--seed", 1, "--duration-us", 50_000)
    assert r.returncode == 0 and f"root: {out}" in r.stdout, r.stderr
    wl = yaml.safe_load((REPO_ROOT / "workloads" / "dvs.yaml").read_text())
    wl["data"] = {"format": "dvsgesture", "root": str(out)}
    wl["hardware"] = str(REPO_ROOT / "workloads" / "hw" / "edge.yaml")
    wl["report"] = {"plots": False}                     # not the point here: keep it quick
    (tmp_path / "dvs_real.yaml").write_text(yaml.safe_dump(wl))
    r = cli("run", tmp_path / "dvs_real.yaml", "--engine", "analytical", "--out", tmp_path / "run",
            "--set", "activity.source=measured", "--set", "activity.samples=2",
            "--set", "network.width_multiplier=0.25")  # the data path is the point, not the width
    assert r.returncode == 0, r.stderr
    assert f"measured: 2 samples of dvsgesture at {out}: 2 of 3 samples" in r.stdout


# --- data npz ---------------------------------------------------------------------------

def _expected_shapes(wl_path: Path) -> dict[str, tuple]:
    """Weight shapes from the workload's layer list, derived here from the documented layer
    defaults (conv kernel 3, stride 1, padding 1, no bias; pools kernel 2; readout biased)."""
    wl = yaml.safe_load(wl_path.read_text())
    c, h, w = wl["input"]["shape"]
    shapes, flat = {}, None
    for layer in wl["network"]["layers"]:
        t = layer["type"]
        if t == "conv":
            k, s, p = layer.get("kernel", 3), layer.get("stride", 1), layer.get("padding", 1)
            shapes[layer["name"]] = (layer["out_channels"], c, k, k)
            c, h, w = layer["out_channels"], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif t in ("maxpool", "avgpool"):
            k = layer.get("kernel", 2)
            h, w = h // k, w // k
        elif t == "linear":
            n_in = flat or c * h * w
            shapes[layer["name"]] = (layer["out_features"], n_in)
            flat = layer["out_features"]
        elif t == "readout":
            n_in = flat or c * h * w
            shapes[layer["name"]] = (wl["input"]["classes"], n_in)
            shapes[layer["name"] + ".bias"] = (wl["input"]["classes"],)
    return shapes


def test_npz_files_match_the_network_and_grad_accepts_them(tmp_path):
    wl_path = REPO_ROOT / "workloads" / "small.yaml"
    W, D, G = tmp_path / "W.npz", tmp_path / "D.npz", tmp_path / "G.npz"
    r = cli("data", "npz", wl_path, "--weights", W, "--data", D, "--samples", 3, "--seed", 5)
    assert r.returncode == 0, r.stderr
    expected = _expected_shapes(wl_path)
    with np.load(W) as w:
        assert {k: w[k].shape for k in w.files} == expected
        # training.init is "paper": conv std sqrt(2 / (C_out k^2)), linear sqrt(2 / fan_in)
        assert abs(w["c2"].std() / np.sqrt(2 / (8 * 9)) - 1) < 0.2
        assert abs(w["fc"].std() / np.sqrt(2 / 32) - 1) < 0.2
        assert not w["out.bias"].any()
    with np.load(D) as d:
        assert sorted(d.files) == ["labels", "x"]
        assert d["x"].shape == (4, 3, 2, 8, 8) and d["labels"].shape == (3,)
        assert set(np.unique(d["x"])) <= {0.0, 1.0} and d["x"].any()    # spikes
        assert d["labels"].dtype.kind == "i" and 0 <= d["labels"].min() and d["labels"].max() < 4
        x = d["x"]
    r = cli("grad", wl_path, "--weights", W, "--data", D, "--out", G, "--rule", "tess")
    assert r.returncode == 0 and G.exists(), r.stderr
    # deterministic from the seed
    r = invoke("npz", wl_path, "--data", tmp_path / "D2.npz", "--samples", 3, "--seed", 5)
    assert r.exit_code == 0, r.output
    with np.load(tmp_path / "D2.npz") as d2:
        assert np.array_equal(d2["x"], x)


def test_npz_bad_requests_exit_2_and_write_nothing(tmp_path):
    wl = REPO_ROOT / "workloads" / "small.yaml"
    r = invoke("npz", wl)
    assert r.exit_code == 2 and "nothing to write" in r.output
    r = invoke("npz", wl, "--weights", tmp_path)
    assert r.exit_code == 2 and "is a folder" in r.output
    # D.npz too large is refused before W.npz is written
    r = invoke("npz", wl, "--weights", tmp_path / "W.npz", "--data", tmp_path / "D.npz",
               "--samples", 10**8)
    assert r.exit_code == 2 and "limit 1 GiB" in r.output, r.output
    assert os.listdir(tmp_path) == []
