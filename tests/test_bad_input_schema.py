"""Bad workload input through the CLI (issue 10 items 2-6, 8, 9; issue 15 item 3): every case is a
subprocess of ``python -m tess_sim run|validate|sweep`` that must exit 2 with one line
``error: FILE: FIELD: REASON`` on stderr, no traceback, and nothing written. The cases run
concurrently (two at a time) once per session; each test checks one result.

Also here: what a user tries that should just work (presets by file in ``--set``, switching a
section's kind, layers by name or index, shipped workloads by name from any folder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ROOT / "workloads"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the CLI; a case that hangs (a resource bomb) counts as a failure, not a stuck suite."""
    cmd = [sys.executable, "-m", "tess_sim.cli", *map(str, args)]
    try:
        return subprocess.run(cmd, cwd=cwd or ROOT, env=ENV, capture_output=True, text=True,
                              timeout=float(os.environ.get("TESS_TEST_TIMEOUT", 120)))
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, -9, "", "timed out")


def small(**changes) -> dict:
    """small.yaml as a mapping, hardware by absolute path, with top-level changes."""
    data = yaml.safe_load((WORKLOADS / "small.yaml").read_text())
    data["hardware"] = str(WORKLOADS / "hw" / "edge.yaml")
    data.update(changes)
    return data


ALIAS_BOMB = """\
name: bomb
input: {shape: [2, 8, 8], T: 4, classes: 4}
network: {layers: [{type: conv, out_channels: 4}, {type: readout}]}
rules: {bptt: {}}
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
sweep:
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
"""

DUPLICATE_INPUT = (WORKLOADS / "small.yaml").read_text().replace(
    "hardware: hw/edge.yaml", f"hardware: {WORKLOADS / 'hw' / 'edge.yaml'}") + \
    "input: {shape: [2, 8, 8], T: 400, classes: 4}\n"

# name -> (command, workload text or mapping (None: the shipped small.yaml), extra args,
#          expected field, words the reason must contain)
CASES = {
    "overflow_width_1e6_dvs": ("run", WORKLOADS / "dvs.yaml", ["--set", "network.width_multiplier=1000000"],
                               "network.width_multiplier", ["65536"]),
    "width_inf": ("validate", small(network={**small()["network"], "width_multiplier": float("inf")}), [],
                  "network.width_multiplier", ["finite"]),
    "width_1e308": ("run", small(network={**small()["network"], "width_multiplier": 1e308}), [],
                    "network.width_multiplier", ["65536"]),
    "T_1e30": ("run", small(input={**small()["input"], "T": 10 ** 30}), [], "input.T", ["limit", "B"]),
    "T_1e6_estimate": ("run", None, ["--set", "T=1000000"], "input.T", ["65,536", "GB"]),
    "precision_1e30_bits": ("run", None, ["--set", f"hardware.precision.weight={10 ** 30}"],
                            "hardware.precision.weight", ["1024"]),
    "shape_1e12": ("run", small(input={**small()["input"], "shape": [10 ** 6, 10 ** 3, 10 ** 3]}), [],
                   "input.shape", ["elements", "TB"]),
    "activity_file_is_dir": ("run", small(activity={"source": "file", "path": "."}), [],
                             "activity.path", ["folder"]),
    "cost_models_empty": ("validate", small(cost_models=[]), [], "cost_models", ["counts"]),
    "name_too_long": ("run", small(name="a" * 300), [], "name", ["300", "100"]),
    "name_dotdot": ("run", small(name=".."), [], "name", ["folder"]),
    "name_dot": ("run", small(name="."), [], "name", ["folder"]),
    "alias_bomb_sweep": ("sweep", ALIAS_BOMB, ["--executor", "serial", "--no-plot"], "sweep", ["100,000"]),
    "duplicate_input": ("run", DUPLICATE_INPUT, [], "input", ["duplicate", "lines 5 and 24"]),
    "duplicate_in_hardware": ("validate", "DUP_HW", [], "clock_mhz", ["duplicate", "lines"]),
    "duplicate_in_cost_table": ("validate", "DUP_TABLE", [], "name", ["duplicate", "lines"]),
    "stllr_alpha_pre_nan": ("run", None, ["--set", "rules.stllr.alpha_pre=.nan"], "rules.stllr.alpha_pre",
                            ["finite"]),
    "stllr_alpha_post_inf": ("run", None, ["--set", "rules.stllr.alpha_post=.inf"], "rules.stllr.alpha_post",
                             ["finite"]),
    "v_reset_inf": ("run", None, ["--set", "neuron.v_reset=inf"], "neuron.v_reset", ["finite"]),
    "v_reset_nan": ("run", None, ["--set", "neuron.v_reset=nan"], "neuron.v_reset", ["finite"]),
    "clock_inf_in_file": ("validate", "CLOCK_INF", [], "clock_mhz", ["finite"]),
    "shipped_name_unknown": ("validate", "NAME:dvss", [], "", ["shipped", "dvs", "small"]),
}

