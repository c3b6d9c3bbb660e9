"""Anchors for the ``mapped`` dataflow: run SCALE-Sim and ZigZag on a few VGG-9 conv layers of a SATA-sized
output-stationary 16 x 8 array and record their numbers in ``tests/data/anchors.csv``.

    python benchmarks/anchors.py --scalesim-python /work/venvs/scalesim/bin/python \
                                 --zigzag-python /work/venvs/zigzag/bin/python [--tool zigzag] [--layer conv2_64]

Each tool runs in its own interpreter (``--scalesim-python`` / ``--zigzag-python``, defaults from the
environment variables ``TESS_SIM_SCALESIM_PYTHON`` / ``TESS_SIM_ZIGZAG_PYTHON``, else the current one)
through ``subprocess``: neither is a dependency of tess-sim (``pip install scalesim 'numpy<2.4'`` and
``pip install zigzag-dse six`` into separate venvs). Rows of the layers and tools that run replace theirs
in the CSV; the others are kept. CSV columns: layer, tool, metric, value, version (of the tool), command
(that regenerates the row). Counts are in elements (the tool's words are converted where it counts
words), cycles in cycles, energy in pJ.

The architecture (one source for this script and tests/test_anchors.py, which loads this file by path):
a 16 x 8 PE array (SATA_Sim's 128 PEs), output-stationary, rows unrolling output pixels (OX 16, or
OX 4 x OY 4 on a 4 x 4 map: what SCALE-Sim's OS rows do with the flattened OY*OX) and columns K 8;
a 256-bit register file per PE (W, I and O share it; ZigZag only, SCALE-Sim has none); a 147,456 B
weight buffer and 32,768 B input and output buffers, each 1 read + 1 write port of 256 bits (SATA's
CACTI configuration); a DRAM of 16 B/cycle. Weights, inputs and outputs are 8-bit (SCALE-Sim's one-byte
word; ZigZag keeps 16-bit partial sums in the register file and writes 8-bit final outputs). The energy
table (``PJ_PER_BIT``) is illustrative — the same per bit in both our mapper and ZigZag — so that the
energy objective ranks mappings alike; it is not a claim about SATA's silicon.

Layers (VGG-9 of workloads/dvs.yaml; 3 x 3, stride 1, pad 1): ``LAYERS``. SCALE-Sim takes no padding:
it gets the padded input (H + 2) x (W + 2), which gives the same output map.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CSV_PATH = ROOT / "tests" / "data" / "anchors.csv"
FIELDS = ("layer", "tool", "metric", "value", "version", "command")
TOOLS = ("scalesim", "zigzag")
PYTHON_ENV = {"scalesim": "TESS_SIM_SCALESIM_PYTHON", "zigzag": "TESS_SIM_ZIGZAG_PYTHON"}

#: name -> conv layer: C input channels, K output channels, OY x OX output map, FY x FX filter
LAYERS = {
    "conv2_64": {"C": 2, "K": 64, "OY": 32, "OX": 32, "FY": 3, "FX": 3},
    "conv64_128": {"C": 64, "K": 128, "OY": 32, "OX": 32, "FY": 3, "FX": 3},
    "conv256_256": {"C": 256, "K": 256, "OY": 16, "OX": 16, "FY": 3, "FX": 3},
    "conv512_512": {"C": 512, "K": 512, "OY": 4, "OX": 4, "FY": 3, "FX": 3},
}
STRIDE, PAD = 1, 1
ARRAY = (16, 8)                      # rows x cols: rows unroll output pixels, cols output channels
RF_BITS = 256                        # register file per PE, bits (W, I and O tiles share it)
BUFFER_BYTES = {"weight_buffer": 147_456, "input_buffer": 32_768, "output_buffer": 32_768}
HOME = {"W": "weight_buffer", "I": "input_buffer", "O": "output_buffer"}   # operand -> its SRAM
PORT_BITS = 256                      # each SRAM: 1 read port + 1 write port of this width, bits/cycle
DRAM_BITS_PER_CYCLE = 16 * 8         # 16 B/cycle, either direction
BITS = {"W": 8, "I": 8, "O": 8}      # element widths, bits (ZigZag: 16-bit partial sums in the RF)
PARTIAL_BITS = 16
#: illustrative access energy, pJ per bit moved, and the MAC energy, pJ per 8-bit MAC
PJ_PER_BIT = {"rf": 0.02, "weight_buffer": 0.08, "input_buffer": 0.05, "output_buffer": 0.05, "dram": 4.0}
MAC_PJ = 0.2
#: ZigZag's LOMA search: loop prime factors kept apart (its default, 6, finds no OY tiling of conv64_128
#: that fits the input buffer and re-reads 2.8x the input from DRAM; 7 takes ~90 s a layer and finds it)
ZIGZAG_LPF_LIMIT = 7


def spatial(layer: dict) -> tuple[tuple[tuple[str, int], ...], ...]:
    """Per array axis, ((dim, factor), ...): OX 16 (or OX x OY = 16 on a small map) on the rows, K 8 on the cols."""
    rows = ARRAY[0]
    row = (("OX", rows),) if layer["OX"] >= rows else (("OX", layer["OX"]), ("OY", rows // layer["OX"]))
    return (row, (("K", ARRAY[1]),))


def padded_input(layer: dict) -> tuple[int, int]:
    """(IY, IX) of the padded input map: (O - 1) * stride + F."""
    return ((layer["OY"] - 1) * STRIDE + layer["FY"], (layer["OX"] - 1) * STRIDE + layer["FX"])


def macs(layer: dict) -> int:
    """Dense MACs of the layer: K * C * OY * OX * FY * FX."""
    return layer["K"] * layer["C"] * layer["OY"] * layer["OX"] * layer["FY"] * layer["FX"]


# ---------------------------------------------------------------------------------------------- SCALE-Sim

SCALESIM_CHILD = r"""
import contextlib, csv, io, json, os, sys
from importlib.metadata import version
spec = json.loads(sys.argv[1]); d = spec["dir"]
cfg = f'''[general]
run_name = anchors

[architecture_presets]
ArrayHeight: {spec["rows"]}
ArrayWidth: {spec["cols"]}
IfmapSramSzkB: {spec["ifmap_kb"]}
FilterSramSzkB: {spec["filter_kb"]}
OfmapSramSzkB: {spec["ofmap_kb"]}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: 10
Dataflow: os
MemoryBanks: 1
ReadRequestBuffer: 512
WriteRequestBuffer: 512

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 1
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 1
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
'''
L = spec["layer"]
open(os.path.join(d, "scale.cfg"), "w").write(cfg)
open(os.path.join(d, "topo.csv"), "w").write(
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    f"{spec['name']}, {L['IY']}, {L['IX']}, {L['FY']}, {L['FX']}, {L['C']}, {L['K']}, {L['stride']},\n")
# SCALE-Sim v3 demands a layout file; with IfmapCustomLayout/FilterCustomLayout False it is not consulted
open(os.path.join(d, "layout.csv"), "w").write(
    "Layer name, a, b, c, d, e, f, g,\n" f"{spec['name']}, 1, 1, 1, 1, 1, 1, 1,\n")
