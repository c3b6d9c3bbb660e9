"""The built-in cost models: ``counts``, ``horowitz45`` and ``cacti28`` (numbers and sources in
``docs/energy.md``; every one is repeated in :meth:`describe` of each result), and
``accelergy-ert`` (an Accelergy ERT file, :mod:`cost_models.accelergy`).

Scaling rules (tested in ``tests/test_cost_models.py``):

- adders ∝ bits, multipliers ∝ bits² outside the published widths; between published widths
  the log-log line through them (:mod:`cost_models.curve`). Horowitz gives no 16-bit integer
  multiply: it is the log-log midpoint of 8b (0.2 pJ) and 32b (3.1 pJ), sqrt(0.2·3.1) = 0.787 pJ;
  a 12-bit add lies on the line through 8b (0.03) and 16b (0.05): 0.03·(12/8)^log2(5/3) pJ.
- MAC = multiply + add, AC = add, compare = add, all at the operand width.
- div, sqrt, exp have no table entry; they are recipes of multiplies and adds (parameter
  ``recipes``): div = 5 mul + 2 add (Newton–Raphson reciprocal, 2 iterations of x(2 − d·x), then
  one multiply), sqrt = 7 mul + 2 add (inverse square root, 2 iterations of x(1.5 − 0.5·d·x²),
  then x·d), exp = 4 mul + 3 add (range reduction by one multiply, cubic by Horner). Seed look-ups
  are not priced. These are assumptions, recorded as such.
- memory energy ∝ bits moved (see :mod:`cost_models.table` for ``access: bits | words``).
"""

from __future__ import annotations

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.workload import Memory

from tess_sim.cost_models.table import TABLE_PARAMS, TableModel, check_params

HOROWITZ = "Horowitz, 'Computing's energy problem', ISSCC 2014, 45 nm, 0.9 V"
CACTI = "CACTI 7 at 28 nm, scratch RAM 2 banks, 256-bit block, 1R+1W port, 360 K (SATA logs, Yin et al., TCAD 2022)"
DRAM_SOURCE = (f"{HOROWITZ}: DRAM 1300-2600 pJ per 64-bit access; the low end, 1300/64 ≈ 20 pJ/bit, as in "
               "the SNN convention's 640 pJ per 32-bit read")

RECIPES = {
    "mac": ({"mul": 1, "add": 1}, "MAC = multiply + add at the operand width (SNN convention after Horowitz)"),
    "ac": ({"add": 1}, "AC = add at the operand width (SNN convention after Horowitz)"),
    "cmp": ({"add": 1}, "assumption: compare = add of the same width (a subtractor's carry chain)"),
    "div": ({"mul": 5, "add": 2}, "assumption: Newton-Raphson reciprocal, 2 iterations of x(2-dx), then 1 multiply"),
    "sqrt": ({"mul": 7, "add": 2}, "assumption: inverse sqrt by Newton-Raphson, 2 iterations of x(1.5-0.5dx^2), then x*d"),
    "exp": ({"mul": 4, "add": 3}, "assumption: range reduction (1 multiply) + cubic polynomial by Horner"),
}

HOROWITZ_OPS = {
    "int": {"add": ({8: 0.03, 16: 0.05, 32: 0.1}, 1.0), "mul": ({8: 0.2, 32: 3.1}, 2.0)},
    "fp": {"add": ({16: 0.4, 32: 0.9}, 1.0), "mul": ({16: 1.1, 32: 3.7}, 2.0)},
}


def _ops(arithmetic: str, note: str = "") -> dict:
    ops = {}
    for kind, (points, exponent) in HOROWITZ_OPS[arithmetic].items():
        law = "bits" if exponent == 1 else "bits²"
        ops[kind] = {"points": points, "exponent": exponent,
                     "source": f"{HOROWITZ}, {arithmetic} {kind} at {sorted(points)} bits; log-log between, "
                               f"∝ {law} outside{note}"}
    for kind, (recipe, src) in RECIPES.items():
        ops[kind] = {"recipe": recipe, "source": src}
    return ops


def horowitz45_table(arithmetic: str = "int") -> dict:
    """The horowitz45 table: Horowitz's adds and multiplies, SRAM by capacity, DRAM per bit."""
    return {
        "name": "horowitz45",
        "description": f"{HOROWITZ}; {arithmetic} arithmetic at the hardware's operand widths",
        "vdd_ref": 0.9,
        "ops": _ops(arithmetic),
        "sram": {"word_bits": 64,
                 "read": {"points": {8192: 10.0, 32768: 20.0, 1048576: 100.0}, "exponent": 0.5,
                          "source": f"{HOROWITZ}: 64-bit cache read 10 / 20 / 100 pJ at 8 KB / 32 KB / 1 MB; "
                                    "log-log between, ∝ capacity^0.5 outside (the 8-32 KB slope)"},
                 "write": {"points": {8192: 10.0, 32768: 20.0, 1048576: 100.0}, "exponent": 0.5,
                           "source": "assumption: write = read (Horowitz gives reads only)"}},
        "dram": {"read_pj_per_bit": 1300 / 64, "write_pj_per_bit": 1300 / 64, "source": DRAM_SOURCE},
    }