# the same checks in-process (UserError = exit 2 through the CLI's decorator): cheaper
IN_PROCESS = {
    "width_1000_channels": ("run", small(network={**small()["network"], "width_multiplier": 10000}), [],
                            "network.width_multiplier", ["channels", "65,536"]),
    "T_1e30_float": ("validate", "T_FLOAT", [], "input.T", []),
    "name_slash": ("run", small(name="a/b"), [], "name", ["'/'"]),
    "alias_bomb_validate": ("validate", ALIAS_BOMB, [], "sweep", ["alias"]),
    "grid_too_big": ("sweep", None, ["--set", "T=1..100", "--set", "input.batch=1..100",
                                     "--set", "training.seed=1..11", "--executor", "serial"],
                     "input.T, input.batch, training.seed", ["110,000"]),
    "duplicate_in_set_value": ("run", None, ["--set", "activity={source: dense, source: rates}"],
                               "", ["duplicate"]),
    "clock_inf": ("run", None, ["--set", "hardware.clock_mhz=.inf"], "hardware.clock_mhz", []),
    "layer_name_unknown": ("run", None, ["--set", "network.layers.c9.out_channels=8"], "network.layers.c9",
                           ["c1", "c2"]),
    "layer_index_out_of_range": ("run", None, ["--set", "network.layers.6.kernel=3"], "network.layers.6",
                                 ["0..5"]),
}


def _workload(tmp: Path, name: str, spec) -> Path:
    """The workload file of a case (written into ``tmp``)."""
    if spec is None:
        return WORKLOADS / "small.yaml"
    if isinstance(spec, Path):
        return spec
    path = tmp / "wl.yaml"
    if spec == "T_FLOAT":
        text = yaml.safe_dump(small()).replace("T: 4", "T: 1.0e+30")
    elif spec in ("DUP_HW", "CLOCK_INF"):
        hw = (WORKLOADS / "hw" / "edge.yaml").read_text()
        hw += "clock_mhz: 100\n" if spec == "DUP_HW" else ""
        hw = hw if spec == "DUP_HW" else "clock_mhz: .inf\n" + "\n".join(
            line for line in hw.splitlines() if not line.startswith("clock_mhz"))
        (tmp / "hw.yaml").write_text(hw)
        text = yaml.safe_dump(small(hardware="hw.yaml"))
    elif spec == "DUP_TABLE":
        (tmp / "table.yaml").write_text("name: t\nname: u\nunit: pJ\nops: {mac: 1}\n")
        text = yaml.safe_dump(small(cost_models=["table.yaml"]))
    elif isinstance(spec, str):
        text = spec
    else:
        text = yaml.safe_dump(spec)
    path.write_text(text)
    return path


