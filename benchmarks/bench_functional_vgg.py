"""Forward pass + TESS update of VGG-9 on 2x32x32, T = 20, batch 1 (float32).

The network of workloads/dvs.yaml: 64C3-128C3-MP2-256C3-256C3-MP2-512C3-512C3-MP2-512C3-512C3-GAP-FC(11),
LIF beta 0.5 theta 0.6, LSG pools [4,2,2,2,2,2,2,1] (its rules.tess).  FLOPs counted: forward convolutions + the two weight-gradient
correlations of TESS (causal and non-causal term), 2 FLOP per MAC (readout and LSG ignored,
they are < 0.1 %): the work of the rule as defined. The engine computes both correlations as one
(the causal term as the correlation of x with the reverse-time trace of the signal,
simulator/functional/rules.py), so the rate is an effective one (counted FLOP / wall time).  Ceiling: a 2048^3 float32 numpy matmul (best of 2) measured right before
each sample in the same run.

    python benchmarks/bench_functional_vgg.py [--samples 3] [--density 0.1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tess_sim.simulator.functional.network import init_weights
from tess_sim.simulator.functional.rules import local_gradients
from tess_sim.simulator.measured.bridge import rule_params
from tess_sim.simulator.network import Net, build_network
from tess_sim.simulator.workload import load_workload

WORKLOAD = "dvs"  # the shipped VGG-9 workload


def conv_macs(net: Net) -> int:
    """Dense forward MACs per step of the conv blocks (K²·C_in·C_out·H_out·W_out each)."""
    return sum(b.F for b in net.blocks if b.kind == "conv")


def matmul_ceiling(n: int = 4096, reps: int = 3) -> float:
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    best = np.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--T", type=int, default=20)
    ap.add_argument("--density", type=float, default=0.1, help="input event density")
    args = ap.parse_args()
    wl = load_workload(WORKLOAD)
    net = build_network(wl)
    # He init (a = 0): with the a = sqrt(5) default the deep layers of VGG-9 stay silent
    w = init_weights(net, 0, np.float32, negative_slope=0.0)
    params = rule_params(wl, "tess")
    rng = np.random.default_rng(0)
    macs = conv_macs(net) * args.T * 3  # forward + two correlations
    # The machine may be shared: the ceiling is re-measured right before every sample and the
    # fraction is taken per sample against its neighbouring ceiling.
    warm = 2  # the first calls pay page faults for fresh large buffers (malloc's mmap threshold)
    times, ceilings = [], []
    for i in range(args.samples + warm):
        x = (rng.random((args.T, 1, 2, 32, 32)) < args.density).astype(np.float32)
        ceiling = matmul_ceiling(2048, 2)
        t0 = time.perf_counter()
        grads, info = local_gradients(net, "tess", params, w, x, np.array([i % 11]), np.float32)
        dt = time.perf_counter() - t0
        if i >= warm:
            times.append(dt)
            ceilings.append(ceiling)
    times, ceilings = np.array(times), np.array(ceilings)
    gflops = 2 * macs / times / 1e9
    frac = gflops / ceilings
    print(f"VGG-9 TESS fwd+update, T={args.T}, batch 1, float32, input density {args.density}")
    print(f"  conv MACs per step (forward): {conv_macs(net) / 1e6:.1f} M; counted FLOP per sample "
          f"{2 * macs / 1e9:.1f} G")
    print(f"  wall time per sample: median {np.median(times):.3f} s (min {times.min():.3f}, "
          f"max {times.max():.3f}) over {args.samples} samples after {warm} warm-up")
    print(f"  achieved: median {np.median(gflops):.1f} GFLOP/s; float32 matmul ceiling median "
          f"{np.median(ceilings):.1f} GFLOP/s")
    print(f"  fraction of ceiling: median {np.median(frac):.3f} (best {frac.max():.3f})")
    print(f"  spikes per block (sample total): {info['spikes'].sum(axis=1).astype(int).tolist()}")


if __name__ == "__main__":
    main()
