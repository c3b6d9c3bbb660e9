"""``.npy`` structured event arrays (fields ``x, y, p, t``), as Tonic and similar libraries save.

Any field order and integer widths are accepted; ``t`` must be integer microseconds, ``p`` may
be bool, 0/1 or -1/+1 (-1 is read as OFF = 0). The file is memory-mapped; a file shorter than
its header promises is a :class:`UserError` naming the byte offset where the data ends.
Object arrays and pickles are refused (``allow_pickle`` is never enabled).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from simulator.errors import UserError
from simulator.atomic import atomic_output
from simulator.events.core import EVENT_DTYPE, as_events, file_size


def _open(path):
    """Memory-map the array in ``path`` after checking its header against the file size."""
    size = file_size(path)
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            data_off = fh.tell()
    except (ValueError, EOFError, SyntaxError) as exc:
        raise UserError(str(path), "byte 0", f"corrupt .npy header: {exc}") from None
    names = dtype.names or ()
    missing = [f for f in ("t", "x", "y", "p") if f not in names]
    if missing or dtype.hasobject:
        raise UserError(str(path), "dtype", "need a structured array with fields t, x, y, p "
                        f"(numbers only); found dtype {dtype}")
    if len(shape) != 1:
        raise UserError(str(path), "shape", f"need a 1-D array of events, found shape {shape}")
    need = data_off + shape[0] * dtype.itemsize
    if size < need:
        raise UserError(str(path), f"byte {size}", f"truncated .npy file: header promises "
                        f"{shape[0]} events of {dtype.itemsize} bytes ({need} bytes in all), "
                        f"the file ends at byte {size}")
    if shape[0] == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=data_off, shape=shape)


def _convert(arr: np.ndarray, path) -> np.ndarray:
    if not np.issubdtype(arr.dtype["t"], np.integer):
        raise UserError(str(path), "t", f"timestamps must be integer microseconds, found dtype "
                        f"{arr.dtype['t']}")
    out = np.empty(len(arr), dtype=EVENT_DTYPE)
    out["t"] = arr["t"]
    for f in ("x", "y"):
        v = arr[f]
        if len(v) and (int(v.min()) < 0 or int(v.max()) > np.iinfo(np.int16).max):
            raise UserError(str(path), f, f"pixel coordinates must lie in [0, 32767], got "
                            f"[{int(v.min())}, {int(v.max())}]")
        out[f] = v
    p = arr["p"]
    if len(p):
        p = p.astype(np.int64)
        bad = (p != 0) & (p != 1) & (p != -1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise UserError(str(path), "p", f"polarity must be 0/1, -1/+1 or bool; event {i} "
                            f"has {int(p[i])}")
        p = (p == 1)
    out["p"] = p
    return out


def read(path) -> np.ndarray:
    """The events of a ``.npy`` structured array file, converted to :data:`EVENT_DTYPE`."""
    return _convert(_open(path), path)


def iter_chunks(path, chunk_events: int = 1 << 20) -> Iterator[np.ndarray]:
    """Yield the events of ``path`` in order, at most ``chunk_events`` at a time."""
    arr = _open(path)
    for a in range(0, len(arr), chunk_events):
        yield _convert(arr[a:a + chunk_events], path)


def write(path, events) -> None:
    """Save ``events`` as a ``.npy`` array of dtype :data:`EVENT_DTYPE`, atomically."""
    ev = as_events(events, str(path))
    with atomic_output(Path(path)) as fh:
        np.save(fh, np.ascontiguousarray(ev), allow_pickle=False)
