"""AEDAT 4 (iniVation DV / dv-processing: DAVIS346, DVXplorer, … recordings), read through the
optional ``aedat`` package (``pip install -e ".[aedat4]"``), a Rust decoder.

Layout (little-endian)::

    b"#!AER-DAT4.0\\r\\n"
    uint32 n, then n bytes: the IOHeader FlatBuffer (compression: none / LZ4 / LZ4 high / Zstd /
        Zstd high; dataTablePosition int64, -1 if absent; infoNode: XML naming the streams,
        each with a typeIdentifier EVTS / FRME / IMUS / TRIG and, for EVTS, sizeX / sizeY)
    packets: uint32 stream id, uint32 size, then size bytes (compressed or not): a size-prefixed
        FlatBuffer; EVTS packets hold struct Event {int64 t µs; int16 x; int16 y; bool on}
    at dataTablePosition: the FileDataTable (an index of the packets; not needed to read them)

Only polarity events are read; frames, IMU samples and triggers are skipped (``data info``
says so). Before the decoder sees the file, this module checks what the decoder takes on
trust, so that every corruption is a :class:`~tess_sim.simulator.errors.UserError` naming a
byte offset, never a crash of the decoder or a silently short read: the IOHeader FlatBuffer
(every offset inside it; the decoder reads it unchecked), and the packet framing (each packet
inside the file, the packets ending exactly at the data table, or at the end of the file when
there is none; an uncompressed data table exactly filling the rest of the file). The decoder
verifies each packet's FlatBuffer; its errors name the packet's byte offset. Values: ``t`` in
``[0, 2**62 - 1]`` µs, ``x, y`` inside the stream's ``sizeX`` × ``sizeY`` sensor.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.core import EVENT_DTYPE, as_events, file_size

MAGIC = b"#!AER-DAT4.0\r\n"
EXTRA = 'pip install -e ".[aedat4]"'
COMPRESSIONS = ("none", "LZ4", "LZ4 high", "Zstd", "Zstd high")
MAX_T = (1 << 62) - 1          # µs, as AEDAT 3.1 and .npy
HEADER_AT = len(MAGIC) + 4     # byte offset of the IOHeader FlatBuffer


@dataclass(frozen=True)
class Packet:
    """One packet: the byte offset of its 8-byte header, its stream id and payload size."""

    offset: int
    stream: int
    size: int


@dataclass(frozen=True)
class Layout:
    """What the file's framing says, checked against its size (see :func:`scan`)."""

    compression: str
    data_table: int            # byte offset of the FileDataTable, -1 if none
    packets: list[Packet]


def decoder_module(path):
    """The ``aedat`` package, or a :class:`UserError` naming the extra that installs it."""
    try:
        import aedat
    except ImportError:
        raise UserError(str(path), "", f"reading AEDAT 4 needs the optional package 'aedat': "
                        f"{EXTRA}") from None
    return aedat


def _io_header(buf: bytes, path):
    """``(compression index, dataTablePosition, infoNode text)`` of the IOHeader FlatBuffer
    ``buf`` (file bytes from :data:`HEADER_AT`), every offset checked to lie inside it."""

    def bad(rel, what):
        return UserError(str(path), f"byte {HEADER_AT + rel}", f"corrupt AEDAT 4 IOHeader: {what}")

    def read(fmt, at, what):
        n = struct.calcsize(fmt)
        if at < 0 or at + n > len(buf):
            raise bad(max(at, 0), f"{what} at {at} lies outside the {len(buf)}-byte header")
        return struct.unpack_from(fmt, buf, at)[0]

    root = read("<I", 0, "root table offset")
    vt = root - read("<i", root, "vtable offset")
    vt_size, tbl_size = read("<H", vt, "vtable"), read("<H", vt + 2, "vtable")
    if vt_size < 4 or vt_size % 2 or vt + vt_size > len(buf) or tbl_size < 4 \
            or root + tbl_size > len(buf):
        raise bad(vt, f"vtable of {vt_size} bytes for a table of {tbl_size} bytes at {root} does "
                  f"not fit the {len(buf)}-byte header")

    def field(i, fmt, default):
        slot = 4 + 2 * i
        off = read("<H", vt + slot, "vtable") if slot + 2 <= vt_size else 0
        if off == 0:
            return default, None
        if off + struct.calcsize(fmt) > tbl_size:
            raise bad(vt + slot, f"field {i} at {off} lies outside its {tbl_size}-byte table")
        return read(fmt, root + off, f"field {i}"), root + off

    compression, at = field(0, "<i", 0)
    if not 0 <= compression < len(COMPRESSIONS):
        raise bad(at, f"unknown compression {compression}")
    data_table, _ = field(1, "<q", -1)
    rel, at = field(2, "<I", None)
    if rel is None:
        raise bad(vt, "no infoNode (the XML description of the streams)")
    s = at + rel
    n = read("<I", s, "infoNode string")
    if s + 4 + n > len(buf):
        raise bad(s, f"infoNode string of {n} bytes runs past the {len(buf)}-byte header")
    try:
        text = buf[s + 4:s + 4 + n].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad(s + 4 + exc.start, "infoNode is not UTF-8 text") from None
    return compression, data_table, text


