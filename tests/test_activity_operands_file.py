"""The learning-operand columns of activity.csv (simulator/activity.py OPERAND_COLUMNS): a
measured profile round-trips through the file, a file recorded elsewhere may give some of them,
and a bad cell is a UserError naming its row and column."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from tess_sim.simulator.activity import BASE_COLUMNS, BLOCK_COLUMNS, read_activity_csv, write_activity_csv
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.measured.bridge import profile_of

from .functional.operand_net import tiny


@pytest.fixture(scope="module")
def measured():
    wl, net, w, x, labels = tiny()
    return net, profile_of(wl, net, w, x, labels, "tiny")


def test_round_trip_keeps_every_operand(measured, tmp_path):
    net, act = measured
    text = write_activity_csv(act, net)
    header = text.splitlines()[0].split(",")
    assert header[:len(BASE_COLUMNS)] == BASE_COLUMNS and set(header[len(BASE_COLUMNS):]) <= set(BLOCK_COLUMNS)
    assert "bptt_prop_ops" in header and "tess_causal_ops" in header and "membrane_updates" in header
    path = tmp_path / "activity.csv"
    path.write_text(text)
    back = read_activity_csv(path, net)
    for b in net.layers:
        assert back[b.name].operands.keys() == act[b.name].operands.keys(), b.name
        for k, v in act[b.name].operands.items():
            np.testing.assert_array_equal(back[b.name].operands[k], v)  # floats written exactly
        if b.spiking:
            np.testing.assert_array_equal(back[b.name].membrane_updates, act[b.name].membrane_updates)
    assert "bptt_prop_ops" not in back["c1"].operands  # the first block propagates nothing: empty cells
    assert not back["out"].operands and back["out"].membrane_updates is None  # the readout has none


def test_a_file_without_operands_is_as_before(measured, tmp_path):
    net, act = measured
    bare = act.__class__(act.source, act.description,
                         {k: a.__class__(a.in_events, a.syn_ops, a.out_spikes, a.post_events) for k, a in act.layers.items()})
    text = write_activity_csv(bare, net)
    assert text.splitlines()[0].split(",") == BASE_COLUMNS
    path = tmp_path / "a.csv"
    path.write_text(text)
    assert not read_activity_csv(path, net).measured_operands


def test_a_recorded_file_may_give_a_few_operand_columns(measured, tmp_path):
    net, act = measured
    df = pd.read_csv(io.StringIO(write_activity_csv(act, net)))
    keep = BASE_COLUMNS + ["psi_nonzero", "bptt_wgrad_ops"]
    path = tmp_path / "a.csv"
    df[keep].to_csv(path, index=False)
    back = read_activity_csv(path, net)
    assert set(back["c2"].operands) == {"psi_nonzero", "bptt_wgrad_ops"}


def _bad(measured, tmp_path, layer, col, value):
    net, act = measured
    df = pd.read_csv(io.StringIO(write_activity_csv(act, net)), dtype=str, keep_default_na=False)
    i = int(np.flatnonzero((df["layer"] == layer).to_numpy())[1])  # the layer's step 1
    df.loc[i, col] = value
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    return path, net, i + 2


@pytest.mark.parametrize("col,value,reason", [
    ("psi_nonzero", "-1", "finite number ≥ 0"), ("tess_signal_nonzero", "nan", "finite number ≥ 0"),
    ("bptt_prop_ops", "x", "finite number ≥ 0"),
    ("psi_nonzero", "1e9", "more than layer 'c2' can do in one step \\(16 neurons\\)"),
    ("stllr_trace_nonzero", "1e9", "\\(27 inputs\\)"), ("bptt_wgrad_ops", "1e9", "\\(432 dense ops\\)"),
    ("bptt_wgrad_ops", "", "empty, but other rows of layer 'c2'")])
def test_a_bad_operand_cell_names_its_row_and_column(measured, tmp_path, col, value, reason):
    path, net, row = _bad(measured, tmp_path, "c2", col, value)
    with pytest.raises(UserError, match=f"row {row}.{col}.*{reason}"):
        read_activity_csv(path, net)


def test_operands_on_the_readout_or_input_rows_are_refused(measured, tmp_path):
    for layer, reason in (("out", "does not learn through this operand"), ("input", "give only spikes")):
        path, net, row = _bad(measured, tmp_path, layer, "psi_nonzero", "1")
        with pytest.raises(UserError, match=f"row {row}.psi_nonzero.*{reason}"):
            read_activity_csv(path, net)
