"""``load_frames``: the one entry point workloads use to turn event data into input frames."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events import dataset as ds_mod
from tess_sim.simulator.events import synthetic
from tess_sim.simulator.events.core import DVS128
from tess_sim.simulator.events.fastframe import frame_aedat31
from tess_sim.simulator.events.formats.aerdat2 import CONVENTIONS
from tess_sim.simulator.events.framing import LAST, MAX_FRAME_ELEMENTS, MODES, frame_events

FORMATS = ("dvsgesture", "cifar10dvs", "npy", "synthetic")
_COMMON = {"format", "mode", "bin_us", "events_per_frame", "last", "where"}
_KEYS = {
    "dvsgesture": _COMMON | {"root", "split"},
    "cifar10dvs": _COMMON | {"root", "convention"},
    "npy": _COMMON | {"root"},
    "synthetic": _COMMON | {"layout", "duration_us", "gap_us", "classes"},
}


def _int_opt(src, key, where, default=None, minimum=1):
    v = src.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise UserError(where, f"source.{key}", f"must be an integer >= {minimum}, got {v!r}")
    return int(v)


def load_frames(source: dict, T: int, shape, n_samples: int, seed: int):
    """Frames of ``n_samples`` labelled samples of an event dataset.

    ``source``: ``{"format": "dvsgesture" | "cifar10dvs" | "npy" | "synthetic", "root": PATH,
    ...}`` plus framing options ``mode`` (``"time"`` default or ``"count"``), ``bin_us`` or
    ``events_per_frame`` (fixed windows; otherwise each sample is split into ``T`` equal parts),
    ``last`` (``"include"`` / ``"drop"``, the partial last window), ``split`` (dvsgesture:
    ``"all"``, ``"train"``, ``"test"`` from ``trials_to_*.txt``), ``convention`` (cifar10dvs,
    see :mod:`~tess_sim.simulator.events.formats.aerdat2`), and for ``synthetic``: ``layout`` (the real
    format the generated recordings are written in and read back from: ``"dvsgesture"`` default,
    ``"cifar10dvs"`` or ``"npy"``), ``duration_us`` per sample (default 300 000), ``gap_us`` and
    ``classes`` (the first that many motion / CIFAR-10 classes; default all).
    ``where`` names the file the source came from, for error messages.

    ``shape = (C, H, W)`` with ``C == 2`` (OFF, ON) and ``H, W <= 128`` (binned down from the
    128×128 DVS128). Samples: a seeded random choice of ``n_samples`` distinct samples (for
    ``synthetic``: exactly ``n_samples`` generated from the seed). Each labelled sample is framed
    over its own window (the DVS Gesture label's ``[start, end)`` or the whole recording).

    Returns ``(frames float32 [n, T, 2, H, W] of event counts, labels int64 [n] (0-based),
    description str)``.
    """
    if not isinstance(source, dict):
        raise UserError("source", "", f"must be a mapping with a 'format' key, got {source!r}")
    where = str(source.get("where", "source"))
    fmt = source.get("format")
    if fmt not in FORMATS:
        raise UserError(where, "source.format", f"unknown event data format {fmt!r}; choose one "
                        f"of {', '.join(FORMATS)}")
    unknown = sorted(set(source) - _KEYS[fmt])
    if unknown:
        raise UserError(where, f"source.{unknown[0]}", f"unknown option for format {fmt}; "
                        f"known: {', '.join(sorted(_KEYS[fmt]))}")
    T = _int_opt({"T": T}, "T", where)
    n_samples = _int_opt({"n_samples": n_samples}, "n_samples", where)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(where, "seed", f"must be a non-negative integer, got {seed!r}")
    try:
        C, H, W = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise UserError(where, "shape", f"must be (C, H, W), got {shape!r}") from None
    if C != 2:
        raise UserError(where, "shape", f"event frames have 2 channels (OFF, ON), got C={C}")
    if not (1 <= H <= DVS128[0] and 1 <= W <= DVS128[1]):
        raise UserError(where, "shape", f"H and W must be in 1..128 (binning of the 128x128 "
                        f"DVS128 sensor), got {H}x{W}")
    mode = source.get("mode", "time")
    if mode not in MODES:
        raise UserError(where, "source.mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
    last = source.get("last", "include")
    if last not in LAST:
        raise UserError(where, "source.last", f"must be one of {', '.join(LAST)}, got {last!r}")
    bin_us = _int_opt(source, "bin_us", where)
    epf = _int_opt(source, "events_per_frame", where)
    if mode == "time" and epf is not None:
        raise UserError(where, "source.events_per_frame", "only applies to mode: count")
    if mode == "count" and bin_us is not None:
        raise UserError(where, "source.bin_us", "only applies to mode: time")
    options = {}
    if fmt == "cifar10dvs" and "convention" in source:
        if source["convention"] not in CONVENTIONS:
            raise UserError(where, "source.convention", f"must be one of "
                            f"{', '.join(CONVENTIONS)}, got {source['convention']!r}")
        options["convention"] = source["convention"]

    if fmt == "synthetic":
        layout = source.get("layout", "dvsgesture")
        if layout not in ds_mod.LAYOUTS:
            raise UserError(where, "source.layout", f"must be one of "
                            f"{', '.join(ds_mod.LAYOUTS)}, got {layout!r}")
        dur = _int_opt(source, "duration_us", where, synthetic.DURATION_US)
        gap = _int_opt(source, "gap_us", where, synthetic.GAP_US, minimum=0)
        classes = _int_opt(source, "classes", where)
        if classes is not None and classes > synthetic.MAX_CLASSES[layout]:
            raise UserError(where, "source.classes", f"layout {layout} has at most "
                            f"{synthetic.MAX_CLASSES[layout]} classes, got {classes}")
        with tempfile.TemporaryDirectory(prefix="tess-sim-synthetic-") as tmp:
            synthetic.write_layout(tmp, layout, n_samples, seed, dur, gap, classes)
            ds = ds_mod.scan(layout, tmp)
            order = np.arange(len(ds.samples))[:n_samples]
            frames, labels = _frame_all(ds, order, T, H, W, mode, bin_us, epf, last, options)
        what = (f"synthetic ({layout} files written and read back, seed {seed}): {n_samples} "
                f"samples of {dur} µs")
    else:
        if "root" not in source:
            raise UserError(where, "source.root", f"format {fmt} needs a root folder")
        root = Path(source["root"])
        if not root.is_absolute() and "where" in source:
            root = Path(where).parent / root
        ds = ds_mod.scan(fmt, root, source.get("split", "all"))
        if n_samples > len(ds.samples):
            raise UserError(where, "n_samples", f"{n_samples} samples requested, {root} has "
                            f"only {len(ds.samples)}")
        order = np.random.default_rng(seed).permutation(len(ds.samples))[:n_samples]
        frames, labels = _frame_all(ds, order, T, H, W, mode, bin_us, epf, last, options)
        what = (f"{fmt} at {root}: {n_samples} of {len(ds.samples)} samples (seed {seed})")
    if bin_us is None and epf is None:
        how = f"equal {mode} split"
    else:
        size = f"{bin_us} µs" if bin_us else f"{epf} events"
        how = f"fixed windows of {size}, last window: {last}, padded/cut to T"
    desc = (f"{what}; frames [n={n_samples}, T={T}, 2, {H}, {W}] by {mode} ({how}), "
            f"128x128 -> {H}x{W}; {int(frames.sum())} events framed")
    return frames, labels, desc


def _frame_all(ds, order, T, H, W, mode, bin_us, epf, last, options):
    """Frames float32 ``[n, T, 2, H, W]`` and labels int64 ``[n]`` of ``ds.samples[order]``.

    Samples are framed in file order, so a recording is read at most once (one file is kept).
    DVS Gesture in time mode goes through the fused AEDAT 3.1 path (:func:`frame_aedat31`: the
    same frames as ``frame_events`` on the window's events, and faster for the whole loader:
    docs/events.md, ``benchmarks/bench_events.py --part loader``); where it does not cover a
    file it reads it with :func:`dataset.read_file`, so a bad file gives the same error on
    both paths. Frames over the 1 GiB budget take the reference path, which reads the file
    (and reports a bad one) before refusing them, as it always did.
    """
    n = len(order)
    frames = np.zeros((n, T, 2, H, W), dtype=np.float32)
    labels = np.zeros(n, dtype=np.int64)
    read = functools.lru_cache(maxsize=1)(functools.partial(ds_mod.read_file, ds.layout, **options))
    fused = ds.layout == "dvsgesture" and mode == "time" and T * 2 * H * W <= MAX_FRAME_ELEMENTS
    for k, i in sorted(enumerate(int(i) for i in order), key=lambda ki: ki[1]):
        s = ds.samples[i]
        window = dict(t_start=s.t_start, t_end=s.t_end, out_size=(H, W), last=last)
        if fused:
            frames[k] = frame_aedat31(s.path, T, bin_us=bin_us, read=read, **window)
        else:
            frames[k] = frame_events(ds_mod.sample_events(read(s.path), s), T, mode=mode,
                                     bin_us=bin_us, events_per_frame=epf, where=str(s.path),
                                     **window)
        labels[k] = s.label
    return frames, labels
