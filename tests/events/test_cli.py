"""``tess-sim data info``: descriptions and exit code 2 with one line for bad files."""

import struct

import numpy as np
from click.testing import CliRunner

from tess_sim.simulator.events import aedat31, aerdat2, npy, synthetic
from tess_sim.commands.data import data
from tess_sim.simulator.events.core import EVENT_DTYPE


def run(*args):
    return CliRunner().invoke(data, ["info", *map(str, args)])


def test_info_file_and_folder(tmp_path):
    ev = np.zeros(4, dtype=EVENT_DTYPE)
    ev["t"] = [0, 250_000, 500_000, 1_000_000]
    ev["x"] = [0, 1, 2, 127]
    ev["p"] = [1, 1, 0, 0]
    aedat31.write(tmp_path / "r.aedat", ev)
    r = run(tmp_path / "r.aedat")
    assert r.exit_code == 0, r.output
    assert "AEDAT 3.1" in r.output and "events      4" in r.output
    assert "duration 1.000000 s" in r.output and "rate        4 events/s" in r.output
    assert "x 0..127" in r.output
    synthetic.write_dvsgesture(tmp_path / "g", 3, seed=0, gesture_us=50_000, gap_us=10_000)
    r = run(tmp_path / "g")
    assert r.exit_code == 0 and "dvsgesture dataset" in r.output and "samples     3" in r.output


def _bad(path, needle):
    r = run(path)
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and needle in lines[0], r.output


def test_corrupt_and_truncated_files_exit_2(tmp_path):
    ev = np.zeros(3, dtype=EVENT_DTYPE)
    aedat31.write(tmp_path / "a.aedat", ev)
    data = (tmp_path / "a.aedat").read_bytes()
    hdr = data.index(b"#!END-HEADER\r\n") + 14
    (tmp_path / "a.aedat").write_bytes(data[:-3])
    _bad(tmp_path / "a.aedat", f"byte {hdr}: truncated AEDAT 3.1 file")
    b = bytearray(data)
    struct.pack_into("<i", b, hdr + 20, 99)          # eventNumber > eventCapacity
    (tmp_path / "a.aedat").write_bytes(bytes(b))
    _bad(tmp_path / "a.aedat", f"byte {hdr}: corrupt AEDAT 3.1 packet header")

    aerdat2.write(tmp_path / "c.aedat", ev)
    data = (tmp_path / "c.aedat").read_bytes()
    (tmp_path / "c.aedat").write_bytes(data[:-2])
    _bad(tmp_path / "c.aedat", f"byte {len(data) - 8}: truncated AER-DAT 2.0 file")

    npy.write(tmp_path / "n.npy", ev)
    data = (tmp_path / "n.npy").read_bytes()
    (tmp_path / "n.npy").write_bytes(data[:-1])
    _bad(tmp_path / "n.npy", f"byte {len(data) - 1}: truncated .npy file")

    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    _bad(tmp_path / "x.bin", "byte 0: unknown event file format")
    _bad(tmp_path / "missing.aedat", "no such file")
    (tmp_path / "empty").mkdir()
    _bad(tmp_path / "empty", "no recognised event dataset")
