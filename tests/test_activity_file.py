"""Activity CSV: round trip, derived columns, and bad files."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tess_sim.simulator.activity import build_activity, read_activity_csv, write_activity_csv
from tess_sim.api import run
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.network import build_network
from tess_sim.api import from_dict


def test_round_trip_equals_rates_profile(small_dict, tmp_path):
    wl = from_dict(small_dict)
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
    b = run(from_dict(small_dict)).ledger
    assert np.allclose(a["count"].to_numpy(), b["count"].to_numpy(), rtol=1e-12)


def test_minimal_file_derives_missing_columns(small_dict, tmp_path):
    wl = from_dict(small_dict)
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
    ("layer,step,spikes\ninput,0,1\nc1,0,-1\n", "row 3.spikes: must be a finite number ≥ 0, got '-1'"),
    ("layer,step,spikes\ninput,0,1\nc1,0,1\n", "input.step: needs one row for each step 0..3"),
    ("", "not a readable CSV"),
])
def test_bad_activity_files(small_dict, tmp_path, text, match):
    net = build_network(from_dict(small_dict))
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(UserError, match=match):
        read_activity_csv(tmp_path / "bad.csv", net)


def test_synops_spelling_is_accepted(small_dict, tmp_path):
    net = build_network(from_dict(small_dict))
    T = net.T
    lines = ["layer,step,spikes,synops"] + [f"input,{t},5," for t in range(T)]
    lines += [f"{b.name},{t},1,{7 + t}" for b in net.layers for t in range(T)]
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    prof = read_activity_csv(tmp_path / "s.csv", net)
    np.testing.assert_allclose(prof["c2"].syn_ops, 7 + np.arange(T))


# ------------------------------------------------------------- non-finite and impossible numbers
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

BAD = ["nan", "NaN", "inf", "-inf", "1e300", "1e308"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(col=st.sampled_from(["step", "spikes", "in_events", "syn_ops", "post_events"]),
       value=st.sampled_from(BAD), row=st.integers(0, 10_000))
def test_bad_numbers_in_any_cell_are_named_or_finite(small_dict, tmp_path_factory, col, value, row):
    """Issue 15.3: nan cells were swallowed into wrong counts, inf / 1e300 gave inf energy, a nan
    step was a traceback. Now: exit 2 naming the file, row and column, or a finite profile."""
    import pandas as pd

    wl = from_dict(small_dict)
    net = build_network(wl)
    df = pd.read_csv(io.StringIO(write_activity_csv(build_activity(net, wl.activity), net)), dtype=str,
                     keep_default_na=False)
    i = row % len(df)
    df.loc[i, col] = value
    path = tmp_path_factory.mktemp("a") / "a.csv"
    df.to_csv(path, index=False)
    try:
        prof = read_activity_csv(path, net)
    except UserError as exc:
        assert exc.where == str(path) and exc.field == f"row {i + 2}.{col}", exc.line()
        return
    for a in prof.layers.values():  # an input row's own in_events etc. are not used: still finite
        for field in ("in_events", "syn_ops", "out_spikes", "post_events"):
            assert np.isfinite(getattr(a, field)).all()


@pytest.mark.parametrize("text,match", [
    ("layer,step,spikes\ninput,nan,1\n", "row 2.step: must be a finite number ≥ 0, got 'nan'"),
    ("layer,step,spikes\ninput,1.5,1\n", "row 2.step: must be an integer step in 0..3"),
    ("layer,step,spikes\ninput,4,1\n", "row 2.step: must be an integer step in 0..3"),
    ("layer,step,spikes\ninput,0,1\ninput,0,2\n", "row 3.step: a second row for layer 'input' step 0"),
    ("layer,step,spikes\ninput,0,nan\n", "row 2.spikes: must be a finite number ≥ 0, got 'nan'"),
    ("layer,step,spikes\ninput,0,1\nc1,0,\nc1,1,2\n", "row 3.spikes: empty, but other rows of layer 'c1'"),
    ("layer,step,spikes\ninput,0,129\n", "row 2.spikes: 129 is more than layer 'input' can do in one step "
                                         "\\(128 input elements\\)"),
    ("layer,step,spikes\nc1,0,257\n", "row 2.spikes: 257 is more than layer 'c1' can do in one step "
                                      "\\(256 neurons\\)"),
    ("layer,step,spikes,syn_ops\nc1,0,1,1e300\n", "row 2.syn_ops: 1e\\+300 is more than layer 'c1'"),
])
def test_impossible_cells_are_named(small_dict, tmp_path, text, match):
    net = build_network(from_dict(small_dict))
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(UserError, match=match):
        read_activity_csv(tmp_path / "bad.csv", net)


def test_nan_step_through_the_cli_is_one_line(small_dict, tmp_path):
    import os
    import subprocess
    import sys

    import yaml

    from .conftest import ROOT

    (tmp_path / "a.csv").write_text("layer,step,spikes\ninput,nan,1\n")
    small_dict["activity"] = {"source": "file", "path": "a.csv"}
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(small_dict))
    proc = subprocess.run([sys.executable, "-m", "tess_sim.cli", "run", str(tmp_path / "w.yaml"), "--no-plot",
                           "--engine", "analytical", "--out", str(tmp_path / "o")], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and proc.stdout == "" and not (tmp_path / "o").exists()
    assert proc.stderr == f"error: {tmp_path / 'a.csv'}: row 2.step: must be a finite number ≥ 0, got 'nan'\n"
