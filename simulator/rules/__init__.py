"""Rule programs: one module per learning rule (README, The ledger)."""

from .bptt import BPTT
from .rule import Rule
from .stllr import STLLR
from .tess import TESS

RULES: dict[str, type[Rule]] = {"bptt": BPTT, "stllr": STLLR, "tess": TESS}

__all__ = ["RULES", "Rule", "BPTT", "STLLR", "TESS"]
