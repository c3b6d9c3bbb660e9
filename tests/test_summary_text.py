"""The run summary's paper-convention cells agree digit for digit with ``tess-sim table paper``
(which truncates to the published two decimals), instead of rounding 22.6953 MB to 22.70."""

from __future__ import annotations

from tess_sim.api import run
from tess_sim.paper import display, paper_table, trunc2
from tess_sim.api import load

from tess_sim.reports.summary import summary_text

from .conftest import WORKLOADS


def _cells(text: str, row: str) -> list[str]:
    line = next(ln for ln in text.splitlines() if ln.startswith(row))
    return [c.split(" (")[0].replace(",", "") for c in line[len(row):].split("  ") if c.strip()]


def test_run_summary_paper_cells_match_table_paper():
    res = run(load(WORKLOADS / "dvs.yaml"), engine="analytical")
    text = summary_text(res.summary)
    table = display(paper_table())
    dvs = table[table["dataset"] == "DVS Gesture"].set_index("method")
    labels = list(res.summary["label"])
    memory, mac = _cells(text, "paper memory (MB)"), _cells(text, "paper #MAC (M)")
    assert len(memory) == len(labels) == 3
    for label, mem, m in zip(labels, memory, mac):
        assert mem.strip() == dvs.loc[label, "memory (MB)"]
        assert m.strip() == dvs.loc[label, "#MAC (M)"]
        # the two-decimal cell a reader would take from the summary is the table's (and the paper's)
        assert f"{trunc2(float(mem)):.2f}" == dvs.loc[label, "memory 2dp"]
    assert "22.70" not in text.split("full memory")[0]
