"""W.npz and D.npz for a workload (``tess-sim data npz``): the inputs ``tess-sim grad`` reads.

* W.npz: the workload's seeded initialisation (``training.init``, as ``train`` and measured
  activity start from), one array per weighted layer keyed by its name, ``<name>.bias`` for
  biases — the keys and shapes of :func:`~simulator.functional.network.weight_shapes`.
* D.npz: ``x [T, batch, *input_shape]`` float32 and ``labels [batch]`` int64 from the workload's
  ``data`` section (as measured activity reads it: :func:`~simulator.measured.bridge.load_samples`).
  Without a data section: seeded synthetic DVS recordings (the event generator, the first
  ``input.classes`` motion classes) when the input is event frames ``[2, H <= 128, W <= 128]``,
  else seeded uniform values in [0, 1) (``encoding: analog``) or Bernoulli(0.2) spikes, with
  labels ``i % classes``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.loader import load_frames
from tess_sim.simulator.functional.golden import save_npz_atomic
from tess_sim.simulator.measured.bridge import load_or_init_weights, load_samples
from tess_sim.simulator.network import build_network

MAX_DATA_BYTES = 1 << 30        # D.npz's x, float32


def _where(wl) -> str:
    return wl.source or "<workload>"


def make_weights(wl, seed: int | None = None) -> tuple[dict[str, np.ndarray], str]:
    """The initial weights of ``wl`` (seed default ``training.seed``) and how they were made."""
    seed = wl.training.seed if seed is None else int(seed)
    return load_or_init_weights(wl, build_network(wl, _where(wl)), None, seed)


def make_data(wl, samples: int | None = None,
              seed: int | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """``(x [T, n, *input_shape] float32, labels [n] int64, description)``; ``n`` defaults to
    ``input.batch``, the seed to ``training.seed``."""
    n = wl.input.batch if samples is None else int(samples)
    seed = wl.training.seed if seed is None else int(seed)
    shape, T, classes = tuple(wl.input.shape), wl.input.T, wl.input.classes
    nbytes = 4 * T * n * int(np.prod(shape, dtype=object))
    if nbytes > MAX_DATA_BYTES:
        raise UserError(_where(wl), "samples", f"x [{T}, {n}, {', '.join(map(str, shape))}] would "
                        f"take {nbytes / 2**30:.1f} GiB (limit 1 GiB); use fewer samples")
    if wl.data is not None:
        x, labels, desc = load_samples(wl, n, seed)
    elif len(shape) == 3 and shape[0] == 2 and shape[1] <= 128 and shape[2] <= 128:
        x, labels, desc = _synthetic_events(wl, n, seed)
    else:
        rng = np.random.default_rng(seed)
        x = rng.random((T, n) + shape, dtype=np.float32)
        if wl.input.encoding == "spikes":
            x = (x < 0.2).astype(np.float32)
        labels = np.arange(n) % classes
        desc = (f"no data section: seeded {'uniform [0, 1)' if wl.input.encoding == 'analog' else 'Bernoulli(0.2) spike'} "
                f"inputs, labels i % {classes}, seed {seed}")
    labels = np.asarray(labels, dtype=np.int64)
    n_out = build_network(wl, _where(wl)).readout.N_pre
    if labels.size and int(labels.max()) >= n_out:
        raise UserError(_where(wl), "data", f"the data has labels up to {int(labels.max())}, the "
                        f"readout has {n_out} classes")
    return np.ascontiguousarray(x, dtype=np.float32), labels, desc


def _synthetic_events(wl, n: int, seed: int):
    """Synthetic DVS Gesture recordings framed to the input (binarised for spike input)."""
    k = min(wl.input.classes, 11)
    frames, labels, desc = load_frames({"format": "synthetic", "classes": k, "where": _where(wl)},
                                       wl.input.T, tuple(wl.input.shape), n, seed)
    x = np.moveaxis(frames, 0, 1)
    if wl.input.encoding == "spikes":
        x = (x > 0).astype(np.float32)
    return x, labels, f"no data section: {desc}"


def save_checked(path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to the npz ``path`` atomically after checking every value is finite;
    a bad path (a folder, a read-only or missing place) is a :class:`UserError`."""
    for k, a in arrays.items():
        if not np.all(np.isfinite(a)):
            raise UserError(str(path), k, "non-finite values; nothing written")
    p = Path(path)
    if p.is_dir():
        raise UserError(str(path), "", "is a folder; give a file name such as W.npz")
    try:
        save_npz_atomic(p, arrays)
    except OSError as exc:
        raise UserError(str(path), "", f"cannot write: {exc.strerror or exc}") from None
