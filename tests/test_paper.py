"""The paper's table: published BPTT / S-TLLR #MAC and all memory cells, to two truncated decimals."""

from __future__ import annotations

import pandas as pd
import pytest

from tess_sim.paper import PAPER_WORKLOADS, published, paper_table, trunc2
from tess_sim.simulator.yaml_io import read_yaml
from tess_sim.api import load, from_dict

from .conftest import SHARED, WORKLOADS

@pytest.fixture(scope="module")
def table():
    return paper_table(WORKLOADS)


def test_published_copy_is_the_reference():
    ref = SHARED / "reference" / "paper_table_dev.csv"
    if not ref.exists():
        pytest.skip("shared/reference is not beside this checkout")
    pd.testing.assert_frame_equal(published(), pd.read_csv(ref))


def test_columns_and_rows(table):
    assert list(table.columns)[:8] == ["dataset", "method", "T", "classes", "mac_millions", "memory_mb",
                                       "published_mac_millions", "published_memory_mb"]
    assert len(table) == 3 * len(PAPER_WORKLOADS)


def test_published_cells_reproduced(table):
    known = table[table["published_mac_millions"].notna()]
    assert len(known) == len(published())
    for _, r in known.iterrows():
        assert trunc2(r["memory_mb"]) == r["published_memory_mb"], (r["dataset"], r["method"])
        if r["method"] == "TESS":
            continue
        if r["dataset"] == "DVS Gesture":  # fits 10 classes: ours keeps 11, 0.01 apart
            assert r["classes"] == 11
            assert round(trunc2(r["mac_millions"]) - r["published_mac_millions"], 2) == 0.01
        else:
            assert trunc2(r["mac_millions"]) == r["published_mac_millions"], (r["dataset"], r["method"])


def test_dvs_mac_cell_fits_ten_classes():
    d = read_yaml(WORKLOADS / "dvs.yaml")
    d["hardware"] = read_yaml(WORKLOADS / "hw" / "edge.yaml")
    d["input"]["classes"] = 10
    from tess_sim.api import run

    s = run(from_dict(d)).summary
    assert trunc2(s.loc["bptt", "paper_mac_M"]) == 12079.69
    assert trunc2(s.loc["stllr", "paper_mac_M"]) == 12079.69


@pytest.mark.parametrize("name", PAPER_WORKLOADS)
def test_every_workload_matches_the_closed_form(table, name):
    """All four datasets (two not in the reference file) follow the same hand formula."""
    wl = load(WORKLOADS / f"{name}.yaml")
    c, h, w = wl.input.shape
    hw, T, C = h * w, wl.input.T, wl.input.classes
    # F_l of VGG-9 convs 2..8, K²·C_in·C_out·H·W written out by hand (maps halve at each MP2)
    F = [9 * 64 * 128 * hw, 9 * 128 * 256 * hw // 4, 9 * 256 * 256 * hw // 4, 9 * 256 * 512 * hw // 16,
         9 * 512 * 512 * hw // 16, 9 * 512 * 512 * hw // 64, 9 * 512 * 512 * hw // 64]
    mac = T * (sum(F) + 512 * C) / 1e6
    outs = [64 * hw, 128 * hw // 4, 256 * hw // 4, 256 * hw // 16, 512 * hw // 16, 512 * hw // 64,
            512 * hw // 64, 512]
    mb = 4 * (c * hw + sum(outs) + outs[0]) / 2**20
    rows = table[table["dataset"] == wl.dataset].set_index("method")
    assert rows.loc["BPTT", "mac_millions"] == pytest.approx(mac, rel=1e-12)
    assert rows.loc["S-TLLR", "mac_millions"] == pytest.approx(mac, rel=1e-12)
    assert rows.loc["BPTT", "memory_mb"] == pytest.approx(T * mb, rel=1e-12)
    assert rows.loc["S-TLLR", "memory_mb"] == pytest.approx(2 * mb, rel=1e-12)
    k = 2 if wl.rules.tess.alpha_post else 1
    assert rows.loc["TESS", "memory_mb"] == pytest.approx(k * mb, rel=1e-12)
    # TESS: per step 2·C·ΣD_l + 512·C, ΣD_l = 64·16 + 128·4 + 256·4·2 + 512·4·3 + 512 = 10240
    D = 64 * 16 + 128 * 4 + 256 * 4 * 2 + 512 * 4 * 3 + 512
    assert D == 10240
    assert rows.loc["TESS", "mac_millions"] == pytest.approx(T * (2 * C * D + 512 * C) / 1e6, rel=1e-12)


def test_cifar10dvs_tess_memory_halves():
    t = paper_table(WORKLOADS).set_index(["dataset", "method"])
    assert t.loc[("CIFAR10-DVS", "TESS"), "memory_mb"] * 2 == pytest.approx(t.loc[("CIFAR10-DVS", "S-TLLR"), "memory_mb"])
