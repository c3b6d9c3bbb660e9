"""Seconds per training sample of the functional engine on VGG-9, per rule and width, as a
fraction of the float32 matmul ceiling measured in the same run (and against plain PyTorch
when torch is installed).

The network of workloads/dvs.yaml (64C3-128C3-MP2-256C3-256C3-MP2-512C3-512C3-MP2-512C3-512C3-
GAP-FC(11), LIF beta 0.5 theta 0.6, T from the workload) with scaled weight standardisation
(``network.weight_standardisation: scaled``, γ 2.74), at each ``network.width_multiplier``;
He init, batch 1, float32, input events at ``--density``.  One step = ``rules.gradients``:
forward + the rule's weight gradients (raw W and gain through the standardisation).

Counted work per sample, 2 FLOP per MAC, F = the forward conv MACs over T (readout, LSG, pools,
the standardisation ignored, < 0.5 %):

* tess: F + two weight-gradient correlations (causal and non-causal term) = 3F.  The engine
  computes the two as one correlation (rules.py), so the rate is an effective one.
* stllr: 3F + the per-step backprop through the layers (a transposed conv per block but the
  first, F - F_1).
* bptt: F + one correlation + the transposed convs = 3F - F_1.

The engine runs as training does: conv kernels held in its HWIO layout
(``standardise.engine_layout``), freed memory kept for the next step
(``memory.keep_freed_memory``, process-wide: the torch steps get it too), the compiled kernels
where they are built (``--numpy`` adds each rule on the numpy path, ``numpy <rule>`` rows).

Ceiling: a 2048^3 float32 numpy matmul (best of 2), measured right before each round; a round
times every rule once (and the torch steps), each after a short rest, so all see the same
machine.  ``ratio`` = counted
FLOP / time / ceiling, the median over rounds of each round's ratio.  With torch: a plain PyTorch
TESS step and BPTT step (benchmarks/torch_vgg.py) on the same weights and inputs, and our time
as a fraction of theirs (> 1: we are slower).  BLAS threads as shipped.

    python benchmarks/bench_functional_vgg.py [--samples 3] [--widths 0.25,1] [--rules bptt,stllr,tess] [--numpy]
"""

from __future__ import annotations

import argparse
import time

import tess_sim  # noqa: F401  (first: its BLAS thread setting must precede numpy's OpenBLAS)
import numpy as np

from tess_sim.simulator.functional import kernels
from tess_sim.simulator.functional.memory import keep_freed_memory
from tess_sim.simulator.functional.network import init_weights
from tess_sim.simulator.functional.rules import gradients, lsg_sizes
from tess_sim.simulator.functional.standardise import engine_layout
from tess_sim.simulator.measured.bridge import rule_params
from tess_sim.simulator.network import Net, build_network
from tess_sim.simulator.workload import load_workload

WORKLOAD = "dvs"  # the shipped VGG-9 workload
WS_GAMMA = 2.74
#: seconds of rest before each timed step: the BLAS / OpenMP worker threads of the previous one
#: (numpy's OpenBLAS, torch's) spin-wait a while before sleeping and would steal a core
SETTLE = 0.3


def conv_macs(net: Net) -> tuple[int, int]:
    """(dense forward MACs per step of all conv blocks, of the first one) (K²·C_in·C_out·H_out·W_out)."""
    convs = [b.F for b in net.blocks if b.kind == "conv"]
    return sum(convs), convs[0]


def counted_macs(net: Net, rule: str, T: int) -> int:
    """The rule's counted MACs per sample (module docstring)."""
    f, f1 = conv_macs(net)
    return T * {"tess": 3 * f, "stllr": 4 * f - f1, "bptt": 3 * f - f1}[rule]


