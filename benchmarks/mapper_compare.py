"""Benchmark and equality check: this tree's loop-nest mapper against a reference copy of
``simulator/dataflow/mapper.py`` (default: the main branch's, ``/work/main``) on the pickled
(Nest, Arch) pairs of ``benchmarks/data/dvs_sata_nests.pkl`` (the 37 distinct searches of
``tess-sim run workloads/dvs.yaml --hardware workloads/hw/sata.yaml``).

1. Equality: for every pair and objective (energy, latency, edp), ``best`` of both mappers compared
   field by field (spatial, axes, factors, orders, bypass, accesses, ops, cycles, energy,
   utilisation, candidate); ``evaluated`` is reported, not required equal.
2. Timing: cold-cache search of all pairs, the reference and this tree interleaved ``--repeat``
   times (the machine is shared and noisy), best of each; prints both and their ratio.

Usage: ``python benchmarks/mapper_compare.py [--reference PATH] [--repeat N] [--objective O]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import sys
import time
from dataclasses import fields, is_dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tess_sim.simulator.dataflow import mapper as new  # noqa: E402

PAIRS = Path(__file__).resolve().parent / "data" / "dvs_sata_nests.pkl"
REFERENCE = Path("/work/main/simulator/dataflow/mapper.py")


def load_reference(path: Path):
    """The reference mapper module, loaded from its file under a private name (it imports the
    shared ``arch`` and ``nest`` modules of this tree, so Nest and Arch objects are common)."""
    spec = importlib.util.spec_from_file_location("reference_mapper", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def plain(value):
    """A Mapping field as plain data (the two modules' Candidate classes differ)."""
    if is_dataclass(value):
        return tuple(plain(getattr(value, f.name)) for f in fields(value))
    return value


def differences(a, b) -> list[str]:
    """Names of the Mapping fields that differ (``evaluated`` excluded)."""
    return [f.name for f in fields(a)
            if f.name != "evaluated" and plain(getattr(a, f.name)) != plain(getattr(b, f.name))]


def check(ref, pairs) -> int:
    bad, ev_ref, ev_new = 0, {}, {}
    for objective in new.OBJECTIVES:
        ref.best.cache_clear()
        new.best.cache_clear()
        ev_ref[objective] = ev_new[objective] = 0
        for i, (nest, arch) in enumerate(pairs):
            a, b = ref.best(nest, arch, objective), new.best(nest, arch, objective)
            ev_ref[objective] += a.evaluated
            ev_new[objective] += b.evaluated
            diff = differences(a, b)
            if diff:
                bad += 1
                print(f"pair {i} {dict(nest.dims)} {objective}: differs in {diff}")
    for objective in new.OBJECTIVES:
        print(f"{objective:<8} {len(pairs)} pairs: mappings equal field by field"
              f"{'' if not bad else ' EXCEPT ABOVE'}; evaluated reference {ev_ref[objective]}, "
              f"this tree {ev_new[objective]}")
    return bad


def timing(ref, pairs, objective: str, repeat: int) -> None:
    times = {"reference": [], "this tree": []}
    for _ in range(repeat):
        for label, mod in (("reference", ref), ("this tree", new)):
            mod.best.cache_clear()
            t0 = time.perf_counter()
            for nest, arch in pairs:
                mod.best(nest, arch, objective)
            times[label].append(time.perf_counter() - t0)
    t_ref, t_new = min(times["reference"]), min(times["this tree"])
    print(f"objective {objective}, best of {repeat} interleaved: reference {t_ref:.3f} s, this tree "
          f"{t_new:.3f} s, reference / this tree = {t_ref / t_new:.2f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=REFERENCE)
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--objective", default="energy", choices=new.OBJECTIVES)
    ap.add_argument("--no-check", action="store_true", help="timing only")
    args = ap.parse_args(argv)
    ref = load_reference(args.reference)
    with open(args.pairs, "rb") as f:
        pairs = pickle.load(f)
    bad = 0 if args.no_check else check(ref, pairs)
    timing(ref, pairs, args.objective, args.repeat)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