def scan(path) -> Layout:
    """Check the magic, the IOHeader and the packet framing of ``path`` (no decoding)."""
    size = file_size(path)
    with open(path, "rb") as fh:
        fd = fh.fileno()
        head = os.pread(fd, HEADER_AT, 0)
        if not head.startswith(MAGIC) or len(head) < HEADER_AT:
            if MAGIC.startswith(head[:len(MAGIC)]):
                raise UserError(str(path), f"byte {len(head)}", f"truncated AEDAT 4 file: it ends "
                                f"after {len(head)} bytes, inside the header")
            raise UserError(str(path), "byte 0", f"not an AEDAT 4 file: it must start with "
                            f"{MAGIC!r}, found {head[:len(MAGIC)]!r}")
        (n,) = struct.unpack_from("<I", head, len(MAGIC))
        if HEADER_AT + n > size:
            raise UserError(str(path), f"byte {len(MAGIC)}", f"truncated AEDAT 4 file: IOHeader of "
                            f"{n} bytes from byte {HEADER_AT} runs past the end of the file "
                            f"({size} bytes)")
        compression, table, _ = _io_header(os.pread(fd, n, HEADER_AT), path)
        start = HEADER_AT + n
        if table != -1 and not start <= table <= size:
            what = "truncated AEDAT 4 file" if table > size else "corrupt AEDAT 4 IOHeader"
            raise UserError(str(path), f"byte {HEADER_AT}", f"{what}: dataTablePosition {table} "
                            f"lies outside the packets (bytes {start}..{size})")
        end, kind = (size, "truncated") if table == -1 else (table, "corrupt")
        limit = "the end of the file" if table == -1 else f"the data table at byte {table}"
        packets, pos = [], start
        while pos < end:
            if pos + 8 > end:
                raise UserError(str(path), f"byte {pos}", f"{kind} AEDAT 4 file: packet header of "
                                f"8 bytes at byte {pos} runs past {limit}")
            sid, psize = struct.unpack("<II", os.pread(fd, 8, pos))
            if pos + 8 + psize > end:
                raise UserError(str(path), f"byte {pos}", f"{kind} AEDAT 4 file: packet of "
                                f"{psize} bytes (stream {sid}) at byte {pos} runs past {limit}")
            packets.append(Packet(pos, sid, psize))
            pos += 8 + psize
        if table == size:
            raise UserError(str(path), f"byte {size}", f"truncated AEDAT 4 file: no data table at "
                            f"byte {table} (the file ends there)")
        if table != -1 and compression == 0:
            prefix = os.pread(fd, 4, table)
            want = struct.unpack("<I", prefix)[0] if len(prefix) == 4 else None
            if want is None or table + 4 + want != size:
                raise UserError(str(path), f"byte {table}", f"truncated or corrupt AEDAT 4 file: "
                                f"the data table at byte {table} "
                                + (f"declares {want} bytes, the file holds {size - table - 4} "
                                   "after its size" if want is not None else
                                   f"is cut inside its 4-byte size (file of {size} bytes)"))
    return Layout(COMPRESSIONS[compression], table, packets)