from scalesim.scale_sim import scalesim
with contextlib.redirect_stdout(io.StringIO()):
    s = scalesim(save_disk_space=True, verbose=False, config=os.path.join(d, "scale.cfg"),
                 topology=os.path.join(d, "topo.csv"), layout=os.path.join(d, "layout.csv"), input_type_gemm=False)
    s.run_scale(top_path=os.path.join(d, "out"))
def row(name):
    with open(os.path.join(d, "out", "anchors", name)) as f:
        r = list(csv.reader(f))
    return {k.strip(): v.strip() for k, v in zip(r[0], r[1]) if k.strip()}
comp, det = row("COMPUTE_REPORT.csv"), row("DETAILED_ACCESS_REPORT.csv")
out = {
    "cycles": float(comp["Total Cycles"]),
    "cycles_incl_prefetch": float(comp["Total Cycles (incl. prefetch)"]),
    "stall_cycles": float(comp["Stall Cycles"]),
    "compute_util_pct": float(comp["Compute Util %"]),
    "sram_reads.ifmap": float(det["SRAM IFMAP Reads"]),
    "sram_reads.filter": float(det["SRAM Filter Reads"]),
    "sram_writes.ofmap": float(det["SRAM OFMAP Writes"]),
    "dram_reads.ifmap": float(det["DRAM IFMAP Reads"]),
    "dram_reads.filter": float(det["DRAM Filter Reads"]),
    "dram_writes.ofmap": float(det["DRAM OFMAP Writes"]),
}
print(json.dumps({"version": version("scalesim"), "metrics": out}))
"""


def scalesim_spec(name: str, workdir: str) -> dict:
    """The child's input for one layer: the padded input map, the array and the SRAM sizes in KiB."""
    layer = LAYERS[name]
    iy, ix = padded_input(layer)
    return {"dir": workdir, "name": name, "rows": ARRAY[0], "cols": ARRAY[1],
            "filter_kb": BUFFER_BYTES["weight_buffer"] // 1024, "ifmap_kb": BUFFER_BYTES["input_buffer"] // 1024,
            "ofmap_kb": BUFFER_BYTES["output_buffer"] // 1024,
            "layer": {**layer, "IY": iy, "IX": ix, "stride": STRIDE}}


