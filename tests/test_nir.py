"""NIR import and export (docs/nir.md): a graph written here with ``nir`` becomes the workload a
user would write by hand (shapes, counts, measured spikes), its spikes are those of an
independent NIR-semantics simulation, import → export → import is the identity, and every node
or layer tess-sim cannot express is one line and exit 2."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

nir = pytest.importorskip("nir")  # the test extra installs it; without it only these tests skip

from tess_sim import api  # noqa: E402
from tess_sim.cli import main  # noqa: E402
from tess_sim.simulator.functional.golden import load_weights  # noqa: E402
from tess_sim.simulator.functional.network import forward  # noqa: E402
from tess_sim.simulator.network import build_network  # noqa: E402
from tess_sim.simulator.workload import workload_from_dict  # noqa: E402

DT = 1e-4
ROOT = Path(__file__).resolve().parents[1]


def cli(*args):
    """The real CLI in-process: (exit code, stdout, stderr)."""
    r = CliRunner().invoke(main, [str(a) for a in args], prog_name="tess-sim")
    return r.exit_code, r.stdout, r.stderr


# --------------------------------------------------------------------------- graphs written with nir
def lif(shape, tau, r, thr, v_leak=0.0, v_reset=0.0):
    f = lambda v: np.full(shape, v, dtype=np.float64)  # noqa: E731
    return nir.LIF(tau=f(tau), r=f(r), v_leak=f(v_leak), v_threshold=f(thr), v_reset=f(v_reset))


def conv(rng, cout, cin, hw, k=3, stride=1, padding=1, bias=True, **kw):
    b = rng.normal(0, 0.1, cout) if bias else np.zeros(cout)
    args = dict(input_shape=hw, weight=rng.normal(0, 0.6, (cout, cin, k, k)), stride=stride, padding=padding,
                dilation=1, groups=1, bias=b)
    args.update(kw)
    return nir.Conv2d(**args)


def pool(kind, k, stride=None, padding=(0, 0)):
    return getattr(nir, kind)(kernel_size=np.array([k, k]), stride=np.array([stride or k] * 2),
                              padding=np.array(padding))


def chain_graph(nodes: dict, edges=None):
    names = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=edges if edges is not None else list(zip(names[:-1], names[1:])),
                        type_check=False)


def reference_nodes(seed=0) -> dict:
    """Input [2, 8, 8] -> conv LIF (snnTorch r = tau/dt) -> SumPool 2 -> conv LIF (r ≠ tau/dt) ->
    AvgPool 2 -> Flatten -> Affine IF -> Affine readout."""
    rng = np.random.default_rng(seed)
    return {
        "in": nir.Input(input_type={"input": np.array([2, 8, 8])}),
        "c1": conv(rng, 4, 2, (8, 8), bias=False),
        "n1": lif((4, 8, 8), tau=2e-4, r=2.0, thr=0.6),           # beta 0.5, gain 1
        "p1": pool("SumPool2d", 2),
        "c2": conv(rng, 6, 4, (4, 4)),
        "n2": lif((6, 4, 4), tau=5e-4, r=2.5, thr=1.0),           # beta 0.8, gain 0.5: theta 2
        "p2": pool("AvgPool2d", 2),
        "fl": nir.Flatten(input_type={"input": np.array([6, 2, 2])}, start_dim=0, end_dim=-1),
        "f1": nir.Affine(weight=rng.normal(0, 0.6, (5, 24)), bias=rng.normal(0, 0.1, 5)),
        "n3": nir.IF(r=np.full(5, 4000.0), v_threshold=np.full(5, 0.4), v_reset=np.zeros(5)),  # gain 0.4: theta 1
        "ro": nir.Affine(weight=rng.normal(0, 0.6, (3, 5)), bias=rng.normal(0, 0.1, 3)),
        "out": nir.Output(output_type={"output": np.array([3])}),
    }


def write(graph, path: Path) -> Path:
    nir.write(path, graph)
    return path


def hand_written(nodes: dict) -> tuple[dict, dict]:
    """The workload and W.npz a user would write for reference_nodes, by hand: the formulas of
    docs/nir.md applied here, the SumPool's 4 moved into c2's weights."""
    layers = [
        {"type": "conv", "out_channels": 4, "kernel": 3, "padding": 1, "bias": False,
         "neuron": {"beta": 1 - DT / 2e-4, "theta": 0.6 * 2e-4 / (2.0 * DT), "reset": "zero"}},
        {"type": "avgpool", "kernel": 2},
        {"type": "conv", "out_channels": 6, "kernel": 3, "padding": 1, "bias": True,
         "neuron": {"beta": 1 - DT / 5e-4, "theta": 1.0 * 5e-4 / (2.5 * DT), "reset": "zero"}},
        {"type": "avgpool", "kernel": 2},
        {"type": "linear", "out_features": 5, "bias": True,
         "neuron": {"beta": 1.0, "theta": 0.4 / (4000.0 * DT), "reset": "zero"}},
        {"type": "readout", "bias": True},
    ]
    wl = {"name": "hand", "input": {"shape": [2, 8, 8], "T": 6, "classes": 3},
          "network": {"layers": layers}, "rules": {"bptt": {}, "stllr": {}, "tess": {}},
          "simulation": {"engine": "analytical"}}
    w = {"conv1": nodes["c1"].weight, "conv2": 4 * nodes["c2"].weight, "conv2.bias": nodes["c2"].bias,
         "linear1": nodes["f1"].weight, "linear1.bias": nodes["f1"].bias,
         "readout": nodes["ro"].weight, "readout.bias": nodes["ro"].bias}
    return wl, w


def spike_data(path: Path, T=6, n=5, shape=(2, 8, 8), seed=1) -> Path:
    rng = np.random.default_rng(seed)
    np.savez(path, x=(rng.random((T, n) + shape) < 0.4).astype(np.float32), labels=np.arange(n) % 3)
    return path


@pytest.fixture
def imported(tmp_path):
    """The reference graph imported through the CLI: (nodes, workload path, W.npz path, stdout)."""
    nodes = reference_nodes()
    model = write(chain_graph(nodes), tmp_path / "model.nir")
    code, out, err = cli("import", "nir", model, "--out", tmp_path / "model.yaml", "--weights",
                         tmp_path / "W.npz", "--dt", DT, "--T", 6)
    assert code == 0, err
    return nodes, tmp_path / "model.yaml", tmp_path / "W.npz", out


# --------------------------------------------------------------------------- import = the hand-written workload
def test_import_equals_the_hand_written_workload(imported, tmp_path):
    nodes, wl_path, w_path, out = imported
    assert "dt = 0.0001 s" in out and "SumPool2d 'p1': its factor 4 is folded into the weights of 'c2'" in out
    hand, w_hand = hand_written(nodes)
    np.savez(tmp_path / "Wh.npz", **w_hand)
    spike_data(tmp_path / "D.npz")
    measured = {"activity.source": "measured", "activity.data": str(tmp_path / "D.npz"), "activity.samples": 5}
    got = api.load(wl_path, overrides={**measured, "activity.weights": str(w_path),
                                       "simulation.engine": "analytical"})
    want = api.from_dict({**hand, "activity": {"source": "measured", "data": str(tmp_path / "D.npz"),
                                               "samples": 5, "weights": str(tmp_path / "Wh.npz")}},
                         str(tmp_path / "hand.yaml"))
    n_got, n_want = build_network(got), build_network(want)
    for a, b in zip(n_got.layers, n_want.layers):
        assert (a.name, a.kind, a.in_shape, a.pre_shape, a.post_shape, a.kernel, a.stride, a.padding, a.bias,
                a.pools) == (b.name, b.kind, b.in_shape, b.pre_shape, b.post_shape, b.kernel, b.stride,
                             b.padding, b.bias, b.pools)
        if a.spiking:
            assert a.neuron.reset == b.neuron.reset == "zero"
            assert a.neuron.beta == pytest.approx(b.neuron.beta, rel=1e-12)
            assert a.neuron.theta == pytest.approx(b.neuron.theta, rel=1e-12)
    wg, wh = load_weights(w_path, n_got), load_weights(tmp_path / "Wh.npz", n_want)
    assert sorted(wg) == sorted(wh) and all(np.array_equal(wg[k], wh[k]) for k in wg)
    # measured spikes (not only their counts) and the whole ledger of both
    x = np.load(tmp_path / "D.npz")["x"]
    rec_g, y_g = forward(n_got, wg, x, np.float64)
    rec_h, y_h = forward(n_want, wh, x, np.float64)
    for a, b in zip(rec_g, rec_h):
        assert np.array_equal(a.o, b.o)
    assert 0 < sum(r.o.sum() for r in rec_g) < sum(r.o.size for r in rec_g)  # some spikes, not all
    ra, rb = api.run(got, "analytical"), api.run(want, "analytical")
    pd.testing.assert_frame_equal(ra.ledger.reset_index(drop=True), rb.ledger.reset_index(drop=True))


def test_network_nir_in_a_workload_serves_layers_and_weights(imported, tmp_path):
    """``network: {nir, dt}``: the same layers as the import, and the graph's weights when
    activity.weights is not given; a dump reloads (``layers`` left out, the graph read again)."""
    nodes, wl_path, w_path, _ = imported
    spike_data(tmp_path / "D.npz")
    ref = {"name": "ref", "input": {"T": 6}, "network": {"nir": "model.nir", "dt": DT},
           "rules": {"tess": {}}, "activity": {"source": "measured", "data": "D.npz", "samples": 5},
           "simulation": {"engine": "analytical"}}
    (tmp_path / "ref.yaml").write_text(yaml.safe_dump(ref))
    a = api.load(tmp_path / "ref.yaml")
    b = api.load(wl_path, overrides={"rules": {"tess": {}}, "activity.source": "measured", "activity.samples": 5,
                                     "activity.data": str(tmp_path / "D.npz"), "activity.weights": str(w_path),
                                     "simulation.engine": "analytical"})
    na, nb = build_network(a), build_network(b)  # the same blocks, neurons merged with each one's default
    assert [(x.name, x.in_shape, x.pre_shape, x.post_shape, x.pools, x.bias, x.neuron) for x in na.layers] == \
        [(x.name, x.in_shape, x.pre_shape, x.post_shape, x.pools, x.bias, x.neuron) for x in nb.layers]
    assert a.input.shape == [2, 8, 8] and a.input.classes == 3
    pa, pb = api.activity_of(a), api.activity_of(b)
    assert "weights of the NIR graph" in pa.description
    assert list(pa.layers) == list(pb.layers)
    for name in pa.layers:
        assert np.array_equal(pa[name].out_spikes, pb[name].out_spikes)
        assert np.array_equal(pa[name].syn_ops, pb[name].syn_ops)
    assert pa["conv1"].out_spikes.sum() > 0
    dumped = a.model_dump(mode="json")
    assert "layers" not in dumped["network"] and Path(dumped["network"]["nir"]).is_absolute()
    again = workload_from_dict(dumped, "<dump>")
    assert [x.model_dump() for x in again.network.layers] == [x.model_dump() for x in a.network.layers]


# --------------------------------------------------------------------------- an independent NIR simulation
def nir_simulate(nodes: dict, x: np.ndarray, dt: float) -> list[np.ndarray]:
    """NIR semantics in plain float64 loops, forward Euler (docs/nir.md): per neuron node its
    spikes [T, *shape] for one sample x [T, *input]. v += dt/tau·(v_leak − v + r·I) (IF:
    v += dt·r·I); spike when v > v_threshold, then v = v_reset. Not our engine's code."""
    names = list(nodes)[1:-1]
    state: dict[str, np.ndarray] = {}
    spikes: dict[str, list] = {n: [] for n in names if type(nodes[n]).__name__ in ("LIF", "IF")}
    for t in range(x.shape[0]):
        h = x[t].astype(np.float64)
        for n in names:
            node, kind = nodes[n], type(nodes[n]).__name__
            if kind == "Conv2d":
                w, (s, _), (p, _) = node.weight, node.stride, node.padding
                c_out, c_in, k, _ = w.shape
                hp = np.zeros((c_in, h.shape[1] + 2 * p, h.shape[2] + 2 * p))
                hp[:, p:p + h.shape[1], p:p + h.shape[2]] = h
                oh, ow = (hp.shape[1] - k) // s + 1, (hp.shape[2] - k) // s + 1
                o = np.zeros((c_out, oh, ow))
                for co in range(c_out):
                    for i in range(oh):
                        for j in range(ow):
                            acc = node.bias[co]
                            for ci in range(c_in):
                                for a in range(k):
                                    for b in range(k):
                                        acc += w[co, ci, a, b] * hp[ci, i * s + a, j * s + b]
                            o[co, i, j] = acc
                h = o
            elif kind in ("Affine", "Linear"):
                o = np.zeros(node.weight.shape[0])
                for i in range(o.size):
                    o[i] = sum(node.weight[i, j] * h[j] for j in range(h.size))
                    if kind == "Affine":
                        o[i] += node.bias[i]
                h = o
            elif kind in ("SumPool2d", "AvgPool2d"):
                k = int(node.kernel_size[0])
                o = np.zeros((h.shape[0], h.shape[1] // k, h.shape[2] // k))
                for c in range(o.shape[0]):
                    for i in range(o.shape[1]):
                        for j in range(o.shape[2]):
                            o[c, i, j] = h[c, i * k:(i + 1) * k, j * k:(j + 1) * k].sum()
                h = o / (k * k) if kind == "AvgPool2d" else o
            elif kind == "Flatten":
                h = h.reshape(-1)
            elif kind in ("LIF", "IF"):
                v = state.get(n, np.zeros(h.shape))
                if kind == "LIF":
                    v = v + dt / node.tau * (node.v_leak - v + node.r * h)
                else:
                    v = v + dt * node.r * h
                z = (v > node.v_threshold).astype(np.float64)
                state[n] = np.where(z > 0, node.v_reset, v)
                spikes[n].append(z)
                h = z
    return [np.stack(s) for s in spikes.values()]


def test_spikes_equal_an_independent_nir_simulation(imported):
    nodes, wl_path, w_path, _ = imported
    wl = api.load(wl_path)
    net = build_network(wl)
    rng = np.random.default_rng(7)
    x = (rng.random((6, 2, 2, 8, 8)) < 0.5).astype(np.float64)
    records, _ = forward(net, load_weights(w_path, net), x, np.float64)
    total = 0
    for b in range(x.shape[1]):
        want = nir_simulate(nodes, x[:, b], DT)
        for rec, w in zip(records, want):
            assert np.array_equal(rec.o[:, b], w)
            total += w.sum()
    assert total > 20


# --------------------------------------------------------------------------- round trip
def test_import_export_import_is_the_identity(imported, tmp_path):
    nodes, wl_path, w_path, _ = imported
    code, out, err = cli("export", "nir", wl_path, "--out", tmp_path / "back.nir", "--weights", w_path, "--dt", DT)
    assert code == 0, err
    assert "tau = dt/(1 - beta)" in out and "wrote" in out
    code, _, err = cli("import", "nir", tmp_path / "back.nir", "--out", tmp_path / "back.yaml", "--weights",
                       tmp_path / "W2.npz", "--dt", DT, "--T", 6, "--name", "model")
    assert code == 0, err
    first, second = yaml.safe_load(wl_path.read_text()), yaml.safe_load((tmp_path / "back.yaml").read_text())
    first.pop("description"), second.pop("description")

    def close(a, b):
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(close(u, v) for u, v in zip(a, b))
        if isinstance(a, float):  # beta = 1 - dt/(dt/(1 - beta)) rounds in the last bits
            return b == pytest.approx(a, rel=1e-12, abs=1e-15)
        return a == b

    assert close(first, second), (first, second)
    w1, w2 = np.load(w_path), np.load(tmp_path / "W2.npz")
    assert sorted(w1.files) == sorted(w2.files) and all(np.array_equal(w1[k], w2[k]) for k in w1.files)
    # and the exported graph holds the nodes of docs/nir.md
    g = nir.read(tmp_path / "back.nir")
    nxt = dict(g.edges)  # HDF5 keeps nodes in name order: walk the edges
    order = ["input"]
    while order[-1] in nxt:
        order.append(nxt[order[-1]])
    kinds = [type(g.nodes[n]).__name__ for n in order]
    assert kinds == ["Input", "Conv2d", "LIF", "AvgPool2d", "Conv2d", "LIF", "AvgPool2d", "Flatten", "Affine", "IF",
                     "Affine", "Output"]
    assert np.allclose(g.nodes["conv2.lif"].tau, 5e-4) and np.allclose(g.nodes["conv2.lif"].r, 5.0)
    assert np.allclose(g.nodes["conv2.lif"].v_threshold, 2.0) and np.allclose(g.nodes["linear1.if"].r, 1 / DT)


def test_export_without_weights_is_the_seeded_initialisation(tmp_path):
    """small.yaml with the zero reset and average pools: the graph's arrays are `data npz`'s W.npz."""
    data = yaml.safe_load((ROOT / "workloads" / "small.yaml").read_text())
    data["hardware"] = str(ROOT / "workloads" / "hw" / "edge.yaml")
    data["neuron"] = {"reset": "zero", "beta": 0.25, "theta": 0.7}
    data["network"]["layers"][1] = {"type": "avgpool", "kernel": 2}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    code, out, err = cli("export", "nir", tmp_path / "s.yaml", "--out", tmp_path / "s.nir", "--dt", 1e-3)
    assert code == 0, err
    assert "paper initialisation, seed 0" in out and "dt = 0.001 s" in out
    code, _, err = cli("data", "npz", tmp_path / "s.yaml", "--weights", tmp_path / "W.npz")
    assert code == 0, err
    w, g = np.load(tmp_path / "W.npz"), nir.read(tmp_path / "s.nir")
    assert np.array_equal(g.nodes["c1"].weight, w["c1"]) and np.array_equal(g.nodes["out"].weight, w["out"])
    assert np.array_equal(g.nodes["fc"].weight, w["fc"]) and not np.any(g.nodes["c1"].bias)
    assert np.allclose(g.nodes["c1.lif"].tau, 1e-3 / 0.75) and np.allclose(g.nodes["c1.lif"].v_threshold, 0.7)


# --------------------------------------------------------------------------- refused nodes: exit 2, one line
def variant(case: str):
    """The reference graph changed to hold one thing tess-sim cannot express: (graph, words the
    error line must hold)."""
    n = reference_nodes()
    rng = np.random.default_rng(3)
    edges = None
    if case == "CubaLIF":
        f = lambda v: np.full((4, 8, 8), v)  # noqa: E731
        n["n1"] = nir.CubaLIF(tau_syn=f(1e-3), tau_mem=f(2e-4), r=f(2.0), v_leak=f(0.0), v_threshold=f(0.6))
        words = ["'n1' (CubaLIF)", "synaptic current"]
    elif case == "LI":
        n["ro_li"] = nir.LI(tau=np.full(3, 1e-3), r=np.ones(3), v_leak=np.zeros(3))
        n["out"] = n.pop("out")
        words = ["'ro_li' (LI)", "no spikes"]
    elif case == "Delay":
        n = {**{k: n[k] for k in ("in", "c1")}, "d": nir.Delay(delay=np.ones((4, 8, 8))),
             **{k: n[k] for k in list(n)[2:]}}
        words = ["'d' (Delay)", "delays"]
    elif case == "Scale":
        n = {**{k: n[k] for k in ("in", "c1", "n1")}, "s": nir.Scale(scale=np.ones((4, 8, 8))),
             **{k: n[k] for k in list(n)[3:]}}
        words = ["'s' (Scale)", "scale"]
    elif case == "Threshold":
        n["n1"] = nir.Threshold(threshold=np.full((4, 8, 8), 0.6))
        words = ["'n1' (Threshold)", "threshold"]
    elif case == "Conv1d":
        n["c1"] = nir.Conv1d(input_shape=8, weight=np.ones((4, 2, 3)), stride=1, padding=1, dilation=1, groups=1,
                             bias=np.zeros(4))
        words = ["'c1' (Conv1d)", "1-D"]
    elif case == "subgraph":
        n["n1"] = chain_graph({"i": nir.Input(input_type={"input": np.array([4, 8, 8])}),
                               "l": lif((4, 8, 8), 2e-4, 2.0, 0.6),
                               "o": nir.Output(output_type={"output": np.array([4, 8, 8])})})
        words = ["'n1' (NIRGraph)", "nested graph"]
    elif case == "recurrent":
        edges = list(zip(list(n)[:-1], list(n)[1:])) + [("n3", "f1")]
        words = ["edge 'n3' -> 'f1'", "recurrent"]
    elif case == "branch":
        n["side"] = nir.Output(output_type={"output": np.array([4, 8, 8])})
        names = [k for k in n if k != "side"]
        edges = list(zip(names[:-1], names[1:])) + [("n1", "side")]
        words = ["'n1' (LIF)", "branch"]
    elif case == "merge":
        names = list(n)
        n["extra"] = nir.Affine(weight=np.ones((256, 2)), bias=np.zeros(256))
        edges = list(zip(names[:-1], names[1:])) + [("extra", "n1")]
        words = ["'n1' (LIF)", "merge"]
    elif case == "tau_per_neuron":
        tau = np.full((4, 8, 8), 2e-4)
        tau[1] = 3e-4
        n["n1"] = nir.LIF(tau=tau, r=np.full((4, 8, 8), 2.0), v_leak=np.zeros((4, 8, 8)),
                          v_threshold=np.full((4, 8, 8), 0.6), v_reset=np.zeros((4, 8, 8)))
        words = ["'n1' (LIF)", "tau differs within the layer"]
    elif case == "v_reset":
        n["n1"] = lif((4, 8, 8), 2e-4, 2.0, 0.6, v_reset=0.1)
        words = ["'n1' (LIF)", "v_reset = 0.1"]
    elif case == "v_leak":
        n["n1"] = lif((4, 8, 8), 2e-4, 2.0, 0.6, v_leak=-0.2)
        words = ["'n1' (LIF)", "v_leak = -0.2"]
    elif case == "dt_over_tau":
        n["n1"] = lif((4, 8, 8), 5e-5, 0.5, 0.6)
        words = ["'n1' (LIF)", "shorter than dt"]
    elif case == "dilation":
        n["c1"] = conv(rng, 4, 2, (8, 8), padding=2, dilation=2)
        words = ["'c1' (Conv2d)", "dilation"]
    elif case == "groups":
        n["c1"] = nir.Conv2d(input_shape=(8, 8), weight=np.ones((4, 1, 3, 3)), stride=1, padding=1, dilation=1,
                             groups=2, bias=np.zeros(4))
        words = ["'c1' (Conv2d)", "groups = 2"]
    elif case == "padding":
        n["c1"] = conv(rng, 4, 2, (8, 8), padding=(1, 0))
        words = ["'c1' (Conv2d)", "padding"]
    elif case == "kernel":
        n["c1"] = nir.Conv2d(input_shape=(8, 8), weight=np.ones((4, 2, 3, 1)), stride=1, padding=(1, 0),
                             dilation=1, groups=1, bias=np.zeros(4))
        words = ["'c1' (Conv2d)", "square"]
    elif case == "pool_stride":
        n["p1"] = pool("AvgPool2d", 2, stride=1)
        words = ["'p1' (AvgPool2d)", "stride = kernel"]
    elif case == "pool_padding":
        n["p1"] = pool("SumPool2d", 2, padding=(1, 1))
        words = ["'p1' (SumPool2d)", "no padding"]
    elif case == "flatten":
        n["fl"] = nir.Flatten(input_type={"input": np.array([6, 2, 2])}, start_dim=1, end_dim=-1)
        words = ["'fl' (Flatten)", "start_dim 1"]
    elif case == "no_readout":
        del n["ro"]
        words = ["'out' (Output)", "readout"]
    elif case == "two_weights":
        n = {**{k: n[k] for k in ("in", "c1")}, "c1b": conv(rng, 4, 4, (8, 8)), **{k: n[k] for k in list(n)[2:]}}
        words = ["'c1b' (Conv2d)", "without a neuron"]
    else:
        raise AssertionError(case)
    return chain_graph(n, edges), words


CASES = ["CubaLIF", "LI", "Delay", "Scale", "Threshold", "Conv1d", "subgraph", "recurrent", "branch", "merge",
         "tau_per_neuron", "v_reset", "v_leak", "dt_over_tau", "dilation", "groups", "padding", "kernel",
         "pool_stride", "pool_padding", "flatten", "no_readout", "two_weights"]


@pytest.mark.parametrize("case", CASES)
def test_unsupported_is_exit_2_and_one_line_naming_it(case, tmp_path):
    graph, words = variant(case)
    model = write(graph, tmp_path / "bad.nir")
    code, out, err = cli("import", "nir", model, "--out", tmp_path / "w.yaml", "--weights", tmp_path / "W.npz",
                         "--dt", DT, "--T", 4)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith(f"error: {model}: "), err
    for w in words:
        assert w in err, err
    assert not (tmp_path / "w.yaml").exists() and not (tmp_path / "W.npz").exists()


def test_a_workload_naming_an_unsupported_graph_is_exit_2(tmp_path):
    graph, words = variant("CubaLIF")
    write(graph, tmp_path / "bad.nir")
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({"name": "w", "input": {"T": 4}, "rules": {"tess": {}},
                                                     "network": {"nir": "bad.nir", "dt": DT}}))
    code, _, err = cli("validate", tmp_path / "w.yaml")
    assert code == 2 and err.count("\n") == 1 and all(w in err for w in words), err
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({"name": "w", "input": {"T": 4}, "rules": {"tess": {}},
                                                     "network": {"nir": "bad.nir", "layers": [{"type": "readout"}]}}))
    code, _, err = cli("validate", tmp_path / "w.yaml")
    assert code == 2 and "network: give either layers or nir" in err, err


