"""Training checkpoints (:class:`~simulator.functional.train.Checkpoint`) as one ``.npz`` file,
written atomically after every epoch: arrays ``w/<name>`` (weights), ``opt/<i>/<slot>/<name>``
(optimiser ``i``'s per-parameter state, e.g. Adam's ``m`` and ``v``) and ``meta``, a UTF-8 JSON
document (format version, the training's fingerprint, epochs done, the generator's state, each
optimiser's scalar state, the history). No pickles: numbers and strings only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tess_sim.simulator.atomic import atomic_output
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.functional.train import Checkpoint, History

VERSION = 1
_HISTORY = ("train_acc", "test_acc", "loss", "rates", "epoch_seconds")


def save_checkpoint(path, ck: Checkpoint, fingerprint: str) -> None:
    """Write ``ck`` to ``path`` (atomically: a reader sees the previous checkpoint or this one).
    ``fingerprint`` names what was being trained (workload, rule, seed…), checked on resume."""
    arrays = {f"w/{k}": np.asarray(v) for k, v in ck.weights.items()}
    scalars = []
    for i, state in enumerate(ck.optimizers):
        scalar = {}
        for slot, value in state.items():
            if isinstance(value, dict):
                arrays.update({f"opt/{i}/{slot}/{k}": np.asarray(v) for k, v in value.items()})
            else:
                scalar[slot] = value
        scalars.append(scalar)
    meta = {"version": VERSION, "fingerprint": fingerprint, "epoch": ck.epoch, "rng": ck.rng,
            "optimizers": scalars, "slots": [sorted(k for k, v in s.items() if isinstance(v, dict))
                                             for s in ck.optimizers],
            "history": {k: getattr(ck.history, k) for k in _HISTORY}}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with atomic_output(path) as fh:
        np.savez(fh, **arrays)


def load_checkpoint(path, fingerprint: str) -> Checkpoint:
    """The checkpoint at ``path``; a UserError naming the file when it is not one of ours or is
    of another training (its fingerprint differs)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            files = set(z.files)
            meta = json.loads(bytes(z["meta"]).decode())
            weights = {k[2:]: z[k] for k in files if k.startswith("w/")}
            opt_arrays = {k: z[k] for k in files if k.startswith("opt/")}
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise UserError(str(path), "", f"not a readable training checkpoint ({exc}); delete it to start over") from None
    if meta.get("version") != VERSION:
        raise UserError(str(path), "version", f"checkpoint format {meta.get('version')!r}, this version reads {VERSION}")
    if meta.get("fingerprint") != fingerprint:
        raise UserError(str(path), "", "is the checkpoint of another training (workload, rule, seed or settings "
                        "differ); use --restart or another --out")
    optimizers = []
    for i, (scalar, slots) in enumerate(zip(meta["optimizers"], meta["slots"])):
        state = dict(scalar)
        for slot in slots:
            prefix = f"opt/{i}/{slot}/"
            state[slot] = {k[len(prefix):]: v for k, v in opt_arrays.items() if k.startswith(prefix)}
        optimizers.append(state)
    h = meta["history"]
    history = History(**{k: list(h[k]) for k in _HISTORY})
    rng = meta["rng"]
    return Checkpoint(int(meta["epoch"]), weights, optimizers, rng, history)
