"""``describe(path)``: a short text description of a recording or a dataset folder."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events import dataset as ds_mod
from tess_sim.simulator.events.formats import aedat4, aedat31, aerdat2, npy, read_events, \
    sniff_format
from tess_sim.simulator.events.labels import read_labels

_NAMES = {"aedat4": "AEDAT 4", "aedat3.1": "AEDAT 3.1", "aerdat2.0": "AER-DAT 2.0", "npy": ".npy event array"}


def count_events(path) -> int:
    """Number of events in ``path`` from its headers only (no decoding).

    AEDAT 3.1: the sum of eventValid of polarity packets; AER-DAT 2.0: records (including any
    non-pixel records the reader drops); .npy: array length; AEDAT 4: the events of its event
    stream (decoded: its packet headers do not hold the count).
    """
    fmt = sniff_format(path)
    if fmt == "aedat4":
        return aedat4.count(path)
    if fmt == "aedat3.1":
        return sum(p.valid for p in aedat31.scan_packets(path) if p.type == aedat31.POLARITY_EVENT)
    if fmt == "aerdat2.0":
        return len(aerdat2._body(path))
    return npy.count(path)


def _event_lines(ev: np.ndarray, sensor: str) -> list[str]:
    """Count, time span, rate, pixel range and polarities of ``ev``; ``sensor`` is said after
    the pixel range."""
    n = len(ev)
    lines = [f"  events      {n}"]
    if n:
        t0, t1 = int(ev["t"].min()), int(ev["t"].max())
        dur = t1 - t0
        rate = n / (dur * 1e-6) if dur else float("nan")
        lines.append(f"  time        {t0} .. {t1} µs (duration {dur / 1e6:.6f} s)")
        lines.append(f"  rate        {rate:,.0f} events/s")
        lines.append(f"  pixels      x {int(ev['x'].min())}..{int(ev['x'].max())}, "
                     f"y {int(ev['y'].min())}..{int(ev['y'].max())} ({sensor})")
        lines.append(f"  polarity    {int(ev['p'].sum())} ON, {n - int(ev['p'].sum())} OFF")
        if not bool(np.all(ev["t"][1:] >= ev["t"][:-1])):
            lines.append("  note        timestamps are not sorted")
    return lines


def _aedat4_info(path: Path) -> list[str]:
    """Streams (only polarity events are read), then each event stream's events."""
    layout, streams, packets = aedat4.decode(path)
    per = Counter(pk.stream for pk, _ in packets)
    lines = [f"{path}: AEDAT 4 recording",
             f"  packets     {len(packets)} (compression {layout.compression}, data table "
             + (f"at byte {layout.data_table})" if layout.data_table >= 0 else "absent)")]
    for sid, st in sorted(streams.items()):
        size = f" {st['width']}x{st['height']}" if st.get("type") in ("events", "frame") else ""
        use = "read" if st.get("type") == "events" else "ignored: only polarity events are read"
        lines.append(f"  stream {sid:<4} {st.get('type')}{size}, {per[sid]} packet"
                     f"{'' if per[sid] == 1 else 's'} ({use})")
    lines.append("  note        only polarity events are read; frames, IMU samples and triggers "
                 "are skipped")
    ids = aedat4.event_streams(streams)
    if not ids:
        aedat4.choose_stream(path, streams, None)           # the error: no event stream
    for sid in ids:
        ev = aedat4.stream_events(path, streams, packets, sid)
        if len(ids) > 1:
            lines.append(f"  stream {sid}:")
        w, h = streams[sid]["width"], streams[sid]["height"]
        lines += _event_lines(ev, f"sensor {w}x{h} from the file")
    return lines


def _file_info(path: Path) -> list[str]:
    fmt = sniff_format(path)
    if fmt == "aedat4":
        return _aedat4_info(path)
    ev = read_events(path)
    lines = [f"{path}: {_NAMES[fmt]} recording"]
    lines += _event_lines(ev, "sensor 128x128 assumed for DVS Gesture / CIFAR10-DVS")
    if fmt == "aedat3.1":
        lines.append(f"  packets     {len(aedat31.scan_packets(path))}")
        csv = path.with_name(path.stem + "_labels.csv")
        if csv.exists():
            rows = read_labels(csv)
            lines.append(f"  labels      {csv.name}: {len(rows)} gestures, classes "
                         f"{sorted(set(int(c) for c in rows['label']))}")
    return lines


def _folder_info(root: Path) -> list[str]:
    found = None
    for layout in ds_mod.LAYOUTS:
        try:
            found = ds_mod.scan(layout, root)
            break
        except UserError as exc:
            if exc.where != str(root):      # a file of this layout is bad: say which and where
                raise
            continue
    if found is None:
        raise UserError(str(root), "", "no recognised event dataset here: expected DVS Gesture "
                        "(*.aedat + *_labels.csv), CIFAR10-DVS (class folders of .aedat) or class "
                        "folders of .npy files")
    files = sorted({s.path for s in found.samples})
    total = sum(count_events(f) for f in files)
    per_class = Counter(s.label for s in found.samples)
    lines = [f"{root}: {found.layout} dataset",
             f"  files       {len(files)}",
             f"  samples     {len(found.samples)}",
             f"  events      {total} (from file headers)",
             f"  classes     {len(found.classes)}: " + ", ".join(
                 f"{found.classes[c]}={per_class[c]}" for c in sorted(per_class))]
    if found.layout == "dvsgesture":
        dur = sum(s.t_end - s.t_start for s in found.samples)
        lines.append(f"  labelled    {dur / 1e6:.3f} s of gestures in all")
    return lines


def describe(path) -> str:
    """Events, duration (µs), rate (events/s), pixel range and classes of a file or folder."""
    p = Path(path)
    if not p.exists():
        raise UserError(str(path), "", "no such file or folder")
    return "\n".join(_folder_info(p) if p.is_dir() else _file_info(p))
