"""The one in-memory event representation and small helpers shared by readers and writers.

Events are a 1-D numpy structured array of dtype :data:`EVENT_DTYPE`:

========  =======  ===========================================================
field     dtype    meaning
========  =======  ===========================================================
``t``     int64    timestamp in microseconds (µs), as stored in the file
``x``     int16    column in pixels, 0 at the left edge of the sensor
``y``     int16    row in pixels, 0 at the top edge of the sensor
``p``     int8     polarity: 1 = ON (brightness increase), 0 = OFF
========  =======  ===========================================================

The dtype is aligned (16 bytes per event). Readers keep the order of the file (recordings are
normally sorted by ``t``; nothing here re-sorts them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError

EVENT_DTYPE = np.dtype([("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "i1")], align=True)

#: DVS128 sensor size (height, width) in pixels: DVS Gesture and CIFAR10-DVS.
DVS128 = (128, 128)


def empty_events(n: int = 0) -> np.ndarray:
    """A zero-filled event array of ``n`` events (dtype :data:`EVENT_DTYPE`)."""
    return np.zeros(int(n), dtype=EVENT_DTYPE)


def make_events(t, x, y, p) -> np.ndarray:
    """Build an event array from four equal-length sequences (t in µs, x/y in pixels, p in 0/1)."""
    t = np.asarray(t)
    n = t.shape[0] if t.ndim else 1
    ev = empty_events(n)
    ev["t"] = t
    ev["x"] = x
    ev["y"] = y
    ev["p"] = p
    return ev


#: the spellings of each event field that structured arrays may use, ours first: Tonic and
#: Metavision (``t, x, y, p``), the ``aedat`` decoder and ``event_stream`` (``t, x, y, on``),
#: dv-processing's ``EventStore.numpy()`` (``timestamp, x, y, polarity``), others (``ts``, ``pol``).
FIELD_ALIASES = {"t": ("t", "timestamp", "ts"), "x": ("x",), "y": ("y",),
                 "p": ("p", "on", "polarity", "pol")}


def event_fields(names, where: str, field: str = "dtype") -> dict[str, str]:
    """Map our field names ``t, x, y, p`` to the names a structured dtype uses for them.

    ``names`` are the dtype's field names (``dtype.names``; titles are not names). Exactly one
    spelling of :data:`FIELD_ALIASES` must be present for each field; otherwise a
    :class:`UserError` at ``where`` / ``field`` naming the fields found.
    """
    names = tuple(names or ())
    found, missing = {}, []
    for ours, spellings in FIELD_ALIASES.items():
        hits = [s for s in spellings if s in names]
        if len(hits) > 1:
            raise UserError(where, field, f"event array has fields {' and '.join(hits)}, which "
                            f"both spell {ours!r}; keep one (has {list(names)})")
        if hits:
            found[ours] = hits[0]
        else:
            missing.append(ours)
    if missing:
        need = "; ".join(f"{k}: {' / '.join(v)}" for k, v in FIELD_ALIASES.items())
        raise UserError(where, field, f"event array lacks field(s) {', '.join(missing)}; need a "
                        f"structured array with fields t, x, y, p, spelled {need} "
                        f"(has {list(names)})")
    return found


def event_view_dtype(dtype: np.dtype, where: str, field: str = "dtype") -> np.dtype:
    """``dtype`` seen through our names: a dtype of the same itemsize holding only the fields
    ``t, x, y, p`` at the offsets of the fields :func:`event_fields` finds (so
    ``arr.view(event_view_dtype(arr.dtype, ...))`` renames without copying)."""
    f = event_fields(dtype.names, where, field)
    return np.dtype({"names": list(f), "formats": [dtype.fields[v][0] for v in f.values()],
                     "offsets": [dtype.fields[v][1] for v in f.values()],
                     "itemsize": dtype.itemsize})


def as_events(events, where: str = "events") -> np.ndarray:
    """Return ``events`` as an :data:`EVENT_DTYPE` array (copying only if the dtype differs).

    Accepts any structured array with fields ``t, x, y, p`` under any spelling of
    :data:`FIELD_ALIASES` (e.g. the ``aedat`` decoder's ``t, x, y, on``); raises
    :class:`UserError` otherwise.
    """
    arr = np.asarray(events)
    if arr.dtype == EVENT_DTYPE:
        return arr.reshape(-1)
    arr = arr.reshape(-1)
    arr = arr.view(event_view_dtype(arr.dtype, where))
    return make_events(arr["t"], arr["x"], arr["y"], arr["p"])


def file_size(path) -> int:
    """Size of ``path`` in bytes; :class:`UserError` if it does not exist or is not a file."""
    p = Path(path)
    if not p.exists():
        raise UserError(str(path), "", "no such file")
    if not p.is_file():
        raise UserError(str(path), "", "not a regular file")
    return p.stat().st_size


def map_file(path) -> np.ndarray:
    """The bytes of ``path`` as a read-only uint8 array, memory-mapped (not copied into RAM).

    An empty file gives an empty array (``np.memmap`` refuses zero-length files).
    """
    size = file_size(path)
    if size == 0:
        return np.zeros(0, dtype=np.uint8)
    try:
        return np.memmap(path, dtype=np.uint8, mode="r")
    except OSError as exc:
        raise UserError(str(path), "", f"cannot read: {exc.strerror or exc}") from None


def read_header_lines(buf: np.ndarray, path, magic: str, end_marker: str | None = None,
                      limit: int = 1 << 20):
    """Parse the ASCII ``#`` header lines at the start of ``buf`` (a uint8 array of the file).

    Returns ``(lines, data_offset)``: the decoded lines without line endings and the byte offset
    of the first byte after the header. The first line must start with ``magic``. Header lines
    end with ``\\n`` (``\\r\\n`` in files written by jAER / cAER). Reading stops at the first line
    that does not start with ``#`` (AER-DAT 2.0), or right after the line ``end_marker`` when one
    is given (AEDAT 3.1's ``#!END-HEADER``), which must then be present.
    """
    for size in (1 << 16, limit):           # headers are short: try 64 KiB first
        head = bytes(buf[: min(len(buf), size)])
        try:
            return _parse_header(head, buf, path, magic, end_marker, limit)
        except _NeedMore:
            continue
    raise UserError(str(path), f"byte {limit}", f"header longer than {limit} bytes")


class _NeedMore(Exception):
    pass


def _parse_header(head, buf, path, magic, end_marker, limit):
    if not head.startswith(magic.encode()):
        got = head[: len(magic)].decode("latin-1", "replace")
        raise UserError(str(path), "byte 0", f"not an {magic[2:]} file: first line must start with "
                        f"{magic!r}, found {got!r}")
    cut_short = len(buf) > len(head)
    lines, off = [], 0
    while off < len(head) and head[off:off + 1] == b"#":
        nl = head.find(b"\n", off)
        if nl < 0:
            if cut_short:
                raise _NeedMore
            raise UserError(str(path), f"byte {off}", "truncated header: header line without "
                            "a line ending" + (f" (no {end_marker!r} line)" if end_marker else ""))
        lines.append(head[off:nl].rstrip(b"\r").decode("latin-1"))
        off = nl + 1
        if end_marker is not None and lines[-1] == end_marker:
            return lines, off
    if off >= len(head) and cut_short:
        raise _NeedMore
    if end_marker is not None:
        raise UserError(str(path), f"byte {off}", f"truncated or corrupt header: no "
                        f"{end_marker!r} line before " + ("the end of the file" if off >= len(buf)
                                                          else "binary data"))
    return lines, off