# ---------------------------------------------------------------------------------------------- ZigZag

ZIGZAG_CHILD = r"""
import contextlib, io, json, logging, os, sys
from importlib.metadata import version
import yaml
spec = json.loads(sys.argv[1]); d = spec["dir"]
logging.disable(logging.CRITICAL)
from zigzag.api import get_hardware_performance_zigzag
from zigzag.hardware.architecture.memory_port import DataDirection
from zigzag.mapping.data_movement import DataMoveAttr

def port(name, kind, bits, allocation):
    return {"name": name, "type": kind, "bandwidth_min": bits, "bandwidth_max": bits, "allocation": allocation}

def memory(bits, pj_per_word, operands, ports, served):
    return {"size": bits, "r_cost": pj_per_word, "w_cost": pj_per_word, "area": 0, "latency": 1,
            "operands": operands, "ports": ports, "served_dimensions": served}

mem = {"I": "I1", "W": "I2", "O": "O"}
rfp = spec["rf_port_bits"]
memories = {"rf": memory(spec["rf_bits"], spec["pj_per_bit"]["rf"] * rfp, ["I1", "I2", "O"], [
    port("r_port_1", "read", rfp, ["I1, tl"]), port("r_port_2", "read", rfp, ["I2, tl"]),
    port("r_port_3", "read", rfp, ["O, tl", "O, th"]), port("w_port_1", "write", rfp, ["I1, fh"]),
    port("w_port_2", "write", rfp, ["I2, fh"]), port("w_port_3", "write", rfp, ["O, fh", "O, fl"])], [])}
for op, buf in spec["home"].items():
    m = mem[op]
    rd = [f"{m}, tl"] + ([f"{m}, th"] if op == "O" else [])
    wr = [f"{m}, fh"] + ([f"{m}, fl"] if op == "O" else [])
    memories[buf] = memory(spec["buffer_bytes"][buf] * 8, spec["pj_per_bit"][buf] * spec["port_bits"], [m],
                           [port("r_port_1", "read", spec["port_bits"], rd),
                            port("w_port_1", "write", spec["port_bits"], wr)], ["D1", "D2"])
memories["dram"] = memory(10 ** 12, spec["pj_per_bit"]["dram"] * spec["dram_bits"], ["I1", "I2", "O"], [
    port("rw_port_1", "read_write", spec["dram_bits"],
         ["I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl", "O, fl", "O, th"])], ["D1", "D2"])
acc = {"name": "anchors_os_16x8", "memories": memories,
       "operational_array": {"unit_energy": spec["mac_pj"], "unit_area": 1, "dimensions": ["D1", "D2"],
                             "sizes": list(spec["array"])}}
L = spec["layer"]
sm = {f"D{i + 1}": [f"{dim}, {f}" for dim, f in axis] for i, axis in enumerate(spec["spatial"])}
mapping = [{"name": "default", "spatial_mapping": sm, "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]
b = spec["bits"]
workload = [{"id": 0, "name": spec["name"], "operator_type": "Conv",
             "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
             "dimension_relations": [f"ix={L['stride']}*ox+1*fx", f"iy={L['stride']}*oy+1*fy"],
             "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
             "loop_sizes": [1, L["K"], L["C"], L["OY"], L["OX"], L["FY"], L["FX"]],
             "operand_precision": {"W": b["W"], "I": b["I"], "O": spec["partial_bits"], "O_final": b["O"]},
             "operand_source": {"I": 0}, "pr_loop_dims": ["IX", "IY"], "pr_loop_sizes": [L["IX"], L["IY"]],
             "padding": [[L["pad"], L["pad"]], [L["pad"], L["pad"]]]}]
for name, obj in (("accelerator.yaml", acc), ("mapping.yaml", mapping), ("workload.yaml", workload)):
    with open(os.path.join(d, name), "w") as f:
        yaml.safe_dump(obj, f, sort_keys=False)
with contextlib.redirect_stdout(io.StringIO()):
    energy, latency, cmes = get_hardware_performance_zigzag(
        os.path.join(d, "workload.yaml"), os.path.join(d, "accelerator.yaml"), os.path.join(d, "mapping.yaml"),
        opt=spec["objective"], lpf_limit=spec["lpf_limit"], dump_folder=os.path.join(d, "out"), loma_show_progress_bar=False)
cme = cmes[0][1][0][0]
out = {"cycles": float(cme.latency_total2), "cycles_ideal": float(cme.ideal_cycle),
       "cycles_ideal_temporal": float(cme.ideal_temporal_cycle), "cycles_stall": float(cme.latency_total0 - cme.ideal_temporal_cycle),
       "cycles_onloading": float(cme.data_onloading_cycle), "cycles_offloading": float(cme.data_offloading_cycle),
       "energy_pj": float(cme.energy_total), "energy_mac_pj": float(cme.mac_energy), "macs": float(cme.layer.total_mac_count)}
names = {v: k for k, v in mem.items()}
for layer_op, levels in cme.mapping.unit_mem_data_movement.items():
    op = str(layer_op)
    for lv, move in enumerate(levels):
        level = cme.accelerator.get_memory_level(cme.memory_operand_links.layer_to_mem_op(layer_op), lv).name
        counts = move.get_attribute(DataMoveAttr.DATA_ELEM_MOVE_COUNT)   # elements, all instances of the level
        for direction in DataDirection:
            out[f"{op}.{level}.{direction.value}"] = float(counts.get(direction))
print(json.dumps({"version": version("zigzag-dse"), "metrics": out,
                  "mapping": {"temporal": str(cme.temporal_mapping), "spatial": str(cme.spatial_mapping)}}))
"""


