"""From a workload to the functional engine: its rule parameters, samples, weights, and the
measured activity profile the cost engines price. The functional engine reads the resolved
network (:func:`simulator.network.build_network`) itself: nothing here translates it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tess_sim.simulator.activity import ActivityProfile, layer_from_counts
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.loader import load_frames
from tess_sim.simulator.functional.activity import measure_activity
from tess_sim.simulator.functional.data import load_digits_spikes
from tess_sim.simulator.functional.golden import load_data, load_weights
from tess_sim.simulator.functional.network import init_scheme, weight_shapes
from tess_sim.simulator.functional.operands import OPERAND_RULES, measure_operands
from tess_sim.simulator.functional.rules import RuleParams
from tess_sim.simulator.network import Net, build_network
from tess_sim.simulator.nir_graph import graph_to_network, read_graph
from tess_sim.simulator.workload import MeasuredActivity, Workload


def rule_params(wl: Workload, rule: str) -> RuleParams:
    """The functional parameters of a rule (BPTT and the readout-only control take defaults)."""
    p = wl.rules.enabled().get(rule)
    if rule in ("stllr", "tess") and p is not None:
        pools = tuple(p.lsg_pool) if getattr(p, "lsg_pool", None) else ()
        return RuleParams(p.lambda_pre, p.lambda_post, p.alpha_pre, p.alpha_post, p.window, pools)
    return RuleParams()


def resolve(wl: Workload, rel: str) -> Path:
    """A path from the workload, relative to the workload file."""
    p = Path(rel)
    if not p.is_absolute() and wl.source:
        p = Path(wl.source).parent / p
    return p


def load_samples(wl: Workload, n: int, seed: int, npz: str | None = None):
    """``n`` samples as ``(x [T, n, *shape] float32, labels [n], description)``.

    From ``npz`` (a D.npz) when given, else the workload's ``data`` section: digits → the test
    split rate-coded with ``seed``; event formats → framed recordings (binarised for spike
    input). An npz holding fewer than ``n`` samples gives all it has.
    """
    where = wl.source or "<workload>"
    T = wl.input.T
    net = build_network(wl, where)
    if npz is not None:
        path = resolve(wl, npz)
        if not path.exists():
            raise UserError(where, "activity.data", f"data file '{npz}' not found (looked at {path})")
        x, labels = load_data(path, net, T)
        return x[:, :n].astype(np.float32), labels[:n], f"{path} ({min(n, x.shape[1])} samples)"
    d = wl.data
    if d is None:
        raise UserError(where, "data", "measured activity and training need a 'data' section "
                        "(or activity.data: a D.npz)")
    if d.format == "digits":
        ds = digits_of(wl)
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(ds.y_test), size=min(n, len(ds.y_test)), replace=False)
        x = ds.encode(ds.x_test[idx], rng)
        return x, ds.y_test[idx], f"scikit-learn digits, {len(idx)} test images rate-coded over T = {T}"
    if d.format == "npz":
        return load_samples(wl, n, seed, d.path)
    return event_samples(wl, n, seed)


def digits_of(wl: Workload):
    """The digits data set of a digits workload (its input must be the 64 pixels), rate coded
    over the workload's T (:func:`~simulator.functional.data.load_digits_spikes`)."""
    if tuple(wl.input.shape) != (64,):
        raise UserError(wl.source or "<workload>", "input.shape", f"digits are 64 pixels, got {wl.input.shape}")
    return load_digits_spikes(wl.input.T)


def event_samples(wl: Workload, n: int, seed: int):
    """``n`` framed event recordings of the workload's event ``data`` (seeded: a random choice of
    distinct samples, or exactly ``n`` synthetic ones): ``(x [T, n, 2, H, W] float32, labels
    [n], description)``; binarised when the input is spikes."""
    source = {k: v for k, v in wl.data.model_dump().items() if v is not None and k != "path"}
    if "root" in source:
        source["root"] = str(resolve(wl, source["root"]))
    source["where"] = wl.source or "<workload>"
    if source["format"] == "synthetic":  # the first input.classes motion classes, labels 0..classes-1
        source["classes"] = wl.input.classes
    frames, labels, desc = load_frames(source, wl.input.T, tuple(wl.input.shape), n, seed)
    x = np.moveaxis(frames, 0, 1).astype(np.float32)
    if wl.input.encoding == "spikes":
        x = (x > 0).astype(np.float32)
    return x, labels, desc


