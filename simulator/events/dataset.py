"""Labelled samples of a dataset folder, in three layouts:

* ``"dvsgesture"``: ``*.aedat`` AEDAT 3.1 recordings, each with ``<stem>_labels.csv``
  (IBM DVS Gesture: ``user01_fluorescent.aedat`` + ``user01_fluorescent_labels.csv``). One
  sample per label row: the events with ``start <= t < end``; label = CSV class - 1 (0..10).
* ``"cifar10dvs"``: one sub-folder per class holding AER-DAT 2.0 ``.aedat`` files
  (``airplane/cifar10_airplane_0.aedat`` …). Label = index of the folder name in sorted order
  (which for CIFAR10-DVS's names is CIFAR-10's class order).
* ``"npy"``: one sub-folder per class holding ``.npy`` structured event arrays; label as above.

Folders are searched recursively (so the real DVS Gesture's ``DvsGesture/`` sub-folder works).
Files are listed in sorted order, so the sample list is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.core import DVS128
from tess_sim.simulator.events.formats import aedat31, aerdat2, npy
from tess_sim.simulator.events.labels import read_labels

LAYOUTS = ("dvsgesture", "cifar10dvs", "npy")


@dataclass(frozen=True)
class Sample:
    """One labelled sample: a file, its label (0-based) and its time window in µs
    (``None`` = the whole recording)."""

    path: Path
    label: int
    t_start: int | None = None
    t_end: int | None = None


@dataclass
class Dataset:
    """The samples of a folder and the names of its classes (index = label)."""

    layout: str
    root: Path
    classes: list[str]
    samples: list[Sample]


def _require_dir(root, field="root"):
    root = Path(root)
    if not root.exists():
        raise UserError(str(root), field, "no such folder")
    if not root.is_dir():
        raise UserError(str(root), field, "not a folder")
    return root


SPLITS = ("all", "train", "test")


def _split_files(root: Path, split: str):
    """Recording names listed in DVS Gesture's ``trials_to_<split>.txt`` (searched under root)."""
    lists = sorted(root.rglob(f"trials_to_{split}.txt"))
    if not lists:
        raise UserError(str(root), "split", f"split {split!r} needs trials_to_{split}.txt "
                        "(as shipped with DVS Gesture) under the root folder")
    return {line.strip() for line in lists[0].read_text().splitlines() if line.strip()}


def scan(layout: str, root, split: str = "all") -> Dataset:
    """List the samples of ``root`` in ``layout``; :class:`UserError` if there are none.

    ``split`` (DVS Gesture only): ``"all"`` recordings, or those named in
    ``trials_to_train.txt`` / ``trials_to_test.txt``.
    """
    if layout not in LAYOUTS:
        raise UserError(str(root), "format", f"unknown dataset layout {layout!r}; choose one of "
                        f"{', '.join(LAYOUTS)}")
    if split not in SPLITS or (split != "all" and layout != "dvsgesture"):
        raise UserError(str(root), "split", f"split must be one of {', '.join(SPLITS)} (train / "
                        f"test only for dvsgesture), got {split!r}")
    root = _require_dir(root)
    if layout == "dvsgesture":
        samples = []
        names = None if split == "all" else _split_files(root, split)
        for f in sorted(root.rglob("*.aedat")):
            if names is not None and f.name not in names:
                continue
            csv = f.with_name(f.stem + "_labels.csv")
            if not csv.exists():
                continue
            for lab, start, end in read_labels(csv):
                samples.append(Sample(f, int(lab) - 1, int(start), int(end)))
        classes = [str(i) for i in range(1, 12)]
        if not samples:
            raise UserError(str(root), "root", "no DVS Gesture recordings found: need *.aedat "
                            "files each with a <name>_labels.csv beside it")
        return Dataset(layout, root, classes, samples)
    ext = ".aedat" if layout == "cifar10dvs" else ".npy"
    dirs = sorted(d for d in root.iterdir() if d.is_dir() and any(d.rglob("*" + ext)))
    if not dirs:
        raise UserError(str(root), "root", f"no class folders with {ext} files found (layout "
                        f"{layout}: one sub-folder per class)")
    samples = [Sample(f, i) for i, d in enumerate(dirs) for f in sorted(d.rglob("*" + ext))]
    return Dataset(layout, root, [d.name for d in dirs], samples)


def read_file(layout: str, path, **options) -> np.ndarray:
    """Read one recording of ``layout`` (``options``: ``convention=`` for cifar10dvs); every
    layout is a DVS128 dataset, so a pixel outside 128x128 is a :class:`UserError` naming the
    byte offset of the first such event."""
    if layout == "cifar10dvs":
        return aerdat2.read(path, **options)            # 7-bit addresses: always inside
    ev = aedat31.read(path) if layout == "dvsgesture" else npy.read(path)
    if len(ev) and (int(ev["x"].max()) >= DVS128[1] or int(ev["y"].max()) >= DVS128[0]):
        i = int(np.flatnonzero((ev["x"] >= DVS128[1]) | (ev["y"] >= DVS128[0]))[0])
        off = aedat31.event_offset(path, i) if layout == "dvsgesture" else npy.event_offset(path, i)
        raise UserError(str(path), f"byte {off}", f"event {i} at pixel (x={int(ev['x'][i])}, "
                        f"y={int(ev['y'][i])}) lies outside the 128x128 sensor of {layout}")
    return ev


def sample_events(events: np.ndarray, s: Sample) -> np.ndarray:
    """The events of ``s``'s recording (``events``, as :func:`read_file` returns them) that lie
    in its window ``t_start <= t < t_end`` (all of them when the sample is a whole recording)."""
    if s.t_start is None:
        return events
    t = events["t"]
    return events[(t >= s.t_start) & (t < s.t_end)]
