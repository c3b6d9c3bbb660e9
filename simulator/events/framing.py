"""Events → frames ``[T, 2, H, W]`` of event counts (int32), channel 0 = OFF, 1 = ON.

Windows (which events go into which frame):

* ``mode="time"``: by timestamp. With ``n_frames=T`` alone, the recording window
  ``[t_start, t_end)`` is cut into ``T`` bins of (almost) equal duration with integer edges
  ``t_start + ceil(k * D / T)``, ``D = t_end - t_start`` µs. With ``bin_us=B``, bins are exactly
  ``B`` µs long from ``t_start``.
* ``mode="count"``: by position among the events inside ``[t_start, t_end)``, in stored order
  (recordings are sorted by ``t``). With ``n_frames=T`` alone, frame ``k`` holds events
  ``floor(k N / T) .. floor((k+1) N / T) - 1``. With ``events_per_frame=E``, exactly ``E`` each.

The window defaults to ``[first t, last t + 1)`` of the events (``[0, 0)`` when there are none).

Partial last window (only with fixed-size windows ``bin_us`` / ``events_per_frame``; equal
splits have none) — an explicit choice, ``last=``:

* ``"include"`` (default): the partial window is a frame of its own (shorter / fewer events).
* ``"drop"``: the partial window and its events are discarded.

Frame count: with fixed-size windows the data decides how many frames there are; when
``n_frames`` is given as well, the result is cut to the first ``n_frames`` windows or **padded**
with all-zero frames at the end to exactly ``n_frames``. Empty input gives all-zero frames of the
same shape as non-empty input.

Spatial downsampling by binning: output pixel ``(y * H_out // H_in, x * W_out // W_in)``; for
128 → 32 every output pixel sums a 4×4 block, for 128 → 48 blocks of 2 or 3 pixels per axis
(every input pixel lands in exactly one output pixel, so counts are conserved).

Conservation: ``frames.sum()`` equals the number of events inside the frames' windows.
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.core import DVS128, as_events

MODES = ("time", "count")
LAST = ("include", "drop")
CHUNK = 1 << 18  # events per vectorised step: keeps the temporaries in cache


def _window(ev, t_start, t_end, where):
    if t_start is None:
        t_start = int(ev["t"].min()) if len(ev) else 0
    if t_end is None:
        t_end = int(ev["t"].max()) + 1 if len(ev) else int(t_start)
    t_start, t_end = int(t_start), int(t_end)
    if t_end < t_start:
        raise UserError(where, "t_end", f"window end {t_end} µs is before its start {t_start} µs")
    return t_start, t_end


MAX_FRAME_ELEMENTS = 1 << 28   # 1 GiB of int32 counts


def check_frame_budget(T: int, h: int, w: int, where: str, field: str) -> None:
    """:class:`UserError` if ``[T, 2, h, w]`` int32 frames would exceed 1 GiB."""
    if T * 2 * h * w > MAX_FRAME_ELEMENTS:
        raise UserError(where, field, f"would make {T} frames of 2x{h}x{w} "
                        f"({T * 2 * h * w * 4 / 2**30:.1f} GiB); use fewer, longer windows "
                        "or give n_frames")


def _count_slices(flat, pos, pix, plane):
    """Add ``pix[pos[k]:pos[k+1]]`` to frame ``k`` of ``flat`` (frames as one int32 vector)."""
    ks = np.flatnonzero(np.diff(pos))
    if len(ks) <= 8:
        for k in ks:
            flat[k * 2 * plane: (k + 1) * 2 * plane] += np.bincount(
                pix[pos[k]: pos[k + 1]], minlength=2 * plane).astype(np.int32)
        return
    k0, k1 = int(ks[0]), int(ks[-1]) + 1             # many short windows: one bincount
    a, b = int(pos[k0]), int(pos[k1])
    fi = np.repeat(np.arange(k1 - k0, dtype=np.int64), np.diff(pos[k0: k1 + 1]))
    _count_scattered(flat, fi + k0, pix[a:b], plane)


def _count_scattered(flat, fi, pix, plane):
    """Add events with frame indices ``fi`` and in-frame bins ``pix`` to ``flat``."""
    if not len(fi):
        return
    k0, k1 = int(fi.min()), int(fi.max()) + 1        # only the windows these events touch
    lin = (fi - k0) * (2 * plane) + pix
    flat[k0 * 2 * plane: k1 * 2 * plane] += np.bincount(
        lin, minlength=(k1 - k0) * 2 * plane).astype(np.int32)


def frame_edges(t_start: int, t_end: int, n_frames: int | None = None,
                bin_us: int | None = None, last: str = "include",
                max_windows: int | None = None) -> np.ndarray:
    """Time-bin edges in µs (int64, ``len = windows + 1``) for ``mode="time"``, before padding.

    With ``bin_us``, at most ``max_windows`` windows are returned (the later ones would be cut).
    """
    d = t_end - t_start
    if bin_us is not None and max_windows is not None and d // bin_us >= max_windows:
        return t_start + bin_us * np.arange(max_windows + 1, dtype=np.int64)
    if bin_us is None:
        k = np.arange(n_frames + 1, dtype=object)
        return np.array([t_start + -(-(int(i) * d) // n_frames) for i in k], dtype=np.int64)
    full, rem = divmod(d, bin_us)
    edges = t_start + bin_us * np.arange(full + 1, dtype=np.int64)
    if rem and last == "include":
        edges = np.append(edges, t_end)
    return edges


def frame_events(events, n_frames: int | None = None, *, mode: str = "time",
                 bin_us: int | None = None, events_per_frame: int | None = None,
                 t_start: int | None = None, t_end: int | None = None,
                 sensor_size: tuple[int, int] = DVS128, out_size: tuple[int, int] | None = None,
                 last: str = "include", where: str = "events") -> np.ndarray:
    """Count events into frames; see the module docstring for the exact rules.

    ``events``: :data:`~tess_sim.simulator.events.core.EVENT_DTYPE` array (t in µs, x/y in pixels).
    ``sensor_size`` and ``out_size`` are ``(height, width)`` in pixels. Returns int32
    ``[T, 2, H_out, W_out]``. Bad options raise :class:`UserError` naming ``where``.
    """
    ev = as_events(events, where)
    if mode not in MODES:
        raise UserError(where, "mode", f"unknown framing mode {mode!r}; choose time or count")
    if last not in LAST:
        raise UserError(where, "last", f"unknown partial-window choice {last!r}; choose "
                        "include or drop")
    size = bin_us if mode == "time" else events_per_frame
    other = events_per_frame if mode == "time" else bin_us
    if other is not None:
        raise UserError(where, "events_per_frame" if mode == "time" else "bin_us",
                        f"does not apply to mode={mode!r}")
    size_name = "bin_us" if mode == "time" else "events_per_frame"
    for name, v in (("n_frames", n_frames), (size_name, size)):
        if v is not None and (not isinstance(v, (int, np.integer)) or isinstance(v, bool)
                              or v < 1):
            raise UserError(where, name, f"must be a positive integer, got {v!r}")
    if n_frames is None and size is None:
        raise UserError(where, "n_frames", f"give n_frames, {size_name}, or both")
    h_in, w_in = (int(s) for s in sensor_size)
    h, w = (h_in, w_in) if out_size is None else (int(s) for s in out_size)
    if not (0 < h <= h_in and 0 < w <= w_in):
        raise UserError(where, "out_size", f"output size {h}x{w} must be between 1x1 and the "
                        f"sensor size {h_in}x{w_in} (downsampling only)")
    if n_frames is not None:
        check_frame_budget(int(n_frames), h, w, where, "n_frames")
    if len(ev):
        for f, lim in (("x", w_in), ("y", h_in)):
            # one pass: seen as uint16, negative coordinates become >= 32768
            if int(ev[f].view(np.uint16).max()) >= lim:
                lo, hi = int(ev[f].min()), int(ev[f].max())
                raise UserError(where, f, f"event coordinate {f} in [{lo}, {hi}] lies outside the "
                                f"{h_in}x{w_in} sensor")
    t_start, t_end = _window(ev, t_start, t_end, where)

    if mode == "time":
        if size is not None and n_frames is None:
            check_frame_budget(-(-(t_end - t_start) // size), h, w, where, "bin_us")
        edges = frame_edges(t_start, t_end, n_frames if size is None else None, size, last,
                            max_windows=n_frames)
        nwin = len(edges) - 1
    else:
        inside = (ev["t"] >= t_start) & (ev["t"] < t_end)
        if not inside.all():
            ev = ev[inside]
        n = len(ev)
        if size is None:
            bounds = (np.arange(n_frames + 1, dtype=np.int64) * n) // n_frames
        else:
            full, rem = divmod(n, size)
            bounds = size * np.arange(full + 1, dtype=np.int64)
            if rem and last == "include":
                bounds = np.append(bounds, n)
        nwin = len(bounds) - 1
    T = nwin if n_frames is None else int(n_frames)
    check_frame_budget(T, h, w, where, "n_frames")
    used = min(nwin, T)
    plane = h * w
    frames = np.zeros((T, 2, h, w), dtype=np.int32)
    flat = frames.reshape(-1)
    if used and len(ev):
        # output pixel of every input column / row (binning), and the polarity plane offset
        xlut = (np.arange(w_in, dtype=np.int64) * w // w_in).astype(np.int32)
        ylut = ((np.arange(h_in, dtype=np.int64) * h // h_in) * w).astype(np.int32)
        lims = edges[: used + 1] if mode == "time" else bounds[: used + 1]
        for a in range(0, len(ev), CHUNK):
            c = ev[a:a + CHUNK]
            pix = ylut.take(c["y"])
            pix += xlut.take(c["x"])
            pix += c["p"].astype(np.int32) * plane
            if mode == "time":
                t = c["t"]
                if len(t) < 2 or bool((t[1:] >= t[:-1]).all()):      # sorted: slices
                    pos = np.searchsorted(t, lims, side="left")
                else:                                               # unsorted: per event
                    fi = np.searchsorted(lims, t, side="right") - 1
                    keep = (fi >= 0) & (fi < used)
                    _count_scattered(flat, fi[keep], pix[keep], plane)
                    continue
            else:                                                   # window = index range
                pos = np.clip(lims - a, 0, len(c))
            _count_slices(flat, pos, pix, plane)
    return frames