def load_or_init_weights(wl: Workload, net: Net, path: str | None, seed: int) -> tuple[dict, str]:
    """Weights of ``net`` from a W.npz, else the NIR graph's of ``network.nir`` (docs/nir.md),
    else the seeded initialisation of ``training.init``; and which."""
    if path:
        p = resolve(wl, path)
        if not p.exists():
            raise UserError(wl.source or "<workload>", "activity.weights", f"weights file '{path}' not found (looked at {p})")
        return load_weights(p, net), f"weights {p}"
    if wl.network.nir is not None:
        return nir_weights(wl.network.nir, wl.network.dt, net), f"weights of the NIR graph {wl.network.nir}"
    return init_scheme(net, seed, wl.training.init), f"{wl.training.init} initialisation, seed {seed}"


def nir_weights(path: str, dt: float, net: Net) -> dict[str, np.ndarray]:
    """The weights of the NIR graph ``path`` (docs/nir.md) for ``net``, the network a workload's
    ``network.nir`` made of it: float64, keyed and shaped as :func:`weight_shapes`."""
    imp = graph_to_network(read_graph(path), dt, str(path))
    shapes = weight_shapes(net)
    if set(shapes) != set(imp.weights) or any(imp.weights[k].shape != tuple(s) for k, s in shapes.items()):
        raise UserError(str(path), "", "the graph's weights do not fit the workload's network (keys "
                        f"{sorted(imp.weights)}, the network needs {sorted(shapes)}); with network.nir, "
                        "weight_standardisation and width_multiplier must stay off")
    return imp.weights


def measured_profile(wl: Workload, net: Net, spec: MeasuredActivity, batch: int = 64) -> ActivityProfile:
    """Per-layer, per-step counts averaged over ``spec.samples`` samples of a real forward pass,
    and the learning operands of every enabled rule (:func:`profile_of`)."""
    x, labels, data_desc = load_samples(wl, spec.samples, spec.seed, spec.data)
    weights, w_desc = load_or_init_weights(wl, net, spec.weights, spec.seed)
    return profile_of(wl, net, weights, x, labels, f"measured: {x.shape[1]} samples of {data_desc}; {w_desc}", batch)


def profile_of(wl: Workload, net: Net, weights: dict, x: np.ndarray, labels: np.ndarray, description: str,
               batch: int = 64) -> ActivityProfile:
    """The measured profile of inputs ``x [T, n, *input_shape]`` with ``labels [n]``: the forward
    counts (:func:`~simulator.functional.activity.measure_activity`) and the learning operands of
    the workload's enabled rules (:func:`~simulator.functional.operands.measure_operands`, the
    labels drive their learning signals), averaged per sample over chunks of ``batch``."""
    rules = [r for r in wl.rules.enabled() if r in OPERAND_RULES]
    params = {r: rule_params(wl, r) for r in rules}
    n = x.shape[1]
    sums: dict[str, dict[str, np.ndarray]] = {}
    for i in range(0, n, batch):
        chunk = x[:, i:i + batch]
        got = (measure_operands(net, weights, chunk, labels[i:i + batch], params, rules) if rules
               else measure_activity(net, weights, chunk))
        for layer, counts in got.items():
            acc = sums.setdefault(layer, {})
            for k, v in counts.items():
                acc[k] = acc.get(k, 0.0) + v * chunk.shape[1]
    layers = layer_from_counts(net, {name: {k: v / n for k, v in c.items()} for name, c in sums.items()})
    return ActivityProfile("measured", description, layers)
