"""Synthetic recordings (deterministic, realistic), dataset layouts and load_frames."""

import struct

import numpy as np
import pytest

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events import aedat31, load_frames, read_labels, write_labels
from tess_sim.simulator.events import dataset, synthetic

from .conftest import reference_load


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


@pytest.fixture(scope="module")
def gestures(tmp_path_factory):
    """25 gestures of 80 ms in 3 recordings (11, 11, 3), as `tess-sim data synth` writes them."""
    root = tmp_path_factory.mktemp("gestures")
    synthetic.write_layout(root, "dvsgesture", 25, 3, 80_000, 10_000, None)
    return root


@pytest.mark.parametrize("options,T,shape,n,seed", [
    ({}, 20, (2, 32, 32), 25, 0),
    ({}, 3, (2, 128, 128), 7, 1),
    ({"bin_us": 7_000}, 14, (2, 48, 48), 25, 2),            # fixed bins, last partial included
    ({"bin_us": 9_999, "last": "drop"}, 5, (2, 7, 5), 25, 3),  # cut to T
    ({"bin_us": 30_000}, 9, (2, 16, 16), 4, 4),              # padded to T
    ({"mode": "count"}, 6, (2, 32, 32), 25, 5),              # reference path
    ({"mode": "count", "events_per_frame": 500}, 8, (2, 24, 24), 11, 6),
    ({"split": "train"}, 4, (2, 32, 32), 11, 7),
])
def test_dvsgesture_frames_equal_the_reference_path(gestures, options, T, shape, n, seed):
    """Bit-identical frames and labels to read_file + window mask + frame_events per sample."""
    if "split" in options:
        (gestures / "trials_to_train.txt").write_text("user02_synthetic.aedat\n")
    src = {"format": "dvsgesture", "root": str(gestures), **options}
    fr, lab, _ = load_frames(src, T, shape, n, seed)
    ref_fr, ref_lab = reference_load(src, T, shape, n, seed)
    assert fr.dtype == np.float32 and np.array_equal(fr, ref_fr) and np.array_equal(lab, ref_lab)
    assert fr.sum() > 0


def test_dvsgesture_time_mode_takes_the_fused_path(gestures, monkeypatch):
    """Valid recordings in time mode are framed without decoding them into events (a silent
    fallback to the slower reference path would pass the equality test above)."""
    calls = []
    real = dataset.read_file
    monkeypatch.setattr(dataset, "read_file", lambda *a, **k: calls.append(a) or real(*a, **k))
    fr, _, _ = load_frames({"format": "dvsgesture", "root": str(gestures)}, 20, (2, 32, 32), 25, 0)
    assert calls == [] and fr.sum() > 0
    load_frames({"format": "dvsgesture", "root": str(gestures), "mode": "count"}, 4, (2, 8, 8),
                25, 0)
    assert len(calls) == 3          # the reference path: each recording decoded once


def test_dvsgesture_invalid_events_fall_back_through_read_file(tmp_path):
    """A recording with an invalid event (valid AEDAT 3.1: the reader drops it) is not covered
    by the fused path: the loader's fallback reads it with read_file, frames equal."""
    ev = synthetic.generate(2, seed=0, duration_us=40_000)
    aedat31.write(tmp_path / "user01_a.aedat", ev, packet_events=500)
    write_labels(tmp_path / "user01_a_labels.csv", [(3, 0, 20_000), (4, 20_000, 40_000)])
    raw = bytearray((tmp_path / "user01_a.aedat").read_bytes())
    first = raw.index(b"#!END-HEADER\r\n") + 14
    raw[first + 28] &= 0xFE                                   # clear the 1st event's valid bit
    struct.pack_into("<i", raw, first + 24, 499)              # eventValid of the 1st packet
    (tmp_path / "user01_a.aedat").write_bytes(bytes(raw))
    src = {"format": "dvsgesture", "root": str(tmp_path)}
    fr, lab, _ = load_frames(src, 4, (2, 32, 32), 2, 0)
    ref_fr, ref_lab = reference_load(src, 4, (2, 32, 32), 2, 0)
    assert np.array_equal(fr, ref_fr) and np.array_equal(lab, ref_lab)
    assert int(fr.sum()) == len(ev) - 1


def test_frames_over_the_budget_are_refused_after_the_file_is_read(tmp_path):
    """[T, 2, 128, 128] over 1 GiB: the file's own error first (a pixel outside the DVS128
    names its byte), else the budget, on the fused layout as on the reference path."""
    ev = np.zeros(4, dtype=aedat31.EVENT_DTYPE)
    ev["t"], ev["y"] = [0, 10, 20, 30], [1, 2, 3, 4]
    aedat31.write(tmp_path / "user01_a.aedat", ev)
    write_labels(tmp_path / "user01_a_labels.csv", [(1, 0, 40)])
    src, T = {"format": "dvsgesture", "root": str(tmp_path)}, 8193       # 2**28 / (2*128*128) + 1
    with pytest.raises(UserError, match="n_frames: would make 8193 frames of 2x128x128"):
        load_frames(src, T, (2, 128, 128), 1, 0)
    ev["y"][2] = 200
    aedat31.write(tmp_path / "user01_a.aedat", ev)
    with pytest.raises(UserError) as ei:
        load_frames(src, T, (2, 128, 128), 1, 0)
    assert "event 2 at pixel (x=0, y=200)" in ei.value.reason and ei.value.field.startswith("byte ")


@pytest.mark.parametrize("options", [{}, {"bin_us": 7}, {"bin_us": 1_000_000, "last": "drop"},
                                     {"mode": "count"}])
def test_pixel_outside_dvs128_same_error_on_both_paths(tmp_path, options):
    """Also when the sample's window holds no whole bin (dropped: nothing to count) or the bad
    event lies outside the chosen sample's window: read_file's error, naming the byte."""
    ev = np.zeros(6, dtype=aedat31.EVENT_DTYPE)
    ev["t"], ev["y"] = np.arange(6) * 10, [1, 2, 3, 4, 5, 200]
    aedat31.write(tmp_path / "user01_a.aedat", ev, packet_events=2)
    write_labels(tmp_path / "user01_a_labels.csv", [(1, 0, 30), (2, 30, 60)])
    src = {"format": "dvsgesture", "root": str(tmp_path), **options}
    lines = []
    for fn in (load_frames, reference_load):
        with pytest.raises(UserError) as ei:
            fn(src, 2, (2, 8, 8), 1, 0)
        lines.append(ei.value.line())
    body = (tmp_path / "user01_a.aedat").read_bytes().index(b"#!END-HEADER\r\n") + 14
    assert lines[0] == lines[1] and f"byte {body + 3 * 28 + 5 * 8}: event 5 at pixel" in lines[0]
