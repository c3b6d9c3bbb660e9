"""Accelergy interoperability (docs/accelergy.md): ``tess-sim export accelergy`` and the
``accelergy-ert`` cost model.

- Round trip: a run priced by ``horowitz45``, exported with ``--ert horowitz45`` and priced again
  through ``accelergy-ert`` gives the run's total within 1e-9 relative, every rule, on the edge
  core (DVS) and on the SATA preset (a mapped array with register files).
- The other way: Σ action counts × ERT energy, computed here by a small loop over the two YAML
  files (matching name, action and arguments as Accelergy's energy calculator does), equals the
  run's energy.csv total.
- Schema: a schema written here from Accelergy's documented v0.4 formats (cited in the docs):
  required keys and types, version 0.4, names ``system.…``, the names consistent between the
  architecture, the action counts and the ERT.
- Bad input: exit 2 and one line (missing entry, missing run folder, not a run, bad rule, bad ERT).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from tess_sim.cli import main
from tess_sim.commands.export_accelergy import read_run
from tess_sim.cost_models import energy_summary, load_cost_model, price

WORKLOADS = Path(__file__).resolve().parent.parent / "workloads"
REL = 1e-9


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_error_line(r) -> str:
    assert r.exit_code == 2, (r.exit_code, r.output)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.output
    return lines[0]


@pytest.fixture(scope="module", params=["edge", "sata"])
def run_dir(request, tmp_path_factory):
    """DVS (VGG-9, dense activity, analytical engine) on the edge core and on the SATA preset,
    priced by horowitz45, exported with its ERT."""
    out = tmp_path_factory.mktemp(f"dvs_{request.param}") / "run"
    extra = [] if request.param == "edge" else ["--set", "hardware=hw/sata.yaml"]
    r = cli("run", "--no-plot", WORKLOADS / "dvs.yaml", "--engine", "analytical", "--cost-model", "horowitz45",
            *extra, "--out", out)
    assert r.exit_code == 0, r.output
    r = cli("export", "accelergy", out, "--ert", "horowitz45")
    assert r.exit_code == 0, r.output
    return out


def run_totals(run: Path) -> dict[str, float]:
    e = pd.read_csv(run / "energy.csv")
    e = e[e["model"] == "horowitz45"]
    assert e["leakage"].isna().all()  # horowitz45 prices no leakage: total = dynamic
    return dict(zip(e["rule"], e["total"]))


def test_pricing_the_export_through_accelergy_ert_gives_our_total(run_dir):
    hw, ledger, _ = read_run(str(run_dir))
    model = load_cost_model({"model": "accelergy-ert", "file": str(run_dir / "accelergy" / "ERT.yaml")})
    ours = energy_summary(price(ledger, hw, model), ledger).set_index("rule")["total"]
    want = run_totals(run_dir)
    assert set(ours.index) == set(want) == {"bptt", "stllr", "tess"}
    for rule, total in want.items():
        assert ours[rule] == pytest.approx(total, rel=REL), rule
    assert model.describe()["sha256"] == hashlib.sha256((run_dir / "accelergy" / "ERT.yaml").read_bytes()).hexdigest()


def test_action_counts_times_ert_energies_equal_our_total(run_dir):
    """An independent loop over the YAML files: for every action count, the ERT entry of the same
    component name, action name and arguments; Σ counts × energy per rule."""
    ert = yaml.safe_load((run_dir / "accelergy" / "ERT.yaml").read_text())["ERT"]
    table = {t["name"]: t["actions"] for t in ert["tables"]}
    want = run_totals(run_dir)
    for rule, total in want.items():
        counts = yaml.safe_load((run_dir / "accelergy" / rule / "action_counts.yaml").read_text())["action_counts"]
        energy = 0.0
        for comp in counts["local"]:
            for ac in comp["action_counts"]:
                hits = [a["energy"] for a in table[comp["name"]]
                        if a["name"] == ac["name"] and a["arguments"] == ac["arguments"]]
                assert len(hits) == 1, (comp["name"], ac)
                energy += ac["counts"] * hits[0]
        assert energy == pytest.approx(total, rel=REL), rule
        est = yaml.safe_load((run_dir / "accelergy" / rule / "energy_estimation.yaml").read_text())
        assert est["energy_estimation"]["Total"] == pytest.approx(total, rel=REL)


def test_action_counts_are_the_ledgers_counts(run_dir):
    """Per memory and action, the exported counts are the ledger's full-convention accesses
    served by that memory (summed here with a plain filter of ledger.csv)."""
    led = pd.read_csv(run_dir / "ledger.csv", keep_default_na=False)
    led = led[(led["convention"] == "full") & (led["action"].isin(["read", "write"]))]
    for rule in ("bptt", "tess"):
        counts = yaml.safe_load((run_dir / "accelergy" / rule / "action_counts.yaml").read_text())["action_counts"]
        got: dict[tuple[str, str], float] = {}
        for comp in counts["local"]:
            if ".pe[" in comp["name"] and not comp["name"].endswith(".rf"):
                continue
            mem = "rf" if comp["name"].endswith(".rf") else comp["name"].split(".")[-1]
            for ac in comp["action_counts"]:
                got[(mem, ac["name"])] = got.get((mem, ac["name"]), 0.0) + ac["counts"]
        r = led[led["rule"] == rule]
        want = r.groupby(["memory", "action"])["count"].sum()
        want = {k: v for k, v in want.items() if v > 0}
        assert set(got) == set(want)
        for k, v in want.items():
            assert got[k] == pytest.approx(v, rel=1e-12), k


# --------------------------------------------------------------------------- the documented formats
NAME = {"type": "string", "pattern": r"^system(\.[A-Za-z_][\w]*(\[\d+\.\.\d+\])?)+$"}
ARGS = {"type": "object", "required": ["bits"], "properties": {"bits": {"type": "integer", "minimum": 1}}}
VERSION = {"const": "0.4"}
ARCH_NODE = {
    "type": "object", "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "attributes": {"type": "object"},
        "local": {"type": "array", "items": {
            "type": "object", "required": ["name", "class"],
            "properties": {"name": {"type": "string"}, "class": {"type": "string"}, "attributes": {"type": "object"}}}},
        "subtree": {"type": "array", "items": {"$ref": "#/$defs/node"}},
    },
    "anyOf": [{"required": ["local"]}, {"required": ["subtree"]}],
}
ARCH = {"type": "object", "required": ["architecture"], "$defs": {"node": ARCH_NODE},
        "properties": {"architecture": {"type": "object", "required": ["version", "subtree"],
                                        "properties": {"version": VERSION, "subtree": {
                                            "type": "array", "minItems": 1, "maxItems": 1,
                                            "items": {"$ref": "#/$defs/node"}}}}}}
COUNTS = {"type": "object", "required": ["action_counts"], "properties": {"action_counts": {
    "type": "object", "required": ["version", "local"], "properties": {"version": VERSION, "local": {
        "type": "array", "items": {"type": "object", "required": ["name", "action_counts"], "properties": {
            "name": NAME, "action_counts": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name", "counts"], "properties": {
                    "name": {"type": "string"}, "arguments": ARGS, "counts": {"type": "number", "minimum": 0}}}}}}}}}}}
ERT = {"type": "object", "required": ["ERT"], "properties": {"ERT": {
    "type": "object", "required": ["version", "tables"], "properties": {"version": VERSION, "tables": {
        "type": "array", "items": {"type": "object", "required": ["name", "actions"], "properties": {
            "name": NAME, "actions": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name", "arguments", "energy"], "properties": {
                    "name": {"type": "string"}, "arguments": ARGS, "energy": {"type": "number", "minimum": 0}}}}}}}}}}}
#: the actions of each Accelergy class we write
CLASS_ACTIONS = {"SRAM": {"read", "write"}, "DRAM": {"read", "write"}, "regfile": {"read", "write"}}


def flatten(node: dict, prefix: str | None = None) -> dict[str, str]:
    """Accelergy's flattening of a v0.4 tree (accelergy/raw_inputs_2_dicts.py): every local
    component's full name (prefix.name, list ranges kept) → its class."""
    here = node["name"] if prefix is None else f"{prefix}.{node['name']}"
    out = {f"{here}.{c['name']}": c["class"] for c in node.get("local", [])}
    for sub in node.get("subtree", []):
        out.update(flatten(sub, here))
    return out


