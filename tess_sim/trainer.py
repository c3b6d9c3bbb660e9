"""Train a workload's rules with the functional engine and put accuracy beside cost.

For each rule (and, with ``training.control``, the readout-only control whose hidden weights stay
at their initialisation) the network is trained from the same seeded initialisation on the
workload's data (digits, or event recordings: synthetic by default); then the trained weights run
the test samples to measure activity, and the analytical engine prices one
training sample of that rule under that activity. Cost columns are per sample.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tess_sim.simulator.activity import ActivityProfile, layer_from_counts
from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.summary import summarize
from tess_sim.simulator.engines.analytical import run_analytical
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.functional.activity import measure_activity
from tess_sim.simulator.atomic import atomic_output
from tess_sim.simulator.functional.checkpoint import load_checkpoint, save_checkpoint
from tess_sim.simulator.functional.data import FrameDataset, RateDataset
from tess_sim.simulator.functional.network import init_scheme
from tess_sim.simulator.functional.train import History, train
from tess_sim.simulator.measured.bridge import digits_of, event_samples, load_samples, rule_params
from tess_sim.simulator.network import build_network
from tess_sim.simulator.vocab import RULE_LABELS
from tess_sim.simulator.workload import Workload

CONTROL = "readout"
LABELS = {**RULE_LABELS, CONTROL: "readout only (control)"}


@dataclass
class TrainResult:
    """Per rule: the History, and the table of accuracy beside per-sample cost."""

    histories: dict[str, History]
    table: pd.DataFrame


#: default sizes of an event data set for training, per class
TRAIN_PER_CLASS, TEST_PER_CLASS = 32, 8


@dataclass
class TrainingData:
    """A workload's training set, its description, and whether it is event frames (conv nets:
    BLAS keeps its threads) or rate-coded digits."""

    data: RateDataset | FrameDataset
    description: str
    frames: bool


def data_key(wl: Workload, seed: int) -> str:
    """What a training set depends on: the data section, the input, the sample counts, the seed."""
    tr = wl.training
    return json.dumps({"data": wl.data.model_dump(mode="json") if wl.data else None,
                       "input": wl.input.model_dump(mode="json"), "train": tr.train_samples,
                       "test": tr.test_samples, "seed": seed}, sort_keys=True)


def cached_training_data(wl: Workload, seed: int, cache: Path | None) -> TrainingData:
    """:func:`training_data`, kept in ``cache`` (an npz; event frames only, where making them
    takes a minute: a resumed training reads them back) when its key (:func:`data_key`) matches."""
    key = data_key(wl, seed)
    if cache is not None and cache.exists():
        try:
            with np.load(cache, allow_pickle=False) as z:
                if bytes(z["key"]).decode() == key:
                    ds = FrameDataset(z["x_train"].astype(np.float32), z["y_train"], z["x_test"].astype(np.float32),
                                      z["y_test"])
                    return TrainingData(ds, bytes(z["description"]).decode() + f" (the frames kept in {cache})",
                                        True)
        except (OSError, ValueError, KeyError):
            pass  # unreadable or of other settings: made again and rewritten
    got = training_data(wl, seed)
    if cache is not None and got.frames:
        d = got.data
        small = all(np.array_equal(a, a.astype(np.uint8)) for a in (d.x_train, d.x_test))
        kind = np.uint8 if small else np.float32
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(cache) as fh:
            np.savez(fh, x_train=d.x_train.astype(kind), y_train=d.y_train, x_test=d.x_test.astype(kind),
                     y_test=d.y_test, key=np.frombuffer(key.encode(), np.uint8),
                     description=np.frombuffer(got.description.encode(), np.uint8))
    return got


def training_data(wl: Workload, seed: int) -> TrainingData:
    """The workload's training and test sets.

    * ``digits``: the fixed split (1,347 / 450), rate coded over T; ``training.train_samples`` /
      ``test_samples`` take the first that many of each.
    * event formats (``synthetic`` recordings, the default of the event workloads, or a dataset
      folder): ``train_samples + test_samples`` distinct samples drawn with ``seed`` (synthetic:
      generated from it), framed to ``input.shape`` over T, the first ``train_samples`` for
      training and the rest for test (defaults 32 and 8 per class).
    * ``npz``: a D.npz's first ``train_samples`` samples for training, the rest (or the next
      ``test_samples``) for test.
    """
    where = wl.source or "<workload>"
    tr, d = wl.training, wl.data
    if d is None:
        raise UserError(where, "data", "tess-sim train needs a 'data' section (digits, an event data set, "
                        "synthetic recordings or a D.npz)")
    if d.format == "digits":
        ds = digits_of(wl)
        ntr, nte = tr.train_samples or len(ds.y_train), tr.test_samples or len(ds.y_test)
        ds = RateDataset(ds.x_train[:ntr], ds.y_train[:ntr], ds.x_test[:nte], ds.y_test[:nte], ds.T, ds.test_seed)
        return TrainingData(ds, f"scikit-learn digits, {len(ds.y_train)} train / {len(ds.y_test)} test images, "
                                f"rate-coded over T = {wl.input.T}", False)
    k = wl.input.classes
    ntr = tr.train_samples or TRAIN_PER_CLASS * k
    if d.format == "npz":
        x, labels, desc = load_samples(wl, 10 ** 9, seed, d.path)
        nte = tr.test_samples or max(0, x.shape[1] - ntr)
        if x.shape[1] < ntr + nte or nte < 1:
            raise UserError(where, "training.train_samples", f"{d.path} holds {x.shape[1]} samples: not enough for "
                            f"{ntr} training and {max(nte, 1)} test samples")
    else:
        nte = tr.test_samples or TEST_PER_CLASS * k
        x, labels, desc = event_samples(wl, ntr + nte, seed)
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise UserError(where, "input.classes", f"the data have labels {int(labels.min())}..{int(labels.max())}, "
                        f"outside 0..{k - 1} for {k} classes")
    x = np.moveaxis(x, 1, 0)  # [N, T, *shape]
    ds = FrameDataset(x[:ntr], labels[:ntr], x[ntr:ntr + nte], labels[ntr:ntr + nte])
    return TrainingData(ds, f"{desc}; {ntr} train / {nte} test samples", True)


def measured_with(wl: Workload, net, weights: dict, x: np.ndarray, what: str) -> ActivityProfile:
    """Activity of ``weights`` on inputs ``x [T, N, *shape]``, per sample."""
    return ActivityProfile("measured", what, layer_from_counts(net, measure_activity(net, weights, x)))


def fingerprint(wl: Workload, rule: str, seed: int) -> str:
    """What a checkpoint belongs to: the workload as resolved (overrides included, epochs and the
    command's own choices aside: more epochs go on from a checkpoint), the rule and the seed."""
    dump = wl.model_dump(mode="json")
    dump["training"] = {k: v for k, v in dump["training"].items() if k != "epochs"}
    return json.dumps({"workload": dump, "rule": rule, "seed": seed}, sort_keys=True)


def train_workload(wl: Workload, rules: list[str] | None = None, epochs: int | None = None,
                   seed: int | None = None, on_epoch=None, on_rule=None, checkpoints: Path | None = None,
                   restart: bool = False, on_data=None, on_batch=None, on_resume=None) -> TrainResult:
    """Train every rule in ``rules`` (default: the workload's, plus the control) on
    :func:`training_data`.

    ``checkpoints``: a folder; the event frames are kept there (``data.npz``,
    :func:`cached_training_data`), after every epoch each rule's state is saved there
    (``<rule>.npz``, :mod:`simulator.functional.checkpoint`) and a rule whose checkpoint exists
    goes on from it (``restart``: start over), ``on_resume(rule, epoch)`` saying so. A rule whose
    checkpoint already has ``epochs`` epochs is not trained again.

    ``on_data(description, training samples)`` once the data are ready; ``on_batch(rule, samples)`` after each
    mini-batch; ``on_epoch(rule, epoch, history)`` after each epoch (its checkpoint saved);
    ``on_rule(rule, history, table)`` after each rule, with the table of the rules finished so far
    (to save them as they finish, so that an interrupted training keeps them)."""
    where = wl.source or "<workload>"
    tr = wl.training
    epochs = epochs or tr.epochs
    seed = tr.seed if seed is None else seed
    enabled = list(wl.rules.enabled())
    if rules is None:
        rules = enabled + ([CONTROL] if tr.control else [])
    for r in rules:
        if r not in enabled + [CONTROL]:
            raise UserError("--rule", "", f"rule '{r}' is not in the workload (enabled: {', '.join(enabled)}, "
                            f"or '{CONTROL}' for the readout-only control)")
    net = build_network(wl, where)
    got = cached_training_data(wl, seed, None if checkpoints is None else Path(checkpoints) / "data.npz")
    data = got.data
    if on_data:
        on_data(got.description, len(data.y_train))
    w0 = init_scheme(net, seed, tr.init)
    x_test = data.test_spikes()
    histories, rows = {}, []
    for r in rules:
        optimizer = wl.rules.enabled()[r].optimizer if r != CONTROL else "adam"
        key = fingerprint(wl, r, seed)
        path = None if checkpoints is None else Path(checkpoints) / f"{r}.npz"
        resume = None
        if path is not None and path.exists() and not restart:
            resume = load_checkpoint(path, key)
            if resume.epoch > epochs:
                raise UserError(str(path), "", f"the checkpoint of {r} has {resume.epoch} epochs, more than the "
                                f"{epochs} asked for; ask for at least {resume.epoch} or use --restart")
            if on_resume:
                on_resume(r, resume.epoch)

        def epoch_done(ck, r=r, path=path, key=key):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                save_checkpoint(path, ck, key)
            if on_epoch:
                on_epoch(r, ck.epoch, ck.history)

        batch_cb = (lambda n, r=r: on_batch(r, n)) if on_batch else None
        h = train(net, r, rule_params(wl, r), data, epochs, tr.batch or wl.input.batch, tr.lr,
                  optimizer, seed=seed, weights=w0, blas_threads=None if got.frames else 1,
                  resume=resume, on_checkpoint=epoch_done, on_batch=batch_cb)
        histories[r] = h
        act = measured_with(wl, net, h.weights, x_test, f"measured: {x_test.shape[1]} test samples, trained {r} weights")
        cost_rule = r if r != CONTROL else enabled[0]
        priced = [rule for rule in build_rules(wl, net, where) if rule.name == cost_rule]
        s = summarize(run_analytical(priced, act, wl.hardware.precision, wl.input.batch), priced).iloc[0]
        rows.append({"rule": r, "label": LABELS[r], "epochs": epochs, "train_acc": h.train_acc[-1],
                     "test_acc": h.test_acc[-1], "seconds": h.seconds,
                     "learning_ops_M": s["ops_learning"] / 1e6 if r != CONTROL else np.nan,
                     "total_ops_M": s["ops_total"] / 1e6 if r != CONTROL else np.nan,
                     "paper_mac_M": s["paper_mac_M"] if r != CONTROL else np.nan,
                     "full_memory_MB": s["full_memory_MB"] if r != CONTROL else np.nan,
                     "spike_rate": float(np.mean(list(act.rates(net).values())))})
        if on_rule:
            on_rule(r, h, pd.DataFrame(rows).set_index("rule"))
    return TrainResult(histories, pd.DataFrame(rows).set_index("rule"))

