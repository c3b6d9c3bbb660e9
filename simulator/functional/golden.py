"""Golden-model API: weight gradients of one mini-batch in float64, plus validated npz I/O.

``compute_gradients`` returned keys
    ``<layer>``            dL/dW (conv ``[C_out, C_in, k, k]``, linear / readout ``[out, in]``)
    ``<layer>.bias``       dL/db ``[out]`` (layers with a bias)
    ``spikes``             ``[n_blocks, T]`` total pre-pool spikes per block per step, whole batch
  with ``trace=True`` also, per block (all ``[T, batch, ...]``):
    ``<block>.u``          pre-reset membrane u[t]           ``<block>.o``   spikes o[t] (pre-pool)
    ``<block>.psi``        Psi[t]                            ``<block>.z``   output after pools
    ``<block>.m``          learning signal dL/do[t] (BPTT: the exact adjoint of o[t];
                           local rules: zero outside the learning window)
    ``<block>.delta``      BPTT only: dL/du[t]
    ``<block>.tr_x``       S-TLLR/TESS: pre-synaptic trace (same shape as the block input)
    ``<block>.tr_psi``     S-TLLR/TESS: post-synaptic trace tr_Psi[t] (zeros if alpha_post = 0)
    ``<block>.p``          TESS: local logits ``[T, batch, n_classes]`` (zero outside the window)
    ``<readout>.y``        readout ``[T, batch, n_classes]``
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.atomic import atomic_output
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.functional.network import forward, weight_shapes
from tess_sim.simulator.functional.npz import NpzArchive
from tess_sim.simulator.functional.rules import ALIASES, GRADIENTS, RuleParams, gradients
from tess_sim.simulator.network import Net


def compute_gradients(net: Net, rule: str, params: RuleParams, weights: dict,
                      x: np.ndarray, labels: np.ndarray, dtype=np.float64,
                      trace: bool = False) -> dict:
    """dL/dW of one mini-batch for ``rule`` in bptt | stllr | tess | readout (see
    :mod:`simulator.functional.rules`).  ``x [T, batch, *input_shape]``, ``labels [batch]``
    (ints in 0..n_classes-1).  ``net`` is a resolved network (:func:`simulator.network.build_network`
    validated its shapes).  Returns the dict documented in this module."""
    rule = ALIASES.get(rule, rule)
    if rule not in GRADIENTS:
        raise UserError("rule", "", f"unknown rule {rule!r}; use one of {', '.join(GRADIENTS)}")
    x = np.asarray(x)
    labels = np.asarray(labels)
    if x.ndim != 2 + len(net.input_shape) or tuple(x.shape[2:]) != tuple(net.input_shape):
        raise UserError("data", "x", f"shape {x.shape} is not [T, batch, *{net.input_shape}]")
    if labels.shape != (x.shape[1],):
        raise UserError("data", "labels", f"shape {labels.shape}, expected ({x.shape[1]},)")
    for key, shape in weight_shapes(net).items():
        if key not in weights:
            raise UserError("weights", key, f"missing; expected shape {list(shape)}")
        if tuple(np.shape(weights[key])) != tuple(shape):
            raise UserError("weights", key,
                            f"has shape {list(np.shape(weights[key]))}, expected {list(shape)}")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # see check_finite_gradients
        grads, info = gradients(net, rule, params, weights, x, labels, dtype, trace)
    out = dict(grads)
    out["spikes"] = info["spikes"]
    if trace:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            records, y = forward(net, weights, x, dtype)
        for b, rec in zip(net.blocks, records):
            out[b.name + ".u"] = rec.u
            out[b.name + ".o"] = rec.o
            out[b.name + ".psi"] = rec.psi
            out[b.name + ".z"] = rec.z
        out[net.readout.name + ".y"] = y
        for k, v in info.items():
            if "." in k:
                out[k] = v
    return out


def _check_finite(path, key, a):
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise UserError(str(path), key, f"dtype {a.dtype} is not a real number type")
    if not np.all(np.isfinite(a)):
        raise UserError(str(path), key, f"contains {int(np.sum(~np.isfinite(a)))} NaN/inf values")


def load_weights(path, net: Net) -> dict[str, np.ndarray]:
    """Read weights (keys as :func:`~simulator.functional.network.weight_shapes`) as float64;
    raises ``UserError(path, key, reason)`` on a missing / unexpected key, wrong shape or NaN.
    Every member's shape is checked from its header before any data is read."""
    shapes = weight_shapes(net)
    with NpzArchive(path) as npz:
        extra = sorted(set(npz.keys) - set(shapes))
        if extra:
            raise UserError(str(path), extra[0], f"unexpected array; the network has {', '.join(shapes)}")
        headers = {}
        for key, shape in shapes.items():
            if key not in npz.keys:
                raise UserError(str(path), key, f"missing; expected an array of shape {list(shape)}")
            h = headers[key] = npz.header(key)
            if h.shape != tuple(shape):
                raise UserError(str(path), key, f"has shape {list(h.shape)}, expected {list(shape)}")
        out = {}
        for key, h in headers.items():
            a = npz.read(key, h)
            _check_finite(path, key, a)
            out[key] = a.astype(np.float64)
    return out


