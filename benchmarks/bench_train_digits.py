"""Digits (sklearn, 1,347 train / 450 test, 8x8) on 64 -> LIF 128 -> LIF 128 -> readout 10, T = 8.

Rules: BPTT, S-TLLR, TESS and the readout-only control (hidden weights frozen at init), 3 seeds
each, same optimiser (Adam), learning rate, batch and epochs for all.  Prints test accuracy
mean/std over seeds and wall time per run.

    python benchmarks/bench_train_digits.py [--epochs 20] [--lr 2e-3] [--batch 32] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse

import numpy as np

from tess_sim.simulator.functional.data import load_digits_spikes
from tess_sim.simulator.functional.network import init_weights
from tess_sim.simulator.functional.rules import RuleParams
from tess_sim.simulator.functional.train import train
from tess_sim.simulator.network import build_network
from tess_sim.simulator.workload import load_workload


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--optimizer", default="adam")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--init-slope", type=float, default=5 ** 0.5,
                    help="Kaiming negative slope a (sqrt(5): PyTorch default scale; 0: He)")
    ap.add_argument("--rules", nargs="+", default=["bptt", "stllr", "tess", "readout"])
    args = ap.parse_args()
    data = load_digits_spikes(T=8)
    net = build_network(load_workload("digits"))  # workloads/digits.yaml: 64 -> 128 -> 128 -> 10
    params = RuleParams()  # lambda_pre 0.5, lambda_post 0.2, alpha 1/1, window T
    print(f"digits, T=8, 64-128-128-10, {args.optimizer} lr {args.lr}, batch {args.batch}, "
          f"{args.epochs} epochs, seeds {args.seeds}, init a = {args.init_slope:.3f}")
    for rule in args.rules:
        accs, secs = [], []
        for seed in args.seeds:
            w0 = init_weights(net, seed, np.float32, negative_slope=args.init_slope)
            h = train(net, rule, params, data, args.epochs, args.batch, args.lr, args.optimizer,
                      seed=seed, weights=w0)
            accs.append(h.test_acc[-1])
            secs.append(h.seconds)
            print(f"  {rule:8s} seed {seed}: test {h.test_acc[-1]:.3f} (train {h.train_acc[-1]:.3f})"
                  f" {h.seconds:.1f} s", flush=True)
        name = "readout-only control" if rule == "readout" else rule
        print(f"{name:22s} test acc {np.mean(accs):.3f} ± {np.std(accs):.3f}   "
              f"wall {np.mean(secs):.1f} s/run (max {np.max(secs):.1f})", flush=True)


if __name__ == "__main__":
    main()
