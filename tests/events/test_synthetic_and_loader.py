"""Synthetic recordings (deterministic, realistic), dataset layouts and load_frames."""

import numpy as np
import pytest

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events import aedat31, load_frames, read_labels
from tess_sim.simulator.events import dataset, synthetic


def test_generate_is_deterministic_and_plausible():
    a = synthetic.generate(4, seed=7, duration_us=200_000)
    b = synthetic.generate(4, seed=7, duration_us=200_000)
    c = synthetic.generate(4, seed=8, duration_us=200_000)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    for lab in range(synthetic.N_CLASSES):
        ev = synthetic.generate(lab, seed=lab, duration_us=200_000)
        assert np.all(np.diff(ev["t"]) >= 0)
        assert ev["t"].min() >= 0 and ev["t"].max() < 200_000
        assert ev["x"].max() < 128 and ev["y"].max() < 128 and ev["x"].min() >= 0
        rate = len(ev) / 0.2
        assert 3e4 < rate < 2e6, (lab, rate)      # DVS Gesture-like: ~1e5 events/s
        assert 0.15 < ev["p"].mean() < 0.85        # both polarities


def test_motion_direction_is_visible():
    # class 0 moves right, class 1 left: ON events' mean x drifts in that direction early on
    def drift(lab):
        ev = synthetic.generate(lab, seed=3, duration_us=100_000, noise_hz=0)
        on = ev[ev["p"] == 1]
        half = len(on) // 2
        return on["x"][half:].mean() - on["x"][:half].mean()
    assert drift(0) * drift(1) < 0


def test_dvsgesture_folder_round_trip(tmp_path):
    synthetic.write_dvsgesture(tmp_path, 13, seed=1, gesture_us=100_000, gap_us=20_000)
    ds = dataset.scan("dvsgesture", tmp_path)
    assert len(ds.samples) == 13 and len({s.path for s in ds.samples}) == 2
    assert sorted(s.label for s in ds.samples[:11]) == list(range(11))
    fr, lab, desc = load_frames({"format": "dvsgesture", "root": str(tmp_path)}, 5,
                                (2, 32, 32), 13, seed=0)
    assert fr.shape == (13, 5, 2, 32, 32) and fr.dtype == np.float32
    # independent expectation: events inside each label row, from the reader + CSV
    expected = {}
    for f in sorted(tmp_path.glob("*.aedat")):
        ev = aedat31.read(f)
        for c, s, e in read_labels(f.with_name(f.stem + "_labels.csv")):
            expected.setdefault(int(c) - 1, []).append(int(((ev["t"] >= s) & (ev["t"] < e)).sum()))
    got = {}
    for k in range(13):
        got.setdefault(int(lab[k]), []).append(int(fr[k].sum()))
    assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in expected.items()}
    assert "13 of 13 samples" in desc


@pytest.mark.parametrize("layout", ["cifar10dvs", "npy"])
def test_class_folder_layouts(tmp_path, layout):
    paths = synthetic.write_class_folders(tmp_path, 6, seed=2, fmt=layout, duration_us=50_000)
    ds = dataset.scan(layout, tmp_path)
    assert len(ds.samples) == 6
    fr, lab, _ = load_frames({"format": layout, "root": str(tmp_path), "mode": "count"}, 4,
                             (2, 48, 48), 6, seed=5)
    by_path = {s.path: s.label for s in ds.samples}
    totals = sorted(int(f.sum()) for f in fr)
    direct = sorted(len(dataset.read_file(layout, p)) for p in paths)
    assert totals == direct
    assert sorted(lab.tolist()) == sorted(by_path.values())


def test_synthetic_source_is_deterministic():
    a = load_frames({"format": "synthetic", "duration_us": 60_000}, 4, (2, 32, 32), 3, seed=4)
    b = load_frames({"format": "synthetic", "duration_us": 60_000}, 4, (2, 32, 32), 3, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[0].shape == (3, 4, 2, 32, 32) and a[0].sum() > 0
    c = load_frames({"format": "synthetic", "layout": "cifar10dvs", "duration_us": 60_000,
                     "bin_us": 10_000, "last": "drop"}, 8, (2, 48, 48), 2, seed=4)
    assert c[0].shape == (2, 8, 2, 48, 48)
    assert c[0][:, 6:].sum() == 0        # 60 ms in 10 ms bins: frames 6, 7 are padding


@pytest.mark.parametrize("source,args,match", [
    ({"format": "dvs"}, {}, "source.format: unknown event data format"),
    ({"format": "synthetic", "colour": 1}, {}, "source.colour: unknown option"),
    ({"format": "synthetic"}, {"shape": (3, 32, 32)}, "shape: event frames have 2 channels"),
    ({"format": "synthetic"}, {"shape": (2, 256, 32)}, "shape: H and W must be in 1..128"),
    ({"format": "synthetic"}, {"T": 0}, "T: must be an integer >= 1"),
    ({"format": "synthetic", "mode": "count", "bin_us": 5}, {}, "source.bin_us: only applies"),
    ({"format": "synthetic", "last": "pad"}, {}, "source.last: must be one of"),
    ({"format": "dvsgesture"}, {}, "source.root: format dvsgesture needs a root"),
    ({"format": "npy", "root": "/nonexistent/x"}, {}, "root: no such folder"),
    ({"format": "cifar10dvs", "root": ".", "convention": "flipped"}, {},
     "source.convention: must be one of raw, spikingjelly, dat2mat"),
    ({"format": "synthetic", "duration_us": -5}, {}, "source.duration_us: must be an integer"),
])
def test_load_frames_validation(source, args, match):
    kw = dict(T=4, shape=(2, 32, 32), n_samples=2, seed=0)
    kw.update(args)
    with pytest.raises(UserError, match=match):
        load_frames(source, **kw)


def test_too_many_samples(tmp_path):
    synthetic.write_class_folders(tmp_path, 2, seed=2, fmt="npy", duration_us=20_000)
    with pytest.raises(UserError, match="n_samples: 3 samples requested"):
        load_frames({"format": "npy", "root": str(tmp_path)}, 2, (2, 32, 32), 3, 0)


def test_dvsgesture_split_files(tmp_path):
    synthetic.write_dvsgesture(tmp_path, 14, seed=1, gesture_us=20_000, gap_us=5_000)
    (tmp_path / "trials_to_train.txt").write_text("user01_synthetic.aedat\n")
    (tmp_path / "trials_to_test.txt").write_text("user02_synthetic.aedat\n")
    assert len(dataset.scan("dvsgesture", tmp_path, "train").samples) == 11
    assert len(dataset.scan("dvsgesture", tmp_path, "test").samples) == 3
    fr, lab, _ = load_frames({"format": "dvsgesture", "root": str(tmp_path), "split": "test"},
                             2, (2, 32, 32), 3, 0)
    assert fr.shape[0] == 3
    with pytest.raises(UserError, match="split: split must be one of"):
        dataset.scan("dvsgesture", tmp_path, "val")
    (tmp_path / "trials_to_train.txt").unlink()
    with pytest.raises(UserError, match="split: split 'train' needs trials_to_train.txt"):
        dataset.scan("dvsgesture", tmp_path, "train")
