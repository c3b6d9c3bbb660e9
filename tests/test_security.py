"""A workload is data people share: it must not run code (issue 15.1, 15.7).

``module:Class`` cost models from a workload file need the opt-in (``--allow-plugin-modules`` or
``TESS_SIM_ALLOW_PLUGIN_MODULES=1``) and are refused before the module is imported; any spec must
name a cost-model class, checked before it is called with the given parameters.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from .conftest import ROOT, WORKLOADS
from .plugins import flat_plugin_source

ENV_KEY = "TESS_SIM_ALLOW_PLUGIN_MODULES"


def cli(args, tmp_path, allow_env=False, pythonpath=()):
    env = {k: v for k, v in os.environ.items() if k != ENV_KEY}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *map(str, pythonpath)])
    if allow_env:
        env[ENV_KEY] = "1"
    return subprocess.run([sys.executable, "-m", "tess_sim.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=120)


def workload(tmp_path, cost_models, name="w.yaml"):
    wl = yaml.safe_load((WORKLOADS / "small.yaml").read_text())
    wl["hardware"] = yaml.safe_load((WORKLOADS / "hw" / "edge.yaml").read_text())
    wl["cost_models"] = cost_models
    path = tmp_path / name
    path.write_text(yaml.safe_dump(wl))
    return path


def one_error_line(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def hostile_specs(marker):
    return {
        "subprocess:run": {"model": "subprocess:run", "args": f"touch {marker}", "shell": True},
        "os:system": {"model": "os:system", "command": f"touch {marker}"},
        "builtins:exec": {"model": "builtins:exec", "source": f"open({str(marker)!r}, 'w').close()"},
    }


@pytest.mark.parametrize("name", ["subprocess:run", "os:system", "builtins:exec"])
def test_workload_naming_a_function_runs_nothing(tmp_path, monkeypatch, name):
    from click.testing import CliRunner

    from tess_sim.cli import main

    monkeypatch.delenv(ENV_KEY, raising=False)  # restored after --allow-plugin-modules sets it
    marker = tmp_path / "marker"
    spec = hostile_specs(marker)[name]
    wl = workload(tmp_path, ["counts", spec])

    def invoke(*args):
        r = CliRunner().invoke(main, [str(a) for a in args])
        return subprocess.CompletedProcess(args, r.exit_code, r.stdout, r.stderr)

    for args in (["validate", wl], ["run", wl, "--no-plot", "--engine", "analytical", "--out", tmp_path / "o"]):
        line = one_error_line(invoke(*args))
        assert f"{wl}: cost_models[1]:" in line and "--allow-plugin-modules" in line, line
        assert not marker.exists() and not (tmp_path / "o").exists()
    # with the opt-in the module is imported, but a function is still not a cost model class
    line = one_error_line(invoke("validate", wl, "--allow-plugin-modules"))
    assert f"'{name}' is not a class" in line, line
    assert not marker.exists()
    # the command line's own --cost-model: no opt-in needed, still must name a class
    monkeypatch.delenv(ENV_KEY, raising=False)
    params = ",".join(f"{k}={v}" for k, v in spec.items() if k not in ("model", "source"))
    line = one_error_line(invoke("run", WORKLOADS / "small.yaml", "--no-plot", "--engine", "analytical", "--out",
                                 tmp_path / "o", "--cost-model", f"{name},{params}" if params else name))
    assert line.startswith("error: --cost-model:") and "is not a class" in line, line
    assert not marker.exists() and not (tmp_path / "o").exists()


@pytest.mark.parametrize("spec, expected", [
    ("sys:exit", "'sys:exit' is not a class"),
    ("os:_exit", "'os:_exit' is not a class"),
    ("os:abort", "'os:abort' is not a class"),
    ("subprocess:Popen", "'subprocess:Popen' is not a cost model class (missing can_price"),
    (":Flat", "':Flat' is not a module:Class spec"),
    ("..:X", "'..:X' is not a module:Class spec"),
    (".:X", "'.:X' is not a module:Class spec"),
    ("tess_sim.cli:main", "'tess_sim.cli:main' is not a class ("),
    ("os.path:join.x", "module 'os.path' has no 'join.x'"),
])
def test_cli_module_spec_must_name_a_cost_model_class(tmp_path, spec, expected):
    proc = cli(["run", WORKLOADS / "small.yaml", "--no-plot", "--engine", "analytical", "--out", tmp_path / "o",
                "--cost-model", spec], tmp_path)
    line = one_error_line(proc)
    assert expected in line, line
    assert not (tmp_path / "o").exists()


def test_opt_in_loads_a_real_plugin_class(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "secplug.py").write_text(flat_plugin_source("secplug"))
    wl = workload(tmp_path, [{"model": "secplug:Flat", "per_op": 3.0}])
    # refused without the opt-in, before the module is imported
    (site / "secplug_trap.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\n")
    trap = workload(tmp_path, ["secplug_trap:X"], "trap.yaml")
    line = one_error_line(cli(["validate", trap], tmp_path, pythonpath=[site]))
    assert f"{trap}: cost_models[0]: 'secplug_trap:X' names a Python module" in line
    assert not (tmp_path / "imported").exists()
    one_error_line(cli(["run", wl, "--no-plot", "--out", tmp_path / "o"], tmp_path, pythonpath=[site]))
    # with the flag, or with the environment variable, it loads and prices
    for flag, env in ((["--allow-plugin-modules"], False), ([], True)):
        out = tmp_path / ("o1" if flag else "o2")
        proc = cli(["run", wl, "--no-plot", "--engine", "analytical", "--out", out, *flag], tmp_path,
                   allow_env=env, pythonpath=[site])
        assert proc.returncode == 0, proc.stderr
        e = pd.read_csv(out / "energy.csv")
        led = pd.read_csv(out / "ledger.csv")
        full = led[(led.convention == "full") & (led.rule == "tess")]
        ops = full[full.unit == "pe"]["count"].sum()
        assert list(e["model"].unique()) == ["flat"]
        assert e[e.rule == "tess"]["compute"].iloc[0] == pytest.approx(3.0 * ops)
    assert cli(["validate", wl, "--allow-plugin-modules"], tmp_path, pythonpath=[site]).returncode == 0


def test_sweep_refuses_without_opt_in_and_workers_see_it(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "secplug.py").write_text(flat_plugin_source("secplug"))
    wl = workload(tmp_path, ["secplug:Flat"])
    args = ["sweep", wl, "--set", "T=2,3", "--executor", "process", "--workers", "2", "--no-plot",
            "--out", tmp_path / "s"]
    line = one_error_line(cli(args, tmp_path, pythonpath=[site]))
    assert f"{wl}: cost_models[0]: 'secplug:Flat' names a Python module" in line
    proc = cli([*args, "--allow-plugin-modules"], tmp_path, pythonpath=[site])
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "s" / "sweep.csv")
    assert len(table) == 6 and table["energy_model"].eq("flat").all()  # 2 points × 3 rules, priced by workers


def test_python_api_specs_are_the_callers_choice(tmp_path, monkeypatch):
    """cost_report(res, specs) from Python needs no opt-in; the workload's own specs do."""
    from tess_sim.cost_models import cost_report
    from tess_sim.api import run
    from tess_sim.simulator.errors import UserError
    from tess_sim.api import load

    monkeypatch.delenv(ENV_KEY, raising=False)
    site = tmp_path / "site"
    site.mkdir()
    (site / "secplug.py").write_text(flat_plugin_source("secplug"))
    monkeypatch.syspath_prepend(str(site))
    res = run(load(workload(tmp_path, ["secplug:Flat"])), engine="analytical")
    assert cost_report(res, ["secplug:Flat"]).summary["model"].eq("flat").all()
    with pytest.raises(UserError, match="names a Python module"):
        cost_report(res)
    monkeypatch.setenv(ENV_KEY, "1")
    assert cost_report(res).summary["model"].eq("flat").all()
