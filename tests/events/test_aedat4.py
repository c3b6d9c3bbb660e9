"""AEDAT 4 through the ``aedat`` decoder: files written by the test-only writer
(``aedat4_writer.py``) decode to exactly the events written; our reader gives the same events
and frames as the same events through ``.npy``; ``data info``; every truncation and random
corruption is a UserError naming a byte offset (exit 2, one line)."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

aedat = pytest.importorskip("aedat")

from tess_sim.commands.data import data  # noqa: E402
from tess_sim.simulator.errors import UserError  # noqa: E402
from tess_sim.simulator.events import frame_events, npy  # noqa: E402
from tess_sim.simulator.events.core import EVENT_DTYPE  # noqa: E402
from tess_sim.simulator.events.formats import aedat4, read_events, sniff_format  # noqa: E402
from tess_sim.simulator.events.info import count_events, describe  # noqa: E402

from .aedat4_writer import MAGIC, data_table, write  # noqa: E402
from .test_fuzz import OFFSET, mutate, mutation  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]


def _events(n, seed, w=346, h=260, t_max=(1 << 40)):
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["t"] = np.sort(rng.integers(0, t_max, n))
    ev["x"], ev["y"], ev["p"] = rng.integers(0, w, n), rng.integers(0, h, n), rng.integers(0, 2, n)
    return ev


def _split(ev, cuts):
    cuts = sorted(set(int(c) % (len(ev) + 1) for c in cuts))
    return [ev[a:b] for a, b in zip([0] + cuts, cuts + [len(ev)])]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 60), seed=st.integers(0, 2**16), cuts=st.lists(st.integers(0, 60), max_size=4),
       table=st.booleans())
def test_decoder_reads_back_what_the_writer_wrote(tmp_path, n, seed, cuts, table):
    """decoder(writer(events)) == events, packet by packet, at the extremes of the fields."""
    ev = _events(n, seed)
    if n:
        ev["t"][-1], ev["x"][0], ev["y"][0] = (1 << 62) - 1, 345, 259
    parts = _split(ev, cuts)
    f = write(tmp_path / "r.aedat4", [(0, p) for p in parts], sizes={0: (346, 260)},
              data_table_position=table)
    dec = aedat.Decoder(str(f))
    assert dec.id_to_stream() == {0: {"type": "events", "width": 346, "height": 260}}
    got = [p["events"] for p in dec]
    assert len(got) == len(parts)
    for g, p in zip(got, parts):
        assert g.dtype.names == ("t", "x", "y", "on")
        assert g["t"].tolist() == p["t"].tolist() and g["x"].tolist() == p["x"].tolist()
        assert g["y"].tolist() == p["y"].tolist() and g["on"].tolist() == (p["p"] == 1).tolist()
    back = aedat4.read(f)
    assert back.dtype == EVENT_DTYPE and back.tolist() == ev.tolist()


def test_same_frames_as_through_npy(tmp_path):
    ev = _events(5_000, 3, t_max=200_000)
    f = write(tmp_path / "rec.aedat4", [(0, p) for p in _split(ev, [700, 2_500, 4_000])],
              sizes={0: (346, 260)})
    npy.write(tmp_path / "rec.npy", ev)
    a, b = read_events(f), read_events(tmp_path / "rec.npy")
    assert a.tolist() == b.tolist()
    for kw in (dict(out_size=(26, 35)), dict(mode="count", events_per_frame=900),
               dict(bin_us=30_000, last="drop", out_size=(13, 17))):
        fa = frame_events(a, 6, sensor_size=(260, 346), **kw)
        fb = frame_events(b, 6, sensor_size=(260, 346), **kw)
        assert np.array_equal(fa, fb) and int(fa.sum()) > 0
    # the frames counted by hand: every event lands in its (time bin, polarity, pixel) cell
    fr = frame_events(a, 4, sensor_size=(260, 346), out_size=(260, 346))
    t0, t1 = int(ev["t"].min()), int(ev["t"].max()) + 1
    edges = [t0 + -(-k * (t1 - t0) // 4) for k in range(5)]
    brute = np.zeros_like(fr)
    for t, x, y, p in ev.tolist():
        k = max(i for i in range(4) if edges[i] <= t)
        brute[k, p, y, x] += 1
    assert np.array_equal(fr, brute)


def test_streams_mis_named_file_and_stream_choice(tmp_path):
    e0, e2 = _events(30, 1), _events(20, 2, w=128, h=128)
    f = write(tmp_path / "two.bin", [(0, e0[:10]), (2, e2), (1, None), (0, e0[10:])],
              sizes={0: (346, 260), 2: (128, 128)}, triggers=(1,))
    assert sniff_format(f) == "aedat4"
    with pytest.raises(UserError) as ei:
        read_events(f)
    assert ei.value.line() == (f"{f}: stream: 2 event streams (ids 0, 2): choose one "
                               "(aedat4.read(path, stream=ID))")
    assert read_events(f, stream=0).tolist() == e0.tolist()
    assert aedat4.read(f, stream=2).tolist() == e2.tolist()
    with pytest.raises(UserError, match="1 is not an event stream of this file"):
        aedat4.read(f, stream=1)
    text = describe(f)
    assert "stream 1    triggers, 1 packet (ignored: only polarity events are read)" in text
    assert "stream 0    events 346x260, 2 packets (read)" in text
    assert "stream 2:\n  events      20" in text and "stream 0:\n  events      30" in text
    only_triggers = write(tmp_path / "trig.aedat4", [(1, None)], triggers=(1,), sizes={})
    with pytest.raises(UserError, match=r"no polarity event stream .*\(streams 1: triggers\)"):
        read_events(only_triggers)


def test_data_info(tmp_path):
    ev = np.zeros(4, dtype=EVENT_DTYPE)
    ev["t"] = [100, 250_100, 500_100, 1_000_100]
    ev["x"], ev["y"], ev["p"] = [0, 1, 2, 345], [0, 9, 259, 3], [1, 1, 0, 1]
    f = write(tmp_path / "cam.aedat4", [(0, ev[:1]), (3, None), (0, ev[1:])],
              sizes={0: (346, 260)}, triggers=(3,))
    r = CliRunner().invoke(data, ["info", str(f)])
    assert r.exit_code == 0, r.output
    size = f.stat().st_size
    table = size - len(data_table([(0, 0, 0, 0, 0, 0)] * 3))    # 3 packets' table ends the file
    assert r.output.splitlines() == [
        f"{f}: AEDAT 4 recording",
        f"  packets     3 (compression none, data table at byte {table})",
        "  stream 0    events 346x260, 2 packets (read)",
        "  stream 3    triggers, 1 packet (ignored: only polarity events are read)",
        "  note        only polarity events are read; frames, IMU samples and triggers are skipped",
        "  events      4",
        "  time        100 .. 1000100 µs (duration 1.000000 s)",
        "  rate        4 events/s",
        "  pixels      x 0..345, y 0..259 (sensor 346x260 from the file)",
        "  polarity    3 ON, 1 OFF"]
    assert count_events(f) == 4


def test_values_outside_the_sensor_or_clock_name_the_packet(tmp_path):
    ev = _events(6, 0, w=100, h=100)
    ev["x"][4] = 100                                        # sensor declared 100 x 100
    f = write(tmp_path / "px.aedat4", [(0, ev[:3]), (0, ev[3:])], sizes={0: (100, 100)})
    second = aedat4.scan(f).packets[1].offset
    with pytest.raises(UserError) as ei:
        aedat4.read(f)
    assert ei.value.field == f"byte {second}"
    assert ei.value.reason.startswith("packet 1 event 1: pixel outside the 100x100 sensor")
    ev = _events(3, 0)
    ev["t"][2] = -5                                         # int64 in the file: negative
    f = write(tmp_path / "neg.aedat4", [(0, ev)], sizes={0: (346, 260)})
    with pytest.raises(UserError, match=r"packet 0 event 2: timestamp beyond"):
        aedat4.read(f)


def _base():
    ev = _events(40, 5, w=128, h=128)
    with tempfile.TemporaryDirectory() as tmp:
        out = {}
        for table in (True, False):
            p = write(Path(tmp) / "b.aedat4", [(0, ev[:15]), (1, None), (0, ev[15:])],
                      triggers=(1,), data_table_position=table)
            out[table] = p.read_bytes()
    return ev, out


EV, BASE = _base()


def _check(path):
    """Events equal to the file's own decoding and in range, or a UserError with a byte."""
    try:
        ev = read_events(path)
    except UserError as exc:
        assert exc.where == str(path), exc.line()
        assert OFFSET.search(exc.field), f"no byte offset in: {exc.line()}"
        assert "\n" not in exc.line() and len(exc.reason) <= 300, exc.line()
        return None
    assert ev.dtype == EVENT_DTYPE and ev.ndim == 1
    if len(ev):
        assert 0 <= ev["t"].min() and ev["t"].max() <= aedat4.MAX_T
        assert 0 <= min(ev["x"].min(), ev["y"].min()) and ev["p"].max() <= 1
    assert describe(path).startswith(f"{path}: AEDAT 4 recording")
    return ev