def matmul_ceiling(n: int = 2048, reps: int = 2) -> float:
    """GFLOP/s of an n^3 float32 numpy matmul, best of ``reps`` after one warm-up."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    best = np.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def _torch_steps(net, w, params, float64: bool = False):
    try:
        import torch
    except ImportError:
        return None
    from torch_vgg import TorchSteps  # benchmarks/ is the script's folder

    return TorchSteps(net, w, lsg_sizes(net, params), params, torch.float64 if float64 else torch.float32)


def _rel_diff(ours: dict, theirs: dict) -> float:
    """Largest over tensors of max|a − b| / max|b| (the torch step computes the same gradients)."""
    return max(float(np.abs(ours[k] - theirs[k].detach().numpy()).max()
                     / max(np.abs(theirs[k].detach().numpy()).max(), 1e-30)) for k in theirs)


def bench_width(wm: float, rules: list[str], args) -> None:
    wl = load_workload(WORKLOAD, overrides={"network.width_multiplier": wm,
                                            "network.weight_standardisation": "scaled",
                                            "network.weight_standardisation_gamma": WS_GAMMA})
    net = build_network(wl)
    T = wl.input.T
    # He init (a = 0), as the benchmark always used; standardisation makes the scale moot
    w = init_weights(net, 0, np.float32, negative_slope=0.0)
    we = engine_layout(w)  # as a training loop holds them (conv kernels HWIO)
    params = {r: rule_params(wl, r) for r in rules}
    tparams = rule_params(wl, "tess")
    ts = None if args.no_torch else _torch_steps(net, w, tparams)
    compiled = kernels.get(np.float32) is not None
    cases = (list(rules) + ([f"numpy {r}" for r in rules] if args.numpy and compiled else [])
             + ([] if ts is None else ["torch tess", "torch bptt"]))
    rng = np.random.default_rng(0)
    times = {c: [] for c in cases}
    ceilings, spikes, check, first = [], None, {}, None
    warm = 1  # the first call pays page faults for fresh large buffers
    for i in range(args.samples + warm):
        x = (rng.random((T, 1) + tuple(net.input_shape)) < args.density).astype(np.float32)
        y = np.array([i % wl.input.classes])
        ceiling = matmul_ceiling()
        for c in cases:
            time.sleep(SETTLE)
            t0 = time.perf_counter()
            if c == "torch tess":
                out = ts.tess(x, y)
            elif c == "torch bptt":
                out = ts.bptt(x, y)
            elif c.startswith("numpy"):
                with kernels.disabled():
                    out, _ = gradients(net, c.split()[1], params[c.split()[1]], we, x, y, np.float32)
            else:
                out, info = gradients(net, c, params[c], we, x, y, np.float32)
                spikes = info["spikes"].sum(axis=1)
            dt = time.perf_counter() - t0
            if i >= warm:
                times[c].append(dt)
            if i == 0:
                check[c], first = out, (x, y)
        if i >= warm:
            ceilings.append(ceiling)
    ceil = np.array(ceilings)
    print(f"width {wm:g}: VGG-9, T={T}, batch 1, float32, standardisation scaled (γ {WS_GAMMA}), "
          f"input density {args.density}; engine kernels {'compiled' if compiled else 'numpy'}; "
          f"{args.samples} rounds after {warm} warm-up; "
          f"ceiling median {np.median(ceil):.1f} GFLOP/s (min {ceil.min():.1f}, max {ceil.max():.1f})")
    print(f"  forward conv MACs per step {conv_macs(net)[0] / 1e6:.1f} M; spikes per block "
          f"(one sample) {spikes.astype(int).tolist()}")
    print(f"  {'step':<11}{'s/sample':>10}{'min':>8}{'max':>8}{'GFLOP':>8}{'ratio':>8}"
          f"{'vs torch':>10}")
    for c in cases:
        t = np.array(times[c])
        rule = c.split()[-1]
        flop = 2 * counted_macs(net, rule, T)
        ratio = np.median(flop / t / 1e9 / ceil)
        vs = ""
        if ts is not None and not c.startswith(("torch", "numpy")):
            ref = f"torch {rule}" if f"torch {rule}" in times else "torch tess"
            vs = f"{np.median(t / np.array(times[ref])):.2f}"
        print(f"  {c:<11}{np.median(t):>10.3f}{t.min():>8.3f}{t.max():>8.3f}{flop / 1e9:>8.1f}"
              f"{ratio:>8.2f}{vs:>10}")
    if ts is None:
        print("  torch not found (pip install torch to time plain PyTorch steps beside ours)"
              if not args.no_torch else "  torch steps skipped (--no-torch)")
    else:
        # float32 differs by threshold crossings that flip in deep layers (summation orders);
        # in float64 none flip and both must agree to rounding
        w64 = {k: v.astype(np.float64) for k, v in w.items()}
        ts64 = _torch_steps(net, w64, tparams, float64=True)
        x64 = first[0].astype(np.float64)
        for rule in ("tess", "bptt"):
            if rule in check:
                ours64, _ = gradients(net, rule, params[rule], engine_layout(w64), x64, first[1],
                                      np.float64)
                print(f"  torch {rule} gradients vs ours (first sample): max relative difference "
                      f"{_rel_diff(check[rule], check['torch ' + rule]):.1e} in float32, "
                      f"{_rel_diff(ours64, getattr(ts64, rule)(x64, first[1])):.1e} in float64")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=3, help="timed rounds per width")
    ap.add_argument("--widths", default="0.25,1", help="network.width_multiplier values")
    ap.add_argument("--rules", default="bptt,stllr,tess")
    ap.add_argument("--density", type=float, default=0.1, help="input event density")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch steps")
    ap.add_argument("--numpy", action="store_true",
                    help="also time each rule on the numpy path (compiled kernels off)")
    args = ap.parse_args()
    keep_freed_memory()  # as training does: the steps reuse their arrays' pages
    rules = args.rules.split(",")
    for wm in (float(v) for v in args.widths.split(",")):
        bench_width(wm, rules, args)


if __name__ == "__main__":
    main()
