"""Corrupted event files: every reader either returns valid events or raises a UserError that
names the file and a byte offset / line; never another exception (issue 15.6).

The base files are small synthetic recordings written by the project's own writers; hypothesis
flips bits, overwrites, truncates, inserts and deletes bytes (biased towards the headers, where
the parsers make decisions), then runs the readers, ``count_events``, ``describe`` (``tess-sim
data info``), the framing, the fused AEDAT 3.1 framing and, for dataset folders, ``load_frames``.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events import aedat31, aerdat2, frame_aedat31, frame_events, npy, synthetic
from tess_sim.simulator.events.core import EVENT_DTYPE
from tess_sim.simulator.events.formats import read_events, sniff_format
from tess_sim.simulator.events.info import count_events, describe
from tess_sim.simulator.events.labels import read_labels, write_labels
from tess_sim.simulator.events.loader import load_frames

from .conftest import reference_load

REPO_ROOT = Path(__file__).resolve().parents[2]
OFFSET = re.compile(r"\b(byte|line) \d+")
#: (max x/y, max t) each reader promises
LIMITS = {"aedat3.1": (aedat31.MAX_XY, aedat31.MAX_T), "aerdat2.0": (127, aerdat2.MAX_T),
          "npy": (32767, npy.MAX_T)}


def _base_files() -> dict[str, bytes | dict[str, bytes]]:
    """Small valid files of every format (bytes), and two dataset folders (name -> bytes)."""
    ev = synthetic.generate(3, seed=1, duration_us=2_000)[:60]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        aedat31.write(t / "a.aedat", ev, packet_events=25)
        aerdat2.write(t / "c.aedat", ev)
        npy.write(t / "n.npy", ev)
        write_labels(t / "l.csv", [(1, 0, 900), (4, 900, 1_500), (11, 1_500, 2_000)])
        synthetic.write_dvsgesture(t / "g", 2, seed=0, gesture_us=2_000, gap_us=500)
        synthetic.write_class_folders(t / "k", 2, seed=0, fmt="cifar10dvs", duration_us=2_000)
        synthetic.write_class_folders(t / "m", 2, seed=0, fmt="npy", duration_us=2_000)
        out = {k: (t / f).read_bytes() for k, f in
               (("aedat31", "a.aedat"), ("aerdat2", "c.aedat"), ("npy", "n.npy"),
                ("labels", "l.csv"))}
        for k, d in (("dvsgesture", "g"), ("cifar10dvs", "k"), ("npy_folder", "m")):
            out[k] = {str(p.relative_to(t / d)): p.read_bytes()
                      for p in sorted((t / d).rglob("*")) if p.is_file()}
    return out


BASE = _base_files()

SPECIAL = [b"-", b"9" * 21, b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80", b"\xff\xff\xff\xff",
           b"(", b")", b"'", b"\"", b"\n", b"#", b",", b"\x00" * 8, b"{", b"L"]
mutation = st.tuples(
    st.sampled_from(["flip", "set", "truncate", "insert", "delete"]),
    st.one_of(st.integers(0, 200), st.integers(0, 1 << 20)),          # position (mod size)
    st.one_of(st.sampled_from(SPECIAL), st.binary(min_size=1, max_size=6)))


def mutate(data: bytes, ops) -> bytes:
    b = bytearray(data)
    for kind, pos, payload in ops:
        i = pos % (len(b) + 1)
        if kind == "flip" and i < len(b):
            b[i] ^= 1 << (payload[0] % 8)
        elif kind == "set":
            b[i:i + len(payload)] = payload
        elif kind == "truncate":
            del b[i:]
        elif kind == "insert":
            b[i:i] = payload
        elif kind == "delete":
            del b[i:i + len(payload)]
    return bytes(b)


def _check_user_error(exc: UserError, allowed_where: set[str]):
    assert exc.where in allowed_where, exc.line()
    assert OFFSET.search(exc.field), f"no byte offset / line in: {exc.line()}"
    assert "\n" not in exc.line() and len(exc.reason) <= 300, exc.line()


def _check_events(ev: np.ndarray, fmt: str):
    assert ev.dtype == EVENT_DTYPE and ev.ndim == 1
    if len(ev):
        max_xy, max_t = LIMITS[fmt]
        for f, hi in (("x", max_xy), ("y", max_xy), ("p", 1), ("t", max_t)):
            assert 0 <= int(ev[f].min()) and int(ev[f].max()) <= hi, (f, ev[f].min(), ev[f].max())


def _frames_or_error_line(fn):
    try:
        return fn()
    except UserError as exc:
        return exc.line()


#: framings the fused AEDAT 3.1 path is compared on (frames or the error line, equal)
FUSED_CASES = [(3, dict(out_size=(8, 8))), (2, dict(bin_us=300, t_start=100, t_end=1_200)),
               (4, dict(bin_us=5_000, t_start=0, t_end=900, last="drop")),
               (2, dict(mode="count", events_per_frame=7)), (None, dict(bin_us=400))]


def check_fused(path: Path):
    """``frame_aedat31`` equals ``frame_events(aedat31.read(path))``, errors included."""
    for T, kw in FUSED_CASES:
        ref = _frames_or_error_line(lambda: frame_events(aedat31.read(path), T, where=str(path),
                                                         **kw))
        fast = _frames_or_error_line(lambda: frame_aedat31(path, T, **kw))
        assert type(ref) is type(fast), (kw, ref, fast)
        assert fast == ref if isinstance(ref, str) else np.array_equal(ref, fast), (kw, ref, fast)


def check_file(path: Path, fmt_key: str):
    where = {str(path)}
    if fmt_key == "aedat31":
        check_fused(path)
    try:
        if fmt_key == "labels":
            rows = read_labels(path)
            assert rows.dtype.names == ("label", "start", "end")
            if len(rows):
                assert rows["label"].min() >= 1 and rows["label"].max() <= 11
                assert (rows["start"] >= 0).all() and (rows["end"] > rows["start"]).all()
            return
        fmt = sniff_format(path)
        ev = read_events(path)
    except UserError as exc:
        _check_user_error(exc, where)
        return
    _check_events(ev, fmt)
    mod = {"aedat3.1": aedat31, "aerdat2.0": aerdat2, "npy": npy}[fmt]
    chunks = list(mod.iter_chunks(path, chunk_events=16))
    assert np.array_equal(np.concatenate(chunks) if chunks else ev[:0], ev)
    n = count_events(path)
    assert n == len(ev) if fmt != "aerdat2.0" else n >= len(ev)
    assert describe(path).startswith(str(path))
    sensor = (32768, 32768) if len(ev) and max(ev["x"].max(), ev["y"].max()) > 127 else (128, 128)
    fr = frame_events(ev, 4, sensor_size=sensor, out_size=(4, 4), where=str(path))
    assert fr.shape == (4, 2, 4, 4) and int(fr.sum()) == len(ev)


def check_folder(root: Path, layout: str):
    allowed = {str(root)} | {str(p) for p in root.rglob("*")}
    src = {"format": layout, "root": str(root)}
    if layout == "dvsgesture":        # the loader's fused path and the reference path agree
        for T, mode, seed in ((3, "time", 0), (3, "time", 1), (2, "count", 0)):
            got = _frames_or_error_line(lambda: load_frames(dict(src, mode=mode), T, (2, 8, 8),
                                                            1, seed)[:2])
            ref = _frames_or_error_line(lambda: reference_load(dict(src, mode=mode), T,
                                                               (2, 8, 8), 1, seed))
            assert type(got) is type(ref), (got, ref)
            assert got == ref if isinstance(got, str) else all(
                np.array_equal(a, b) for a, b in zip(got, ref)), (got, ref)
    try:
        text = describe(root)
        assert layout in text
        frames, labels, _ = load_frames(src, T=3, shape=(2, 8, 8), n_samples=1, seed=0)
    except UserError as exc:
        assert exc.where in allowed, exc.line()
        if exc.where != str(root):        # errors about one file name a byte or a line
            assert OFFSET.search(exc.field), exc.line()
        return
    assert frames.shape == (1, 3, 2, 8, 8) and np.isfinite(frames).all()
    assert 0 <= labels[0] < 11


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["aedat31", "aerdat2", "npy", "labels", "dvsgesture", "cifar10dvs",
                             "npy_folder"]),
       ops=st.lists(mutation, min_size=1, max_size=3), pick=st.integers(0, 10))
def test_corrupted_files_parse_or_raise_user_error(kind, ops, pick):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = BASE[kind]
        if isinstance(base, dict):                       # a dataset folder: corrupt one file
            names = sorted(base)
            victim = names[pick % len(names)]
            for name, data in base.items():
                p = tmp / name
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(mutate(data, ops) if name == victim else data)
            check_folder(tmp, "npy" if kind == "npy_folder" else kind)
        else:
            p = tmp / ("f.csv" if kind == "labels" else "f.npy" if kind == "npy" else "f.aedat")
            p.write_bytes(mutate(base, ops))
            check_file(p, kind)


# --- the worst cases, through the command line --------------------------------------------

def _npy_with_header(header: str) -> bytes:
    """A version 1.0 .npy whose header text is ``header`` (padded as numpy pads it)."""
    h = header.encode("latin-1")
    pad = 64 - (10 + len(h) + 1) % 64
    h = h + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h


def _worst_cases(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, the field the error line must show)."""
    good = BASE["npy"]
    hdr = good[10: 10 + struct.unpack("<H", good[8:10])[0]].decode("latin-1")
    cases = {}
    # a header byte changed so that brackets no longer balance (numpy: tokenize.TokenError)
    p = tmp / "token.npy"
    p.write_bytes(_npy_with_header(hdr.replace("], ", "(, ", 1)) + good[10 + len(hdr):])
    cases["token"] = (p, "byte ")
    # a negative shape (numpy: ValueError: negative dimensions are not allowed)
    p = tmp / "negative.npy"
    p.write_bytes(_npy_with_header(re.sub(r"\(\d+,\)", "(-5,)", hdr.strip())) + good[10 + len(hdr):])
    cases["negative"] = (p, "byte ")
    # a header claiming 10**15 events in a file of a few hundred bytes (no huge allocation)
    p = tmp / "huge.npy"
    p.write_bytes(_npy_with_header(re.sub(r"\(\d+,\)", f"({10**15},)", hdr.strip()))
                  + good[10 + len(hdr):])
    cases["huge"] = (p, "byte ")
    # a label CSV with an end time beyond int64 (numpy: OverflowError)
    p = tmp / "user01_x_labels.csv"
    p.write_text("class,startTime_usec,endTime_usec\n1,0,5\n2,5,99999999999999999999999\n")
    cases["overflow"] = (p, "line 3")
    # an AEDAT 3.1 packet declaring 2**31 - 1 events of 8 bytes
    b = bytearray(BASE["aedat31"])
    off = b.index(b"#!END-HEADER\r\n") + 14
    struct.pack_into("<iii", b, off + 16, 2**31 - 1, 2**31 - 1, 2**31 - 1)
    p = tmp / "capacity.aedat"
    p.write_bytes(bytes(b))
    cases["capacity"] = (p, f"byte {off}")
    return cases


