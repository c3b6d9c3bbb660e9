"""Measured activity of a forward pass: events, effective synaptic operations, spikes.

All counts are per step ``[T]``, averaged per sample (summed over the batch, divided by it).
``syn_ops`` counts, for each non-zero input element, its border-exact fan-out: the number of
output neurons whose receptive field contains that element (padding is not an input, so an
element near a border reaches fewer output positions).  Analog inputs count the same way.
The fan-out map is separable, ``C_out * fan_h[h] * fan_w[w]``: the network's own
:meth:`~simulator.network.Block.fanout_plane` (so its sum over a map of ones is ``Block.S``).
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.functional.network import forward, samples_per_chunk
from tess_sim.simulator.functional.neuron import reset_value
from tess_sim.simulator.network import Block, Net


def fanout_map(block: Block) -> np.ndarray:
    """Synaptic fan-out of each input element: conv ``[H, W]`` (same for every channel),
    linear and readout a scalar array (= out features)."""
    if block.kind != "conv":
        return np.asarray(block.N_pre)
    return block.fanout_plane()


def _events_ops(x: np.ndarray, fan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x [T, B, *shape] -> (in_events [T], syn_ops [T]) per sample."""
    t, b = x.shape[:2]
    nz = (x != 0)
    ev = nz.reshape(t, -1).sum(axis=1) / b
    if fan.ndim == 0:
        ops = ev * float(fan)
    else:  # [T,B,C,H,W] against [H,W]
        per_pos = nz.sum(axis=(1, 2))  # [T, H, W] non-zero count per position
        ops = np.tensordot(per_pos.astype(np.float64), fan.astype(np.float64),
                           axes=([1, 2], [0, 1])) / b
    return ev.astype(np.float64), ops


def measure_activity(net: Net, weights: dict, x: np.ndarray, dtype=np.float32) -> dict:
    """Forward ``x [T, B, *input_shape]`` and count, per block name: ``in_events``,
    ``syn_ops``, ``out_spikes`` (pre-pool), ``post_events`` (non-zero outputs after pools);
    under the readout name: ``in_events`` and ``syn_ops``.  Each a float64 array ``[T]``, per
    sample. The samples run in chunks whose records fit
    :data:`~simulator.functional.network.CHUNK_BYTES` (the per-sample averages combined)."""
    n = x.shape[1]
    step = samples_per_chunk(net, x.shape[0])
    if n > step:
        parts = [(min(step, n - i), measure_activity(net, weights, x[:, i:i + step], dtype)) for i in range(0, n, step)]
        return {name: {k: sum(m * got[name][k] for m, got in parts) / n for k in parts[0][1][name]}
                for name in parts[0][1]}
    records, _ = forward(net, weights, x, dtype)
    return forward_counts(net, records)


def membrane_updates(u: np.ndarray, o: np.ndarray, p) -> np.ndarray:
    """NeuroBench's ``MembraneUpdates`` per step, per sample: from the pre-reset membrane
    ``u [T, B, ...]`` and spikes ``o``, the post-reset membrane u+[t]; at t = 0 every neuron
    counts, at t ≥ 1 the neurons with u+[t] ≠ u+[t-1] (float64 ``[T]``)."""
    t, b = u.shape[:2]
    up = u - reset_value(p) * o if p.reset == "subtract" else u * (1 - o)
    out = np.empty(t)
    out[0] = up[0].size / b
    if t > 1:
        out[1:] = (up[1:] != up[:-1]).reshape(t - 1, -1).sum(axis=1) / b
    return out


def forward_counts(net: Net, records) -> dict:
    """The counts of :func:`measure_activity` from a forward pass's ``records`` (per sample);
    per block also ``membrane_updates`` (:func:`membrane_updates`)."""
    out = {}
    for b, rec in zip(net.blocks, records):
        t, bt = rec.o.shape[:2]
        ev, ops = _events_ops(rec.x, fanout_map(b))
        out[b.name] = {
            "in_events": ev,
            "syn_ops": ops,
            "out_spikes": rec.o.reshape(t, -1).sum(axis=1).astype(np.float64) / bt,
            "post_events": (rec.z != 0).reshape(t, -1).sum(axis=1).astype(np.float64) / bt,
        }
        if rec.u is not None:  # a recording may come without membranes
            out[b.name]["membrane_updates"] = membrane_updates(rec.u, rec.o, b.neuron)
    z = records[-1].z
    ev, ops = _events_ops(z.reshape(z.shape[0], z.shape[1], -1), fanout_map(net.readout))
    out[net.readout.name] = {"in_events": ev, "syn_ops": ops}
    return out
