"""Training on event data (issue 13, item 2): the synthetic recordings as a train / test split,
checkpoints that resume bit for bit (through the CLI after a Ctrl-C too), the epoch log's spike
rates against a forward pass, and the mistakes a checkpoint can catch."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from tess_sim.api import from_dict
from tess_sim.cli import main
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.functional.network import forward, init_scheme
from tess_sim.simulator.network import build_network
from tess_sim.trainer import cached_training_data, train_workload, training_data

from .conftest import WORKLOADS

TINY = {
    "name": "tinyev", "dataset": "synthetic gestures",
    "input": {"shape": [2, 8, 8], "T": 4, "classes": 3, "batch": 4, "encoding": "spikes"},
    "network": {"weight_standardisation": "scaled", "weight_standardisation_gamma": 2.74,
                "layers": [{"type": "conv", "out_channels": 4, "name": "c1"}, {"type": "maxpool", "kernel": 2},
                           {"type": "conv", "out_channels": 6, "name": "c2"}, {"type": "global_avgpool"},
                           {"type": "readout", "name": "out"}]},
    "rules": {"bptt": {}, "tess": {"lsg_pool": [2, 1]}},
    "data": {"format": "synthetic", "layout": "dvsgesture"},
    "training": {"epochs": 2, "train_samples": 12, "test_samples": 6},
    "hardware": str(WORKLOADS / "hw" / "edge.yaml"),
}


@pytest.fixture(scope="module")
def tiny():
    return from_dict(TINY, "tiny.yaml")


def test_the_synthetic_recordings_split_into_disjoint_train_and_test(tiny):
    got = training_data(tiny, 0)
    d = got.data
    assert got.frames
    assert d.x_train.shape == (12, 4, 2, 8, 8) and d.x_test.shape == (6, 4, 2, 8, 8)
    assert set(np.unique(d.x_train)) <= {0.0, 1.0} and d.x_train.mean() > 0
    assert set(d.y_train) | set(d.y_test) <= {0, 1, 2} and len(set(d.y_train)) == 3
    flat = lambda a: {x.tobytes() for x in a}  # noqa: E731
    assert not flat(d.x_train) & flat(d.x_test)
    assert d.encode(d.x_train[:2]).shape == (4, 2, 2, 8, 8)


def test_a_resumed_training_equals_an_uninterrupted_one(tiny, tmp_path):
    straight = train_workload(tiny, ["tess"], checkpoints=tmp_path / "a").histories["tess"]
    train_workload(tiny, ["tess"], epochs=1, checkpoints=tmp_path / "b")
    seen = []
    resumed = train_workload(tiny, ["tess"], epochs=2, checkpoints=tmp_path / "b",
                             on_resume=lambda r, e: seen.append((r, e))).histories["tess"]
    assert seen == [("tess", 1)]
    for k in straight.weights:
        np.testing.assert_array_equal(resumed.weights[k], straight.weights[k])
    assert resumed.test_acc == straight.test_acc and resumed.loss == straight.loss and resumed.rates == straight.rates


def test_epoch_rates_of_the_control_are_its_forward_pass(tiny):
    """The readout control keeps the hidden weights at initialisation: its epoch's rates are the
    forward pass of those weights over the training samples, whatever the order."""
    h = train_workload(tiny, ["readout"], epochs=1).histories["readout"]
    net = build_network(tiny)
    d = training_data(tiny, 0).data
    records, _ = forward(net, init_scheme(net, 0, "paper"), d.encode(d.x_train))
    np.testing.assert_allclose(h.rates[0], [r.o.mean() for r in records], rtol=1e-6)
    assert 0 < min(h.rates[0])


def test_a_checkpoint_of_other_settings_or_more_epochs_is_refused(tiny, tmp_path):
    train_workload(tiny, ["bptt"], epochs=2, checkpoints=tmp_path)
    other = from_dict({**TINY, "training": {**TINY["training"], "lr": 0.01}}, "tiny.yaml")
    with pytest.raises(UserError, match="checkpoint of another training"):
        train_workload(other, ["bptt"], checkpoints=tmp_path)
    with pytest.raises(UserError, match="has 2 epochs, more than the 1 asked for"):
        train_workload(tiny, ["bptt"], epochs=1, checkpoints=tmp_path)
    train_workload(other, ["bptt"], checkpoints=tmp_path, restart=True)  # --restart starts over


def test_an_interrupted_cli_training_goes_on_from_its_checkpoint(tmp_path, monkeypatch):
    wl_path = tmp_path / "tiny.yaml"
    wl_path.write_text(yaml.safe_dump(TINY))
    args = ["train", str(wl_path), "--rule", "tess", "--out", str(tmp_path / "out")]
    calls = {"n": 0}
    train_module = sys.modules["tess_sim.simulator.functional.train"]  # the package exports the function
    real = train_module.gradients

    def interrupt_in_epoch_two(*a, **k):
        calls["n"] += 1
        if calls["n"] == 4:  # 12 samples / batch 4 = 3 batches an epoch: the first of epoch 2
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(train_module, "gradients", interrupt_in_epoch_two)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 130, r.output
    assert (tmp_path / "out" / "checkpoints" / "tess.npz").exists()
    assert not (tmp_path / "out" / "weights_tess.npz").exists()
    monkeypatch.setattr(train_module, "gradients", real)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "going on from its checkpoint after epoch 1" in r.output
    log = pd.read_csv(tmp_path / "out" / "training_log.csv")
    assert list(log["epoch"]) == [1, 2] and {"rate_c1", "rate_c2", "loss", "test_acc"} <= set(log.columns)
    straight = train_workload(from_dict(TINY, str(wl_path)), ["tess"]).histories["tess"]
    got = np.load(tmp_path / "out" / "weights_tess.npz")
    for k in straight.weights:
        np.testing.assert_array_equal(got[k], straight.weights[k])


def test_the_frames_are_kept_for_the_next_run_and_remade_for_other_settings(tiny, tmp_path):
    cache = tmp_path / "data.npz"
    made = cached_training_data(tiny, 0, cache)
    assert cache.exists() and "frames kept in" not in made.description
    again = cached_training_data(tiny, 0, cache)
    assert "frames kept in" in again.description
    for k in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(again.data, k), getattr(made.data, k))
    other = cached_training_data(tiny, 1, cache)  # another seed: other samples, the cache rewritten
    assert "frames kept in" not in other.description and not np.array_equal(other.data.x_train, made.data.x_train)