def test_worst_cases_in_python(tmp_path):
    """Each is a UserError with the file and the byte / line, found from the headers alone:
    a header claiming 10**15 events or 2**31 - 1 events of 8 bytes allocates nothing large
    (numpy's allocations are traced by tracemalloc)."""
    import tracemalloc

    for name, (path, field) in _worst_cases(tmp_path).items():
        for fn in ([read_labels] if path.suffix == ".csv" else
                   [read_events, count_events, describe, lambda p: list(
                       (aedat31 if p.suffix == ".aedat" else npy).iter_chunks(p))]):
            tracemalloc.start()
            try:
                with pytest.raises(UserError) as ei:
                    fn(path)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert ei.value.where == str(path) and field in ei.value.field, (name, ei.value.line())
            assert peak < 4 << 20, (name, fn, peak)


def test_worst_cases_data_info_exit_2_one_line(tmp_path):
    cases = _worst_cases(tmp_path)
    # the label CSV goes in through a DVS Gesture folder, as `data info FOLDER` reads it
    folder = tmp_path / "gesture"
    folder.mkdir()
    (folder / "user01_x.aedat").write_bytes(BASE["aedat31"])
    os.replace(cases["overflow"][0], folder / "user01_x_labels.csv")
    cases["overflow"] = (folder, "user01_x_labels.csv: line 3")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    for name in ("token", "negative", "huge", "overflow", "capacity"):
        path, needle = cases[name]
        r = subprocess.run([sys.executable, "-m", "tess_sim.cli", "data", "info", str(path)],
                           capture_output=True, text=True, env=env, timeout=60)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and r.stdout == "", (name, r.stdout, r.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], \
            (name, r.stderr)
        assert "Traceback" not in r.stderr


