"""Table cost models: energy per action from a table of sourced points (the built-ins and the
user's YAML tables share this one machinery).

A table (YAML file ``cost_model: path/to/table.yaml``, or a Python dict) has this schema; every
number carries a ``source``::

    name: mytech                    # shown in every result
    description: "..."
    vdd_ref: 0.9                    # V the dynamic energies refer to (null: no voltage scaling)
    ops:                            # pJ per PE operation, by operand width in bits
      add: {points: {8: 0.03, 32: 0.1}, exponent: 1, source: "..."}   # adders ∝ bits
      mul: {points: {8: 0.2, 32: 3.1},  exponent: 2, source: "..."}   # multipliers ∝ bits²
      mac: {recipe: {mul: 1, add: 1}, source: "MAC = multiply + add"} # other ops at the same width
      ac:  {recipe: {add: 1}, source: "..."}
    sram:                           # pJ per access of ``word_bits`` bits, by capacity in bytes
      word_bits: 64
      read:  {points: {8192: 10, 1048576: 100}, exponent: 0.5, source: "..."}
      write: {points: {...}, exponent: 0.5, source: "..."}            # optional: = read
      leakage_mw: {points: {32768: 12.5}, exponent: 1, source: "..."} # optional, per memory
      area_mm2:   {points: {32768: 0.1}, exponent: 1, source: "..."}  # optional, per memory
    dram: {read_pj_per_bit: 20, write_pj_per_bit: 20, source: "..."}

Curves (``points`` + ``exponent``) are :class:`cost_models.curve.Curve`: exact at the points,
log-log between them, ∝ x^exponent outside. A recipe prices an op as a sum of other ops at the
same operand width. An op kind, a memory kind or an access the table does not list cannot be
priced: the pricer stops with an error naming it (never a silent zero).

Conversions (stated once, here; tested):

- Memory energy ∝ bits moved: an element access of ``b`` bits costs ``b / word_bits`` of the
  table's word access (parameter ``access: bits``, the default: ideal packing of narrow elements
  into words), or ``ceil(b / W)`` whole words of the memory's own width W (``access: words``: an
  unpacked element still moves a whole word). A word of W bits costs W / word_bits table words.
- Voltage: dynamic energies (ops and SRAM) scale by (vdd / vdd_ref)² (parameter ``vdd``); DRAM
  (off-chip, its own supply) and leakage are not voltage-scaled.
- ``op_scale`` multiplies every op energy (a named technology-scaling factor, default 1).
- ``alpha`` replaces the extrapolation exponent of the SRAM read/write curves (capacity scaling).
- ``dram_pj_per_bit`` replaces both DRAM energies.
- ``recipes`` replaces op recipes, e.g. ``{div: {mul: 3}}``.

Ranges: every number is finite; table numbers lie in (0, 1e15], exponents in [0, 4], recipe
counts in [0, 1e6]; parameters as :data:`BOUNDS` (vdd ≤ 10 V, op_scale ≤ 1000, dram_pj_per_bit
≤ 1e6 pJ, alpha ≤ 4). Anything else is a UserError naming the field, never an inf or NaN energy.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.workload import Memory, Strict, validation_error
from tess_sim.simulator.yaml_io import read_yaml

from tess_sim.cost_models.curve import Curve

MAX_VALUE = 1e15
"""Largest number a table may give (pJ, mW, mm², bytes, bits): finite, and far enough from
float64's 1.8e308 that energy = count × each cannot overflow."""
MAX_EXPONENT = 4.0
"""Largest scaling exponent (adders 1, multipliers 2, SRAM capacity ~0.5)."""
MAX_RECIPE = 1e6
"""Largest count of one op in a recipe."""
BOUNDS = {"vdd": (0.0, 10.0), "op_scale": (0.0, 1e3), "dram_pj_per_bit": (0.0, 1e6), "alpha": (None, MAX_EXPONENT)}
"""Parameter ranges (V, factor, pJ per bit, exponent): (exclusive lower or None for ≥ 0, upper)."""

PosFloat = Annotated[float, Field(gt=0, le=MAX_VALUE, allow_inf_nan=False)]
Exponent = Annotated[float, Field(ge=0, le=MAX_EXPONENT, allow_inf_nan=False)]
RecipeCount = Annotated[float, Field(ge=0, le=MAX_RECIPE, allow_inf_nan=False)]
Volts = Annotated[float, Field(gt=0, le=BOUNDS["vdd"][1], allow_inf_nan=False)]


class CurveSpec(Strict):
    """Published points {x: y} (x > 0, y > 0), the exponent outside them, and their source."""

    points: Annotated[dict[PosFloat, PosFloat], Field(min_length=1)]
    exponent: Exponent
    source: Annotated[str, Field(min_length=1)]

    def curve(self, exponent: float | None = None) -> Curve:
        return Curve.of(self.points, self.exponent if exponent is None else exponent)


