"""``.npy`` structured event arrays (fields ``x, y, p, t``), as Tonic and similar libraries save.

Any field order and integer widths are accepted, and every field spelling of
:data:`~tess_sim.simulator.events.core.FIELD_ALIASES` (``on``, ``polarity``, ``timestamp`` …);
``t`` must be integer microseconds in ``[0, 2**62 - 1]`` (AEDAT 3.1's range), ``x, y`` in
``[0, 32767]``, ``p`` bool, 0/1 or -1/+1
(-1 is read as OFF = 0). The header is parsed here (a literal, never code) and checked before
anything is mapped: every corruption, a negative or non-1-D shape, a file shorter than its
header promises, or an out-of-range value is a :class:`UserError` naming the byte offset (of
the header, or of the first bad event). The data is memory-mapped. Object arrays and pickles
are refused (``allow_pickle`` is never enabled).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Iterator

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.atomic import atomic_output
from tess_sim.simulator.events.core import EVENT_DTYPE, as_events, event_view_dtype, \
    file_size


MAGIC = b"\x93NUMPY"
#: header length field and text encoding of each .npy format version
_VERSIONS = {(1, 0): ("<H", "latin-1"), (2, 0): ("<I", "latin-1"), (3, 0): ("<I", "utf-8")}
MAX_HEADER = 1 << 16          # numpy itself refuses headers over 10,000 characters
MAX_T = (1 << 62) - 1         # µs, as AEDAT 3.1: keeps window ends and spans within int64
_FIELD_KINDS = {"t": "iu", "x": "iu", "y": "iu", "p": "iub"}


def _header(path, size: int):
    """``(shape, dtype, data_offset)`` from the header of the ``.npy`` file ``path``.

    Parsed here rather than by ``numpy.lib.format`` so that every corruption is a
    :class:`UserError` naming the byte offset (numpy raises ``tokenize.TokenError``,
    ``ValueError`` … from deep inside). The header is a Python literal read with
    ``ast.literal_eval`` (never evaluated as code).
    """
    import ast

    def bad(off, what):
        return UserError(str(path), f"byte {off}", f"corrupt .npy header: {what}")

    def short(v) -> str:
        r = repr(v)
        return r if len(r) <= 80 else r[:77] + "..."

    with open(path, "rb") as fh:
        head = fh.read(12)
        if not head.startswith(MAGIC):
            raise bad(0, f"not a .npy file (the first 6 bytes must be {MAGIC!r}, found "
                      f"{head[:6]!r})")
        if len(head) < 10:
            raise bad(len(head), f"the file ends after {len(head)} bytes, inside the header")
        version = (head[6], head[7])
        if version not in _VERSIONS:
            raise bad(6, f"unsupported .npy format version {version[0]}.{version[1]}")
        fmt, encoding = _VERSIONS[version]
        n_len = struct.calcsize(fmt)
        if len(head) < 8 + n_len:
            raise bad(8, f"file of {size} bytes ends inside the header length")
        (hlen,) = struct.unpack_from(fmt, head, 8)
        start = 8 + n_len
        if hlen > MAX_HEADER:
            raise bad(8, f"header length {hlen} exceeds {MAX_HEADER} bytes")
        if start + hlen > size:
            raise bad(size, f"header of {hlen} bytes from byte {start} runs past the end of the "
                      f"file ({size} bytes)")
        fh.seek(start)
        raw = fh.read(hlen)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise bad(start + exc.start, f"not {encoding} text") from None
    text = re.sub(r"(?<=\d)L\b", "", text)      # Python 2 long integers (``(12L,)``)
    try:
        d = ast.literal_eval(text)
    except SyntaxError as exc:
        col = max((exc.offset or 1) - 1, 0)
        line_start = sum(len(ln) + 1 for ln in text.split("\n")[: max((exc.lineno or 1) - 1, 0)])
        raise bad(start + min(line_start + col, hlen), f"not a Python literal "
                  f"({exc.msg})") from None
    except (ValueError, TypeError, MemoryError, RecursionError) as exc:
        raise bad(start, f"not a plain literal ({type(exc).__name__})") from None
    if not isinstance(d, dict) or set(d) != {"descr", "fortran_order", "shape"}:
        keys = short(sorted(map(repr, d))) if isinstance(d, dict) else type(d).__name__
        raise bad(start, f"need a dict with keys 'descr', 'fortran_order', 'shape'; found {keys}")
    shape = d["shape"]
    if not isinstance(shape, tuple) or not all(type(v) is int for v in shape):
        raise bad(start, f"shape must be a tuple of integers, found {short(shape)}")
    if len(shape) != 1:
        raise UserError(str(path), f"byte {start}", f"need a 1-D array of events, found shape "
                        f"{short(shape)}")
    if shape[0] < 0:
        raise bad(start, f"negative shape {shape}")
    if not isinstance(d["fortran_order"], bool):
        raise bad(start, f"fortran_order must be True or False, found {short(d['fortran_order'])}")
    try:
        dtype = np.lib.format.descr_to_dtype(d["descr"])
    except Exception as exc:                    # noqa: BLE001 - any malformed descr
        raise bad(start, f"descr {short(d['descr'])} is not a dtype ({type(exc).__name__})") from None
    return shape, _check_dtype(dtype, path, start), start + hlen


def _check_dtype(dtype: np.dtype, path, off: int) -> np.dtype:
    """The dtype to map the data with: ``dtype`` with its event fields under our names
    (:func:`~tess_sim.simulator.events.core.event_view_dtype`: ``on``, ``timestamp`` … are
    read as ``p``, ``t`` …), after checking that they are scalar integers (``p`` also bool)."""
    if dtype.hasobject or dtype.itemsize == 0 or not dtype.names:
        raise UserError(str(path), f"byte {off}", "need a structured array with integer fields "
                        f"t, x, y and an integer or bool field p; found dtype {str(dtype)[:120]}")
    view = event_view_dtype(dtype, str(path), f"byte {off}")
    if any(view[f].shape != () or view[f].kind not in _FIELD_KINDS[f] for f in _FIELD_KINDS):
        raise UserError(str(path), f"byte {off}", "need a structured array with integer fields "
                        f"t, x, y and an integer or bool field p; found dtype {str(dtype)[:120]}")
    return view


def _open(path):
    """``(array, data_offset)``: the array in ``path`` memory-mapped after checking its header
    against the file size (so a header claiming more events than the file holds is an error,
    never an out-of-bounds read or a large allocation)."""
    size = file_size(path)
    shape, dtype, data_off = _header(path, size)
    need = data_off + shape[0] * dtype.itemsize
    if size < need:
        raise UserError(str(path), f"byte {size}", f"truncated .npy file: header promises "
                        f"{shape[0]} events of {dtype.itemsize} bytes ({need} bytes in all), "
                        f"the file ends at byte {size}")
    if shape[0] == 0:
        return np.zeros(0, dtype=dtype), data_off
    return np.memmap(path, dtype=dtype, mode="r", offset=data_off, shape=shape), data_off


def _convert(arr: np.ndarray, path, data_off: int, first: int = 0) -> np.ndarray:
    """``arr`` (events ``first``… of the file, data at byte ``data_off``) as EVENT_DTYPE;
    values out of range are a :class:`UserError` naming the byte offset of the first one."""

    def bad_event(mask, f, what):
        i = int(np.flatnonzero(mask)[0])
        raise UserError(str(path), f"byte {data_off + (first + i) * arr.dtype.itemsize}",
                        f"event {first + i}: {what}, got {f} = {arr[f][i]}")

    out = np.empty(len(arr), dtype=EVENT_DTYPE)
    if not len(arr):
        return out
    for f, hi, what in (("t", MAX_T, "timestamps must be integer µs in [0, 2**62 - 1]"),
                        ("x", 32767, "pixel coordinates must lie in [0, 32767]"),
                        ("y", 32767, "pixel coordinates must lie in [0, 32767]")):
        v = arr[f]
        if int(v.min()) < 0 or int(v.max()) > hi:
            bad_event((v < 0) | (v > hi), f, what)
        out[f] = v
    p = arr["p"]
    if p.dtype.kind != "b":
        bad = (p > 1) if p.dtype.kind == "u" else (p > 1) | (p < -1)
        if bad.any():
            bad_event(bad, "p", "polarity must be 0/1, -1/+1 or bool")
        p = p == 1
    out["p"] = p
    return out


def read(path) -> np.ndarray:
    """The events of a ``.npy`` structured array file, converted to :data:`EVENT_DTYPE`."""
    arr, off = _open(path)
    return _convert(arr, path, off)


def event_offset(path, index: int) -> int:
    """Byte offset in ``path`` of event ``index`` (for error messages)."""
    arr, off = _open(path)
    return off + int(index) * arr.dtype.itemsize


def count(path) -> int:
    """Number of events the header of ``path`` declares (checked against the file size)."""
    return len(_open(path)[0])


def iter_chunks(path, chunk_events: int = 1 << 20) -> Iterator[np.ndarray]:
    """Yield the events of ``path`` in order, at most ``chunk_events`` at a time."""
    arr, off = _open(path)
    for a in range(0, len(arr), chunk_events):
        yield _convert(arr[a:a + chunk_events], path, off, a)


def write(path, events) -> None:
    """Save ``events`` as a ``.npy`` array of dtype :data:`EVENT_DTYPE`, atomically."""
    ev = as_events(events, str(path))
    with atomic_output(Path(path)) as fh:
        np.save(fh, np.ascontiguousarray(ev), allow_pickle=False)
