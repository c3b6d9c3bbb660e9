"""DVS Gesture label files: ``userNN_lighting_labels.csv`` next to each ``.aedat`` recording.

Format: a header line ``class,startTime_usec,endTime_usec`` then one line per gesture,
``class`` in 1..11 and start / end timestamps in µs on the recording's clock (the same clock as
the AEDAT 3.1 event timestamps). The gesture is the events with ``start <= t < end``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.atomic import atomic_output
from tess_sim.simulator.events.core import file_size

HEADER = ("class", "startTime_usec", "endTime_usec")
LABEL_DTYPE = np.dtype([("label", "<i8"), ("start", "<i8"), ("end", "<i8")])
N_CLASSES = 11
MAX_T = (1 << 62) - 1   # µs: AEDAT 3.1's largest timestamp (the events the labels select)


def _short(text: str) -> str:
    r = repr(text)
    return r if len(r) <= 80 else r[:77] + "..."


def read_labels(path, n_classes: int = N_CLASSES) -> np.ndarray:
    """Rows of ``path`` as a :data:`LABEL_DTYPE` array (label 1..n_classes, start/end in µs)."""
    file_size(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(str(path), f"byte {exc.start}", "not a text file") from None
    lines = text.splitlines()
    if not lines or tuple(c.strip() for c in lines[0].split(",")) != HEADER:
        got = _short(lines[0]) if lines else "(empty file)"
        raise UserError(str(path), "line 1", f"header must be {','.join(HEADER)}; found {got}")
    rows = []
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != 3:
            raise UserError(str(path), f"line {i}", f"need 3 comma-separated integers, found "
                            f"{_short(line)}")
        try:
            label, start, end = (int(c) for c in cells)
        except ValueError:
            raise UserError(str(path), f"line {i}", f"need 3 integers, found {_short(line)}") from None
        if not 1 <= label <= n_classes:
            raise UserError(str(path), f"line {i}.class", f"class must be in 1..{n_classes}, "
                            f"got {label}")
        if start < 0 or end <= start:
            raise UserError(str(path), f"line {i}", f"need 0 <= startTime_usec < endTime_usec, "
                            f"got {start}, {end}"[:200])
        if end > MAX_T:
            raise UserError(str(path), f"line {i}", f"times must be at most {MAX_T} µs (2**62 - 1, "
                            f"the AEDAT 3.1 clock's range), got {start}, {end}"[:250])
        rows.append((label, start, end))
    return np.array(rows, dtype=LABEL_DTYPE)


def write_labels(path, rows) -> None:
    """Write ``rows`` of (class, start µs, end µs) as a DVS Gesture label CSV, atomically."""
    text = ",".join(HEADER) + "\r\n" + "".join(f"{int(a)},{int(b)},{int(c)}\r\n"
                                               for a, b, c in rows)
    with atomic_output(path) as fh:
        fh.write(text.encode("ascii"))