def test_export_follows_accelergys_documented_formats(run_dir):
    root = run_dir / "accelergy"
    ert = yaml.safe_load((root / "ERT.yaml").read_text())
    jsonschema.validate(ert, ERT)
    tables = {t["name"]: t for t in ert["ERT"]["tables"]}
    assert len(tables) == len(ert["ERT"]["tables"])  # one table per component
    for rule in ("bptt", "stllr", "tess"):
        arch = yaml.safe_load((root / rule / "architecture.yaml").read_text())
        counts = yaml.safe_load((root / rule / "action_counts.yaml").read_text())
        jsonschema.validate(arch, ARCH)
        jsonschema.validate(counts, COUNTS)
        components = flatten(arch["architecture"]["subtree"][0])
        assert all(re.match(NAME["pattern"], n) for n in components)
        assert set(tables) == set(components)  # the ERT prices exactly the architecture's components
        names = [c["name"] for c in counts["action_counts"]["local"]]
        assert len(names) == len(set(names)) and set(names) <= set(components)
        for c in counts["action_counts"]["local"]:
            cls = components[c["name"]]
            actions = CLASS_ACTIONS.get(cls, {"compute"})
            for ac in c["action_counts"]:
                assert ac["name"] in actions, (c["name"], cls, ac)
                assert any(a["name"] == ac["name"] and a["arguments"] == ac["arguments"]
                           for a in tables[c["name"]]["actions"]), (c["name"], ac)


