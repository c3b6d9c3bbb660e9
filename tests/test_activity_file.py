"""Activity CSV: round trip, derived columns, and bad files."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.activity import build_activity, read_activity_csv, write_activity_csv
from simulator.api import run
from simulator.errors import UserError
from simulator.network import build_network
from simulator.workload import workload_from_dict


def test_round_trip_equals_rates_profile(small_dict, tmp_path):
    wl = workload_from_dict(small_dict)
    net = build_network(wl)
    prof = build_activity(net, wl.activity)
    (tmp_path / "a.csv").write_text(write_activity_csv(prof, net))
    back = read_activity_csv(tmp_path / "a.csv", net)
    for name, a in prof.layers.items():
        for field in ("in_events", "syn_ops", "out_spikes", "post_events"):
            np.testing.assert_allclose(getattr(back[name], field), getattr(a, field), rtol=1e-12)
    # a workload reading the file gives the same ledger as the rates it was written from
    small_dict["activity"] = {"source": "file", "path": str(tmp_path / "a.csv")}
    a = run(wl).ledger
    b = run(workload_from_dict(small_dict)).ledger
    assert np.allclose(a["count"].to_numpy(), b["count"].to_numpy(), rtol=1e-12)


def test_minimal_file_derives_missing_columns(small_dict, tmp_path):
    wl = workload_from_dict(small_dict)
    net = build_network(wl)
    T = net.T
    lines = ["layer,step,spikes"]
    lines += [f"input,{t},{10 + t}" for t in range(T)]
    lines += [f"{b.name},{t},{t + 1}" for b in net.blocks for t in range(T)]
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n")
    prof = read_activity_csv(tmp_path / "m.csv", net)
    c1, c2, fc = net.blocks
    np.testing.assert_allclose(prof["c1"].in_events, 10 + np.arange(T))
    np.testing.assert_allclose(prof["c1"].syn_ops, (10 + np.arange(T)) * c1.S / c1.N_in)
    # c1 is max-pooled 2×2: a window is active with probability 1 − (1 − r)^4
    r = (np.arange(T) + 1) / c1.N_pre
    np.testing.assert_allclose(prof["c1"].post_events, (1 - (1 - r) ** 4) * c1.N_post)
    np.testing.assert_allclose(prof["c2"].in_events, prof["c1"].post_events)
    np.testing.assert_allclose(prof["fc"].post_events, np.arange(T) + 1)  # no pools
    np.testing.assert_allclose(prof["out"].in_events, np.arange(T) + 1)


@pytest.mark.parametrize("text,match", [
    ("layer,step\nc1,0\n", "spikes: required column missing"),
    ("layer,step,spikes,color\nc1,0,1,red\n", "color: unknown column"),
    ("layer,step,spikes\nc9,0,1\n", "unknown layer 'c9' \\(layers: input, c1, c2, fc, out\\)"),
    ("layer,step,spikes\ninput,0,1\nc1,0,-1\n", "must be a non-negative number"),
    ("layer,step,spikes\ninput,0,1\nc1,0,1\n", "input.step: needs one row for each step 0..3"),
    ("", "not a readable CSV"),
])
def test_bad_activity_files(small_dict, tmp_path, text, match):
    net = build_network(workload_from_dict(small_dict))
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(UserError, match=match):
        read_activity_csv(tmp_path / "bad.csv", net)


def test_synops_spelling_is_accepted(small_dict, tmp_path):
    net = build_network(workload_from_dict(small_dict))
    T = net.T
    lines = ["layer,step,spikes,synops"] + [f"input,{t},5," for t in range(T)]
    lines += [f"{b.name},{t},1,{7 + t}" for b in net.layers for t in range(T)]
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    prof = read_activity_csv(tmp_path / "s.csv", net)
    np.testing.assert_allclose(prof["c2"].syn_ops, 7 + np.arange(T))
