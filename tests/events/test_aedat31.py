"""AEDAT 3.1: parsing of hand-written bytes (from the format's specification), round trips,
truncated and corrupt files."""

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.formats import aedat31, read_events

from .conftest import events_strategy

HEADER = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"


def packet_header(etype, size, tsoff, overflow, capacity, number, valid, source=1):
    # int16 eventType, int16 eventSource, int32 eventSize, int32 eventTSOffset,
    # int32 eventTSOverflow, int32 eventCapacity, int32 eventNumber, int32 eventValid
    return struct.pack("<hhiiiiii", etype, source, size, tsoff, overflow, capacity, number, valid)


def spec_file():
    """Three packets written by hand; returns (bytes, expected list of (t, x, y, p))."""
    # Polarity events: data bit 0 valid, bit 1 polarity, bits 2-16 y, bits 17-31 x.
    #   x=5, y=7, ON, valid:   5<<17 = 0x000A0000, 7<<2 = 0x1C, pol 0x2, valid 0x1 -> 0x000A001F
    #   x=127, y=0, OFF, valid: 127<<17 = 0x00FE0000 | 0x1                        -> 0x00FE0001
    #   x=1, y=1, ON, INVALID: 0x00020000 | 0x4 | 0x2                              -> 0x00020006
    #   x=0, y=127, ON, valid: 127<<2 = 0x1FC | 0x2 | 0x1                          -> 0x000001FF
    #   x=32767, y=32767, OFF, valid: 0xFFFE0000 | 0x1FFFC | 0x1                  -> 0xFFFFFFFD
    p1 = packet_header(1, 8, 4, 0, 3, 3, 2) + struct.pack(
        "<IiIiIi", 0x000A001F, 10, 0x00FE0001, 20, 0x00020006, 25)
    # A special-event packet (type 0): skipped. One slot of capacity unused (eventNumber 1).
    p2 = packet_header(0, 8, 4, 0, 2, 1, 1) + struct.pack("<IiIi", 0x00000101, 30, 0, 0)
    # Overflow 1: t = (1 << 31) | ts.  Capacity 3 but only 2 events in use: the third slot
    # holds garbage with the valid bit set and must be ignored.
    p3 = packet_header(1, 8, 4, 1, 3, 2, 2) + struct.pack(
        "<IiIiIi", 0x000001FF, 5, 0xFFFFFFFD, 0x7FFFFFFF, 0x000A001F, 99)
    expected = [(10, 5, 7, 1), (20, 127, 0, 0), ((1 << 31) + 5, 0, 127, 1),
                ((1 << 31) | 0x7FFFFFFF, 32767, 32767, 0)]
    return HEADER + p1 + p2 + p3, expected


def test_header_and_packets_from_spec_bytes(tmp_path):
    data, expected = spec_file()
    f = tmp_path / "spec.aedat"
    f.write_bytes(data)
    lines, off = aedat31.read_header(f)
    assert lines == ["#!AER-DAT3.1", "#Format: RAW", "#Source 1: DVS128", "#!END-HEADER"]
    assert off == len(HEADER)
    pk = aedat31.scan_packets(f)
    assert [(p.offset, p.type, p.capacity, p.number, p.valid, p.ts_overflow) for p in pk] == [
        (len(HEADER), 1, 3, 3, 2, 0),
        (len(HEADER) + 28 + 24, 0, 2, 1, 1, 0),
        (len(HEADER) + 28 + 24 + 28 + 16, 1, 3, 2, 2, 1)]
    ev = read_events(f)
    assert [tuple(int(v) for v in e) for e in ev[["t", "x", "y", "p"]]] == expected
    chunks = list(aedat31.iter_chunks(f, chunk_events=1))
    assert np.array_equal(np.concatenate(chunks), ev)


