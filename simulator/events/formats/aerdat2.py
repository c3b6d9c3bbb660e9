"""AER-DAT 2.0 (jAER; the format of the CIFAR10-DVS ``.aedat`` recordings).

Layout: ASCII header lines starting with ``#`` (the first is ``#!AER-DAT2.0``, lines end with
``\\r\\n``), then 8-byte records of **big-endian** ``uint32 address, uint32 timestamp`` (µs).
A body whose length is not a multiple of 8 is a truncated file: a :class:`UserError` naming
the byte offset of the incomplete record. Timestamps are returned as stored (no wrap-around
unwrapping: 2**32 µs is 71 minutes, CIFAR10-DVS recordings last about 1.3 s).

DVS128 address bits: ``x = (addr >> 1) & 0x7F``, ``y = (addr >> 8) & 0x7F``,
``p = addr & 1``. Records with any address bit above bit 14 set (bit 15 marks external /
special events in jAER's DVS128 format) are not pixel events and are dropped.

Orientation (``convention``) — readers of CIFAR10-DVS disagree, so the choice is explicit:

* ``"raw"`` (default): the address bits as stored, as above.
* ``"spikingjelly"``: ``x = 127 - y_raw, y = 127 - x_raw, p = 1 - p_raw`` (SpikingJelly's
  current CIFAR10-DVS loader, which produces upright images).
* ``"dat2mat"``: ``x = 127 - x_raw, y = y_raw, p = 1 - p_raw`` (the dataset authors'
  ``dat2mat.m``, as quoted in SpikingJelly's older loader).

For cost simulation the convention only permutes pixels (and swaps polarities): event counts per
frame are unchanged. Writers take the same ``convention`` and invert it, so round trips hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.atomic import atomic_output
from tess_sim.simulator.events.core import EVENT_DTYPE, as_events, map_file, \
    read_header_lines

MAGIC = "#!AER-DAT2.0"
RECORD = np.dtype([("addr", ">u4"), ("ts", ">u4")])
MAX_T = (1 << 32) - 1
CONVENTIONS = ("raw", "spikingjelly", "dat2mat")
HEADER_LINES = (
    MAGIC,
    "# This is a raw AE data file - do not edit",
    "# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event",
    "# Timestamps tick is 1 us",
    "# created by tess-sim",
)


def _check_convention(convention, where):
    if convention not in CONVENTIONS:
        raise UserError(str(where), "convention", f"unknown AER-DAT 2.0 convention "
                        f"{convention!r}; choose one of {', '.join(CONVENTIONS)}")


def read_header(path):
    """``(header_lines, data_offset)`` of an AER-DAT 2.0 file."""
    return read_header_lines(map_file(path), path, MAGIC)


def _body(path):
    buf = map_file(path)
    _, off = read_header_lines(buf, path, MAGIC)
    nbytes = len(buf) - off
    if nbytes % RECORD.itemsize:
        bad = off + (nbytes // 8) * 8
        raise UserError(str(path), f"byte {bad}", f"truncated AER-DAT 2.0 file: the last record "
                        f"has {nbytes % 8} of 8 bytes (body of {nbytes} bytes from byte {off})")
    return buf[off:].view(RECORD) if nbytes else np.zeros(0, RECORD)


def _decode(rec: np.ndarray, convention: str) -> np.ndarray:
    addr = rec["addr"].astype(np.uint32)
    keep = addr <= 0x7FFF
    if not keep.all():
        rec, addr = rec[keep], addr[keep]
    out = np.empty(len(rec), dtype=EVENT_DTYPE)
    xr = (addr >> 1) & 0x7F
    yr = (addr >> 8) & 0x7F
    pr = addr & 1
    out["t"] = rec["ts"]
    if convention == "raw":
        out["x"], out["y"], out["p"] = xr, yr, pr
    elif convention == "spikingjelly":
        out["x"], out["y"], out["p"] = 127 - yr, 127 - xr, 1 - pr
    else:  # dat2mat
        out["x"], out["y"], out["p"] = 127 - xr, yr, 1 - pr
    return out


def read(path, convention: str = "raw") -> np.ndarray:
    """All pixel events of an AER-DAT 2.0 file as an :data:`EVENT_DTYPE` array (t in µs)."""
    _check_convention(convention, path)
    return _decode(_body(path), convention)


def iter_chunks(path, chunk_events: int = 1 << 20, convention: str = "raw") -> Iterator[np.ndarray]:
    """Yield the events of ``path`` in order, at most ``chunk_events`` records at a time."""
    _check_convention(convention, path)
    rec = _body(path)
    for a in range(0, len(rec), chunk_events):
        yield _decode(rec[a:a + chunk_events], convention)


def write(path, events, convention: str = "raw") -> None:
    """Write ``events`` (x, y in 0..127, p in 0/1, t in 0..2**32-1 µs) as AER-DAT 2.0,
    atomically."""
    path = Path(path)
    _check_convention(convention, path)
    ev = as_events(events, str(path))
    if len(ev):
        for f, hi in (("x", 127), ("y", 127), ("p", 1), ("t", MAX_T)):
            lo_v, hi_v = int(ev[f].min()), int(ev[f].max())
            if lo_v < 0 or hi_v > hi:
                raise UserError(str(path), f, f"values must lie in [0, {hi}] for AER-DAT 2.0 "
                                f"(DVS128), got [{lo_v}, {hi_v}]")
    x, y, p = ev["x"].astype(np.uint32), ev["y"].astype(np.uint32), ev["p"].astype(np.uint32)
    if convention == "spikingjelly":
        x, y, p = 127 - y, 127 - x, 1 - p
    elif convention == "dat2mat":
        x, p = 127 - x, 1 - p
    rec = np.empty(len(ev), dtype=RECORD)
    rec["addr"] = (y << 8) | (x << 1) | p
    rec["ts"] = ev["t"]
    with atomic_output(path) as fh:
        fh.write("".join(line + "\r\n" for line in HEADER_LINES).encode("ascii"))
        fh.write(rec.tobytes())
