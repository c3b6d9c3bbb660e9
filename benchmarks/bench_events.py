"""Benchmark: AEDAT 3.1 reading + framing throughput vs a plain ``numpy.fromfile``.

Writes a synthetic AEDAT 3.1 recording of at least 10^7 events (the 11 motion classes, 1 s
each, repeated with shifted timestamps) to a temporary folder, then times, side by side in the
same run and with the file in the page cache for both:

* ``numpy.fromfile(path, dtype=uint8)`` — the floor: just the bytes into memory;
* ``frame_aedat31`` (fused read + frame straight from the memory-mapped packets) to
  ``[T=20, 2, 32, 32]`` (the DVS Gesture workload's framing), at 128×128, and in 10 ms bins;
* the two-step reference path ``aedat31.read`` + ``frame_events`` (and ``read`` alone).

Prints events/s and the ratio fromfile time / (read + frame) time (goal >= 0.3), each case
timed alternately with fromfile so that both see the same machine load.
Usage: ``python benchmarks/bench_events.py [--events N] [--repeat R]``.
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

from tess_sim.simulator.events import aedat31, frame_events, synthetic  # noqa: E402
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

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


if __name__ == "__main__":
    main()