def test_header_only_file_is_empty(tmp_path):
    f = tmp_path / "empty.aedat"
    f.write_bytes(b"#!AER-DAT3.1\r\n#!END-HEADER\r\n")
    ev = aedat31.read(f)
    assert ev.shape == (0,)
    aedat31.write(tmp_path / "w.aedat", ev)
    assert (tmp_path / "w.aedat").read_bytes() == (
        b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n")


def test_writer_bytes_match_spec(tmp_path):
    data, expected = spec_file()
    ev = np.zeros(2, dtype=aedat31.EVENT_DTYPE)
    ev[0] = (10, 5, 7, 1)
    ev[1] = (20, 127, 0, 0)
    aedat31.write(tmp_path / "w.aedat", ev)
    body = (tmp_path / "w.aedat").read_bytes()[len(HEADER):]
    assert body == packet_header(1, 8, 4, 0, 2, 2, 2) + struct.pack(
        "<IiIi", 0x000A001F, 10, 0x00FE0001, 20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=events_strategy(aedat31.MAX_T, aedat31.MAX_XY),
       extreme=st.booleans(), packet=st.integers(1, 7))
def test_round_trip(tmp_path, ev, extreme, packet):
    if extreme and len(ev):
        ev["t"][0] = aedat31.MAX_T      # largest timestamp the format holds: 2**62 - 1
        ev["x"][-1] = ev["y"][-1] = aedat31.MAX_XY
    f = tmp_path / "r.aedat"
    aedat31.write(f, ev, packet_events=packet)
    back = aedat31.read(f)
    assert back.dtype == aedat31.EVENT_DTYPE
    assert np.array_equal(back, ev)
    chunks = list(aedat31.iter_chunks(f, chunk_events=3))
    assert np.array_equal(np.concatenate(chunks) if chunks else back[:0], ev)


def test_write_refuses_out_of_range(tmp_path):
    ev = np.zeros(1, dtype=aedat31.EVENT_DTYPE)
    ev["t"] = 1 << 62
    with pytest.raises(UserError, match="t: values must lie"):
        aedat31.write(tmp_path / "x.aedat", ev)
    assert not (tmp_path / "x.aedat").exists()


def _err(f):
    with pytest.raises(UserError) as ei:
        aedat31.read(f)
    return ei.value.line()


def test_truncations_name_the_offset(tmp_path):
    data, _ = spec_file()
    h = len(HEADER)
    f = tmp_path / "t.aedat"
    # inside the header: no END-HEADER line
    f.write_bytes(data[:20])
    assert "byte 14" in _err(f) and "END-HEADER" in _err(f)
    # inside the first packet header (10 of 28 bytes)
    f.write_bytes(data[:h + 10])
    assert f"byte {h}: truncated AEDAT 3.1 file: 10 bytes left" in _err(f)
    # inside the first packet's events
    f.write_bytes(data[:h + 28 + 5])
    assert f"byte {h}: truncated AEDAT 3.1 file: packet declares 3 x 8" in _err(f)
    # last packet cut by one byte
    f.write_bytes(data[:-1])
    assert f"byte {h + 52 + 44}: truncated" in _err(f)


@pytest.mark.parametrize("field,value,message", [
    (4, 16, "polarity packet with eventSize 16"),         # eventSize
    (8, 0, "eventTSOffset 0"),                          # eventTSOffset
    (16, 2, "eventNumber <= eventCapacity"),            # eventCapacity < eventNumber
    (24, 4, "eventValid <= eventNumber"),               # eventValid > eventNumber
    (24, 1, "validity bits"),                           # eventValid disagrees with bits
    (12, -1, "eventTSOverflow -1"),
    (4, 0, "eventSize 0 must be positive"),
])
def test_corrupt_packet_header(tmp_path, field, value, message):
    data, _ = spec_file()
    h = len(HEADER)
    b = bytearray(data)
    struct.pack_into("<i", b, h + field, value)
    f = tmp_path / "c.aedat"
    f.write_bytes(bytes(b))
    msg = _err(f)
    assert f"byte {h}: corrupt AEDAT 3.1 packet header" in msg and message in msg


def test_negative_timestamp_names_event_offset(tmp_path):
    data, _ = spec_file()
    h = len(HEADER)
    b = bytearray(data)
    struct.pack_into("<i", b, h + 28 + 8 + 4, -5)   # timestamp of the 2nd event of packet 1
    f = tmp_path / "n.aedat"
    f.write_bytes(bytes(b))
    assert f"byte {h + 28 + 12}: corrupt AEDAT 3.1 polarity event" in _err(f)


def test_not_an_aedat_file(tmp_path):
    f = tmp_path / "x.aedat"
    f.write_bytes(b"hello")
    assert "byte 0" in _err(f)
    with pytest.raises(UserError, match="no such file"):
        aedat31.read(tmp_path / "missing.aedat")
