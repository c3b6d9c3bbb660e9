"""Deterministic synthetic DVS recordings: a bright shape moving in one of 11 motion classes.

The sensor model is the DVS pixel's: each pixel keeps a reference log-intensity and emits one
event per contrast threshold ``theta`` crossed (ON up, OFF down), then moves its reference by
that many thresholds. The scene is rendered every ``step_us`` µs (soft-edged disk or square on a
dark background); events get uniformly random timestamps inside their step; background noise
events arrive as a Poisson process of ``noise_hz`` per pixel. Everything comes from one
``numpy.random.Generator`` seeded by the caller, so equal seeds give identical recordings.

Motion classes (labels 0..10; DVS Gesture files store them as 1..11):

==  =============  ==  ==============  ==  ==============
0   right          4   up-right        8   clockwise
1   left           5   down-left       9   anticlockwise
2   up             6   up-left         10  zoom (radius pulses)
3   down           7   down-right
==  =============  ==  ==============  ==  ==============

With the defaults a 128×128 recording has about 10^5 – 5·10^5 events per second, the order of
DVS Gesture's hand gestures (measure with ``tess-sim data info``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.core import DVS128, EVENT_DTYPE
from tess_sim.simulator.events.formats import aedat31, aerdat2, npy
from tess_sim.simulator.events.labels import write_labels

MOTIONS = ("right", "left", "up", "down", "up_right", "down_left", "up_left", "down_right",
           "clockwise", "anticlockwise", "zoom")
N_CLASSES = len(MOTIONS)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
_DIRS = {0: (1, 0), 1: (-1, 0), 2: (0, -1), 3: (0, 1), 4: (1, -1), 5: (-1, 1), 6: (-1, -1),
         7: (1, 1)}


def _tri(u):
    """Triangle wave in [0, 1] with period 2 (a bounce between two walls)."""
    u = np.mod(u, 2.0)
    return np.where(u < 1.0, u, 2.0 - u)


def generate(label: int, seed: int, duration_us: int = 1_000_000, sensor_size=DVS128,
             t0: int = 0, step_us: int = 1000, theta: float = 0.15, contrast: float = 2.5,
             noise_hz: float = 0.2, rng: np.random.Generator | None = None) -> np.ndarray:
    """One recording of motion class ``label`` (0..10): events sorted by ``t`` in
    ``[t0, t0 + duration_us)`` µs, pixels in ``sensor_size = (height, width)``."""
    if not 0 <= int(label) < N_CLASSES:
        raise UserError("synthetic", "label", f"motion class must be in 0..{N_CLASSES - 1}, "
                        f"got {label}")
    if duration_us < 0 or step_us < 1:
        raise UserError("synthetic", "duration_us", "need duration_us >= 0 and step_us >= 1")
    rng = np.random.default_rng(seed) if rng is None else rng
    h, w = (int(s) for s in sensor_size)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    size = min(h, w)
    radius = size * rng.uniform(0.08, 0.15)
    square = bool(rng.integers(0, 2))
    speed = size * rng.uniform(0.8, 1.6)             # pixels per second
    phase = rng.uniform(0, 2)
    edge = 1.0

    def centre_radius(ts):                            # ts in seconds
        r = radius
        if label < 8:
            dx, dy = _DIRS[int(label)]
            span_x, span_y = w - 2 * radius, h - 2 * radius
            cx = radius + span_x * (_tri(phase + dx * speed * ts / span_x) if dx else 0.5)
            cy = radius + span_y * (_tri(phase + dy * speed * ts / span_y) if dy else 0.5)
        elif label < 10:
            sign = 1.0 if label == 8 else -1.0
            orbit = size * 0.25
            ang = phase * np.pi + sign * speed * ts / orbit
            cx, cy = w / 2 + orbit * np.cos(ang), h / 2 + orbit * np.sin(ang)
        else:
            cx, cy = w / 2, h / 2
            r = radius * (1.0 + 0.8 * np.sin(phase * np.pi + 2 * np.pi * 1.5 * ts))
        return cx, cy, r

    def render(ts):
        cx, cy, r = centre_radius(ts)
        if square:
            d = np.maximum(np.abs(xx - cx), np.abs(yy - cy))
        else:
            d = np.hypot(xx - cx, yy - cy)
        return contrast / (1.0 + np.exp((d - r) / edge))

    n_steps = -(-int(duration_us) // step_us)
    ref = render(0.0)
    parts_idx, parts_n, parts_step = [], [], []
    for k in range(n_steps):
        lum = render((k + 1) * step_us * 1e-6)
        diff = lum - ref
        n = np.trunc(diff / theta).astype(np.int32)
        nz = np.flatnonzero(n)
        if nz.size:
            ref.flat[nz] += n.flat[nz] * theta
            parts_idx.append(nz)
            parts_n.append(n.flat[nz])
            parts_step.append(np.full(nz.size, k, np.int64))
    if parts_idx:
        idx = np.concatenate(parts_idx)
        cnt = np.concatenate(parts_n)
        stp = np.concatenate(parts_step)
        reps = np.abs(cnt)
        pix = np.repeat(idx, reps)
        pol = np.repeat(cnt > 0, reps)
        t = np.repeat(stp, reps) * step_us + rng.integers(0, step_us, pix.size)
    else:
        pix = np.zeros(0, np.int64)
        pol = np.zeros(0, bool)
        t = np.zeros(0, np.int64)
    n_noise = rng.poisson(noise_hz * h * w * duration_us * 1e-6)
    pix = np.concatenate([pix, rng.integers(0, h * w, n_noise)])
    pol = np.concatenate([pol, rng.integers(0, 2, n_noise).astype(bool)])
    t = np.concatenate([t, rng.integers(0, max(int(duration_us), 1), n_noise)])
    keep = t < duration_us
    pix, pol, t = pix[keep], pol[keep], t[keep]
    order = np.argsort(t, kind="stable")
    ev = np.empty(order.size, dtype=EVENT_DTYPE)
    ev["t"] = t[order] + int(t0)
    ev["y"] = pix[order] // w
    ev["x"] = pix[order] % w
    ev["p"] = pol[order]
    return ev


def gesture_session(labels, seed: int, gesture_us: int = 500_000, gap_us: int = 100_000,
                    sensor_size=DVS128, **kw):
    """A DVS Gesture-like recording: the gestures ``labels`` (0..10) one after another with
    ``gap_us`` µs of noise-only gaps. Returns ``(events, rows)`` with label rows
    ``(class 1..11, start µs, end µs)`` as the DVS Gesture CSV stores them."""
    rng = np.random.default_rng(seed)
    parts, rows, t = [], [], 0
    for lab in labels:
        noise = generate(0, 0, gap_us, sensor_size, t0=t, contrast=0.0, rng=rng,
                         noise_hz=kw.get("noise_hz", 0.2))
        parts.append(noise)
        t += gap_us
        parts.append(generate(int(lab), 0, gesture_us, sensor_size, t0=t, rng=rng, **kw))
        rows.append((int(lab) + 1, t, t + gesture_us))
        t += gesture_us
    ev = np.concatenate(parts) if parts else np.zeros(0, EVENT_DTYPE)
    return ev, rows


def _n_classes(classes, most: int, where: str) -> int:
    if classes is None:
        return most
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) \
            or not 1 <= classes <= most:
        raise UserError(where, "classes", f"must be an integer in 1..{most}, got {classes!r}")
    return int(classes)


def write_dvsgesture(root, n_samples: int, seed: int, gesture_us: int = 500_000,
                     gap_us: int = 100_000, classes: int | None = None, **kw) -> list[Path]:
    """Write a DVS Gesture-layout folder: ``userNN_synthetic.aedat`` (AEDAT 3.1) with
    ``userNN_synthetic_labels.csv``; each user performs up to ``classes`` gestures (the first
    ``classes`` motion classes, default all 11, in a seeded random order), ``n_samples``
    gestures in all. Returns the ``.aedat`` paths."""
    root = Path(root)
    k = _n_classes(classes, N_CLASSES, str(root))
    rng = np.random.default_rng(seed)
    paths, left, user = [], int(n_samples), 1
    while left > 0:
        labels = rng.permutation(k)[: min(left, k)]
        ev, rows = gesture_session(labels, int(rng.integers(2**31)), gesture_us, gap_us, **kw)
        stem = root / f"user{user:02d}_synthetic"
        aedat31.write(stem.with_suffix(".aedat"), ev)
        write_labels(root / f"user{user:02d}_synthetic_labels.csv", rows)
        paths.append(stem.with_suffix(".aedat"))
        left -= len(labels)
        user += 1
    return paths


def write_class_folders(root, n_samples: int, seed: int, fmt: str = "cifar10dvs",
                        duration_us: int = 500_000, classes: int | None = None,
                        **kw) -> list[Path]:
    """Write a class-folder dataset: ``root/<class>/<class>_NNNN.aedat`` (AER-DAT 2.0,
    CIFAR10-DVS layout, 10 classes named as CIFAR-10's) or ``.npy`` (``fmt="npy"``, 11 motion
    classes); ``classes`` keeps the first that many. Sample ``i`` has class
    ``i % n_classes``; returns the paths."""
    root = Path(root)
    names = CIFAR10_CLASSES if fmt == "cifar10dvs" else MOTIONS
    names = names[: _n_classes(classes, len(names), str(root))]
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(int(n_samples)):
        lab = i % len(names)
        ev = generate(lab, int(rng.integers(2**31)), duration_us, **kw)
        if fmt == "cifar10dvs":
            p = root / names[lab] / f"{names[lab]}_{i:04d}.aedat"
            aerdat2.write(p, ev)
        else:
            p = root / f"{lab:02d}_{names[lab]}" / f"{names[lab]}_{i:04d}.npy"
            npy.write(p, ev)
        paths.append(p)
    return paths


#: defaults of ``data: {format: synthetic}`` and ``tess-sim data synth``: µs per sample, µs
#: of noise between DVS Gesture gestures
DURATION_US = 300_000
GAP_US = 50_000
MAX_CLASSES = {"dvsgesture": N_CLASSES, "cifar10dvs": len(CIFAR10_CLASSES), "npy": N_CLASSES}


def write_layout(root, layout: str, n_samples: int, seed: int, duration_us: int = DURATION_US,
                 gap_us: int = GAP_US, classes: int | None = None) -> list[Path]:
    """Write ``n_samples`` recordings in dataset ``layout`` (``dvsgesture`` | ``cifar10dvs`` |
    ``npy``) under ``root``; ``duration_us`` per sample, ``gap_us`` between DVS Gesture
    gestures. Returns the recording paths."""
    if layout == "dvsgesture":
        return write_dvsgesture(root, n_samples, seed, gesture_us=duration_us, gap_us=gap_us,
                                classes=classes)
    if layout in ("cifar10dvs", "npy"):
        return write_class_folders(root, n_samples, seed, fmt=layout, duration_us=duration_us,
                                   classes=classes)
    raise UserError(str(root), "layout", f"unknown layout {layout!r}; choose one of "
                    f"{', '.join(MAX_CLASSES)}")
