"""Every figure is readable: labelled ticks on both axes of every panel (also where a log axis
spans less than a decade), one energy-breakdown bar group per swept point, ``--dpi`` sets the
pixel size, and curves that coincide are named in the panel ("S-TLLR = BPTT here")."""

from __future__ import annotations

import itertools
import struct

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tess_sim.reports.axes import curve_notes, log_ticks
from tess_sim.reports.complexity import complexity_figure, plot_complexity
from tess_sim.reports.sweep import sweep_figure_objects
from tess_sim.cli import main

from .conftest import WORKLOADS


def _table(keys: dict, flat: bool = False) -> pd.DataFrame:
    """A sweep table shaped like a cost model + timing engine's: S-TLLR's paper #MAC equals
    BPTT's (as in the paper's convention), memory independent of the keys when ``flat`` (as in a
    ``hardware.pe.units`` sweep, where every cost panel spans less than a decade)."""
    rows = []
    for combo in itertools.product(*keys.values()):
        x = 1.0 if flat else float(np.prod(combo))
        for r, f in (("bptt", 3.0), ("stllr", 2.0), ("tess", 1.0)):
            rows.append({**dict(zip(keys, combo)), "point": str(combo), "rule": r, "label": r.upper(),
                         "paper_mac_M": 3.0 * x if r != "tess" else 0.01 * x, "paper_memory_MB": 10 * f + 2,
                         "full_memory_MB": 60 + f, "ops_learning": f * x * 1e6 + 1e7,
                         "ops_total": 2 * f * x * 1e6 + 3e7, "ops_fwd": 1e7 * x, "ops_wgrad": 1e7 * x,
                         "ops_bwd": (r != "tess") * 1.2e7 * x, "ops_update": 5e5,
                         "energy_compute_pJ": f * x * 1e9, "energy_sram_pJ": 2e10 * x,
                         "energy_dram_pJ": 1e10 * x * f, "energy_leakage_pJ": np.nan,
                         "energy_pJ": f * x * 1e9 + 2e10 * x + 1e10 * x * f,
                         "cycles": 3e9 * (1 + 0.1 * f) / np.sqrt(combo[0])})
    return pd.DataFrame(rows)


def _visible_labels(axis) -> list[str]:
    lo, hi = sorted(axis.get_view_interval())
    tol = 1e-9 * max(abs(lo), abs(hi), 1)
    labels = []
    for which in ("major", "minor"):
        locs = axis.get_majorticklocs() if which == "major" else axis.get_minorticklocs()
        texts = axis.get_majorticklabels() if which == "major" else axis.get_minorticklabels()
        labels += [t.get_text() for loc, t in zip(locs, texts)
                   if lo - tol <= loc <= hi + tol and t.get_visible() and t.get_text().strip()]
    return labels


def _assert_labelled(fig, name: str) -> None:
    fig.canvas.draw()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert axes, name
    for ax in axes:
        bar = getattr(ax, "_colorbar", None)
        axis_list = [ax.yaxis] if bar is not None else [ax.xaxis, ax.yaxis]
        for axis in axis_list:
            # a shared x axis labels only its bottom panel
            if axis is ax.xaxis and ax.get_shared_x_axes().get_siblings(ax) != [ax] and \
                    min(a.get_position().y0 for a in ax.get_shared_x_axes().get_siblings(ax)) < ax.get_position().y0:
                continue
            assert len(_visible_labels(axis)) >= 2, (name, ax.get_ylabel() or ax.get_title(), axis.axis_name)


@pytest.mark.parametrize("keys,flat", [({"input.T": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]}, False),
                                       ({"hardware.pe.units": [16, 32, 64, 128, 256, 512, 1024]}, True),
                                       ({"hardware.pe.units": [16, 64], "input.T": [4, 8]}, False)])
def test_every_axis_of_every_figure_has_tick_labels(keys, flat):
    table = _table(keys, flat)
    figs = sweep_figure_objects(table, list(keys), "t")
    expected = {f"cost_vs_{k}" for k in keys} | {"energy_breakdown"}
    if any(k.startswith("hardware.") for k in keys):
        expected.add("energy_latency")
    if len(keys) == 2:
        expected |= {"heatmap_ops_total", "heatmap_energy_pJ", "heatmap_cycles"}
    assert expected <= set(figs)
    for name, fig in figs.items():
        _assert_labelled(fig, name)


def test_log_ticks_inside_narrow_ranges():
    for lo, hi in [(2.27, 22.7), (63.5, 80.0), (2.5e9, 5.2e9), (1.0, 1e12), (0.9, 1.1), (4.2e11, 7e11)]:
        t = log_ticks(lo, hi)
        assert len(t) >= 2 and all(lo <= v <= hi for v in t), (lo, hi, t)


