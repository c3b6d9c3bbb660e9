"""AER-DAT 2.0 (CIFAR10-DVS): hand-written bytes, conventions, round trips, truncation."""

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.formats import aerdat2, read_events

from .conftest import events_strategy

HEADER = (b"#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"
          b"# Timestamps tick is 1 us\r\n")


def spec_bytes():
    # big-endian uint32 address, uint32 timestamp; DVS128: y bits 8-14, x bits 1-7, p bit 0
    #   x=3, y=4, p=1:     (4 << 8) | (3 << 1) | 1 = 0x0407
    #   x=127, y=127, p=0: 0x7F00 | 0xFE           = 0x7FFE
    #   0x8001: bit 15 set (external event)        -> dropped
    body = struct.pack(">IIIIII", 0x0407, 100, 0x7FFE, 0xFFFFFFFF, 0x8001, 200)
    return HEADER + body


def test_spec_bytes_raw_and_conventions(tmp_path):
    f = tmp_path / "c.aedat"
    f.write_bytes(spec_bytes())
    lines, off = aerdat2.read_header(f)
    assert off == len(HEADER) and lines[0] == "#!AER-DAT2.0" and len(lines) == 3
    ev = read_events(f)
    assert [tuple(int(v) for v in e) for e in ev] == [(100, 3, 4, 1), (0xFFFFFFFF, 127, 127, 0)]
    sj = aerdat2.read(f, convention="spikingjelly")   # x = 127 - y, y = 127 - x, p = 1 - p
    assert [tuple(int(v) for v in e) for e in sj] == [(100, 123, 124, 0), (0xFFFFFFFF, 0, 0, 1)]
    dm = aerdat2.read(f, convention="dat2mat")        # x = 127 - x, p = 1 - p
    assert [tuple(int(v) for v in e) for e in dm] == [(100, 124, 4, 0), (0xFFFFFFFF, 0, 127, 1)]
    with pytest.raises(UserError, match="convention"):
        aerdat2.read(f, convention="upside-down")


def test_writer_bytes(tmp_path):
    ev = np.zeros(1, dtype=aerdat2.EVENT_DTYPE)
    ev[0] = (100, 3, 4, 1)
    aerdat2.write(tmp_path / "w.aedat", ev)
    data = (tmp_path / "w.aedat").read_bytes()
    assert data.startswith(b"#!AER-DAT2.0\r\n")
    assert data.endswith(bytes.fromhex("00000407 00000064".replace(" ", "")))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=events_strategy(aerdat2.MAX_T, 127), convention=st.sampled_from(aerdat2.CONVENTIONS),
       extreme=st.booleans())
def test_round_trip(tmp_path, ev, convention, extreme):
    if extreme and len(ev):
        ev["t"][-1] = aerdat2.MAX_T     # largest timestamp the format holds: 2**32 - 1
    f = tmp_path / "r.aedat"
    aerdat2.write(f, ev, convention=convention)
    assert np.array_equal(aerdat2.read(f, convention=convention), ev)
    chunks = list(aerdat2.iter_chunks(f, chunk_events=4, convention=convention))
    assert np.array_equal(np.concatenate(chunks) if chunks else ev[:0], ev)


@pytest.mark.parametrize("cut", [1, 3, 7, 9])
def test_truncated_body_names_offset(tmp_path, cut):
    data = spec_bytes()
    f = tmp_path / "t.aedat"
    f.write_bytes(data[:-cut])
    body = len(data) - cut - len(HEADER)
    with pytest.raises(UserError) as ei:
        aerdat2.read(f)
    assert f"byte {len(HEADER) + (body // 8) * 8}: truncated AER-DAT 2.0 file" in ei.value.line()


def test_bad_header(tmp_path):
    f = tmp_path / "x.aedat"
    f.write_bytes(b"#!AER-DAT3.1\r\n")
    with pytest.raises(UserError, match="byte 0: not an AER-DAT2.0 file"):
        aerdat2.read(f)
    f.write_bytes(b"#!AER-DAT2.0\r\n# unterminated")
    with pytest.raises(UserError, match="byte 14: truncated header"):
        aerdat2.read(f)


def test_write_refuses_non_dvs128(tmp_path):
    ev = np.zeros(1, dtype=aerdat2.EVENT_DTYPE)
    ev["x"] = 128
    with pytest.raises(UserError, match="x: values must lie in \\[0, 127\\]"):
        aerdat2.write(tmp_path / "x.aedat", ev)
