"""The TESS paper's results table (#MAC and memory per sample, batch 1) recomputed from the
workloads, beside the published cells where the reference file knows them.

The published cells are truncated to two decimals, so a match is ``trunc2(ours) == published``.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import pandas as pd

from tess_sim.api import run
from tess_sim.api import load

PAPER_WORKLOADS = ("dvs", "cifar10", "cifar100", "cifar10dvs")
COLUMNS = ["dataset", "method", "T", "classes", "mac_millions", "memory_mb",
           "published_mac_millions", "published_memory_mb"]


def workloads_dir() -> Path:
    """The shipped ``workloads/`` folder (works from a checkout and from an installed package)."""
    return Path(str(resources.files("tess_sim.workloads")))


def published() -> pd.DataFrame:
    """The published rows we know (a copy of shared/reference/paper_table_dev.csv)."""
    return pd.read_csv(resources.files("tess_sim") / "data" / "paper_table_dev.csv")


def trunc2(x: float) -> float:
    """Truncate to two decimals, as the published cells are (tolerant of float noise)."""
    return math.floor(x * 100 + 1e-6) / 100


def paper_table(folder: str | Path | None = None) -> pd.DataFrame:
    """One row per dataset × method, in full precision, with the published cells where known."""
    folder = Path(folder) if folder else workloads_dir()
    pub = published().set_index(["dataset", "method"])
    rows = []
    for name in PAPER_WORKLOADS:
        res = run(load(folder / f"{name}.yaml"))
        wl = res.workload
        for rule, s in res.summary.iterrows():
            key = (wl.dataset or wl.name, s["label"])
            known = key in pub.index
            rows.append({"dataset": key[0], "method": key[1], "T": wl.input.T,
                         "classes": wl.input.classes, "mac_millions": s["paper_mac_M"],
                         "memory_mb": s["paper_memory_MB"],
                         "published_mac_millions": pub.loc[key, "mac_millions"] if known else None,
                         "published_memory_mb": pub.loc[key, "memory_mb"] if known else None})
    return pd.DataFrame(rows, columns=COLUMNS)


def annotate(table: pd.DataFrame) -> pd.DataFrame:
    """Add the truncated cells, whether they match, and our/published #MAC ratio."""
    t = table.copy()
    t["mac_2dp"] = t["mac_millions"].map(trunc2)
    t["memory_2dp"] = t["memory_mb"].map(trunc2)
    has = t["published_mac_millions"].notna()
    t["mac_match"] = (t["mac_2dp"] == t["published_mac_millions"]).where(has)
    t["memory_match"] = (t["memory_2dp"] == t["published_memory_mb"]).where(has)
    t["mac_ratio"] = (t["mac_millions"] / t["published_mac_millions"]).where(has)
    return t


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The annotated table as strings for text / Markdown output (full-precision values kept in CSV)."""
    a = annotate(table)

    def num(fmt):
        return lambda v: "" if pd.isna(v) else format(v, fmt)

    out = pd.DataFrame({
        "dataset": a["dataset"], "method": a["method"], "T": a["T"], "classes": a["classes"],
        "#MAC (M)": a["mac_millions"].map(num(".4f")), "memory (MB)": a["memory_mb"].map(num(".4f")),
        "#MAC 2dp": a["mac_2dp"].map(num(".2f")), "published #MAC": a["published_mac_millions"].map(num(".2f")),
        "ours/published": a["mac_ratio"].map(num(".4f")),
        "memory 2dp": a["memory_2dp"].map(num(".2f")), "published memory": a["published_memory_mb"].map(num(".2f")),
        "memory match": a["memory_match"].map(lambda v: "" if pd.isna(v) else ("yes" if v else "NO")),
    })
    return out
