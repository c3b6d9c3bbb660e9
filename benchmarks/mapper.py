"""Benchmark: the loop-nest mapper on the distinct nests of VGG-9 (tess-sim issue 12).

The nests are built by hand from the VGG-9 shapes of ``workloads/dvs.yaml``: a 2x32x32 input;
3x3 convs (pad 1, stride 1) of 64, 128 channels at 32x32, pool, 256, 256 at 16x16, pool, 512, 512 at
8x8, pool, 512, 512 at 4x4; a readout linear 512 -> 11. Per layer: the forward
(``u[K,OY,OX] += W[K,C,FY,FX] x[C,OY+FY,OX+FX]``, 8-bit weights, 1-bit spikes, 16-bit membrane),
the error propagation for layers 2.. (``dx[C,OY+FY,OX+FX] += W d[K,OY,OX]``, 16-bit errors, role
write) and the weight gradient (``g[K,C,FY,FX] += d x``, 16-bit accumulators). Weights and
gradients are spilled (VGG-9 does not fit the 144 KiB weight buffer); activations, errors and
membranes are spilled where they exceed their 32 KiB buffer (the forward's input spikes are
also spilled: they arrive from DRAM).

The array: a 16 x 8 output-stationary PE array (spatial ``auto``), 256-bit RF per PE, buffers of
144 KiB (weights) / 32 KiB (in) / 32 KiB (out) with 1R + 1W 256-bit ports, DRAM 16 B/cycle.

Prints the time of the whole search (cold cache, every nest, ``--objective``), the mappings
evaluated per second, and the sanity anchor: for each forward conv, compute cycles against the
ideal points / 128 and DRAM traffic per operand against the once-per-tensor lower bound.

Then the real pairs: ``--pairs`` (default ``benchmarks/data/dvs_sata_nests.pkl``) is a pickled list
of the 37 distinct (Nest, Arch) the mapped engine asks for in
``tess-sim run workloads/dvs.yaml --hardware workloads/hw/sata.yaml`` (every rule's contractions,
the Arch of each rule's placement; it was dumped from ``Mapper.cache`` keys). Prints their total
search time (cold cache, best of ``--repeat``), mappings evaluated and mappings/s, and the
slowest pairs.

Usage: ``python benchmarks/mapper.py [--objective energy|latency|edp] [--repeat R] [--pairs PATH]``.
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tess_sim.simulator.dataflow.arch import Arch, Port  # noqa: E402
from tess_sim.simulator.dataflow.mapper import best  # noqa: E402
from tess_sim.simulator.dataflow.nest import Axis, Nest, Operand  # noqa: E402

KIB = 1024
PAIRS = Path(__file__).resolve().parent / "data" / "dvs_sata_nests.pkl"
BUF = {"wbuf": 144 * KIB, "ibuf": 32 * KIB, "obuf": 32 * KIB}
#: (C, K, H) of the eight convs (H = output rows = cols, 3x3, pad 1)
CONVS = [(2, 64, 32), (64, 128, 32), (128, 256, 16), (256, 256, 16), (256, 512, 8), (512, 512, 8),
         (512, 512, 4), (512, 512, 4)]
READOUT = (512, 11)


def energy_table() -> tuple:
    """pJ per element access / op: 45 nm-like per-bit costs (RF 0.01, SRAM 0.1 read / 0.12
    write, DRAM 10 per bit; an AC 0.03 pJ, a MAC 0.2 pJ at 8 bits, scaled by bits)."""
    per_bit = {"rf": (0.01, 0.012), "wbuf": (0.1, 0.12), "ibuf": (0.08, 0.1), "obuf": (0.08, 0.1),
               "dram": (10.0, 10.0)}
    out = []
    for mem, (r, w) in per_bit.items():
        for b in (1, 8, 16):
            out += [((mem, "read", b), r * b), ((mem, "write", b), w * b)]
    for b in (1, 8, 16):
        out += [(("pe", "ac", b), 0.03 * b / 8), (("pe", "mac", b), 0.2 * b / 8)]
    return tuple(out)


def sata_like() -> Arch:
    ports = tuple(Port(m, "sram", 256, 256, 0) for m in BUF) + (Port("dram", "dram", 0, 0, 16 * 8),)
    return Arch((16, 8), "auto", 256, ports, "dram", tuple(BUF.items()), "none", energy_table())


def spill(name: str, elements: int, bits: int, memory: str) -> bool:
    return elements * bits / 8 > BUF[memory]


def conv_nests(C: int, K: int, H: int, first: bool):
    dims = {"K": K, "C": C, "OY": H, "OX": H, "FY": 3, "FX": 3}
    w = (Axis("K"), Axis("C"), Axis("FY"), Axis("FX"))
    act = (Axis("C"), Axis("OY", "FY"), Axis("OX", "FX"))
    out = (Axis("K"), Axis("OY"), Axis("OX"))
    n_in, n_out = C * (H + 2) ** 2, K * H * H
    fwd = Nest(dims, (Operand("W", w, "read", 8, "wbuf", True),
                      Operand("x", act, "read", 1, "ibuf", True, sparse=True),
                      Operand("u", out, "update", 16, "obuf", spill("u", n_out, 16, "obuf"))), {"ac": 1})
    nests = [("fwd", fwd)]
    if not first:
        nests.append(("err", Nest(dims, (
            Operand("W", w, "read", 8, "wbuf", True),
            Operand("d", out, "read", 16, "ibuf", spill("d", n_out, 16, "ibuf")),
            Operand("dx", act, "write", 16, "obuf", spill("dx", n_in, 16, "obuf"))), {"mac": 1})))
    nests.append(("wgrad", Nest(dims, (
        Operand("d", out, "read", 16, "obuf", spill("d", n_out, 16, "obuf")),
        Operand("x", act, "read", 1, "ibuf", spill("x", n_in, 1, "ibuf")),
        Operand("g", w, "update", 16, "wbuf", True)), {"ac": 1})))
    return nests


def readout_nests(C: int, K: int):
    dims = {"K": K, "C": C}
    return [
        ("fwd", Nest(dims, (Operand("W", (Axis("K"), Axis("C")), "read", 8, "wbuf", True),
                            Operand("x", (Axis("C"),), "read", 1, "ibuf", False, sparse=True),
                            Operand("u", (Axis("K"),), "update", 16, "obuf", False)), {"ac": 1})),
        ("err", Nest(dims, (Operand("W", (Axis("K"), Axis("C")), "read", 8, "wbuf", True),
                            Operand("d", (Axis("K"),), "read", 16, "ibuf", False),
                            Operand("dx", (Axis("C"),), "write", 16, "obuf", False)), {"mac": 1})),
        ("wgrad", Nest(dims, (Operand("d", (Axis("K"),), "read", 16, "obuf", False),
                              Operand("x", (Axis("C"),), "read", 1, "ibuf", False),
                              Operand("g", (Axis("K"), Axis("C")), "update", 16, "wbuf", True)), {"ac": 1})),
    ]


def vgg9_nests():
    """(label, nest) of every distinct nest of VGG-9."""
    out = []
    for i, (C, K, H) in enumerate(CONVS):
        out += [(f"conv{i + 1}.{kind}", n) for kind, n in conv_nests(C, K, H, first=i == 0)]
    out += [(f"readout.{kind}", n) for kind, n in readout_nests(*READOUT)]
    seen, distinct = set(), []
    for label, n in out:
        if n not in seen:
            seen.add(n)
            distinct.append((label, n))
    return distinct


def anchor(arch: Arch, objective: str) -> None:
    print(f"\nforward convs, dense, objective {objective}: compute vs ideal (points / 128), DRAM elements vs once per tensor")
    print(f"{'layer':<7}{'spatial':<22}{'compute':>9}{'ideal':>9}{'ratio':>7}{'cycles':>9}"
          f"{'W dram':>10}{'|W|':>10}{'x dram':>9}{'|x|':>9}{'u r/w dram':>16}{'|u|':>9}")
    for i, (C, K, H) in enumerate(CONVS):
        nest = conv_nests(C, K, H, first=i == 0)[0][1]
        m = best(nest, arch, objective)
        ideal = nest.points / arch.units
        W, x, u = (nest.operand(n) for n in ("W", "x", "u"))
        full = dict(nest.dims)
        sp = ",".join(f"{d}{f}" for d, f in m.spatial.items())
        urw = f"{m.count('u', 'dram', 'read'):.0f}/{m.count('u', 'dram', 'write'):.0f}" if u.spilled else "resident"
        print(f"conv{i + 1:<3}{sp:<22}{m.compute_cycles:>9.0f}{ideal:>9.0f}{m.compute_cycles / ideal:>7.3f}"
              f"{m.cycles:>9.0f}{m.count('W', 'dram', 'read'):>10.0f}{W.elements(full):>10}"
              f"{m.count('x', 'dram', 'read'):>9.0f}{x.elements(full):>9}{urw:>16}{u.elements(full):>9}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objective", default="energy", choices=("energy", "latency", "edp"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pairs", type=Path, default=PAIRS, help="pickled list of (Nest, Arch)")
    args = ap.parse_args(argv)
    arch = sata_like()
    nests = vgg9_nests()
    times, evaluated = [], 0
    for _ in range(args.repeat):
        best.cache_clear()
        t0 = time.perf_counter()
        evaluated = sum(best(n, arch, args.objective).evaluated for _, n in nests)
        times.append(time.perf_counter() - t0)
    t = min(times)
    print(f"{len(nests)} distinct VGG-9 nests, objective {args.objective}: {t:.3f} s total (best of {args.repeat}), "
          f"{evaluated} mappings evaluated, {evaluated / t:,.0f} mappings/s")
    t0 = time.perf_counter()
    for _, n in nests:
        best(n, arch, args.objective)
    print(f"cached: {time.perf_counter() - t0:.6f} s")
    slow = []
    for label, n in nests:
        best.cache_clear()
        t1 = time.perf_counter()
        m = best(n, arch, args.objective)
        slow.append((time.perf_counter() - t1, label, m.evaluated))
    print("slowest nests:", ", ".join(f"{lb} {s * 1e3:.0f} ms ({e})" for s, lb, e in sorted(slow, reverse=True)[:5]))
    anchor(arch, args.objective)
    real_pairs(args.pairs, args.objective, args.repeat)
    return 0


def real_pairs(path: Path, objective: str, repeat: int) -> None:
    """Total search time over the pickled (Nest, Arch) pairs of the dvs-on-sata run."""
    if not path.exists():
        print(f"\n{path}: missing (pickle.dump(list(mapper.cache), f) of the engines' Mapper)")
        return
    with open(path, "rb") as f:
        pairs = pickle.load(f)
    times, evaluated = [], 0
    for _ in range(repeat):
        best.cache_clear()
        t0 = time.perf_counter()
        evaluated = sum(best(n, a, objective).evaluated for n, a in pairs)
        times.append(time.perf_counter() - t0)
    t = min(times)
    print(f"\n{len(pairs)} dvs-on-sata (nest, arch) pairs ({path.name}), objective {objective}: {t:.3f} s total "
          f"(best of {repeat}), {evaluated} mappings evaluated, {evaluated / t:,.0f} mappings/s")
    slow = []
    for n, a in pairs:
        best.cache_clear()
        t1 = time.perf_counter()
        m = best(n, a, objective)
        slow.append((time.perf_counter() - t1, len(n.operands), ",".join(f"{d}{v}" for d, v in n.dims.items()),
                     m.evaluated))
    print("slowest pairs:", "; ".join(f"{k} operands {dims} {s * 1e3:.0f} ms ({e})"
                                       for s, k, dims, e in sorted(slow, reverse=True)[:4]))


if __name__ == "__main__":
    raise SystemExit(main())
