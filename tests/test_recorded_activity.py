"""Recorded activity (simulator/measured/recorded.py, ``tess-sim activity from-npz``): spike
tensors recorded elsewhere become the exact counts of a measured profile. Checked against Python
loops over every step, sample, input element and output neuron (random spikes that no network
produced), and on VGG-9 against measured activity: the same ledger."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tess_sim.api import load, run
from tess_sim.cli import main
from tess_sim.simulator.activity import ActivityProfile, layer_from_counts, read_activity_csv
from tess_sim.simulator.functional.activity import measure_activity
from tess_sim.simulator.functional.network import forward, init_scheme
from tess_sim.simulator.measured.recorded import recorded_counts, recorded_profile
from tess_sim.simulator.network import build_network
from tess_sim.simulator.workload import workload_from_dict

from .conftest import WORKLOADS

T, B = 3, 2


def tiny_dict() -> dict:
    return {"name": "rec", "input": {"shape": [2, 6, 6], "T": T, "classes": 3, "batch": B},
            "network": {"layers": [{"type": "conv", "out_channels": 3, "name": "c1"},
                                   {"type": "avgpool", "kernel": 2},
                                   {"type": "conv", "out_channels": 4, "name": "c2", "stride": 2},
                                   {"type": "maxpool", "kernel": 2},
                                   {"type": "linear", "out_features": 5, "name": "fc"},
                                   {"type": "readout", "name": "out"}]},
            "rules": {"bptt": {}}, "activity": {"source": "dense"}}


def brute_conv_ops(x, c_out, k, s, p):
    """Σ over non-zero input elements of the output neurons they reach: loops over every output
    neuron and tap (padding reaches none)."""
    n, c_in, h, w = x.shape
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    ops = 0
    for a in range(n):
        for _ in range(c_out):
            for oy in range(ho):
                for ox in range(wo):
                    for c in range(c_in):
                        for dy in range(k):
                            for dx in range(k):
                                iy, ix = oy * s - p + dy, ox * s - p + dx
                                if 0 <= iy < h and 0 <= ix < w and x[a, c, iy, ix] != 0:
                                    ops += 1
    return ops / n


def brute_pool(o, k, kind):
    n, c, h, w = o.shape
    out = np.zeros((n, c, h // k, w // k))
    for i in range(h // k):
        for j in range(w // k):
            win = o[:, :, i * k:(i + 1) * k, j * k:(j + 1) * k]
            out[:, :, i, j] = win.max(axis=(2, 3)) if kind == "max" else win.mean(axis=(2, 3))
    return out


@pytest.fixture(scope="module")
def recording():
    wl = workload_from_dict(tiny_dict())
    net = build_network(wl)
    rng = np.random.default_rng(3)
    x = (rng.random((T, B, 2, 6, 6)) < 0.4).astype(float)
    x[1, 0] = 0  # a sample without input at one step
    spikes = {b.name: (rng.random((T, B) + b.pre_shape) < 0.3).astype(float) for b in net.blocks}
    spikes["c2"][2] = 0  # a step where c2 is silent
    mem = {b.name: rng.normal(0.5, 0.6, (T, B) + b.pre_shape) for b in net.blocks}
    for name in mem:  # exact repeats: a membrane that did not change
        mem[name][1, :, 0] = mem[name][0, :, 0]
        spikes[name][:2, :, 0] = 0
    return wl, net, x, spikes, mem


def test_counts_equal_loops_over_spike_positions(recording):
    wl, net, x, spikes, mem = recording
    got = recorded_counts(net, x, spikes, mem)
    theta, width = wl.neuron.theta, wl.neuron.psi.width
    h = x
    for b in net.blocks:
        o = spikes[b.name]
        for t in range(T):
            xin = h[t] if b.kind == "conv" else h[t].reshape(B, -1)
            assert got[b.name]["in_events"][t] == np.count_nonzero(xin) / B
            want = (brute_conv_ops(xin, b.pre_shape[0], b.kernel, b.stride, b.padding) if b.kind == "conv"
                    else np.count_nonzero(xin) * b.N_pre / B)
            assert got[b.name]["syn_ops"][t] == pytest.approx(want, rel=1e-12)
            assert got[b.name]["out_spikes"][t] == o[t].sum() / B
        z = o
        for p in b.pools:
            z = np.stack([brute_pool(z[t], p.size, p.kind) for t in range(T)])
        for t in range(T):
            assert got[b.name]["post_events"][t] == np.count_nonzero(z[t]) / B
            u = mem[b.name][t]
            assert got[b.name]["psi_nonzero"][t] == np.count_nonzero(np.abs(u - theta) < width) / B
        # membrane updates: the post-reset membrane u - theta*o (subtract reset), every neuron at t = 0
        up = mem[b.name] - theta * o
        want = [b.N_pre] + [np.count_nonzero(up[t] != up[t - 1]) / B for t in range(1, T)]
        np.testing.assert_array_equal(got[b.name]["membrane_updates"], want)
        assert want[1] < b.N_pre  # the repeated membranes were not counted
        h = z
    ro = got[net.readout.name]
    for t in range(T):
        assert ro["in_events"][t] == np.count_nonzero(h[t]) / B
        assert ro["syn_ops"][t] == np.count_nonzero(h[t]) * net.classes / B
    assert got["c2"]["out_spikes"][2] == 0 and got["fc"]["in_events"][2] == 0


def _save(path, x, spikes, mem=None):
    arrays = {"input": x, **spikes, **({f"{k}.membrane": v for k, v in (mem or {}).items()})}
    np.savez(path, **arrays)
    return path


def vgg():
    wl = load(WORKLOADS / "dvs.yaml", None, {"network.width_multiplier": 0.125, "input.T": 4,
                                             "network.weight_standardisation": "scaled",
                                             "network.weight_standardisation_gamma": 2.74})
    return wl, build_network(wl)


def test_vgg9_recording_gives_the_ledger_of_measured_activity(tmp_path):
    """Random input spikes through VGG-9 (width 1/8): the spikes and membranes its forward pass
    records, written as a recording and turned into a CSV by the command, give exactly the ledger
    that the measured profile of the same forward pass gives."""
    wl, net = vgg()
    w = init_scheme(net, 0, wl.training.init)
    rng = np.random.default_rng(0)
    x = (rng.random((net.T, 3) + net.input_shape) < 0.3).astype(np.float32)
    records, _ = forward(net, w, x)
    assert all(r.o.any() for r in records)  # every block fires: the check is not vacuous
    measured = ActivityProfile("measured", "measured", layer_from_counts(net, measure_activity(net, w, x)))
    rec = _save(tmp_path / "rec.npz", x, {b.name: r.o for b, r in zip(net.blocks, records)},
                {b.name: r.u for b, r in zip(net.blocks, records)})
    out = tmp_path / "activity.csv"
    res = CliRunner().invoke(main, ["activity", "from-npz", str(WORKLOADS / "dvs.yaml"), str(rec), "--out", str(out),
                                    "--set", "network.width_multiplier=0.125", "--set", "input.T=4",
                                    "--set", "network.weight_standardisation=scaled",
                                    "--set", "network.weight_standardisation_gamma=2.74"])
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and "conv8" in res.output
    from_file = read_activity_csv(out, net)
    for b in net.layers:
        for f in ("in_events", "syn_ops", "out_spikes", "post_events"):
            np.testing.assert_array_equal(getattr(from_file[b.name], f), getattr(measured[b.name], f), err_msg=b.name)
    for b in net.blocks:
        np.testing.assert_array_equal(from_file[b.name].membrane_updates, measured[b.name].membrane_updates)
    a = run(wl, engine="analytical", activity=measured).ledger
    f = run(wl, engine="analytical", activity=from_file).ledger
    pd.testing.assert_frame_equal(a, f)
    # and the ledger differs from the dense bound's (activity matters)
    assert not a["count"].equals(run(wl, engine="analytical").ledger["count"])


@pytest.mark.parametrize("edit, field, reason", [
    (lambda a: a.pop("c2"), "c2", "missing"),
    (lambda a: a.update(c9=a["c1"]), "c9", "unexpected array"),
    (lambda a: a.update(c1=a["c1"][:2]), "c1", "has shape"),
    (lambda a: a.update(c1=a["c1"] * 2), "c1", "must be 0 or 1"),
    (lambda a: a.update(input=a["input"][:2]), "input", "steps"),
    (lambda a: a["fc"].__setitem__((0, 0, 0), np.nan), "fc", "NaN"),
])
def test_bad_recordings_are_one_line_exit_2(recording, tmp_path, edit, field, reason):
    wl, net, x, spikes, mem = recording
    arrays = {"input": x.copy(), **{k: v.copy() for k, v in spikes.items()}}
    edit(arrays)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    wlf = tmp_path / "rec.yaml"
    import yaml
    wlf.write_text(yaml.safe_dump(tiny_dict()))
    out = tmp_path / "a.csv"
    res = CliRunner().invoke(main, ["activity", "from-npz", str(wlf), str(path), "--out", str(out)])
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert len(line.splitlines()) == 1 and f"{path}: {field}: " in line and reason in line, line
    assert not out.exists()


def test_flat_recordings_and_no_membranes(recording, tmp_path):
    """A flat [T, batch, N] per block is read in (C, H, W) order; without membranes the profile
    has no Psi or membrane counts (NeuroBench's MembraneUpdates stays unknown)."""
    wl, net, x, spikes, mem = recording
    flat = {k: v.reshape(T, B, -1) for k, v in spikes.items()}
    p = recorded_profile(_save(tmp_path / "flat.npz", x.reshape(T, B, -1), flat), net)
    q = recorded_counts(net, x, spikes)
    for b in net.blocks:
        np.testing.assert_array_equal(p[b.name].syn_ops, q[b.name]["syn_ops"])
        assert p[b.name].membrane_updates is None and not p[b.name].operands
