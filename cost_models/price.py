"""Pricing: a ledger + a hardware description + a cost model (+ the engine's time per sample) →
energy per sample, per rule, with its breakdown.

Interface for the engines::

    price(ledger, hw, model, seconds=None, basis="given") -> Priced

- ``ledger``: an engine's ledger (:mod:`simulator.ledger`) *with* its ``memory`` column, which
  says which memory serves each access (both engines add it: ``tess_sim.api.run``). Pricing
  never places buffers itself: a ledger without ``memory`` is refused with an error.
- ``seconds``: the engine's time per sample — a number (every rule) or ``{rule: seconds}`` — and
  ``basis`` what it is (``simulated`` for the SimPy engine, the analytical engine's stated
  ``estimate: …``; default ``given``), carried to every output. None: leakage is not priced (NaN, basis
  :data:`NOT_PRICED`); the cost model never invents a time.

Categories: ``compute`` (PE ops), ``sram`` and ``dram`` (accesses, by the kind of the memory
serving them; a mapped array's register files, memory ``rf``, are ``sram``: an SRAM of
``pe.rf_bits`` to every cost model), ``leakage`` (Σ leakage power of the SRAMs × cores × seconds; DRAM leakage is not
priced). Every action the model cannot price stops the run with an error naming it.

Units: ``energy`` in the model's unit (pJ, or actions for ``counts``), per sample.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.workload import Hardware, Memory, rf_memory

CATEGORIES = ("compute", "sram", "dram", "leakage")
#: the leakage basis of a time per sample passed without one
GIVEN = "given"
#: the leakage basis when the engine gave no time per sample
NOT_PRICED = "not priced: no time per sample from the engine"
PRICED_COLUMNS = ["rule", "layer", "phase", "unit", "action", "memory", "bits", "count", "each",
                  "energy", "category"]


@dataclass
class Priced:
    """One model's pricing of one ledger.

    ``rows``: PRICED_COLUMNS (``each`` = energy of one action, ``energy = count × each``);
    ``leakage``: one row per rule — seconds per sample, basis, power (mW), energy (NaN when the
    model prices no leakage, or the engine gave no time: basis :data:`NOT_PRICED`); ``area_mm2``: Σ memory areas × cores, None if not priced.
    """

    model: dict
    unit: str
    rows: pd.DataFrame
    leakage: pd.DataFrame
    area_mm2: float | None


def access_ledger(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ``full`` ledger's ops and accesses, each access with the memory serving it (the
    ledger's ``memory`` column; a ledger without one is refused)."""
    full = ledger[ledger["convention"] == "full"] if "convention" in ledger.columns else ledger
    acc = full[full["action"] != "hold"].reset_index(drop=True)
    if "memory" not in acc.columns or ((acc["unit"] != "pe") & (acc["memory"].fillna("") == "")).any():
        raise UserError("ledger", "memory", "does not say which memory serves each access: price the ledger "
                        "of an engine run (tess_sim.api.run places it; in Python, "
                        "simulator.placement.with_memory)")
    return acc


def memories_of(hw: Hardware) -> dict[str, Memory]:
    """Every memory a ledger of ``hw`` can name: its memories and, on a mapped array, the PEs'
    register files (:func:`simulator.workload.rf_memory`, priced as an SRAM of ``pe.rf_bits``)."""
    mems = {m.name: m for m in hw.memories}
    if hw.dataflow == "mapped":
        rf = rf_memory(hw)
        mems[rf.name] = rf
    return mems


