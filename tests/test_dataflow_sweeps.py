"""Sweeps over the dataflow settings (issue 12, item 5): ``hardware.dataflow``, ``hardware.pe.array``,
``schedule`` and an update policy are keys like any other; the plots against each show energy and
latency per rule, their bars read back from the drawn artists and compared with sweep.csv, and
each point equals a plain run of the same settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tess_sim.api import from_dict, run
from tess_sim.cli import main
from tess_sim.cost_models import cost_report
from tess_sim.reports.sweep import sweep_figure_objects
import yaml

from tess_sim.simulator.yaml_io import read_yaml

from .conftest import WORKLOADS

KEYS = {"hardware.dataflow": ["event_driven", "mapped"], "hardware.pe.array": [[8, 8], [16, 8]],
        "schedule": ["step_major", "layer_major"], "rules.tess.update": ["per_batch", "per_step"]}


@pytest.fixture(scope="module")
def dataflow_sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dataflow")
    d = read_yaml(WORKLOADS / "small.yaml")
    d["hardware"] = read_yaml(WORKLOADS / "hw" / "sata.yaml")
    d["cost_models"] = ["horowitz45"]  # pJ: the sweep table gets its energy columns
    wl = tmp / "small_sata.yaml"
    wl.write_text(yaml.safe_dump(d))
    args = ["sweep", str(wl), "--executor", "serial", "--engine", "simpy", "--out", str(tmp / "sweep")]
    for key, values in KEYS.items():
        args += ["--set", f"{key}=" + ",".join(str(v).replace(" ", "") for v in values)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return d, tmp / "sweep", pd.read_csv(tmp / "sweep" / "sweep.csv")


def test_every_point_is_the_run_of_its_settings(dataflow_sweep):
    d, _, table = dataflow_sweep
    assert len(table) == 16 * 3
    for (flow, array, sched, upd), g in table.groupby(list(KEYS), sort=False):
        if (array, sched, upd) != ("[16, 8]", "layer_major", "per_step"):
            continue  # one point per dataflow is enough to re-derive
        p = dict(d, schedule=sched)
        p["hardware"] = dict(d["hardware"], dataflow=flow, pe=dict(d["hardware"]["pe"], array=[16, 8]))
        p["rules"] = dict(d["rules"], tess=dict(d["rules"]["tess"], update=upd))
        res = run(from_dict(p), "simpy")
        energy = cost_report(res).summary.set_index("rule")["total"]
        g = g.set_index("rule")
        for rule in ("bptt", "stllr", "tess"):
            assert g.loc[rule, "cycles"] == pytest.approx(res.summary.loc[rule, "cycles"], rel=1e-12)
            assert g.loc[rule, "energy_pJ"] == pytest.approx(energy[rule], rel=1e-12)


@pytest.mark.parametrize("key", list(KEYS))
def test_the_plot_against_each_key_shows_energy_and_latency_per_rule(dataflow_sweep, key):
    _, out, table = dataflow_sweep
    name = f"cost_by_{key}"
    assert (out / f"{name}.png").stat().st_size > 0
    fig = sweep_figure_objects(table, list(KEYS), "small")[name]
    panels = {ax.get_ylabel(): ax for ax in fig.axes if ax.get_visible()}
    for label, col in (("energy per sample (pJ)", "energy_pJ"), ("latency per sample (cycles)", "cycles")):
        ax = panels[label]
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert len(ticks) == 2
        # the other keys sit at their first value (the figure's subtitle says which)
        rest = table
        for other, values in KEYS.items():
            if other != key:
                rest = rest[rest[other].astype(str) == str(values[0])]
        for container, rule in zip(ax.containers, ["BPTT", "S-TLLR", "TESS"]):
            assert container.get_label() == rule
            sub = rest[rest["label"] == rule]
            want = sub.set_index(sub[key].astype(str))[col]
            heights = [bar.get_height() for bar in container.patches]
            assert heights == pytest.approx([want[t] for t in ticks], rel=1e-12)


def test_the_dataflow_changes_the_answer(dataflow_sweep):
    _, _, table = dataflow_sweep
    e = table.groupby("hardware.dataflow")["energy_pJ"].sum()
    assert not np.isclose(e["event_driven"], e["mapped"], rtol=1e-3)
    m = table[(table["hardware.dataflow"] == "mapped") & (table["schedule"] == "step_major")
              & (table["rules.tess.update"] == "per_batch")]
    cyc = m.groupby(["hardware.pe.array", "rule"])["cycles"].first().unstack(0)
    assert (cyc["[16, 8]"] < cyc["[8, 8]"]).all()  # twice the PEs: fewer cycles for every rule
