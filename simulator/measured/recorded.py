"""Activity recorded elsewhere: per-layer spike tensors (from snnTorch / SpikingJelly / Norse hooks,
or a chip) turned into the exact counts of a measured profile (docs/functional.md, Recorded
activity; ``tess-sim activity from-npz``).

A recording is an ``.npz`` archive with

- ``input``              ``[T, batch, *input_shape]`` the network's input (spikes or analog values)
- ``<block>``            ``[T, batch, *neurons]`` 0/1 spikes of each spiking block, before its pools,
                         neurons in (C, H, W) order (a flat ``[T, batch, N]`` is accepted)
- ``<block>.membrane``   optional, same shape: the pre-reset membrane u[t] (what snnTorch's Leaky
                         returns) — gives ``psi_nonzero`` and ``membrane_updates`` exactly

Each block's input is the previous block's spikes through its pools (exactly as the functional
engine passes them), so the counts come from the spike positions: non-zero inputs, their
border-exact synaptic fan-out, non-zero outputs after the pools (the same counting code as
measured activity, :func:`~simulator.functional.activity.forward_counts`), per step and per
sample (averaged over the batch).
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.activity import ActivityProfile, layer_from_counts
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.functional.activity import forward_counts
from tess_sim.simulator.functional.network import BlockRecord
from tess_sim.simulator.functional.neuron import psi
from tess_sim.simulator.functional.npz import NpzArchive
from tess_sim.simulator.functional.pool import pools_forward
from tess_sim.simulator.network import Net

MEMBRANE = ".membrane"


def recorded_counts(net: Net, x: np.ndarray, spikes: dict[str, np.ndarray],
                    membranes: dict[str, np.ndarray] | None = None, where: str = "<recording>") -> dict:
    """Per layer, the counts of :func:`~simulator.functional.activity.forward_counts` (and
    ``psi_nonzero`` where a membrane is given) of a recording: ``x [T, B, *input_shape]``,
    ``spikes[block] [T, B, *neurons]`` (0/1), ``membranes[block]`` the same shape (pre-reset u)."""
    membranes = membranes or {}
    T, B = x.shape[:2]
    records, h = [], x
    for b in net.blocks:
        o = _shaped(spikes[b.name], (T, B) + b.pre_shape, where, b.name)
        if not np.isin(o, (0, 1)).all():
            bad = o[~np.isin(o, (0, 1))].flat[0]
            raise UserError(where, b.name, f"spikes must be 0 or 1, found {bad.item():g}")
        u = membranes.get(b.name)
        u = None if u is None else _shaped(u, o.shape, where, b.name + MEMBRANE)
        if b.kind == "linear":
            h = h.reshape(T, B, -1)
        z, _ = pools_forward(o.reshape((T * B,) + o.shape[2:]), b.pools)
        z = z.reshape((T, B) + z.shape[1:])
        ps = None if u is None else psi(u, b.neuron)
        records.append(BlockRecord(h, u, o, o, ps, z))
        h = z
    counts = forward_counts(net, records)
    for b, rec in zip(net.blocks, records):
        if rec.psi is not None:
            counts[b.name]["psi_nonzero"] = (rec.psi != 0).reshape(T, -1).sum(axis=1) / B
    return counts


def _shaped(a: np.ndarray, shape: tuple[int, ...], where: str, key: str) -> np.ndarray:
    """``a`` as ``shape`` (a flat trailing axis of the right size is accepted), else a UserError."""
    if a.shape[:2] != shape[:2] or int(np.prod(a.shape[2:])) != int(np.prod(shape[2:])):
        raise UserError(where, key, f"has shape {list(a.shape)}, expected {list(shape)} ([T, batch, ...] of the "
                        "input's T and batch)")
    return a.reshape(shape)


def load_recording(path, net: Net) -> tuple[np.ndarray, dict, dict]:
    """Read a recording archive (module docstring) for ``net``: ``(x, spikes, membranes)`` as
    float64; every mistake (missing or unknown member, shapes, T, NaN) is a UserError naming the
    file and the member. Shapes are checked from the headers before any data is read."""
    where = str(path)
    blocks = {b.name: b for b in net.blocks}
    with NpzArchive(path) as npz:
        keys = set(npz.keys)
        known = {"input"} | set(blocks) | {n + MEMBRANE for n in blocks}
        extra = sorted(keys - known)
        if extra:
            raise UserError(where, extra[0], f"unexpected array (a recording has input, {', '.join(blocks)} and "
                            f"optionally <block>{MEMBRANE})")
        for key in ["input"] + list(blocks):
            if key not in keys:
                raise UserError(where, key, "missing" + (" (the network's input [T, batch, *input_shape])"
                                                         if key == "input" else " (this block's spikes [T, batch, ...])"))
        hx = npz.header("input")
        if len(hx.shape) < 3 or int(np.prod(hx.shape[2:])) != int(np.prod(net.input_shape)):
            raise UserError(where, "input", f"has shape {list(hx.shape)}, expected [T, batch, "
                            f"{', '.join(map(str, net.input_shape))}]")
        if hx.shape[0] != net.T:
            raise UserError(where, "input", f"has {hx.shape[0]} steps; the workload's T is {net.T}")
        if hx.shape[1] < 1:
            raise UserError(where, "input", "has no samples (batch 0)")
        out = {}
        for key in sorted(keys):
            h = npz.header(key)
            if key != "input":
                b = blocks[key.removesuffix(MEMBRANE)]
                if h.shape[:2] != hx.shape[:2] or int(np.prod(h.shape[2:])) != b.N_pre:
                    raise UserError(where, key, f"has shape {list(h.shape)}, expected "
                                    f"{[hx.shape[0], hx.shape[1], *b.pre_shape]} (the input's T and batch; the "
                                    f"workload's {b.name} has {b.N_pre} neurons)")
            npz.check_size(key, h)
            a = npz.read(key, h).astype(np.float64)
            if not np.isfinite(a).all():
                raise UserError(where, key, f"contains {int((~np.isfinite(a)).sum())} NaN/inf values")
            out[key] = a
    x = out.pop("input").reshape((hx.shape[0], hx.shape[1]) + tuple(net.input_shape))
    spikes = {k: v for k, v in out.items() if not k.endswith(MEMBRANE)}
    membranes = {k.removesuffix(MEMBRANE): v for k, v in out.items() if k.endswith(MEMBRANE)}
    return x, spikes, membranes


def recorded_profile(path, net: Net) -> ActivityProfile:
    """The activity profile of a recording file (:func:`load_recording`, :func:`recorded_counts`)."""
    x, spikes, membranes = load_recording(path, net)
    counts = recorded_counts(net, x, spikes, membranes, str(path))
    with_mem = f"; membranes of {', '.join(membranes)}" if membranes else ""
    return ActivityProfile("file", f"recorded: {path} ({x.shape[1]} samples{with_mem})",
                           layer_from_counts(net, counts))