def _each(model, acc: pd.DataFrame, hw: Hardware) -> np.ndarray:
    """Energy of one action for every row (vectorised per op kind / memory and action)."""
    mems = memories_of(hw)
    each = np.full(len(acc), np.nan)
    is_op = (acc["unit"] == "pe").to_numpy()
    for kind, idx in acc[is_op].groupby("action").groups.items():
        if not model.can_price("pe", kind):
            raise UserError(f"cost model {model.name}", f"pe.{kind}",
                            f"cannot price op '{kind}' (it prices no such action; give it in the table)")
        each[idx] = _checked(model, f"pe.{kind}", model.op_energy(kind, acc.loc[idx, "bits"].to_numpy(float)))
    for (mem_name, action), idx in acc[~is_op].groupby(["memory", "action"]).groups.items():
        mem = mems.get(mem_name)
        if mem is None:
            raise UserError("ledger", "memory", f"names memory '{mem_name}', which the hardware does not have")
        if not model.can_price(mem.kind, action):
            raise UserError(f"cost model {model.name}", f"{mem.kind}.{action}",
                            f"cannot price a {mem.kind} {action} (memory '{mem_name}')")
        each[idx] = _checked(model, f"{mem.kind}.{action}",
                             model.access_energy(mem, action, acc.loc[idx, "bits"].to_numpy(float)))
    return each


def _checked(model, field: str, values, what: str = "energy") -> np.ndarray:
    """A model's numbers, finite and ≥ 0, or a UserError naming the model and the action."""
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v) & (v >= 0)):
        bad = float(v[~(np.isfinite(v) & (v >= 0))][0])
        raise UserError(f"cost model {model.name}", field, f"gives {what} {bad!r}: every {what} must be finite "
                        "and ≥ 0 (check its parameters and table)")
    return v


def price(ledger: pd.DataFrame, hw: Hardware, model, seconds: float | dict | None = None,
          basis: str = GIVEN) -> Priced:
    """Price every op and access of ``ledger`` with ``model`` (see the module docstring)."""
    acc = access_ledger(ledger)
    kinds = {name: m.kind for name, m in memories_of(hw).items()}
    each = _each(model, acc, hw)
    with np.errstate(over="ignore"):
        energy = _checked(model, "total", acc["count"].to_numpy(float) * each)  # count × each overflows?
    rows = acc.assign(memory=acc["memory"].fillna(""), each=each, energy=energy)
    rows["category"] = np.where(rows["unit"] == "pe", "compute", rows["memory"].map(kinds).fillna(""))
    rows = rows[PRICED_COLUMNS]

    rules = list(dict.fromkeys(rows["rule"]))
    if seconds is None:
        secs, basis = {r: np.nan for r in rules}, NOT_PRICED
    elif isinstance(seconds, dict):
        secs = {r: float(seconds[r]) for r in rules}
    else:
        secs = {r: float(seconds) for r in rules}
    srams = [m for m in hw.memories if m.kind == "sram"]
    powers = [model.leakage_mw(m) for m in srams]
    for m, p in zip(srams, powers):
        if p is not None:
            _checked(model, f"sram.leakage_mw ({m.name})", p, "leakage power")
    power = None if any(p is None for p in powers) or model.unit != "pJ" else hw.cores * float(sum(powers))
    leak = pd.DataFrame([{"rule": r, "seconds": secs[r], "basis": basis,
                          "power_mw": np.nan if power is None else power,
                          "energy": np.nan if power is None else power * secs[r] * 1e9}  # mW·s → pJ
                         for r in rules], columns=["rule", "seconds", "basis", "power_mw", "energy"])
    areas = [model.area_mm2(m) for m in srams]
    area = None if not areas or any(a is None for a in areas) else hw.cores * float(sum(areas))
    return Priced(model.describe(), model.unit, rows, leak, area)


def synaptic_ops(ledger: pd.DataFrame) -> pd.Series:
    """Synaptic operations per sample per rule: the forward phase's ACs and MACs (``full``)."""
    full = ledger[ledger["convention"] == "full"] if "convention" in ledger.columns else ledger
    s = full[(full["unit"] == "pe") & (full["phase"] == "fwd") & full["action"].isin(["ac", "mac"])]
    return s.groupby("rule", sort=False)["count"].sum()


