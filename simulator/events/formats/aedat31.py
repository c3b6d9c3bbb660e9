"""AEDAT 3.1 (iniVation cAER / libcaer; the format of IBM DVS Gesture recordings).

Layout (all integers little-endian):

* ASCII header lines, each starting with ``#`` and ending with ``\\r\\n``: first line
  ``#!AER-DAT3.1``, last line ``#!END-HEADER``.
* then event packets, each a 28-byte header ::

      int16 eventType   int16 eventSource  int32 eventSize     int32 eventTSOffset
      int32 eventTSOverflow  int32 eventCapacity  int32 eventNumber  int32 eventValid

  followed by ``eventCapacity * eventSize`` bytes of events. Only the first ``eventNumber``
  events are in use; ``eventValid`` of them carry the validity mark.
* polarity events (``eventType == 1``, ``eventSize == 8``, ``eventTSOffset == 4``)::

      uint32 data:  bit 0 valid, bit 1 polarity (1 = ON), bits 2-16 y, bits 17-31 x
      int32  timestamp (µs, 31 bits, non-negative)

  full timestamp = ``(eventTSOverflow << 31) | timestamp`` — at most 2**62 - 1 µs.

Reading memory-maps the file to parse the packet headers, then reads each packet's events with
``pread`` into one reusable buffer and decodes them into one preallocated event array, so the
raw bytes are never held in RAM as a whole. Packets of other event types (special,
frame, IMU …) are skipped; invalid polarity events (validity bit 0) are dropped. Any header
field that cannot be right, or a packet running past the end of the file, is a
:class:`~tess_sim.simulator.errors.UserError` naming the byte offset.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.atomic import atomic_output
from tess_sim.simulator.events.core import EVENT_DTYPE, as_events, map_file, \
    read_header_lines

MAGIC = "#!AER-DAT3.1"
END_HEADER = "#!END-HEADER"
PACKET_HEADER = struct.Struct("<hhiiiiii")  # 28 bytes
POLARITY_EVENT = 1
RAW_POLARITY = np.dtype([("data", "<u4"), ("ts", "<i4")])
MAX_T = (1 << 62) - 1  # (int32 max overflow << 31) | 31-bit timestamp
MAX_XY = (1 << 15) - 1


class Packet(NamedTuple):
    """One packet header and where it sits in the file (byte offsets)."""

    offset: int          # byte offset of the 28-byte packet header
    type: int
    source: int
    size: int            # bytes per event
    ts_offset: int
    ts_overflow: int
    capacity: int
    number: int
    valid: int

    @property
    def body(self) -> int:
        """Byte offset of the first event."""
        return self.offset + PACKET_HEADER.size


def read_header(path):
    """``(header_lines, data_offset)`` of an AEDAT 3.1 file (lines without ``\\r\\n``)."""
    return read_header_lines(map_file(path), path, MAGIC, END_HEADER)


def _corrupt(path, off, what):
    return UserError(str(path), f"byte {off}", f"corrupt AEDAT 3.1 packet header: {what}")


def scan_packets(path, buf=None) -> list[Packet]:
    """Parse every packet header of ``path`` (a Python loop per packet, not per event)."""
    buf = map_file(path) if buf is None else buf
    _, off = read_header_lines(buf, path, MAGIC, END_HEADER)
    end = len(buf)
    packets = []
    unpack = PACKET_HEADER.unpack_from
    while off < end:
        if end - off < PACKET_HEADER.size:
            raise UserError(str(path), f"byte {off}", f"truncated AEDAT 3.1 file: {end - off} "
                            f"bytes left where a {PACKET_HEADER.size}-byte packet header starts")
        pk = Packet(off, *unpack(buf, off))
        if pk.size <= 0:
            raise _corrupt(path, off, f"eventSize {pk.size} must be positive")
        if pk.capacity < 0 or pk.number < 0 or pk.valid < 0:
            raise _corrupt(path, off, "negative eventCapacity / eventNumber / eventValid "
                           f"({pk.capacity}, {pk.number}, {pk.valid})")
        if not pk.valid <= pk.number <= pk.capacity:
            raise _corrupt(path, off, f"need eventValid <= eventNumber <= eventCapacity, got "
                           f"{pk.valid}, {pk.number}, {pk.capacity}")
        if pk.ts_overflow < 0:
            raise _corrupt(path, off, f"eventTSOverflow {pk.ts_overflow} is negative")
        if not 0 <= pk.ts_offset <= pk.size - 4:
            raise _corrupt(path, off, f"eventTSOffset {pk.ts_offset} outside an event of "
                           f"{pk.size} bytes")
        if pk.type == POLARITY_EVENT and (pk.size != 8 or pk.ts_offset != 4):
            raise _corrupt(path, off, f"polarity packet with eventSize {pk.size} and "
                           f"eventTSOffset {pk.ts_offset} (must be 8 and 4)")
        nxt = pk.body + pk.capacity * pk.size
        if nxt > end:
            raise UserError(str(path), f"byte {off}", f"truncated AEDAT 3.1 file: packet "
                            f"declares {pk.capacity} x {pk.size} bytes of events, the file ends "
                            f"{end - pk.body} bytes after its header (at byte {end})")
        packets.append(pk)
        off = nxt
    return packets


class _PacketReader:
    """Reads the used events of packets with ``pread`` into one reusable, aligned buffer
    (faster than touching the memory map: no page faults, aligned numpy loops)."""

    def __init__(self, path, packets):
        self.path = path
        self.buf = np.empty(8 * max((p.number for p in packets), default=0), dtype=np.uint8)
        self.fd = os.open(path, os.O_RDONLY)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.fd)

    def read(self, pk: Packet) -> np.ndarray:
        raw = self.buf[: 8 * pk.number]
        got = os.preadv(self.fd, [raw], pk.body)
        if got != len(raw):
            raise UserError(str(self.path), f"byte {pk.body + got}", "file shrank while reading "
                            "(truncated AEDAT 3.1 packet)")
        return raw


def _decode(raw_bytes, pk: Packet, path, out: np.ndarray, k: int) -> int:
    """Decode the polarity packet ``pk`` (its used events ``raw_bytes``) into ``out[k:]``;
    return the number of events written."""
    raw = raw_bytes.view(RAW_POLARITY)
    data, ts = raw["data"], raw["ts"]
    valid = (data & 1).astype(bool)
    nvalid = int(np.count_nonzero(valid))
    if nvalid != pk.valid:
        raise _corrupt(path, pk.offset, f"eventValid says {pk.valid} valid events, the validity "
                       f"bits of its first eventNumber={pk.number} events say {nvalid}")
    if nvalid != pk.number:
        data, ts = data[valid], ts[valid]
    if nvalid and int(ts.min()) < 0:
        i = int(np.flatnonzero(ts < 0)[0]) if nvalid == pk.number else \
            int(np.flatnonzero(valid)[np.flatnonzero(ts < 0)[0]])
        raise UserError(str(path), f"byte {pk.body + 8 * i + 4}", "corrupt AEDAT 3.1 polarity "
                        f"event: negative 32-bit timestamp {int(raw['ts'][i])}")
    seg = out[k: k + nvalid]
    seg["t"] = ts
    if pk.ts_overflow:
        seg["t"] |= np.int64(pk.ts_overflow) << 31
    seg["x"] = data >> 17
    seg["y"] = (data >> 2) & 0x7FFF
    seg["p"] = (data >> 1) & 1
    return nvalid


def iter_chunks(path, chunk_events: int = 1 << 20) -> Iterator[np.ndarray]:
    """Yield the events of ``path`` in order, in arrays of at most about ``chunk_events`` events
    (whole packets; a packet larger than ``chunk_events`` is one chunk). Memory stays bounded by
    the chunk size: the file itself is memory-mapped.
    """
    packets = [p for p in scan_packets(path) if p.type == POLARITY_EVENT and p.number]
    group, size = [], 0
    with _PacketReader(path, packets) as rd:
        for pk in packets + [None]:
            if pk is None or (group and size + pk.number > chunk_events):
                if group:
                    out = np.empty(size, dtype=EVENT_DTYPE)
                    k = 0
                    for g in group:
                        k += _decode(rd.read(g), g, path, out, k)
                    yield out[:k]
                group, size = [], 0
            if pk is not None:
                group.append(pk)
                size += pk.number


def read(path) -> np.ndarray:
    """All polarity events of an AEDAT 3.1 file, as an :data:`EVENT_DTYPE` array (t in µs)."""
    packets = [p for p in scan_packets(path) if p.type == POLARITY_EVENT and p.number]
    out = np.empty(sum(p.valid for p in packets), dtype=EVENT_DTYPE)
    k = 0
    with _PacketReader(path, packets) as rd:
        for pk in packets:
            k += _decode(rd.read(pk), pk, path, out, k)
    return out


def event_offset(path, index: int) -> int:
    """Byte offset in ``path`` of event ``index`` of :func:`read` (for error messages)."""
    k = 0
    for pk in scan_packets(path):
        if pk.type != POLARITY_EVENT or not pk.number:
            continue
        if index < k + pk.valid:
            with _PacketReader(path, [pk]) as rd:
                data = rd.read(pk).view(RAW_POLARITY)["data"]
            return pk.body + 8 * int(np.flatnonzero(data & 1)[index - k])
        k += pk.valid
    raise IndexError(index)


def _check_writable(events, path):
    ev = as_events(events, str(path))
    if len(ev):
        for f, hi in (("x", MAX_XY), ("y", MAX_XY), ("p", 1), ("t", MAX_T)):
            lo_v, hi_v = int(ev[f].min()), int(ev[f].max())
            if lo_v < 0 or hi_v > hi:
                raise UserError(str(path), f, f"values must lie in [0, {hi}] for AEDAT 3.1, got "
                                f"[{lo_v}, {hi_v}]")
    return ev


def encode_header(lines=("#Format: RAW", "#Source 1: DVS128")) -> bytes:
    """The ASCII header: ``#!AER-DAT3.1``, the given ``#`` lines, ``#!END-HEADER`` (CRLF)."""
    body = [MAGIC, *lines, END_HEADER]
    return "".join(line + "\r\n" for line in body).encode("ascii")