def _run_case(name: str, base: Path) -> tuple[subprocess.CompletedProcess, Path, Path]:
    cmd, spec, extra, _, _ = CASES[name]
    tmp = base / name
    tmp.mkdir()
    out = tmp / "out"
    if isinstance(spec, str) and spec.startswith("NAME:"):
        wl = Path(spec[5:])
    else:
        wl = _workload(tmp, name, spec)
    args = [cmd, wl, *extra] + (["--out", out] if cmd in ("run", "sweep") else [])
    return cli(*args, cwd=tmp), tmp, out


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad_input")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {n: pool.submit(_run_case, n, base) for n in CASES}
    return {n: f.result() for n, f in futures.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(results, name):
    proc, tmp, out = results[name]
    _, _, _, field, words = CASES[name]
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert f": {field}" in lines[0], lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert not out.exists()
    assert {p.name for p in tmp.iterdir()} <= {"hw.yaml", "table.yaml", "wl.yaml"}


# --------------------------------------------------------------------------- what should just work
def test_name_dotdot_does_not_write_outside_out(tmp_path):
    """With the default --out (out/<name>), a name of '..' must not put files into the cwd."""
    (tmp_path / "wl.yaml").write_text(yaml.safe_dump(small(name="..")))
    proc = cli("run", "wl.yaml", "--engine", "analytical", "--no-plot", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wl.yaml"]


def test_set_hardware_by_file_relative_to_workload_and_cwd(tmp_path):
    out = tmp_path / "o"
    proc = cli("run", WORKLOADS / "small.yaml", "--engine", "analytical", "--no-plot", "--out", out,
               "--set", "hardware=hw/odin.yaml", "--set", "activity.source=dense",
               "--set", "network.layers.c2.out_channels=6", "--set", "network.layers.0.out_channels=5")
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "results.json").read_text())
    assert res["workload"]["hardware"]["name"] == "odin"
    assert res["workload"]["activity"] == {"source": "dense"}
    assert [layer.get("out_channels") for layer in res["workload"]["network"]["layers"]][:3] == [5, None, 6]
    proc = cli("run", "workloads/small.yaml", "--engine", "analytical", "--no-plot", "--out", out,
               "--set", "hardware=workloads/hw/sata.yaml")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "results.json").read_text())["workload"]["hardware"]["name"] == "sata"


def test_preset_sweep_over_the_four_presets(tmp_path):
    out = tmp_path / "sw"
    proc = cli("sweep", "small", "--set", "hardware=hw/edge.yaml,hw/sata.yaml,hw/odin.yaml,hw/reckon.yaml",
               "--executor", "serial", "--no-plot", "--out", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    import pandas as pd

    table = pd.read_csv(out / "sweep.csv")
    assert sorted(table["hardware"].unique()) == ["hw/edge.yaml", "hw/odin.yaml", "hw/reckon.yaml", "hw/sata.yaml"]
    assert table.groupby("hardware")["full_memory_MB"].first().nunique() > 1  # the presets differ


def test_shipped_workload_by_name_from_any_folder(tmp_path):
    proc = cli("validate", "dvs", cwd=tmp_path)
    assert proc.returncode == 0 and "dvs" in proc.stdout, proc.stderr
    proc = cli("run", "small", "--engine", "analytical", "--no-plot", "--out", tmp_path / "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "ledger.csv").exists()
    (tmp_path / "small").write_text("name: mine\n")  # a file path wins over a shipped name
    proc = cli("validate", "small", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("error: small: input"), proc.stderr


@pytest.mark.parametrize("name", list(IN_PROCESS))
def test_bad_input_in_process(tmp_path, name):
    """Load (and plan, for sweeps) in-process: a UserError naming the field, nothing written."""
    from tess_sim.commands.options import overrides
    from tess_sim.simulator.errors import UserError
    from tess_sim.sweeps import plan_sweep
    from tess_sim.api import load

    cmd, spec, extra, field, words = IN_PROCESS[name]
    wl = _workload(tmp_path, name, spec)
    sets = [extra[i + 1] for i, a in enumerate(extra) if a == "--set"]
    with pytest.raises(UserError) as err:
        if cmd == "sweep":
            plan_sweep(wl, sets)
        else:
            load(wl, overrides=overrides(sets))
    line = err.value.line()
    assert f": {field}" in line or line.startswith(field), line
    for w in words:
        assert w in line, (w, line)
    assert {p.name for p in tmp_path.iterdir()} <= {"hw.yaml", "table.yaml", "wl.yaml"}