def zigzag_spec(name: str, workdir: str, objective: str = "energy", lpf_limit: int = ZIGZAG_LPF_LIMIT) -> dict:
    """The child's input for one layer: the architecture constants above and the layer with its padding."""
    layer = LAYERS[name]
    iy, ix = padded_input(layer)
    return {"dir": workdir, "name": name, "objective": objective, "lpf_limit": lpf_limit, "array": ARRAY, "spatial": spatial(layer),
            "rf_bits": RF_BITS, "rf_port_bits": PARTIAL_BITS, "home": HOME, "buffer_bytes": BUFFER_BYTES,
            "port_bits": PORT_BITS, "dram_bits": DRAM_BITS_PER_CYCLE, "pj_per_bit": PJ_PER_BIT, "mac_pj": MAC_PJ,
            "bits": BITS, "partial_bits": PARTIAL_BITS,
            "layer": {**layer, "IY": iy, "IX": ix, "stride": STRIDE, "pad": PAD}}


# ---------------------------------------------------------------------------------------------- driver

CHILDREN = {"scalesim": (SCALESIM_CHILD, scalesim_spec), "zigzag": (ZIGZAG_CHILD, zigzag_spec)}


def tool_python(tool: str, given: str | None = None) -> str:
    """The interpreter that has ``tool``: the argument, else $TESS_SIM_<TOOL>_PYTHON, else this one."""
    return given or os.environ.get(PYTHON_ENV[tool]) or sys.executable