@pytest.mark.parametrize("table", [True, False])
def test_every_truncation_is_a_user_error(tmp_path, table):
    """Cut after every byte: never events read short, never another exception."""
    data = BASE[table]
    f = _write(tmp_path / "cut.aedat4", data)
    assert _check(f).tolist() == EV.tolist()
    boundaries = {p.offset for p in aedat4.scan(f).packets}
    for cut in range(len(data)):
        f.write_bytes(data[:cut])
        if cut < len(MAGIC) and not data[:cut].startswith(b"#!AER-DAT4"):
            with pytest.raises(UserError, match="byte 0: unknown event file format"):
                read_events(f)
            continue
        if not table and cut in boundaries:
            # without a data table a cut between packets (or right after the header) is a
            # complete, shorter recording: AEDAT 4 has no end marker to tell them apart
            ev = _check(f)
            assert ev is not None and ev.tolist() == EV[:len(ev)].tolist()
            continue
        with pytest.raises(UserError) as ei:
            read_events(f)
        assert ei.value.where == str(f) and OFFSET.search(ei.value.field), (cut, ei.value.line())


def test_truncated_and_corrupt_files_exit_2_one_line(tmp_path):
    data = BASE[True]
    hdr_end = aedat4.scan(_write(tmp_path / "ok.aedat4", data)).packets[0].offset
    cases = {"cut in the header": data[:40], "cut in a packet": data[:hdr_end + 30],
             "cut in the data table": data[:-3],
             "packet size beyond the table": data[:hdr_end + 4] + b"\xff\xff\x00\x00"
                                             + data[hdr_end + 8:],
             "IOHeader root offset out of range": data[:18] + b"\xff\xff\xff\x00" + data[22:]}
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    for name, blob in cases.items():
        f = _write(tmp_path / "bad.aedat4", blob)
        r = subprocess.run([sys.executable, "-m", "tess_sim.cli", "data", "info", str(f)],
                           capture_output=True, text=True, env=env, timeout=60)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and r.stdout == "", (name, r.stdout, r.stderr)
        assert len(lines) == 1 and lines[0].startswith(f"error: {f}: byte "), (name, r.stderr)
        assert "AEDAT 4" in lines[0] and "Traceback" not in r.stderr, (name, r.stderr)


def _write(path, blob):
    path.write_bytes(blob)
    return path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(mutation, min_size=1, max_size=3), table=st.booleans())
def test_corrupted_files_parse_or_raise_user_error(ops, table):
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "f.aedat4"
        f.write_bytes(mutate(BASE[table], ops))
        try:
            sniff_format(f)
        except UserError:
            return                                          # the magic itself was hit
        _check(f)
