"""tess-sim grad (golden model) and tess-sim train, through the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tess_sim.cli import main
from tess_sim.simulator.measured.bridge import rule_params
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.functional.golden import compute_gradients
from tess_sim.simulator.functional.network import init_scheme
from tess_sim.simulator.network import build_network
from tess_sim.api import load

from .conftest import WORKLOADS


@pytest.fixture
def golden_files(tmp_path):
    wl = load(WORKLOADS / "small.yaml")
    net = build_network(wl)
    w = init_scheme(net, 3, "paper", np.float64)
    rng = np.random.default_rng(0)
    x = (rng.random((wl.input.T, 3, *wl.input.shape)) < 0.3).astype(np.float64)
    labels = np.array([0, 2, 3])
    np.savez(tmp_path / "W.npz", **w)
    np.savez(tmp_path / "D.npz", x=x, labels=labels)
    return wl, net, w, x, labels, tmp_path


@pytest.mark.parametrize("rule", ["bptt", "stllr", "tess"])
def test_grad_cli_equals_api(golden_files, rule):
    wl, net, w, x, labels, tmp = golden_files
    r = CliRunner().invoke(main, ["grad", str(WORKLOADS / "small.yaml"), "--weights", str(tmp / "W.npz"),
                                  "--data", str(tmp / "D.npz"), "--out", str(tmp / "sub" / "G.npz"),
                                  "--rule", rule, "--trace"])
    assert r.exit_code == 0, r.output
    g = np.load(tmp / "sub" / "G.npz")
    want = compute_gradients(net, rule, rule_params(wl, rule), w, x, labels, np.float64)
    for key in w:
        np.testing.assert_array_equal(g[key], want[key])
    assert g["spikes"].shape == (len(net.blocks), wl.input.T)
    assert any(k.endswith(".u") for k in g.files)  # --trace


def test_grad_bad_inputs_exit_2(golden_files):
    wl, net, w, x, labels, tmp = golden_files
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


def _zip_member(path, members: dict[str, bytes]) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _npy_header(shape, descr="<f8") -> bytes:
    import io

    from numpy.lib import format as npy_format

    buf = io.BytesIO()
    npy_format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def _grad(tmp, weights, data, *extra):
    return CliRunner().invoke(main, ["grad", str(WORKLOADS / "small.yaml"), "--weights", str(weights),
                                     "--data", str(data), "--out", str(tmp / "G.npz"), "--rule", "tess", *extra])


def _one_line(r) -> str:
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    return lines[0]


def test_npz_headers_are_checked_before_any_data_is_read(golden_files):
    """Issue 15.2: a small archive whose header claims a huge array is refused from the header,
    naming the file and member; members not asked for are never read; nothing is unpickled."""
    wl, net, w, x, labels, tmp = golden_files
    T, shape = wl.input.T, list(wl.input.shape)
    lab = _npy_header((3,), "<i8") + np.array(labels, "<i8").tobytes()
    cases = {  # file: (members, expected in the line)
        "Dhuge.npz": ({"x.npy": _npy_header([T, 10**10, *shape]) + b"\0" * 64, "labels.npy": lab},
                      "x: header claims shape [4, 10000000000, 2, 8, 8]"),
        "Dflat.npz": ({"x.npy": _npy_header([10**10]) + b"\0" * 64, "labels.npy": lab},
                      "x: has shape [10000000000], expected [T, batch, 2, 8, 8]"),
        "Dshort.npz": ({"x.npy": _npy_header([T, 3, *shape]) + b"\0" * 64, "labels.npy": lab},
                       "x: header claims shape [4, 3, 2, 8, 8] (12288 bytes of data), the member holds 64"),
        "Dobj.npz": ({"x.npy": _npy_header([T, 3, *shape], "|O") + b"\0" * 64, "labels.npy": lab},
                     "x: holds Python objects: refused"),
    }
    for name, (members, expected) in cases.items():
        _zip_member(tmp / name, members)
        line = _one_line(_grad(tmp, tmp / "W.npz", tmp / name))
        assert f"error: {tmp / name}: {expected}" in line, line
        assert not (tmp / "G.npz").exists()
    # a weights member claiming a huge array: its shape is wrong, read from the header alone
    big = {f"{k}.npy": _npy_header(v.shape) + v.astype("<f8").tobytes() for k, v in w.items()}
    big["c1.npy"] = _npy_header([10**10]) + b"\0" * 64
    _zip_member(tmp / "Whuge.npz", big)
    line = _one_line(_grad(tmp, tmp / "Whuge.npz", tmp / "D.npz"))
    assert f"{tmp / 'Whuge.npz'}: c1: has shape [10000000000], expected [4, 2, 3, 3]" in line, line
    # an extra member of the weights is refused by name, unread
    big["c1.npy"] = _npy_header(w["c1"].shape) + w["c1"].astype("<f8").tobytes()
    big["junk.npy"] = _npy_header([10**12]) + b"\0"
    _zip_member(tmp / "Wextra.npz", big)
    assert f"{tmp / 'Wextra.npz'}: junk: unexpected array" in _one_line(_grad(tmp, tmp / "Wextra.npz", tmp / "D.npz"))
    # a data member nobody asks for is never read: the huge claim does not matter
    xs = _npy_header(x.shape) + x.astype("<f8").tobytes()
    _zip_member(tmp / "Dextra.npz", {"x.npy": xs, "labels.npy": lab, "junk.npy": _npy_header([10**12]) + b"\0"})
    r = _grad(tmp, tmp / "W.npz", tmp / "Dextra.npz")
    assert r.exit_code == 0, r.output


def test_grad_malformed_inputs_are_one_line(golden_files):
    """Issue 15.7: a .npy as W.npz, a zero-length W.npz (was "Aborted!"), batch 0 in D.npz."""
    wl, net, w, x, labels, tmp = golden_files
    np.save(tmp / "W.npy", w["c1"])
    (tmp / "empty.npz").write_bytes(b"")
    np.savez(tmp / "D0.npz", x=x[:, :0], labels=labels[:0])
    (tmp / "text.npz").write_text("not a zip")
    cases = [(tmp / "W.npy", tmp / "D.npz", f"{tmp / 'W.npy'}: is a single .npy array, not an .npz archive"),
             (tmp / "empty.npz", tmp / "D.npz", f"{tmp / 'empty.npz'}: empty file (0 bytes)"),
             (tmp / "text.npz", tmp / "D.npz", f"{tmp / 'text.npz'}: not an .npz archive"),
             (tmp / "W.npz", tmp / "D0.npz", f"{tmp / 'D0.npz'}: x: has shape [4, 0, 2, 8, 8]: needs at least one")]
    for weights, data, expected in cases:
        line = _one_line(_grad(tmp, weights, data))
        assert expected in line, line
        assert not (tmp / "G.npz").exists()


def test_grad_overflowing_inputs_write_nothing(golden_files):
    """Issue 15.3: finite but extreme inputs (x = 1e308) overflow float64 — here the pre-synaptic
    traces --trace returns (tr_x = Σ λ^k x[t−k] > 1.8e308; the gradients themselves stay finite:
    the engine correlates x with the reverse trace of the signal): exit 2 naming the data file,
    no G.npz with non-finite entries."""
    wl, net, w, x, labels, tmp = golden_files
    np.savez(tmp / "Dbig.npz", x=np.full_like(x, 1e308), labels=labels)
    assert _grad(tmp, tmp / "W.npz", tmp / "Dbig.npz").exit_code == 0  # the gradients alone are finite
    (tmp / "G.npz").unlink()
    line = _one_line(_grad(tmp, tmp / "W.npz", tmp / "Dbig.npz", "--trace"))
    assert f"error: {tmp / 'Dbig.npz'}: x: the gradient" in line and "overflow float64" in line, line
    assert not (tmp / "G.npz").exists()


@settings(max_examples=25, deadline=None)
@given(value=st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e308]), where=st.integers(0, 10**6),
       rule=st.sampled_from(["bptt", "stllr", "tess"]))
def test_bad_numbers_in_x_are_named_or_finite(tmp_path_factory, value, where, rule):
    """Issue 15.3 property: NaN, ±inf or ±1e308 anywhere in D.npz x → a UserError naming the
    file and x, or finite gradients."""
    from tess_sim.simulator.functional.golden import check_finite_gradients, load_data

    wl = load(WORKLOADS / "small.yaml")
    net = build_network(wl)
    w = init_scheme(net, 3, "paper", np.float64)
    x = (np.random.default_rng(1).random((wl.input.T, 2, *wl.input.shape)) < 0.3).astype(np.float64)
    x.flat[where % x.size] = value
    path = tmp_path_factory.mktemp("d") / "D.npz"
    np.savez(path, x=x, labels=np.array([0, 3]))
    try:
        xs, labels = load_data(path, net, wl.input.T)
        g = compute_gradients(net, rule, rule_params(wl, rule), w, xs, labels)
        check_finite_gradients(g, path, "W.npz")
    except UserError as exc:
        assert exc.where == str(path) and exc.field == "x", exc.line()
        return
    assert all(np.isfinite(v).all() for v in g.values())


def test_grad_takes_and_returns_standardisation_gains(golden_files):
    """With network.weight_standardisation=scaled, W.npz carries <block>.gain and G.npz returns
    the gain gradients beside the raw-W ones (equal to the API's); a W.npz without the gains is
    one line, exit 2, naming the missing key."""
    wl, _, _, x, labels, tmp = golden_files
    sets = ["--set", "network.weight_standardisation=scaled"]
    wl = load(WORKLOADS / "small.yaml", None, {"network.weight_standardisation": "scaled"})
    net = build_network(wl)
    w = init_scheme(net, 3, "paper", np.float64)
    gains = [b.name + ".gain" for b in net.blocks]
    assert gains and all(k in w for k in gains)
    rng = np.random.default_rng(4)
    for k in gains:
        w[k] = rng.uniform(1.0, 2.0, w[k].shape)
    np.savez(tmp / "Wg.npz", **w)
    base = ["grad", str(WORKLOADS / "small.yaml"), "--data", str(tmp / "D.npz"), "--rule", "tess", *sets]
    r = CliRunner().invoke(main, base + ["--weights", str(tmp / "Wg.npz"), "--out", str(tmp / "G.npz")])
    assert r.exit_code == 0, r.output
    g = np.load(tmp / "G.npz")
    want = compute_gradients(net, "tess", rule_params(wl, "tess"), w, x, labels, np.float64)
    for key in gains + [b.name for b in net.blocks]:
        assert key in g.files
        np.testing.assert_array_equal(g[key], want[key])
    assert any(np.abs(g[k]).max() > 0 for k in gains)
    r = CliRunner().invoke(main, base + ["--weights", str(tmp / "W.npz"), "--out", str(tmp / "G2.npz")])
    assert r.exit_code == 2 and not (tmp / "G2.npz").exists()
    line = r.output.strip().splitlines()[-1]
    assert line.startswith("error: ") and f"{gains[0]}: missing" in line, r.output