def run_tool(tool: str, name: str, python: str, timeout: float = 3600.0) -> dict:
    """Run ``tool`` on layer ``name`` in ``python``; {"version", "metrics": {metric: value}, ...}."""
    child, make_spec = CHILDREN[tool]
    with tempfile.TemporaryDirectory(prefix=f"anchors-{tool}-") as workdir:
        spec = make_spec(name, workdir)
        done = subprocess.run([python, "-c", child, json.dumps(spec)], capture_output=True, text=True,
                              timeout=timeout, cwd=workdir)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} on {name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def command(tool: str, name: str) -> str:
    """The command that regenerates the rows of (tool, layer)."""
    return (f"python benchmarks/anchors.py --tool {tool} --layer {name} "
            f"--{tool}-python ${PYTHON_ENV[tool]}")


def rows_of(tool: str, name: str, result: dict) -> list[dict]:
    return [{"layer": name, "tool": tool, "metric": metric, "value": repr(float(value)),
             "version": result["version"], "command": command(tool, name)}
            for metric, value in result["metrics"].items()]


def read_csv(path: Path = CSV_PATH) -> list[dict]:
    """The recorded rows (value as a string, as written)."""
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def recorded(path: Path = CSV_PATH) -> dict:
    """{(layer, tool, metric): value} of the recorded rows, values as floats."""
    return {(r["layer"], r["tool"], r["metric"]): float(r["value"]) for r in read_csv(path)}


def write_csv(rows: list[dict], path: Path = CSV_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    order = {n: i for i, n in enumerate(LAYERS)}
    rows = sorted(rows, key=lambda r: (order.get(r["layer"], len(order)), r["tool"]))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", choices=TOOLS, action="append", help="default: both")
    ap.add_argument("--layer", choices=list(LAYERS), action="append", help="default: all")
    ap.add_argument("--scalesim-python", default=None)
    ap.add_argument("--zigzag-python", default=None)
    ap.add_argument("--out", type=Path, default=CSV_PATH)
    a = ap.parse_args()
    tools, layers = a.tool or list(TOOLS), a.layer or list(LAYERS)
    pythons = {"scalesim": tool_python("scalesim", a.scalesim_python),
               "zigzag": tool_python("zigzag", a.zigzag_python)}
    done = {(n, t) for n in layers for t in tools}
    rows = [r for r in read_csv(a.out) if (r["layer"], r["tool"]) not in done]
    for tool in tools:
        for name in layers:
            result = run_tool(tool, name, pythons[tool])
            rows += rows_of(tool, name, result)
            m = result["metrics"]
            extra = f"  mapping {result['mapping']['temporal']}" if "mapping" in result else ""
            print(f"{tool} {result['version']} {name}: cycles {m['cycles']:.0f}{extra}", flush=True)
            write_csv(rows, a.out)      # after every layer: a long run keeps what it has
    print(f"wrote {a.out} ({len(rows)} rows); command: {shlex.join(sys.argv)}")


if __name__ == "__main__":
    main()