class OpSpec(Strict):
    """One op kind: a curve over operand bits, or a recipe of other op kinds at the same width."""

    points: dict[PosFloat, PosFloat] | None = None
    exponent: Exponent | None = None
    recipe: dict[str, RecipeCount] | None = None
    source: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _one(self) -> "OpSpec":
        if (self.points is None) == (self.recipe is None):
            raise ValueError("give either points (+ exponent) or a recipe")
        if self.points is not None and (not self.points or self.exponent is None):
            raise ValueError("points need at least one entry and an exponent")
        return self


class SramSpec(Strict):
    """SRAM energies per access of ``word_bits`` bits versus capacity in bytes."""

    word_bits: Annotated[int, Field(gt=0, le=2**20)]
    read: CurveSpec
    write: CurveSpec | None = None
    leakage_mw: CurveSpec | None = None
    area_mm2: CurveSpec | None = None


class DramSpec(Strict):
    """DRAM energy per bit moved."""

    read_pj_per_bit: PosFloat
    write_pj_per_bit: PosFloat
    source: Annotated[str, Field(min_length=1)]


class CostTable(Strict):
    """A whole cost table (schema in the module docstring)."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    vdd_ref: Volts | None = None
    ops: dict[str, OpSpec] = Field(default_factory=dict)
    sram: SramSpec | None = None
    dram: DramSpec | None = None

    @field_validator("ops")
    @classmethod
    def _recipes(cls, ops: dict[str, OpSpec]) -> dict[str, OpSpec]:
        for kind, spec in ops.items():
            for base in (spec.recipe or {}):
                if base not in ops:
                    raise ValueError(f"{kind}: recipe names op '{base}', which the table does not list")
        _check_acyclic({k: set(v.recipe or {}) for k, v in ops.items()})
        return ops


def _check_acyclic(graph: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}

    def visit(k: str, path: list[str]) -> None:
        if state.get(k) == 1:
            raise ValueError("recipes form a cycle: " + " -> ".join(path + [k]))
        if state.get(k) == 2:
            return
        state[k] = 1
        for b in graph.get(k, ()):
            visit(b, path + [k])
        state[k] = 2

    for k in graph:
        visit(k, [])


TABLE_PARAMS = {"vdd": None, "access": "bits", "op_scale": 1.0, "alpha": None, "dram_pj_per_bit": None,
                "recipes": None}


def check_params(model: str, given: dict, defaults: dict) -> dict:
    """Defaults updated by ``given``; an unknown key is a UserError with a did-you-mean hint."""
    for key in given:
        if key not in defaults:
            hint = difflib.get_close_matches(key, list(defaults), n=1)
            raise UserError(f"cost model {model}", key, "unknown parameter" +
                            (f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(defaults)})"))
    return {**defaults, **given}


def _number(model: str, key: str, v: Any) -> float:
    """Parameter ``key`` as a finite float within :data:`BOUNDS` (UserError naming it otherwise)."""
    lo, hi = BOUNDS[key]
    want = (f"a number > {lo:g}" if lo is not None else "a number ≥ 0") + f" and ≤ {hi:g}"
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise UserError(f"cost model {model}", key, f"must be {want} (got {v!r})") from None
    if isinstance(v, bool) or not math.isfinite(x) or not (x > lo if lo is not None else x >= 0) or x > hi:
        raise UserError(f"cost model {model}", key, f"must be {want} (got {v!r})")
    return x


class TableModel:
    """A cost model priced from a :class:`CostTable` (see the module docstring for every rule).

    Units: pJ per op or per element access, mW leakage per memory, mm² area per memory.
    """

    unit = "pJ"
    PARAMS = TABLE_PARAMS

    def __init__(self, table: CostTable | dict, **params):
        if isinstance(table, dict):
            try:
                table = CostTable.model_validate(table)
            except ValidationError as exc:
                raise validation_error(f"cost table {table.get('name', '?')}", exc) from None
        self.table = table
        self.name = table.name
        self.params = check_params(self.name, params, self.PARAMS)
        self._validate_params()
        self._ops: dict[str, OpSpec] = dict(table.ops)
        for kind, recipe in (self.params["recipes"] or {}).items():
            self._ops[kind] = OpSpec(recipe=recipe, source="parameter 'recipes' of this run")
        try:
            _check_acyclic({k: set(v.recipe or {}) for k, v in self._ops.items()})
        except ValueError as exc:
            raise UserError(f"cost model {self.name}", "recipes", str(exc)) from None

    def _validate_params(self) -> None:
        p, n = self.params, self.name
        if p["access"] not in ("bits", "words"):
            raise UserError(f"cost model {n}", "access", f"must be 'bits' or 'words' (got {p['access']!r})")
        for key in ("op_scale", "dram_pj_per_bit", "vdd", "alpha"):
            if p[key] is not None:
                p[key] = _number(n, key, p[key])
        if p["vdd"] is not None and self.table.vdd_ref is None:
            raise UserError(f"cost model {n}", "vdd", "this table gives no vdd_ref to scale from")
        recipes = p["recipes"]
        if recipes is not None:
            if not isinstance(recipes, dict) or not all(isinstance(r, dict) for r in recipes.values()):
                raise UserError(f"cost model {n}", "recipes", "must map an op kind to {op: count}")
            for kind, r in recipes.items():
                for base, c in r.items():
                    if (base not in self.table.ops or isinstance(c, bool) or not isinstance(c, (int, float))
                            or not math.isfinite(c) or not 0 <= c <= MAX_RECIPE):
                        raise UserError(f"cost model {n}", f"recipes.{kind}.{base}",
                                        f"must be an op kind of the table with a count ≥ 0 and ≤ {MAX_RECIPE:g} "
                                        f"(got {c!r})")

    # ----------------------------------------------------------------- the CostModel protocol
    @property
    def v2(self) -> float:
        """(vdd / vdd_ref)², the dynamic-energy voltage factor (1 without ``vdd``)."""
        vdd, ref = self.params["vdd"], self.table.vdd_ref
        return 1.0 if vdd is None or ref is None else (vdd / ref) ** 2

    def can_price(self, component: str, action: str) -> bool:
        """component ``pe`` (action an op kind), ``sram`` or ``dram`` (action read / write)."""
        if component == "pe":
            return action in self._ops
        if component == "sram":
            return self.table.sram is not None and action in ("read", "write")
        if component == "dram":
            return self.table.dram is not None and action in ("read", "write")
        return False

    def op_energy(self, kind: str, bits) -> np.ndarray:
        """pJ per op of ``kind`` at operand width ``bits`` (array)."""
        bits = np.asarray(bits, dtype=float)
        spec = self._ops[kind]
        if spec.recipe is not None:
            return sum((n * self.op_energy(base, bits) for base, n in spec.recipe.items()),
                       np.zeros_like(bits))
        return Curve.of(spec.points, spec.exponent)(bits) * self.params["op_scale"] * self.v2

    def _words(self, memory: Memory, bits: np.ndarray, table_word_bits: int) -> np.ndarray:
        """Table words moved by element accesses of ``bits`` bits (see the access rule)."""
        if self.params["access"] == "words":
            return np.ceil(bits / memory.word_bits) * memory.word_bits / table_word_bits
        return bits / table_word_bits

    def access_energy(self, memory: Memory, action: str, bits) -> np.ndarray:
        """pJ per element access (read / write) of ``bits`` bits to ``memory``."""
        bits = np.asarray(bits, dtype=float)
        if memory.kind == "dram":
            d = self.table.dram
            per_bit = self.params["dram_pj_per_bit"] or (d.read_pj_per_bit if action == "read" else d.write_pj_per_bit)
            return self._words(memory, bits, 1) * per_bit
        s = self.table.sram
        spec = s.write if action == "write" and s.write is not None else s.read
        word = spec.curve(self.params["alpha"])(float(memory.capacity_bytes))
        return self._words(memory, bits, s.word_bits) * word * self.v2

    def leakage_mw(self, memory: Memory) -> float | None:
        """Leakage power of one memory (mW); None when the table gives none (DRAM: never)."""
        s = self.table.sram
        if memory.kind != "sram" or s is None or s.leakage_mw is None:
            return None
        return float(s.leakage_mw.curve()(float(memory.capacity_bytes)))

    def area_mm2(self, memory: Memory) -> float | None:
        """Area of one on-chip memory (mm²); None when the table gives none."""
        s = self.table.sram
        if memory.kind != "sram" or s is None or s.area_mm2 is None:
            return None
        return float(s.area_mm2.curve()(float(memory.capacity_bytes)))

    def sources(self) -> dict[str, str]:
        """What each number rests on: op kinds, sram read/write/leakage/area, dram."""
        out = {f"op.{k}": v.source for k, v in self._ops.items()}
        s = self.table.sram
        if s is not None:
            out["sram.read"] = s.read.source
            out["sram.write"] = s.write.source if s.write else "assumed equal to the read energy"
            for key in ("leakage_mw", "area_mm2"):
                spec = getattr(s, key)
                out[f"sram.{key}"] = spec.source if spec else "not given"
        if self.table.dram is not None:
            out["dram"] = self.table.dram.source
        return out

    def describe(self) -> dict:
        """Name, class, parameters and sources: recorded with every result."""
        return {"name": self.name, "class": f"{type(self).__module__}.{type(self).__qualname__}",
                "unit": self.unit, "description": self.table.description, "vdd_ref": self.table.vdd_ref,
                "params": dict(self.params), "sources": self.sources()}


def load_table(path: str | Path, where: str = "cost_models") -> CostTable:
    """Read and validate a YAML cost table; any mistake is a UserError naming the file and field."""
    data = read_yaml(path)
    try:
        return CostTable.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc) from None


class FileTableModel(TableModel):
    """A user table from a YAML file (the ``cost_model: path/to/table.yaml`` form)."""

    def __init__(self, path: str | Path, **params):
        self.path = str(path)
        super().__init__(load_table(path), **params)

    def describe(self) -> dict:
        return {**super().describe(), "file": self.path}
