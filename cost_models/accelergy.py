"""Accelergy interoperability: our hardware and ledger in Accelergy's v0.4 formats, and an
Accelergy ERT (energy reference table) as a cost model (docs/accelergy.md).

Name mapping (one function, :func:`component_names`, used by the export and by the model):

=========================  ===========================================  =========================
ours                       Accelergy component (``cores`` = 1; with      class
                           C cores ``system.core[0..C-1].…``)
=========================  ===========================================  =========================
memory M (sram)            ``system.M``                                 ``SRAM``
memory M (dram)            ``system.M`` (off-chip: never under a core)  ``DRAM``
op kind K of the PE array  ``system.pe[0..U-1].K`` (U = ``pe.units``)   intmac / intadder / …
register file (mapped)     ``system.pe[0..U-1].rf``                     ``regfile``
=========================  ===========================================  =========================

Actions: ``read`` / ``write`` for memories, ``compute`` for an op component (one component per op
kind, as Accelergy's intmac has ``compute``); every action has one argument ``bits``, the element
or operand width of the ledger row. Counts are per sample, summed over the array's instances and
the cores (Accelergy multiplies counts × energy per action, whatever the instance).

The model matches an ERT entry by its name with the list ranges removed (``system.pe.mac``): a
memory M is the entry whose last segment is M (and whose segment before is not ``pe``), an op
kind K the entry ending ``.pe.K``, the register file ``.pe.rf``; the action name; and the
argument ``bits`` (exactly). Nothing is interpolated: a missing entry is an error naming it.

Formats (verified against Accelergy's sources and examples, cited in docs/accelergy.md):
``architecture: {version: '0.4', subtree: [{name, attributes, local: [{name, class,
attributes}], subtree: [...]}]}``; ``action_counts: {version: '0.4', local: [{name,
action_counts: [{name, arguments, counts}]}]}``; ``ERT: {version: '0.4', tables: [{name,
actions: [{name, arguments, energy}]}]}``; ``energy_estimation: {version, components: [{name,
energy}], Total}``.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.workload import RF, Hardware, Memory, rf_memory
from tess_sim.simulator.yaml_io import read_yaml

from tess_sim.cost_models.price import access_ledger
from tess_sim.cost_models.table import check_params

VERSION = "0.4"
#: the one action argument: the element (memory) or operand (op) width in bits
BITS = "bits"
#: the action of an op component (Accelergy's intmac action name in v0.4)
COMPUTE = "compute"
#: Accelergy primitive class of each op kind, integer and floating-point arithmetic; div, sqrt
#: and exp have no primitive class in Accelergy's library (a compound class must be given)
OP_CLASSES = {
    "int": {"mac": "intmac", "ac": "intadder", "add": "intadder", "mul": "intmultiplier", "cmp": "comparator"},
    "fp": {"mac": "fpmac", "ac": "fpadder", "add": "fpadder", "mul": "fpmultiplier", "cmp": "comparator"},
}
NO_PRIMITIVE = "tess_sim_{kind}"
_RANGE = re.compile(r"\[[^\]]*\]")


def base_name(name: str) -> str:
    """An Accelergy component name without its list ranges: ``system.pe[0..63].mac`` → ``system.pe.mac``."""
    return _RANGE.sub("", name)


# --------------------------------------------------------------------------- name mapping
def component_names(hw: Hardware) -> dict[tuple[str, str], str]:
    """Accelergy name of every component of ``hw``: keys ``("memory", M)`` for each memory (and
    the register file ``("memory", "rf")`` of a mapped array) and ``("pe", K)`` for each op kind
    (any K: the caller picks the kinds it needs; see :func:`op_name`)."""
    core = f"system.core[0..{hw.cores - 1}]" if hw.cores > 1 else "system"
    pe = f"{core}.pe[0..{hw.pe.units - 1}]"
    out = {("memory", m.name): (f"system.{m.name}" if m.kind == "dram" else f"{core}.{m.name}")
           for m in hw.memories}
    if hw.dataflow == "mapped":
        out[("memory", RF)] = f"{pe}.{RF}"
    out[("pe", "")] = pe
    return out


def op_name(hw: Hardware, kind: str) -> str:
    """Accelergy name of the component that runs op kind ``kind``."""
    return f"{component_names(hw)[('pe', '')]}.{kind}"


def memory_name(hw: Hardware, memory: str) -> str:
    """Accelergy name of memory ``memory`` (``rf``: the PEs' register files)."""
    return component_names(hw)[("memory", memory)]


# --------------------------------------------------------------------------- the architecture
def _memory_attributes(mem: Memory) -> dict:
    """Accelergy SRAM / DRAM / regfile attributes of one memory: width = word bits, depth = words
    (SRAM), ports; one bank (we model none). No DRAM ``type``: our hardware files give none."""
    attrs = {"width": int(mem.word_bits), "datawidth": int(mem.word_bits)}
    if mem.kind == "sram":
        attrs["depth"] = int(mem.capacity_bytes * 8 // mem.word_bits)
        attrs["n_banks"] = 1
        attrs["n_rdwr_ports"] = int(mem.rw_ports)
        attrs["n_rd_ports"] = int(mem.read_ports)
        attrs["n_wr_ports"] = int(mem.write_ports)
    return attrs


def architecture(hw: Hardware, op_bits: dict[str, int], arithmetic: str = "int",
                 technology: str = "SET ME") -> dict:
    """The ``architecture`` document (v0.4 tree) of ``hw``: its memories, and under the PE array
    one component per op kind of ``op_bits`` ({kind: widest operand bits}, its ``datawidth``).
    ``technology`` and the clock (``global_cycle_seconds``) are attributes of ``system``, which
    Accelergy passes down to every component."""
    classes = OP_CLASSES[arithmetic]
    mems = {m.name: m for m in hw.memories}
    if hw.dataflow == "mapped":
        mems[RF] = rf_memory(hw)
    pe_local = [{"name": kind, "class": classes.get(kind, NO_PRIMITIVE.format(kind=kind)),
                 "attributes": {"datawidth": int(bits)}}
                for kind, bits in sorted(op_bits.items())]
    if RF in mems:
        pe_local.append({"name": RF, "class": "regfile", "attributes": _memory_attributes(mems[RF])})
    pe_node = {"name": f"pe[0..{hw.pe.units - 1}]", "local": pe_local}
    on_chip = [{"name": m.name, "class": "SRAM", "attributes": _memory_attributes(m)}
               for m in hw.memories if m.kind == "sram"]
    off_chip = [{"name": m.name, "class": "DRAM", "attributes": _memory_attributes(m)}
                for m in hw.memories if m.kind == "dram"]
    cycle = 1e-6 / hw.clock_mhz
    if hw.cores > 1:
        core = {"name": f"core[0..{hw.cores - 1}]", "local": on_chip, "subtree": [pe_node]}
        system = {"name": "system", "attributes": {"technology": technology, "global_cycle_seconds": cycle},
                  "local": off_chip, "subtree": [core]}
    else:
        system = {"name": "system", "attributes": {"technology": technology, "global_cycle_seconds": cycle},
                  "local": on_chip + off_chip, "subtree": [pe_node]}
    if not system["local"]:
        del system["local"]
    return {"architecture": {"version": VERSION, "subtree": [system]}}


# --------------------------------------------------------------------------- action counts
def action_rows(ledger, hw: Hardware):
    """The ``full`` ledger's ops and accesses of every rule as ``(rule, component, action, bits,
    count)`` rows (a DataFrame), summed over layers, phases and terms; zero counts dropped."""
    acc = access_ledger(ledger)
    names = component_names(hw)
    is_op = acc["unit"] == "pe"
    pe = names[("pe", "")]
    component = np.where(is_op, pe + "." + acc["action"].astype(str),
                         acc["memory"].fillna("").map(lambda m: names.get(("memory", m), "")))
    missing = acc.loc[(component == "") & ~is_op, "memory"]
    if len(missing):
        raise UserError("ledger.csv", "memory", f"names memory '{missing.iloc[0]}', which the hardware does not have")
    out = acc.assign(component=component, act=np.where(is_op, COMPUTE, acc["action"]))
    rows = out.groupby(["rule", "component", "act", "bits"], sort=False)["count"].sum().reset_index()
    return rows[rows["count"] > 0].rename(columns={"act": "action"})


def _count(value: float):
    """A count as YAML writes it: an int when whole (Accelergy's examples), else the float."""
    return int(value) if float(value).is_integer() and abs(value) < 2**63 else float(value)


def action_counts(rows) -> dict:
    """The ``action_counts`` document of one rule's rows (:func:`action_rows`)."""
    local = []
    for component, g in rows.groupby("component", sort=False):
        local.append({"name": component, "action_counts": [
            {"name": r.action, "arguments": {BITS: int(r.bits)}, "counts": _count(r.count)}
            for r in g.itertuples()]})
    return {"action_counts": {"version": VERSION, "local": local}}


# --------------------------------------------------------------------------- ERT from a model
def ert_entries(model, hw: Hardware, needed: dict[str, set[int]]) -> dict[str, list[tuple[str, int, float]]]:
    """``{component: [(action, bits, energy), ...]}`` of ``model`` for every component of
    ``needed`` ({Accelergy name: bit widths}); memories get read and write, op components compute."""
    mems = {m.name: m for m in hw.memories}
    if hw.dataflow == "mapped":
        mems[RF] = rf_memory(hw)
    by_name = {memory_name(hw, m): m for m in mems}
    pe = component_names(hw)[("pe", "")]
    out: dict[str, list[tuple[str, int, float]]] = {}
    for component, widths in needed.items():
        bits = np.array(sorted(widths), dtype=float)
        if component in by_name:
            mem = mems[by_name[component]]
            entries = []
            for action in ("read", "write"):
                if not model.can_price(mem.kind, action):
                    raise UserError(f"cost model {model.name}", f"{mem.kind}.{action}",
                                    f"cannot price a {mem.kind} {action} (memory '{mem.name}')")
                entries += list(zip([action] * len(bits), bits.astype(int), model.access_energy(mem, action, bits)))
        else:
            kind = component[len(pe) + 1:]
            if not model.can_price("pe", kind):
                raise UserError(f"cost model {model.name}", f"pe.{kind}", f"cannot price op '{kind}'")
            entries = list(zip([COMPUTE] * len(bits), bits.astype(int), model.op_energy(kind, bits)))
        out[component] = [(a, int(b), float(e)) for a, b, e in entries]
    return out


def ert_document(entries: dict[str, list[tuple[str, int, float]]]) -> dict:
    """The ``ERT`` document of :func:`ert_entries` (pJ per action)."""
    return {"ERT": {"version": VERSION, "tables": [
        {"name": comp, "actions": [{"name": a, "arguments": {BITS: b}, "energy": e} for a, b, e in acts]}
        for comp, acts in entries.items()]}}


def ert_summary(entries: dict[str, list[tuple[str, int, float]]], estimator: str) -> dict:
    """The ``ERT_summary`` document: per component and action the energy, or its average, max and
    min over the argument values (Accelergy's summary keys), and the estimator."""
    tables = []
    for comp, acts in entries.items():
        actions = []
        for name in dict.fromkeys(a for a, _, _ in acts):
            e = [x for a, _, x in acts if a == name]
            actions.append({"name": name, "energy": e[0]} if len(e) == 1 else
                           {"name": name, "average_energy": float(np.mean(e)), "max_energy": max(e),
                            "min_energy": min(e)})
        tables.append({"name": comp, "actions": actions,
                       "primitive_estimation(s)": [{"name": comp, "estimator": estimator}]})
    return {"ERT_summary": {"version": VERSION, "table_summary": tables}}


def energy_estimation(rows, entries: dict[str, list[tuple[str, int, float]]]) -> dict:
    """Accelergy's ``energy_estimation`` document of one rule: Σ counts × energy per component
    (pJ per sample) and the ``Total``."""
    energy = {(c, a, b): e for c, acts in entries.items() for a, b, e in acts}
    comps: dict[str, float] = {}
    for r in rows.itertuples():
        comps[r.component] = comps.get(r.component, 0.0) + float(r.count) * energy[(r.component, r.action, int(r.bits))]
    return {"energy_estimation": {"version": VERSION,
                                  "components": [{"name": c, "energy": e} for c, e in comps.items()],
                                  "Total": float(sum(comps.values()))}}


# --------------------------------------------------------------------------- the cost model
def _read_ert(path: Path) -> dict[tuple[str, str], dict[int, float]]:
    """``{(base name, action): {bits: pJ}}`` of an ERT file; a malformed file is a UserError
    naming the field. Entries without a ``bits`` argument are kept out (they price a word, or
    an action with other arguments: docs/accelergy.md)."""
    where = str(path)
    doc = read_yaml(path)
    ert = doc.get("ERT")
    if not isinstance(ert, dict):
        raise UserError(where, "ERT", "missing: an Accelergy ERT file has a top-level 'ERT' mapping")
    if str(ert.get("version")) not in ("0.3", "0.4"):
        raise UserError(where, "ERT.version", f"must be 0.3 or 0.4 (Accelergy's list form), got {ert.get('version')!r}")
    tables = ert.get("tables")
    if not isinstance(tables, list):
        raise UserError(where, "ERT.tables", "must be a list of {name, actions}")
    out: dict[tuple[str, str], dict[int, float]] = {}
    for i, t in enumerate(tables):
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("actions"), list):
            raise UserError(where, f"ERT.tables[{i}]", "must be a mapping with 'name' (text) and 'actions' (a list)")
        for j, a in enumerate(t["actions"]):
            field = f"ERT.tables[{i}].actions[{j}]"
            if not isinstance(a, dict) or not isinstance(a.get("name"), str):
                raise UserError(where, field, "must be a mapping with 'name', 'arguments', 'energy'")
            e = a.get("energy")
            if isinstance(e, bool) or not isinstance(e, (int, float)) or not math.isfinite(e) or e < 0:
                raise UserError(where, f"{field}.energy", f"must be a finite number ≥ 0 (pJ), got {e!r}")
            args = a.get("arguments") or {}
            if not isinstance(args, dict):
                raise UserError(where, f"{field}.arguments", "must be a mapping or null")
            if BITS not in args:
                continue
            b = args[BITS]
            if isinstance(b, bool) or not isinstance(b, int) or b <= 0:
                raise UserError(where, f"{field}.arguments.{BITS}", f"must be a whole number of bits > 0, got {b!r}")
            key = (base_name(t["name"]), a["name"])
            if b in out.setdefault(key, {}):
                raise UserError(where, field, f"a second entry for {t['name']} {a['name']} {{{BITS}: {b}}}")
            out[key][b] = float(e)
    return out


class AccelergyERT:
    """Cost model ``accelergy-ert``: pJ per action from an Accelergy ERT file (parameter
    ``file``; relative to the workload file when a workload names it). Every (component,
    action, bits) the ledger needs must be in the file (see the module docstring for the
    matching); no leakage, no area (an ERT's ``leak`` action is per cycle, not a power)."""

    name = "accelergy-ert"
    unit = "pJ"
    PARAMS = {"file": None}
    #: parameters that are paths, resolved relative to the workload file (cost_models.registry)
    PATH_PARAMS = ("file",)

    def __init__(self, **params):
        self.params = check_params(self.name, params, self.PARAMS)
        if not isinstance(self.params["file"], str) or not self.params["file"]:
            raise UserError(f"cost model {self.name}", "file", "give the ERT file: accelergy-ert,file=ERT.yaml "
                            "(in a workload {model: accelergy-ert, file: ERT.yaml})")
        self.path = Path(self.params["file"])
        if not self.path.is_file():
            raise UserError(f"cost model {self.name}", "file", f"ERT file '{self.path}' not found")
        self.sha256 = hashlib.sha256(self.path.read_bytes()).hexdigest()
        self.table = _read_ert(self.path)

    def _entry(self, suffix: str, action: str, shown: str) -> dict[int, float]:
        """The entry whose base name ends with ``suffix`` (a memory: not under ``pe``)."""
        hits = [(n, a) for (n, a) in self.table if a == action and n.endswith(suffix)
                and not (not suffix.startswith(".pe.") and n.endswith(".pe" + suffix))]
        if not hits:
            raise UserError(str(self.path), shown, f"no ERT entry for component *{suffix} action '{action}' "
                            "(docs/accelergy.md, name mapping)")
        if len(hits) > 1:
            raise UserError(str(self.path), shown, f"several ERT entries match *{suffix} action '{action}': "
                            + ", ".join(n for n, _ in hits))
        return self.table[hits[0]]

    def _lookup(self, suffix: str, action: str, bits) -> np.ndarray:
        bits = np.asarray(bits, dtype=float)
        shown = f"{suffix.lstrip('.')}.{action}"
        entry = self._entry(suffix, action, shown)
        out = np.empty_like(bits)
        for b in np.unique(bits):
            if not float(b).is_integer() or int(b) not in entry:
                raise UserError(str(self.path), shown, f"no entry with arguments {{{BITS}: {b:g}}} "
                                f"(the file gives {BITS} = {sorted(entry)}); the ledger needs it")
            out[bits == b] = entry[int(b)]
        return out

    # ------------------------------------------------------------------ the CostModel protocol
    def can_price(self, component: str, action: str) -> bool:
        """Every pe op and memory read / write is looked up in the file when priced (a missing
        entry is an error naming it, never a silent zero)."""
        return component == "pe" or (component in ("sram", "dram") and action in ("read", "write"))

    def op_energy(self, kind: str, bits) -> np.ndarray:
        return self._lookup(f".pe.{kind}", COMPUTE, bits)

    def access_energy(self, memory: Memory, action: str, bits) -> np.ndarray:
        suffix = f".pe.{RF}" if memory.name == RF else f".{memory.name}"
        return self._lookup(suffix, action, bits)

    def leakage_mw(self, memory: Memory) -> float | None:
        return None

    def area_mm2(self, memory: Memory) -> float | None:
        return None

    def describe(self) -> dict:
        return {"name": self.name, "class": f"{__name__}.AccelergyERT", "unit": self.unit,
                "description": f"Accelergy ERT {self.path} (sha256 {self.sha256[:12]}…)",
                "params": {"file": str(self.path)}, "sha256": self.sha256,
                "sources": {"all": f"Accelergy ERT {self.path} (sha256 {self.sha256}): pJ per action "
                                   f"at each '{BITS}' argument, looked up exactly"}}