def test_mapped_core_exports_its_register_files(run_dir):
    arch = yaml.safe_load((run_dir / "accelergy" / "bptt" / "architecture.yaml").read_text())
    comps = flatten(arch["architecture"]["subtree"][0])
    hw, _, _ = read_run(str(run_dir))
    units = hw.pe.units
    for m in hw.memories:
        assert comps[f"system.{m.name}"] == ("DRAM" if m.kind == "dram" else "SRAM")
    if hw.dataflow == "mapped":
        rf = comps.pop(f"system.pe[0..{units - 1}].rf")
        assert rf == "regfile"
    assert {n for n in comps if ".pe[" in n} == {f"system.pe[0..{units - 1}].{k}"
                                                for k in ("ac", "add", "cmp", "div", "exp", "mac", "mul", "sqrt")}
    sram = next(c for c in arch["architecture"]["subtree"][0]["local"] if c["class"] == "SRAM")
    mem = next(m for m in hw.memories if m.name == sram["name"])
    assert sram["attributes"]["width"] == mem.word_bits
    assert sram["attributes"]["depth"] * mem.word_bits == mem.capacity_bytes * 8


# --------------------------------------------------------------------------- small runs, bad input
@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("small") / "run"
    r = cli("run", "--no-plot", WORKLOADS / "small.yaml", "--engine", "analytical", "--out", out)
    assert r.exit_code == 0, r.output
    r = cli("export", "accelergy", out, "--ert", "horowitz45", "--out", out.parent / "acc")
    assert r.exit_code == 0, r.output
    return out


def test_a_missing_ert_entry_is_exit_2_naming_it(small, tmp_path):
    ert = yaml.safe_load((small.parent / "acc" / "ERT.yaml").read_text())
    table = next(t for t in ert["ERT"]["tables"] if t["name"] == "system.state_sram")
    table["actions"] = [a for a in table["actions"] if not (a["name"] == "write" and a["arguments"]["bits"] == 16)]
    (tmp_path / "ERT.yaml").write_text(yaml.safe_dump(ert))
    r = cli("run", "--no-plot", WORKLOADS / "small.yaml", "--engine", "analytical", "--out", tmp_path / "o",
            "--cost-model", f"accelergy-ert,file={tmp_path / 'ERT.yaml'}")
    line = one_error_line(r)
    assert "state_sram.write" in line and "{bits: 16}" in line
    assert not (tmp_path / "o").exists()