def test_pixel_outside_dvs128_names_the_event_byte(tmp_path):
    """A DVS Gesture recording with y = 200 (valid AEDAT 3.1, impossible on a DVS128)."""
    ev = np.zeros(5, dtype=EVENT_DTYPE)
    ev["t"] = np.arange(5) * 10
    ev["y"] = [1, 2, 3, 200, 4]
    aedat31.write(tmp_path / "user01_a.aedat", ev)
    write_labels(tmp_path / "user01_a_labels.csv", [(1, 0, 50)])
    body = (tmp_path / "user01_a.aedat").read_bytes().index(b"#!END-HEADER\r\n") + 14 + 28
    with pytest.raises(UserError) as ei:
        load_frames({"format": "dvsgesture", "root": str(tmp_path)}, T=2, shape=(2, 8, 8),
                    n_samples=1, seed=0)
    assert ei.value.where == str(tmp_path / "user01_a.aedat")
    assert ei.value.field == f"byte {body + 3 * 8}" and "event 3" in ei.value.reason


def test_measured_run_on_a_corrupted_npy_dataset_exit_2(tmp_path):
    """`run --set activity.source=measured` on class folders holding a .npy whose header has a
    negative shape: exit 2 and one line naming the file and the byte (was a ValueError)."""
    import yaml

    root = tmp_path / "ds"
    paths = synthetic.write_class_folders(root, 2, seed=0, fmt="npy", duration_us=2_000)
    good = paths[1].read_bytes()
    hlen = struct.unpack("<H", good[8:10])[0]
    hdr = good[10:10 + hlen].decode("latin-1").strip()
    paths[1].write_bytes(_npy_with_header(re.sub(r"\((\d+),\)", r"(-\1,)", hdr))
                         + good[10 + hlen:])
    wl = yaml.safe_load((REPO_ROOT / "workloads" / "small.yaml").read_text())
    wl.update(data={"format": "npy", "root": str(root)}, hardware=str(REPO_ROOT / "workloads" /
                                                                       "hw" / "edge.yaml"))
    wl["activity"] = {"source": "measured", "samples": 2}
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(wl))
    r = subprocess.run([sys.executable, "-m", "tess_sim.cli", "run", str(tmp_path / "w.yaml"),
                        "--engine", "analytical", "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert lines[0].startswith(f"error: {paths[1]}: byte 10: corrupt .npy header: negative shape")