def energy_summary(priced: Priced, ledger: pd.DataFrame) -> pd.DataFrame:
    """One row per rule: the model's label and parameters (JSON), total, compute, sram, dram, leakage (NaN if not priced), dynamic, SOPs,
    energy per SOP (total and dynamic), ratio of the total to BPTT's; the model's unit."""
    rows = priced.rows
    cat = rows.groupby(["rule", "category"], sort=False)["energy"].sum().unstack(fill_value=0.0)
    sops = synaptic_ops(ledger)
    leak = priced.leakage.set_index("rule")
    out = []
    for rule in leak.index:
        r = {"model": priced.model.get("label", priced.model["name"]), "unit": priced.unit, "rule": rule,
             "params": json.dumps(priced.model.get("params", {}), sort_keys=True, default=str)}
        for c in ("compute", "sram", "dram"):
            r[c] = float(cat.loc[rule, c]) if (rule in cat.index and c in cat.columns) else 0.0
        r["dynamic"] = r["compute"] + r["sram"] + r["dram"]
        r["leakage"] = float(leak.loc[rule, "energy"])
        r["leakage_basis"] = leak.loc[rule, "basis"]
        r["seconds"] = float(leak.loc[rule, "seconds"])
        r["total"] = r["dynamic"] + (0.0 if np.isnan(r["leakage"]) else r["leakage"])
        r["sops"] = float(sops.get(rule, 0.0))
        r["per_sop"] = r["total"] / r["sops"] if r["sops"] else np.nan
        r["per_sop_dynamic"] = r["dynamic"] / r["sops"] if r["sops"] else np.nan
        out.append(r)
    df = pd.DataFrame(out)
    base = df.loc[df["rule"] == "bptt", "total"]
    df["total_vs_bptt"] = df["total"] / float(base.iloc[0]) if len(base) and float(base.iloc[0]) else np.nan
    return df


def breakdown(priced: Priced) -> pd.DataFrame:
    """Tidy breakdown: model, rule, by (category | phase | layer | memory | buffer), part, energy
    (``buffer``: the buffer kind of an access, ``pe`` for ops).
    Leakage appears as its own part in every view (it is not attributed to phases or layers)."""
    rows, name = priced.rows, priced.model.get("label", priced.model["name"])
    parts = []
    for by in ("category", "phase", "layer", "memory", "buffer"):
        key = {"memory": rows["memory"].replace("", "pe"), "buffer": rows["unit"]}.get(by, rows.get(by))
        g = rows.groupby([rows["rule"], key], sort=False)["energy"].sum()
        parts += [(name, rule, by, part, float(v)) for (rule, part), v in g.items()]
        for lr in priced.leakage.itertuples():
            if not np.isnan(lr.energy):
                parts.append((name, lr.rule, by, "leakage", float(lr.energy)))
    return pd.DataFrame(parts, columns=["model", "rule", "by", "part", "energy"])


#: op kinds a mapped contraction runs (:mod:`simulator.rules.contractions`)
CONTRACTION_OPS = ("mac", "ac")


def energy_table(model, hw: Hardware) -> tuple:
    """pJ (the model's unit) per element access and per op at every bit width of ``hw``'s precision
    table, as the loop-nest mapper's objective reads them (:class:`simulator.dataflow.arch.Arch`):
    ``((memory, action, bits), each)`` for every memory of :func:`memories_of` and
    ``(("pe", kind, bits), each)`` for the contraction op kinds. An access the model cannot price
    is left out (the mapper then refuses a mapping that needs it)."""
    widths = sorted({hw.precision.bits(k) for k in type(hw.precision).model_fields})
    bits = np.array(widths, dtype=float)
    out = []
    for name, mem in memories_of(hw).items():
        for action in ("read", "write"):
            if model.can_price(mem.kind, action):
                out += [((name, action, b), float(e)) for b, e in zip(widths, model.access_energy(mem, action, bits))]
    for kind in CONTRACTION_OPS:
        if model.can_price("pe", kind):
            out += [(("pe", kind, b), float(e)) for b, e in zip(widths, model.op_energy(kind, bits))]
    return tuple(out)
