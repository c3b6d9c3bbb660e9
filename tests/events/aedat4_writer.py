"""A small AEDAT 4 writer for tests (uncompressed; polarity event streams only).

Written from iniVation's AEDAT 4 description and the schemas the ``aedat`` decoder compiles
(``flatbuffers/ioheader.fbs``, ``events.fbs`` in neuromorphicsystems/aedat; ``FileDataTable``
of dv-processing). The FlatBuffers are laid out by hand (no ``flatbuffers`` package), every
scalar aligned to its size relative to the start of its buffer. File layout::

    b"#!AER-DAT4.0\\r\\n"
    uint32 LE  n                      IOHeader length
    n bytes    IOHeader               FlatBuffer "IOHE": compression int32 = 0 (none),
                                      dataTablePosition int64, infoNode string (XML, streams)
    packets:   int32 LE stream id, int32 LE size, then `size` bytes: a size-prefixed
               FlatBuffer "EVTS" EventPacket {elements: [Event]},
               struct Event {int64 t; int16 x; int16 y; bool on} (16 bytes, 3 bytes padding)
    data table (at dataTablePosition): a size-prefixed FlatBuffer "FTAB" FileDataTable,
               one FileDataDefinition {byteOffset, {streamId, size}, numElements, tStart, tEnd}
               per packet

Only this module writes AEDAT 4 in the project; the reader (``formats/aedat4.py``) goes
through the ``aedat`` package.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

MAGIC = b"#!AER-DAT4.0\r\n"
#: the FlatBuffer layout of struct Event
EVENT = np.dtype({"names": ["t", "x", "y", "on"], "formats": ["<i8", "<i2", "<i2", "?"],
                  "offsets": [0, 8, 10, 12], "itemsize": 16})


def _pad(b: bytes, align: int) -> bytes:
    return b + b"\0" * (-len(b) % align)


def description(streams: dict[int, tuple[int, int]], triggers=()) -> str:
    """The infoNode XML declaring one ``EVTS`` stream per ``id -> (width, height)`` and one
    ``TRIG`` stream per id in ``triggers``."""
    trig = "".join(f'<node name="{sid}" path="/mainloop/Recorder/outInfo/{sid}/">'
                   '<attr key="typeIdentifier" type="string">TRIG</attr></node>'
                   for sid in sorted(triggers))
    nodes = trig + "".join(
        f'<node name="{sid}" path="/mainloop/Recorder/outInfo/{sid}/">'
        '<attr key="compression" type="string">NONE</attr>'
        '<attr key="originalOutputName" type="string">events</attr>'
        '<attr key="typeDescription" type="string">Array of events (polarity ON/OFF).</attr>'
        '<attr key="typeIdentifier" type="string">EVTS</attr>'
        f'<node name="info" path="/mainloop/Recorder/outInfo/{sid}/info/">'
        f'<attr key="sizeX" type="int">{w}</attr><attr key="sizeY" type="int">{h}</attr>'
        '<attr key="source" type="string">tests</attr></node></node>'
        for sid, (w, h) in sorted(streams.items()))
    return (f'<dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/">'
            f"{nodes}</node></dv>")


def io_header(xml: str, data_table_position: int, compression: int = 0) -> bytes:
    """The IOHeader FlatBuffer (not size-prefixed; the file puts its length before it).

    bytes 0-3 root offset (20), 4-7 "IOHE", 8-17 vtable (size 10, table 20, fields at 4, 12,
    8), 20-39 table (soffset 12, compression int32, infoNode offset, dataTablePosition int64
    at 32), 40- string (uint32 length, UTF-8, NUL).
    """
    text = xml.encode("utf-8")
    vtable = struct.pack("<5H", 10, 20, 4, 12, 8) + b"\0\0"
    table = struct.pack("<iiIq", 20 - 8, compression, 40 - 28, data_table_position)
    string = _pad(struct.pack("<I", len(text)) + text + b"\0", 8)
    return struct.pack("<I", 20) + b"IOHE" + vtable + table + string


def empty_trigger_packet() -> bytes:
    """A size-prefixed TriggerPacket FlatBuffer with no triggers (the layout of
    :func:`event_packet` with identifier "TRIG" and an empty vector)."""
    body = (struct.pack("<I", 16) + b"TRIG" + struct.pack("<3H", 6, 8, 4) + b"\0\0"
            + struct.pack("<iII", 8, 4, 0))
    return struct.pack("<I", len(body)) + body


def event_packet(events: np.ndarray) -> bytes:
    """A size-prefixed EventPacket FlatBuffer of ``events`` (fields t, x, y, on / p).

    bytes 0-3 size, 4-7 root offset (16 -> table at 20), 8-11 "EVTS", 12-17 vtable (size 6,
    table 8, elements at 4), 20-27 table (soffset 8, vector offset 4), 28-31 vector length,
    32- elements (8-aligned).
    """
    el = np.zeros(len(events), dtype=EVENT)
    el["t"], el["x"], el["y"] = events["t"], events["x"], events["y"]
    el["on"] = events["on"] if "on" in events.dtype.names else events["p"]
    body = (struct.pack("<I", 16) + b"EVTS" + struct.pack("<3H", 6, 8, 4) + b"\0\0"
            + struct.pack("<iII", 8, 4, len(el)) + el.tobytes())
    return struct.pack("<I", len(body)) + body


def data_table(entries) -> bytes:
    """A size-prefixed FileDataTable of ``(offset, stream, size, n, t0, t1)`` per packet.

    Each FileDataDefinition table: vtable (5 fields: byteOffset 8, packetInfo 16,
    numElements 24, tStart 32, tEnd 40), table of 48 bytes 8-aligned. The root table holds
    one vector of offsets to them.
    """
    head = 4 + 4 + 4                                  # size, root offset, "FTAB"
    root_vt = struct.pack("<3H", 6, 8, 4) + b"\0\0"   # at 12
    root = 20                                         # soffset 8, vector offset
    vec = 28                                          # uint32 n, n uoffsets
    defs_at = vec + 4 + 4 * len(entries)
    defs_at += -defs_at % 8
    def_vt = struct.pack("<7H", 14, 48, 8, 16, 24, 32, 40) + b"\0\0"   # 16 bytes
    chunks, positions, pos = [], [], defs_at
    for off, sid, size, n, t0, t1 in entries:
        vt_pos, tbl = pos, pos + 16
        chunks.append(def_vt + struct.pack("<i4xqiiqqq", tbl - vt_pos, off, sid, size, n, t0, t1))
        positions.append(tbl)
        pos += 16 + 48
    buf = bytearray(b"\0" * pos)
    buf[4:12] = struct.pack("<I", root - 4) + b"FTAB"
    buf[12:20] = root_vt
    buf[root:root + 8] = struct.pack("<iI", root - 12, vec - (root + 4))
    buf[vec:vec + 4] = struct.pack("<I", len(entries))
    for k, tbl in enumerate(positions):
        at = vec + 4 + 4 * k
        buf[at:at + 4] = struct.pack("<I", tbl - at)
    buf[defs_at:] = b"".join(chunks)
    buf[0:4] = struct.pack("<I", len(buf) - 4)
    return bytes(buf)


def write(path, packets, sizes: dict[int, tuple[int, int]] | None = None,
          data_table_position: bool = True, triggers=()) -> Path:
    """Write ``packets`` (a list of ``(stream id, events)``, events a structured array with
    fields t, x, y and on or p; ``None`` for an empty trigger packet) to ``path``; ``sizes``:
    event stream id -> (width, height), default 128x128 for every event stream used;
    ``triggers``: ids of trigger streams. ``data_table_position=False`` writes -1 and no table
    (as a recording cut off by a crash)."""
    ids = sorted({sid for sid, _ in packets} - set(triggers))
    sizes = sizes or {sid: (128, 128) for sid in ids}
    xml = description(sizes, triggers)
    start = len(MAGIC) + 4 + len(io_header(xml, -1))
    body, entries, pos = [], [], start
    for sid, ev in packets:
        if ev is None:
            ev = np.zeros(0, dtype=EVENT)
            payload = empty_trigger_packet()
        else:
            payload = event_packet(ev)
        body.append(struct.pack("<iI", sid, len(payload)) + payload)
        t = np.asarray(ev["t"], dtype=np.int64)
        entries.append((pos, sid, len(payload), len(ev), int(t.min()) if len(t) else 0,
                        int(t.max()) if len(t) else 0))
        pos += len(body[-1])
    table = data_table(entries) if data_table_position else b""
    header = io_header(xml, pos if data_table_position else -1)
    path = Path(path)
    path.write_bytes(MAGIC + struct.pack("<I", len(header)) + header + b"".join(body) + table)
    return path