def test_missing_dt_says_what_the_graph_implies(tmp_path):
    nodes = reference_nodes()
    nodes["n2"] = lif((6, 4, 4), tau=5e-4, r=5.0, thr=1.0)  # every LIF now has r = tau/dt
    write(chain_graph(nodes), tmp_path / "m.nir")
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({"name": "w", "input": {"T": 4}, "rules": {"tess": {}},
                                                     "network": {"nir": "m.nir"}}))
    code, _, err = cli("validate", tmp_path / "w.yaml")
    assert code == 2 and "network.dt: required" in err and "tau/r = 0.0001 s" in err, err


@pytest.mark.parametrize("content,words", [(b"", "not a readable NIR (HDF5) file"),
                                           (b"\x89HDF\r\n\x1a\nnonsense", "not a readable NIR (HDF5) file")])
def test_a_file_that_is_not_nir_is_exit_2(tmp_path, content, words):
    (tmp_path / "x.nir").write_bytes(content)
    code, _, err = cli("import", "nir", tmp_path / "x.nir", "--out", tmp_path / "w.yaml", "--dt", DT, "--T", 4)
    assert code == 2 and words in err and err.count("\n") == 1, err


def test_an_unknown_node_type_is_refused_before_nir_builds_anything(tmp_path):
    import h5py

    write(chain_graph(reference_nodes()), tmp_path / "m.nir")
    with h5py.File(tmp_path / "m.nir", "r+") as f:
        del f["node/nodes/c1/type"]
        f["node/nodes/c1"].create_dataset("type", data="os.system", dtype=h5py.string_dtype())
    code, _, err = cli("import", "nir", tmp_path / "m.nir", "--out", tmp_path / "w.yaml", "--dt", DT, "--T", 4)
    assert code == 2 and "unknown NIR node type" in err and "os.system" in err, err