def test_energy_breakdown_has_one_bar_group_per_point():
    T = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    table = _table({"input.T": T})
    fig = sweep_figure_objects(table, ["input.T"], "t")["energy_breakdown"]
    fig.canvas.draw()
    total, share = fig.axes[0], fig.axes[1]
    assert [t.get_text() for t in share.get_xticklabels()] == [f"T={t}" for t in T]
    # three bars (one per rule) per point on the total panel, all above the log axis' bottom
    heights = [p.get_height() for p in total.patches]
    assert len(heights) == 3 * len(T) and min(heights) > total.get_ylim()[0]
    assert total.get_yscale() == "log"
    # each share bar stack sums to 100 % (leakage not priced is left out)
    stacks: dict[float, float] = {}
    for p in share.patches:
        stacks[round(p.get_x(), 6)] = stacks.get(round(p.get_x(), 6), 0) + p.get_height()
    assert len(stacks) == 3 * len(T) and np.allclose(list(stacks.values()), 100)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_dpi_sets_the_pixel_size_of_every_png(tmp_path):
    out = tmp_path / "sw"
    r = CliRunner().invoke(main, ["sweep", str(WORKLOADS / "small.yaml"), "--set", "T=1,2,4",
                                  "--set", "cost_models=[horowitz45]", "--executor", "serial",
                                  "--out", str(out), "--no-plot"])
    assert r.exit_code == 0, r.output
    sizes = {}
    for dpi in (40, 80):
        r = CliRunner().invoke(main, ["plot", str(out), "--format", "png", "--dpi", str(dpi)])
        assert r.exit_code == 0, r.output
        sizes[dpi] = {p.name: _png_size(p.read_bytes()) for p in out.glob("*.png")}
    assert {"cost_vs_input.T.png", "energy_breakdown.png"} <= set(sizes[40])
    for name, (w, h) in sizes[40].items():
        w2, h2 = sizes[80][name]
        assert abs(w2 - 2 * w) <= 2 and abs(h2 - 2 * h) <= 2, name


def test_identical_curves_are_named_and_stay_visible():
    x = np.array([1.0, 2, 4])
    assert curve_notes({"BPTT": (x, 3 * x), "S-TLLR": (x, 3 * x), "TESS": (x, x)}) == ["S-TLLR = BPTT"]
    assert curve_notes({"BPTT": (x, x), "S-TLLR": (x, 1.01 * x), "TESS": (x, 2 * x)}) == ["S-TLLR ≈ BPTT"]
    assert curve_notes({"BPTT": (x, x), "TESS": (x, 1.5 * x)}) == []
    table = _table({"input.T": [1, 2, 4, 8]})
    fig = sweep_figure_objects(table, ["input.T"], "t")["cost_vs_input.T"]
    mac = next(ax for ax in fig.axes if ax.get_ylabel().startswith("learning MACs"))
    assert mac.get_legend().get_title().get_text() == "S-TLLR = BPTT here"
    lines = {ln.get_label().split(" ")[0]: ln for ln in mac.get_lines()}
    # the curve drawn first is the wider one with the bigger marker, so the equal one on top leaves it visible
    assert lines["BPTT"].get_linewidth() > lines["S-TLLR"].get_linewidth()
    assert lines["BPTT"].get_markersize() > lines["S-TLLR"].get_markersize()
    assert lines["BPTT"].get_marker() != lines["S-TLLR"].get_marker()
    # legends leave the data alone: every point lies below the legend's bottom edge
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None or not ax.get_lines():
            continue
        bottom = leg.get_window_extent(r).y0
        for ln in ax.get_lines():
            y = ax.transData.transform(np.column_stack([ln.get_xdata(), ln.get_ydata()]).astype(float))[:, 1]
            assert np.nanmax(y) < bottom, ax.get_ylabel()


def test_ops_per_phase_is_one_panel_per_rule_with_a_shared_legend():
    fig = sweep_figure_objects(_table({"input.T": [1, 2, 4]}), ["input.T"], "t")["cost_vs_input.T"]
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and "ops per phase" in ax.get_title()]
    assert [t.split(":")[0] for t in titles] == ["BPTT", "S-TLLR", "TESS"]
    assert "wgrad = fwd" in titles[0]
    assert all(len(ax.get_lines()) <= 8 for ax in fig.axes)
    assert len(fig.legends) == 1 and {t.get_text() for t in fig.legends[0].get_texts()} >= {"fwd", "wgrad", "update"}


def test_complexity_figure_names_the_equal_curves():
    from tess_sim.api import complexity, fit_slopes
    from tess_sim.api import load

    wl = load(WORKLOADS / "small.yaml")
    cx = complexity(wl)
    fig = complexity_figure(cx, fit_slopes(cx), wl.input.T, "small")
    _assert_labelled(fig, "complexity")
    mac = next(ax for ax in fig.axes if ax.get_ylabel().startswith("Learning MACs"))
    assert mac.get_legend().get_title().get_text() == "S-TLLR = BPTT here"
    assert _png_size(plot_complexity(cx, fit_slopes(cx), wl.input.T, "small", dpi=40)) == (440, 344)