def load_data(path, net: Net, T: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read ``x [T, batch, *input_shape]`` (float64) and ``labels [batch]`` (int64) from an npz;
    checks shapes (from the headers, before reading), T, batch ≥ 1, NaNs and that labels are
    integers in 0..n_classes-1."""
    with NpzArchive(path) as npz:
        for key in ("x", "labels"):
            if key not in npz.keys:
                raise UserError(str(path), key, "missing (the data file needs 'x' and 'labels')")
        hx = npz.header("x")
        want = "[" + ", ".join(["T", "batch", *map(str, net.input_shape)]) + "]"
        if len(hx.shape) != 2 + len(net.input_shape) or hx.shape[2:] != tuple(net.input_shape):
            raise UserError(str(path), "x", f"has shape {list(hx.shape)}, expected {want}")
        if T is not None and hx.shape[0] != T:
            raise UserError(str(path), "x", f"has {hx.shape[0]} time steps, the workload has T = {T}")
        if hx.shape[0] == 0 or hx.shape[1] == 0:
            raise UserError(str(path), "x", f"has shape {list(hx.shape)}: needs at least one time step and "
                            "one sample")
        npz.check_size("x", hx)
        hl = npz.header("labels")
        if hl.shape != (hx.shape[1],):
            raise UserError(str(path), "labels", f"has shape {list(hl.shape)}, expected [{hx.shape[1]}]")
        x, lab = npz.read("x", hx), npz.read("labels", hl)
    _check_finite(path, "x", x)
    _check_finite(path, "labels", lab)
    if np.any(lab != np.round(lab)):
        raise UserError(str(path), "labels", "must be integers")
    n = net.readout.N_pre
    if lab.size and (lab.min() < 0 or lab.max() >= n):
        raise UserError(str(path), "labels", f"must lie in 0..{n - 1}")
    return x.astype(np.float64), lab.astype(np.int64)


def check_finite_gradients(grads: dict, data_path, weights_path) -> None:
    """Every output array finite, before anything is written: finite but extreme inputs can
    still overflow float64 (UserError naming the data file, the first bad array and the cause)."""
    for key, a in grads.items():
        a = np.asarray(a)
        if np.issubdtype(a.dtype, np.number) and not np.all(np.isfinite(a)):
            raise UserError(str(data_path), "x", f"the gradient '{key}' has {int(np.sum(~np.isfinite(a)))} "
                            f"non-finite values: these inputs (with weights {weights_path}) overflow float64; "
                            "scale x or the weights down")


def save_npz_atomic(path, arrays: dict) -> None:
    """Write an uncompressed npz atomically (readers never see a partial file)."""
    with atomic_output(path) as fh:
        np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})
