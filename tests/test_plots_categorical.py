"""Sweeps over a non-numeric key (the hardware presets by file, issue 10's acceptance): grouped bars
per category, the bars' heights read back from the drawn artists and compared with sweep.csv, tick
labels on every axis, per-category curves for a numeric × categorical grid, and the report page
embedding the figures."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from tess_sim.reports.sweep import sweep_figure_objects
from tess_sim.cli import main

from .conftest import WORKLOADS
from .test_plots import _assert_labelled

PRESETS = ["hw/edge.yaml", "hw/sata.yaml", "hw/odin.yaml", "hw/reckon.yaml"]


@pytest.fixture(scope="module")
def preset_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("presets") / "sweep"
    r = CliRunner().invoke(main, ["sweep", str(WORKLOADS / "small.yaml"), "--set", "hardware=" + ",".join(PRESETS),
                                  "--executor", "serial", "--engine", "simpy", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out, pd.read_csv(out / "sweep.csv")


def test_preset_sweep_writes_the_category_figure_and_the_report_embeds_it(preset_sweep):
    out, table = preset_sweep
    assert (out / "cost_by_hardware.png").stat().st_size > 0
    assert (out / "cost_by_hardware.svg").stat().st_size > 0
    assert "alt='cost_by_hardware'" in (out / "report.html").read_text()
    assert sorted(table["hardware"].unique()) == sorted(PRESETS)


def test_bars_equal_the_sweep_table_one_group_per_preset(preset_sweep):
    _, table = preset_sweep
    fig = sweep_figure_objects(table, ["hardware"], "small")["cost_by_hardware"]
    _assert_labelled(fig, "cost_by_hardware")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    columns = {"memory, paper convention (MB)": "paper_memory_MB", "memory, full convention (MB)": "full_memory_MB",
               "learning MACs, paper convention (M)": "paper_mac_M", "learning ops, full convention (ops)": "ops_learning",
               "latency per sample (cycles)": "cycles"}
    seen = set()
    for ax in axes:
        col = columns.get(ax.get_ylabel())
        if col is None:
            continue
        seen.add(col)
        assert [t.get_text() for t in ax.get_xticklabels()] == ["edge", "sata", "odin", "reckon"]
        for container, label in zip(ax.containers, ["BPTT", "S-TLLR", "TESS"]):
            assert container.get_label() == label
            expected = table[table["label"] == label].set_index("hardware").loc[PRESETS, col].to_numpy()
            heights = [bar.get_height() for bar in container.patches]
            assert heights == pytest.approx(list(expected), rel=1e-12)
    assert {"paper_memory_MB", "full_memory_MB", "paper_mac_M", "ops_learning"} <= seen
    if "cycles" in table:  # the SimPy engine's latency differs by preset: the panel is the point of the sweep
        assert "cycles" in seen and table.groupby("hardware")["cycles"].first().nunique() > 1


def test_numeric_by_categorical_grid_draws_curves_per_category():
    rows = []
    for hw in ("hw/edge.yaml", "hw/odin.yaml"):
        for T in (4, 16, 64):
            for rule, f in (("bptt", 3.0), ("stllr", 2.0), ("tess", 1.0)):
                rows.append({"input.T": T, "hardware": hw, "point": f"{hw}{T}", "rule": rule, "label": rule.upper(),
                             "paper_mac_M": f * T, "paper_memory_MB": f * T + 1, "full_memory_MB": 60 + f,
                             "ops_learning": 1e6 * f * T, "ops_total": 2e6 * f * T, "ops_fwd": 1e6 * T,
                             "ops_update": 5e5, "cycles": (2 if "odin" in hw else 1) * 1e6 * T * f})
    table = pd.DataFrame(rows)
    figs = sweep_figure_objects(table, ["input.T", "hardware"], "grid")
    assert {"cost_vs_input.T_edge", "cost_vs_input.T_odin", "cost_by_hardware"} <= set(figs)
    for name, fig in figs.items():
        _assert_labelled(fig, name)
    assert "(hardware odin)" in figs["cost_vs_input.T_odin"]._suptitle.get_text()
    assert "(T 4)" in figs["cost_by_hardware"]._suptitle.get_text()  # the other key held at its first value


def test_heatmap_of_two_numeric_keys_holds_a_categorical_key_fixed():
    """Two numeric keys × a preset: the heatmap shows the first preset's values (named in the
    title), not the mean over presets."""
    rows = []
    for hw, scale in (("hw/edge.yaml", 1.0), ("hw/odin.yaml", 100.0)):
        for T in (4, 16):
            for w in (1, 2):
                for rule in ("bptt", "tess"):
                    rows.append({"input.T": T, "network.width_multiplier": w, "hardware": hw, "rule": rule,
                                 "label": rule.upper(), "point": f"{hw}{T}{w}", "paper_mac_M": T * w,
                                 "paper_memory_MB": T, "full_memory_MB": 60.0, "ops_learning": 1e6 * T * w,
                                 "ops_total": scale * T * w, "ops_fwd": 1e6 * T})
    table = pd.DataFrame(rows)
    fig = sweep_figure_objects(table, ["input.T", "network.width_multiplier", "hardware"], "grid")["heatmap_ops_total"]
    image = fig.axes[0].get_images()[0].get_array()
    assert sorted(image.compressed().tolist()) == [4.0, 8.0, 16.0, 32.0]  # edge's T·w, no odin mixed in
    assert "(hardware edge)" in fig._suptitle.get_text()