def _is_decoder_error(exc: BaseException) -> bool:
    """Errors of the decoder: Python exceptions and a Rust panic (pyo3's ``PanicException``
    derives from BaseException)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def decode(path):
    """``(layout, streams, packets)``: :func:`scan`'s layout, the decoder's
    ``{id: {"type": "events" | "frame" | "imus" | "triggers", "width", "height"}}`` and the
    list of ``(Packet, decoded dict)`` in file order. Every failure is a :class:`UserError`."""
    aedat = decoder_module(path)
    layout = scan(path)
    try:
        dec = aedat.Decoder(str(path))
        streams = dec.id_to_stream()
    except BaseException as exc:                    # noqa: BLE001 - see _is_decoder_error
        if not _is_decoder_error(exc):
            raise
        raise UserError(str(path), f"byte {HEADER_AT}", f"corrupt AEDAT 4 IOHeader: "
                        f"{str(exc)[:200]}") from None
    out = []
    while True:
        k = len(out)
        try:
            pkt = next(dec)
        except StopIteration:
            break
        except BaseException as exc:                # noqa: BLE001 - see _is_decoder_error
            if not _is_decoder_error(exc):
                raise
            where = layout.packets[k].offset if k < len(layout.packets) else file_size(path)
            raise UserError(str(path), f"byte {where}", f"corrupt AEDAT 4 packet {k}: "
                            f"{str(exc)[:200]}") from None
        if k >= len(layout.packets):                # cannot happen after scan(); never silent
            raise UserError(str(path), f"byte {file_size(path)}", "corrupt AEDAT 4 file: the "
                            f"decoder found more than the {len(layout.packets)} packets framed")
        out.append((layout.packets[k], pkt))
    del dec
    if len(out) != len(layout.packets):
        raise UserError(str(path), f"byte {layout.packets[len(out)].offset}", f"corrupt AEDAT 4 "
                        f"file: the decoder stopped after {len(out)} of "
                        f"{len(layout.packets)} packets")
    return layout, streams, out


def event_streams(streams: dict) -> list[int]:
    """Ids of the polarity event streams, sorted."""
    return sorted(i for i, s in streams.items() if s.get("type") == "events")


def choose_stream(path, streams: dict, stream: int | None) -> int:
    """The event stream to read: ``stream``, or the only one the file has."""
    ids = event_streams(streams)
    if stream is None:
        if len(ids) == 1:
            return ids[0]
        if not ids:
            kinds = ", ".join(f"{i}: {s.get('type')}" for i, s in sorted(streams.items()))
            raise UserError(str(path), "", f"no polarity event stream in this AEDAT 4 file "
                            f"(streams {kinds})")
        raise UserError(str(path), "stream", f"{len(ids)} event streams (ids "
                        f"{', '.join(map(str, ids))}): choose one (aedat4.read(path, stream=ID))")
    if stream not in ids:
        raise UserError(str(path), "stream", f"{stream!r} is not an event stream of this file "
                        f"(event streams: {', '.join(map(str, ids)) or 'none'})")
    return stream


def stream_events(path, streams: dict, packets, stream: int) -> np.ndarray:
    """The events of ``stream`` (from :func:`decode`'s packets) as :data:`EVENT_DTYPE`, in file
    order; a value out of range is a :class:`UserError` naming its packet's byte offset."""
    w, h = int(streams[stream]["width"]), int(streams[stream]["height"])
    parts = []
    for k, (pk, d) in enumerate(packets):
        if pk.stream != stream:
            continue
        ev = d["events"]
        for ok, what in ((ev["t"] <= MAX_T, "timestamp beyond [0, 2**62 - 1] µs (negative?)"),
                         ((ev["x"] < w) & (ev["y"] < h),
                          f"pixel outside the {w}x{h} sensor of stream {stream}")):
            if not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                raise UserError(str(path), f"byte {pk.offset}", f"packet {k} event {i}: {what}, "
                                f"got t={int(ev['t'][i])}, x={int(ev['x'][i])}, "
                                f"y={int(ev['y'][i])}")
        parts.append(as_events(ev, str(path)))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=EVENT_DTYPE)


def read(path, stream: int | None = None) -> np.ndarray:
    """The polarity events of ``path`` (the only event stream, or ``stream=ID``) as
    :data:`EVENT_DTYPE`; frames, IMU samples and triggers are skipped."""
    _, streams, packets = decode(Path(path))
    return stream_events(path, streams, packets, choose_stream(path, streams, stream))


def count(path, stream: int | None = None) -> int:
    """Number of events :func:`read` returns (the file is decoded: AEDAT 4 packet headers do
    not hold the count)."""
    return len(read(path, stream))