# --------------------------------------------------------------------------- export refusals
def small_yaml(tmp_path, **neuron) -> Path:
    data = yaml.safe_load((ROOT / "workloads" / "small.yaml").read_text())
    data["hardware"] = str(ROOT / "workloads" / "hw" / "edge.yaml")
    data["neuron"] = neuron
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_export_refuses_max_pool_and_the_subtractive_reset(tmp_path):
    code, _, err = cli("export", "nir", small_yaml(tmp_path), "--out", tmp_path / "s.nir")
    assert code == 2 and err.count("\n") == 1 and "layer c1: reset 'subtract' (u+ = u - 0.6·o)" in err, err
    code, _, err = cli("export", "nir", small_yaml(tmp_path, reset="zero"), "--out", tmp_path / "s.nir")
    assert code == 2 and err.count("\n") == 1 and "layer maxpool1: max-pooling has no NIR 1.0 node" in err, err
    code, out, err = cli("export", "nir", small_yaml(tmp_path), "--out", tmp_path / "s.nir",
                         "--approximate-reset", "--set", "network.layers.1.type=avgpool")
    assert code == 0, err
    assert out.count("approximation: layer") == 3 and "exported as NIR's reset to 0" in out
    assert not any(p.name.startswith(".s.nir") for p in tmp_path.iterdir())


# --------------------------------------------------------------------------- without nir
def test_without_nir_the_commands_say_how_to_install_it(tmp_path, monkeypatch):
    write(chain_graph(reference_nodes()), tmp_path / "m.nir")
    monkeypatch.setitem(sys.modules, "nir", None)
    hint = 'pip install -e ".[nir]"'
    code, _, err = cli("import", "nir", tmp_path / "m.nir", "--out", tmp_path / "w.yaml", "--dt", DT, "--T", 4)
    assert code == 2 and hint in err and err.count("\n") == 1, err
    code, _, err = cli("export", "nir", small_yaml(tmp_path, reset="zero"), "--out", tmp_path / "s.nir")
    assert code == 2 and hint in err and err.count("\n") == 1, err
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({"name": "w", "input": {"T": 4}, "rules": {"tess": {}},
                                                     "network": {"nir": "m.nir", "dt": DT}}))
    code, _, err = cli("validate", tmp_path / "w.yaml")
    assert code == 2 and hint in err, err
    assert not (tmp_path / "s.nir").exists()