def write(path, events, packet_events: int = 1 << 15, source: int = 1,
          header_lines=("#Format: RAW", "#Source 1: DVS128")) -> None:
    """Write ``events`` to ``path`` as AEDAT 3.1 polarity packets, atomically.

    Events keep their order; a new packet starts every ``packet_events`` events and wherever
    ``t >> 31`` (the packet's eventTSOverflow) changes. All events are written valid.
    """
    path = Path(path)
    ev = _check_writable(events, path)
    if packet_events < 1:
        raise UserError(str(path), "packet_events", "must be at least 1")
    t = ev["t"]
    raw = np.empty(len(ev), dtype=RAW_POLARITY)
    raw["data"] = ((ev["x"].astype(np.uint32) << 17) | (ev["y"].astype(np.uint32) << 2)
                   | (ev["p"].astype(np.uint32) << 1) | 1)
    raw["ts"] = (t & 0x7FFFFFFF).astype(np.int32)
    overflow = t >> 31
    cuts = np.flatnonzero(np.diff(overflow)) + 1 if len(ev) else np.zeros(0, np.int64)
    starts = np.unique(np.concatenate(
        [[0], cuts, np.arange(0, len(ev), packet_events)])).astype(np.int64) if len(ev) else []
    bounds = list(starts) + [len(ev)]
    with atomic_output(path) as fh:
        fh.write(encode_header(header_lines))
        for a, b in zip(bounds[:-1], bounds[1:]):
            n = int(b - a)
            fh.write(PACKET_HEADER.pack(POLARITY_EVENT, source, 8, 4, int(overflow[a]), n, n, n))
            fh.write(raw[a:b].tobytes())