def test_a_workload_names_the_ert_relative_to_itself(small, tmp_path, monkeypatch):
    wl = yaml.safe_load((WORKLOADS / "small.yaml").read_text())
    wl["hardware"] = str(WORKLOADS / "hw" / "edge.yaml")
    wl["cost_models"] = [{"model": "accelergy-ert", "file": "tables/ERT.yaml"}, "horowitz45"]
    (tmp_path / "tables").mkdir()
    shutil.copy(small.parent / "acc" / "ERT.yaml", tmp_path / "tables" / "ERT.yaml")
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(wl))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    r = cli("run", "--no-plot", tmp_path / "w.yaml", "--engine", "analytical", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    e = pd.read_csv(tmp_path / "o" / "energy.csv").pivot(index="rule", columns="model", values="total")
    assert (abs(e["accelergy-ert"] / e["horowitz45"] - 1) < REL).all()


def test_rule_option_and_output_folder(small, tmp_path):
    r = cli("export", "accelergy", small, "--rule", "tess", "--out", tmp_path / "x")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["tess"]
    assert sorted(p.name for p in (tmp_path / "x" / "tess").iterdir()) == ["action_counts.yaml", "architecture.yaml"]
    r = cli("export", "accelergy", small, "--rule", "bptt", "--out", tmp_path / "x")  # an export is replaced whole
    assert r.exit_code == 0 and sorted(p.name for p in (tmp_path / "x").iterdir()) == ["bptt"]


@pytest.mark.parametrize("case", ["missing", "not_a_run", "bad_rule", "foreign_out", "bad_model"])
def test_bad_export_input_is_one_line(small, tmp_path, case):
    args = {"missing": [tmp_path / "nope"],
            "not_a_run": [tmp_path],
            "bad_rule": [small, "--rule", "eprop", "--out", tmp_path / "x"],
            "foreign_out": [small, "--out", tmp_path / "f"],
            "bad_model": [small, "--ert", "horowitz46", "--out", tmp_path / "x"]}[case]
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "notes.txt").write_text("mine")
    line = one_error_line(cli("export", "accelergy", *args))
    assert {"missing": "run folder not found", "not_a_run": "is not a run folder", "bad_rule": "eprop",
            "foreign_out": "notes.txt", "bad_model": "horowitz46"}[case] in line
    assert not (tmp_path / "x").exists() and (tmp_path / "f" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("edit,field", [
    (lambda d: d["ERT"].update(version="0.9"), "ERT.version"),
    (lambda d: d["ERT"]["tables"][0]["actions"][0].update(energy=-1.0), "energy"),
    (lambda d: d["ERT"]["tables"][0]["actions"].append(dict(d["ERT"]["tables"][0]["actions"][0])), "a second entry"),
    (lambda d: d.pop("ERT"), "ERT"),
])
def test_bad_ert_file_is_one_line(small, tmp_path, edit, field):
    doc = yaml.safe_load((small.parent / "acc" / "ERT.yaml").read_text())
    doc.setdefault("other", 1)
    edit(doc)
    (tmp_path / "ERT.yaml").write_text(yaml.safe_dump(doc))
    line = one_error_line(cli("run", "--no-plot", WORKLOADS / "small.yaml", "--engine", "analytical",
                              "--out", tmp_path / "o", "--cost-model", f"accelergy-ert,file={tmp_path / 'ERT.yaml'}"))
    assert field in line and str(tmp_path / "ERT.yaml") in line


def test_real_accelergy_reproduces_the_total(small, tmp_path):
    """Accelergy itself, where it is installed (not on PyPI: the accelergy-timeloop-infrastructure
    image): its energy_estimation Total equals ours."""
    accelergy = shutil.which("accelergy")
    if accelergy is None:
        pytest.skip("accelergy is not installed (it is not on PyPI)")
    acc = small.parent / "acc"
    for rule in ("bptt", "stllr", "tess"):
        out = tmp_path / rule
        subprocess.run([accelergy, str(acc / rule / "action_counts.yaml"), str(acc / "ERT.yaml"), "-o", str(out)],
                       check=True, capture_output=True)
        theirs = yaml.safe_load((out / "energy_estimation.yaml").read_text())["energy_estimation"]
        ours = yaml.safe_load((acc / rule / "energy_estimation.yaml").read_text())["energy_estimation"]
        assert float(theirs["Total"]) == pytest.approx(ours["Total"], rel=1e-3)  # Accelergy rounds to 3 decimals