CACTI_OP_SCALE = 28 / 45


def cacti28_table(alpha: float = 0.63) -> dict:
    """The cacti28 table: CACTI's 32 KB point with energy ∝ capacity^alpha, leakage ∝ capacity;
    ops from Horowitz scaled by ``op_scale`` (default 28/45, see :class:`Cacti28`)."""
    return {
        "name": "cacti28",
        "description": f"{CACTI}; energy ∝ capacity^alpha; ops from Horowitz 45 nm × op_scale",
        "vdd_ref": 0.9,
        "ops": _ops("int", note="; × op_scale for 28 nm"),
        "sram": {"word_bits": 256,
                 "read": {"points": {32768: 11.03}, "exponent": alpha,
                          "source": f"{CACTI}: 32 KB read 11.03 pJ per 256-bit block; ∝ capacity^alpha "
                                    "(alpha 0.63 fits the 144 KB point, 28.63 pJ)"},
                 "write": {"points": {32768: 12.77}, "exponent": alpha,
                           "source": f"{CACTI}: 32 KB write 12.77 pJ per 256-bit block; ∝ capacity^alpha"},
                 "leakage_mw": {"points": {32768: 2 * 6.26}, "exponent": 1.0,
                                "source": f"{CACTI}: 6.26 mW per bank × 2 banks at 32 KB (360 K); ∝ capacity "
                                          "(the 144 KB point, 2 × 24.9 mW, gives exponent 0.92)"}},
        "dram": {"read_pj_per_bit": 1300 / 64, "write_pj_per_bit": 1300 / 64,
                 "source": DRAM_SOURCE + " (DRAM is off-chip: independent of the logic node)"},
    }


class Horowitz45(TableModel):
    """Horowitz ISSCC 2014 at 45 nm. Parameters: ``arithmetic`` int (default) or fp (the table's
    16/32-bit float adds and multiplies), plus the table parameters of :mod:`cost_models.table`
    (vdd, access, op_scale, alpha, dram_pj_per_bit, recipes). No leakage, no area."""

    PARAMS = {**TABLE_PARAMS, "arithmetic": "int"}

    def __init__(self, **params):
        p = check_params("horowitz45", params, self.PARAMS)
        if p["arithmetic"] not in HOROWITZ_OPS:
            raise UserError("cost model horowitz45", "arithmetic", f"must be 'int' or 'fp' (got {p['arithmetic']!r})")
        super().__init__(horowitz45_table(p["arithmetic"]), **params)


class Cacti28(TableModel):
    """CACTI 7 at 28 nm. ``alpha`` (default 0.63) is the capacity exponent of SRAM energy,
    leakage ∝ capacity; ``op_scale`` (default 28/45 = 0.622) scales Horowitz's 45 nm op energies
    to 28 nm by first-order capacitance scaling at equal voltage (a named assumption)."""

    PARAMS = {**TABLE_PARAMS, "alpha": 0.63, "op_scale": CACTI_OP_SCALE}

    def __init__(self, **params):
        p = check_params("cacti28", params, self.PARAMS)
        super().__init__(cacti28_table(), **p)


class Counts:
    """The plain counts model: every op and every element access costs one action (unit
    ``count``), so its "energy" columns are MACs + ACs + other ops (compute) and element accesses
    (SRAM, DRAM). No leakage, no area. No parameters."""

    name = "counts"
    unit = "count"
    PARAMS: dict = {}

    def __init__(self, **params):
        self.params = check_params("counts", params, self.PARAMS)

    def can_price(self, component: str, action: str) -> bool:
        return component in ("pe", "sram", "dram")

    def op_energy(self, kind: str, bits) -> np.ndarray:
        return np.ones_like(np.asarray(bits, dtype=float))

    def access_energy(self, memory: Memory, action: str, bits) -> np.ndarray:
        return np.ones_like(np.asarray(bits, dtype=float))

    def leakage_mw(self, memory: Memory) -> float | None:
        return None

    def area_mm2(self, memory: Memory) -> float | None:
        return None

    def describe(self) -> dict:
        return {"name": self.name, "class": f"{__name__}.Counts", "unit": self.unit, "params": {},
                "sources": {"all": "counts from the ledger, one per op or element access"}}


from tess_sim.cost_models.accelergy import AccelergyERT  # noqa: E402 (it needs nothing of this module)

BUILTINS = {"counts": Counts, "horowitz45": Horowitz45, "cacti28": Cacti28, "accelergy-ert": AccelergyERT}
