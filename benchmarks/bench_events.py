"""Benchmark: AEDAT 3.1 reading + framing throughput, and the dataset loader's two paths.

Part ``file``: writes a synthetic AEDAT 3.1 recording of at least 10^7 events (the 11 motion
classes, 1 s each, repeated with shifted timestamps) to a temporary folder, then times, side by
side in the same run and with the file in the page cache for both:

* ``numpy.fromfile(path, dtype=uint8)`` — the floor: just the bytes into memory;
* ``frame_aedat31`` (fused read + frame straight from the memory-mapped packets) to
  ``[T=20, 2, 32, 32]`` (the DVS Gesture workload's framing), at 128×128, and in 10 ms bins;
* the two-step reference path ``aedat31.read`` + ``frame_events`` (and ``read`` alone).

Prints events/s and the ratio fromfile time / (read + frame) time (goal >= 0.3), each case
timed alternately with fromfile so that both see the same machine load.

Part ``loader``: a DVS Gesture folder (``--dataset DIR``, e.g. made by ``tess-sim data synth DIR
--layout dvsgesture --samples 33 --duration-us 1000000``; default: the same generated in a
temporary folder), 11 gestures per recording. Times ``load_frames`` (DVS Gesture in time mode
goes through the fused path) against the loader before it (:func:`reference_load`: every
recording decoded by ``dataset.read_file``, each window masked, framed by ``frame_events``),
alternately; ratio = reference time / ``load_frames`` time (> 1: the fused loader is faster).
Count mode takes the reference path in both (a control for the noise). Frames are asserted equal.

Usage: ``python benchmarks/bench_events.py [--part file|loader|both] [--events N] [--repeat R]
[--dataset DIR]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tess_sim.simulator.events import aedat31, dataset, frame_events, load_frames, synthetic  # noqa: E402
from tess_sim.simulator.events.fastframe import frame_aedat31  # noqa: E402


def paired(fn, baseline, repeat):
    """Time ``baseline`` and ``fn`` alternately ``repeat`` times (the machine may be shared:
    pairing keeps both under the same load). Returns (best fn s, best baseline s, median of
    the per-pair ratios baseline / fn)."""
    tf, tb, ratios = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        baseline()
        t1 = time.perf_counter()
        fn()
        t2 = time.perf_counter()
        tb.append(t1 - t0)
        tf.append(t2 - t1)
        ratios.append((t1 - t0) / (t2 - t1))
    return min(tf), min(tb), float(np.median(ratios))


def bench_file(args):
    t0 = time.perf_counter()
    base = np.concatenate([synthetic.generate(c, seed=c, duration_us=1_000_000, t0=c * 1_000_000)
                           for c in range(synthetic.N_CLASSES)])
    span = synthetic.N_CLASSES * 1_000_000
    reps = -(-args.events // len(base))
    ev = np.concatenate([base] * reps)
    ev["t"] += np.repeat(np.arange(reps, dtype=np.int64) * span, len(base))
    n = len(ev)
    print(f"synthetic recording: {n:,} events over {reps * span / 1e6:.0f} s "
          f"(generated in {time.perf_counter() - t0:.1f} s)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.aedat"
        aedat31.write(path, ev)
        size = path.stat().st_size
        del ev
        print(f"AEDAT 3.1 file: {size / 2**20:.1f} MiB, {len(aedat31.scan_packets(path))} packets")
        np.fromfile(path, dtype=np.uint8)                          # warm the page cache

        cases = {
            "fused frame_aedat31 T=20 32x32": lambda: frame_aedat31(path, 20, out_size=(32, 32)),
            "fused frame_aedat31 T=20 128x128": lambda: frame_aedat31(path, 20),
            "fused frame_aedat31 10ms bins 48x48": lambda: frame_aedat31(
                path, bin_us=10_000, out_size=(48, 48)),
            "read only": lambda: aedat31.read(path),
            "read + frame time T=20 32x32": lambda: frame_events(
                aedat31.read(path), 20, out_size=(32, 32)),
            "read + frame time T=20 128x128": lambda: frame_events(aedat31.read(path), 20),
            "read + frame count T=10 48x48": lambda: frame_events(
                aedat31.read(path), 10, mode="count", out_size=(48, 48)),
        }
        fromfile = lambda: np.fromfile(path, dtype=np.uint8)      # noqa: E731
        results = {name: paired(fn, fromfile, args.repeat) for name, fn in cases.items()}
        peaks = {}
        for name in ("fused frame_aedat31 T=20 32x32", "read only"):
            tracemalloc.start()
            cases[name]()
            peaks[name] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        fr = frame_events(aedat31.read(path), 20, out_size=(32, 32))
        assert fr.sum() == n, "framing lost events"
        assert np.array_equal(fr, frame_aedat31(path, 20, out_size=(32, 32))), "paths disagree"

    print(f"{'case':36s} {'best s':>7s} {'Mev/s':>7s} {'fromfile s':>10s} {'ratio':>6s}")
    for name, (best, ff, ratio) in results.items():
        print(f"{name:36s} {best:7.3f} {n / best / 1e6:7.1f} {ff:10.3f} {ratio:6.2f}")
    for name, peak in peaks.items():
        print(f"peak heap of {name!r}: {peak / 2**20:.1f} MiB (file {size / 2**20:.1f} MiB)")
    print("ratio = numpy.fromfile time / case time, median over "
          f"{args.repeat} interleaved pairs (same file, same run); goal >= 0.3 for read + frame")


def reference_load(root, T, shape, n, seed, **framing):
    """``load_frames({"format": "dvsgesture", "root": root, **framing}, T, shape, n, seed)``
    as the loader computed it before the fused path: the same samples in file order, each
    recording decoded once by ``dataset.read_file``, each window masked out of it
    (``dataset.sample_events``) and framed by ``frame_events``."""
    ds = dataset.scan("dvsgesture", root)
    order = np.random.default_rng(seed).permutation(len(ds.samples))[:n]
    frames = np.zeros((n, T) + tuple(shape), dtype=np.float32)
    labels = np.zeros(n, dtype=np.int64)
    cached = (None, None)
    for k, i in sorted(enumerate(int(i) for i in order), key=lambda ki: ki[1]):
        s = ds.samples[i]
        if cached[0] != s.path:
            cached = (s.path, dataset.read_file("dvsgesture", s.path))
        frames[k] = frame_events(dataset.sample_events(cached[1], s), T, t_start=s.t_start,
                                 t_end=s.t_end, out_size=tuple(shape[1:]), where=str(s.path),
                                 **framing)
        labels[k] = s.label
    return frames, labels


def bench_loader(args):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.dataset) if args.dataset else Path(tmp) / "gestures"
        if not args.dataset:
            synthetic.write_layout(root, "dvsgesture", 33, 1, 1_000_000, synthetic.GAP_US, None)
        ds = dataset.scan("dvsgesture", root)
        files = sorted({s.path for s in ds.samples})
        n_all = len(ds.samples)
        n_ev = sum(len(dataset.read_file("dvsgesture", f)) for f in files)
        mib = sum(f.stat().st_size for f in files) / 2**20
        print(f"DVS Gesture folder {root}: {len(files)} recordings, {n_all} samples, "
              f"{n_ev:,} events, {mib:.1f} MiB")
        cases = {   # name -> (T, shape, samples, framing options)
            f"all {n_all}, T=20 32x32 (dvs workload)": (20, (2, 32, 32), n_all, {}),
            "8 samples, T=20 32x32 (activity.samples 8)": (20, (2, 32, 32), min(8, n_all), {}),
            f"all {n_all}, 10 ms bins T=100 48x48": (100, (2, 48, 48), n_all, {"bin_us": 10_000}),
            f"all {n_all}, count T=20 32x32 (control)": (20, (2, 32, 32), n_all, {"mode": "count"}),
        }
        print(f"{'case':44s} {'load_frames s':>13s} {'before s':>9s} {'ratio':>6s}")
        for name, (T, shape, n, framing) in cases.items():
            src = {"format": "dvsgesture", "root": str(root), **framing}
            after = lambda: load_frames(src, T, shape, n, 0)[:2]                # noqa: E731
            before = lambda: reference_load(root, T, shape, n, 0, **framing)  # noqa: E731
            fa, fb = after(), before()
            assert np.array_equal(fa[0], fb[0]) and np.array_equal(fa[1], fb[1]), name
            best_after, best_before, ratio = paired(after, before, args.repeat)
            print(f"{name:44s} {best_after:13.3f} {best_before:9.3f} {ratio:6.2f}")
    print(f"ratio = before time / load_frames time, median over {args.repeat} interleaved pairs "
          "(same folder, same run); frames and labels equal in every case")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("file", "loader", "both"), default="both")
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dataset", help="DVS Gesture folder for the loader part (default: "
                    "33 synthetic 1 s gestures in a temporary folder)")
    args = ap.parse_args()
    if args.part in ("file", "both"):
        bench_file(args)
    if args.part in ("loader", "both"):
        bench_loader(args)


if __name__ == "__main__":
    main()
