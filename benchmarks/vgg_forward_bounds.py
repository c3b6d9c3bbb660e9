"""The dense forward of every VGG-9 conv layer on a mapped preset (default ``sata``), as the mapper
tiles it: spatial unrolling, compute cycles against the ideal (dense MACs / PEs), what bounds the
layer, and each operand's DRAM traffic per step against the once-per-step lower bound (the
tensor; the input at its padded extent). tests/test_mapped_vgg.py asserts the same bounds.

    python benchmarks/vgg_forward_bounds.py [--hardware workloads/hw/sata.yaml] [--workload workloads/dvs.yaml]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from tess_sim.api import load, mapper_of
from tess_sim.simulator.activity import build_activity
from tess_sim.simulator.engines.mapped import nest_of
from tess_sim.simulator.engines.rows import raw_ledger
from tess_sim.simulator.network import build_network
from tess_sim.simulator.placement import place
from tess_sim.simulator.rules import build_rules

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hardware", default=str(ROOT / "workloads/hw/sata.yaml"))
    ap.add_argument("--workload", default=str(ROOT / "workloads/dvs.yaml"))
    a = ap.parse_args()
    wl = load(a.workload, a.hardware, {"rules": {"bptt": {}}, "activity": {"source": "dense"}})
    hw = wl.hardware
    net = build_network(wl)
    (rule,) = build_rules(wl, net)
    works = rule.works(build_activity(net, wl.activity))
    placement = place(raw_ledger([rule], {rule.name: works}, hw.precision, 1), hw)
    mapper = mapper_of(wl)
    arch = mapper.arch(placement)
    pl = placement.set_index("unit")
    dram = next(m.name for m in hw.memories if m.kind == "dram")
    units = math.prod(hw.pe.array)
    print(f"dense forward of {wl.name} on {hw.name} ({hw.pe.array[0]} x {hw.pe.array[1]} PEs, objective "
          f"{mapper.objective}); DRAM elements per step: mapped / lower bound (r = resident, no DRAM)")
    print("| layer | spatial | compute cycles | ideal | ratio | bound by | weights | input spikes | membrane (read, write) |")
    print("|---|---|---:|---:|---:|---|---:|---:|---:|")
    for w in works:
        b = net.block(w.layer)
        if w.phase != "fwd" or b.kind != "conv":
            continue
        nest = nest_of(w.nests[0], hw, pl)
        m = mapper.best(nest, arch)
        ideal = b.F / units
        bound = max(m.memory_cycles, key=m.memory_cycles.get)
        bound = bound if m.memory_cycles[bound] > m.compute_cycles else "compute"
        cells = []
        for op in nest.operands:
            ext = op.elements(nest.dims)
            r, wr = m.count(op.name, dram, "read"), m.count(op.name, dram, "write")
            if not op.spilled:
                cells.append("r")
            elif op.role == "read":
                cells.append(f"{r:,.0f} / {ext:,}")
            else:
                cells.append(f"{r:,.0f}, {wr:,.0f} / {ext:,}")
        spatial = " ".join(f"{d}{f}" for d, f in m.spatial.items() if f > 1)
        print(f"| {b.name} | {spatial} | {m.compute_cycles:,.0f} | {ideal:,.0f} | {m.compute_cycles / ideal:.3f} | "
              f"{bound} | " + " | ".join(cells) + " |")
    print(mapper.stats())


if __name__ == "__main__":
    main()
