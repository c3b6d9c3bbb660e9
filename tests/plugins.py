"""Test fixtures shared by the cost-model tests: a plugin cost model's source and a tiny table."""

from __future__ import annotations

import textwrap


def flat_plugin_source(module: str) -> str:
    """Source of a module defining ``Flat``, a protocol-only cost model: 1 pJ per op (``per_op``),
    2 pJ per bit moved, 5 mW leakage per SRAM, no area; ``module`` names it in ``describe``."""
    return textwrap.dedent(f'''
        """A flat test model: 1 pJ per op, 2 pJ per bit moved, 5 mW leakage per SRAM."""
        import numpy as np

        class Flat:
            unit = "pJ"

            def __init__(self, per_op=1.0):
                self.name, self.per_op = "flat", per_op

            def can_price(self, component, action):
                return True

            def op_energy(self, kind, bits):
                return np.full(np.shape(bits), float(self.per_op))

            def access_energy(self, memory, action, bits):
                return 2.0 * np.asarray(bits, dtype=float)

            def leakage_mw(self, memory):
                return 5.0

            def area_mm2(self, memory):
                return None

            def describe(self):
                return {{"name": self.name, "class": "{module}.Flat", "unit": self.unit,
                        "params": {{"per_op": self.per_op}}, "sources": {{"all": "test"}}}}
    ''')


#: A complete YAML cost table with made-up numbers (SRAM ∝ capacity^0.5, DRAM 10 pJ/bit).
MINI_TABLE = {"name": "mine", "vdd_ref": 1.0,
              "ops": {"add": {"points": {8: 0.1}, "exponent": 1, "source": "mine"},
                      "mul": {"points": {8: 1.0}, "exponent": 2, "source": "mine"},
                      **{k: {"recipe": r, "source": "mine"} for k, r in
                         {"mac": {"mul": 1, "add": 1}, "ac": {"add": 1}, "cmp": {"add": 1},
                          "div": {"mul": 4}, "sqrt": {"mul": 4}, "exp": {"mul": 4}}.items()}},
              "sram": {"word_bits": 32, "read": {"points": {1024: 1.0}, "exponent": 0.5, "source": "mine"}},
              "dram": {"read_pj_per_bit": 10, "write_pj_per_bit": 10, "source": "mine"}}
