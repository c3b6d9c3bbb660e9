"""``tess-sim export accelergy RUN_DIR``: a finished run's hardware and action counts in
Accelergy's formats, and optionally an ERT of one of our cost models (docs/accelergy.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd
import yaml
from pydantic import ValidationError

from tess_sim.cost_models import accelergy as acc
from tess_sim.cost_models.registry import load_cost_model, parse_cli_spec
from tess_sim.outputs import check_folder, staged_folder
from tess_sim.simulator.atomic import write_text
from tess_sim.simulator.errors import UserError, exit_2_on_user_error
from tess_sim.simulator.ledger import COLUMNS
from tess_sim.simulator.workload import Hardware, validation_error

#: the files an export writes: at its top (ERT) and in each rule's folder
TOP_FILES = ("ERT.yaml", "ERT_summary.yaml")
RULE_FILES = ("architecture.yaml", "action_counts.yaml", "energy_estimation.yaml")


def read_run(run_dir: str):
    """``(hardware, ledger, energy table or None)`` of the run folder ``run_dir`` (its
    results.json and ledger.csv); a UserError naming the folder when it is not a finished run."""
    folder = Path(run_dir)
    if not folder.exists():
        raise UserError(run_dir, "", "run folder not found")
    results, ledger_csv = folder / "results.json", folder / "ledger.csv"
    if not folder.is_dir() or not results.is_file() or not ledger_csv.is_file():
        raise UserError(run_dir, "", "is not a run folder (no results.json and ledger.csv; write one with "
                        "tess-sim run WORKLOAD --out RUN_DIR)")
    try:
        doc = json.loads(results.read_text())
        hw_dict = doc["workload"]["hardware"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(str(results), "workload.hardware", f"cannot read the run's hardware: {exc}") from None
    try:
        hw = Hardware.model_validate(hw_dict)
    except ValidationError as exc:
        raise validation_error(f"{results} (workload.hardware)", exc) from None
    try:
        ledger = pd.read_csv(ledger_csv, keep_default_na=False, dtype={"memory": str, "term": str})
    except (OSError, ValueError) as exc:
        raise UserError(str(ledger_csv), "", f"cannot read: {exc}") from None
    missing = [c for c in COLUMNS if c not in ledger.columns]
    if missing:
        raise UserError(str(ledger_csv), missing[0], "missing column: not a tess-sim ledger")
    energy_csv = folder / "energy.csv"
    energy = pd.read_csv(energy_csv) if energy_csv.is_file() else None
    return hw, ledger, energy


def _check_out(out: Path, rules: list[str]) -> None:
    """``out`` is missing, empty, or an earlier export (only export files and rule folders):
    it is replaced whole; anything else is refused before anything is written."""
    if not out.exists():
        return
    if not out.is_dir():
        raise UserError(str(out), "", "cannot write: exists and is not a folder")
    for entry in out.iterdir():
        ours = (entry.is_file() and entry.name in TOP_FILES) or (
            entry.is_dir() and all(f.is_file() and f.name in RULE_FILES for f in entry.iterdir()))
        if not ours:
            raise UserError(str(out), "", f"holds '{entry.name}', which is not an Accelergy export's; give a new "
                            "or empty folder with --out (nothing was written)")


def _dump(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=120)


@click.command("accelergy")
@click.argument("run_dir", type=click.Path())
@click.option("--out", "out", type=click.Path(), default=None,
              help="Folder to write (default RUN_DIR/accelergy): <rule>/architecture.yaml, "
                   "<rule>/action_counts.yaml, and with --ert ERT.yaml, ERT_summary.yaml, "
                   "<rule>/energy_estimation.yaml. Replaced whole; a folder holding other files is refused.")
@click.option("--rule", "rules", multiple=True,
              help="Export this rule only (repeatable; default: every rule of the run).")
@click.option("--ert", "ert", default=None, metavar="SPEC",
              help="Also write the ERT (pJ per action at every width the run uses) of this cost model, e.g. "
                   "horowitz45 or cacti28,alpha=0.78 (as --cost-model of tess-sim run).")
@click.option("--arithmetic", type=click.Choice(["int", "fp"]), default="int", show_default=True,
              help="Accelergy classes of the op components: intmac/intadder/... or fpmac/fpadder/...")
@click.option("--technology", default="SET ME", show_default=True,
              help="The 'technology' attribute of every component (our hardware files give none; "
                   "Accelergy's estimators need it, e.g. 45nm).")
@exit_2_on_user_error
def accelergy(run_dir, out, rules, ert, arithmetic, technology):
    """Write the architecture description and the action counts of the finished run RUN_DIR in
    Accelergy's v0.4 formats, one folder per rule (default RUN_DIR/accelergy); with --ert MODEL
    also ERT.yaml, ERT_summary.yaml and each rule's energy_estimation.yaml priced by one of our
    cost models. Reads only RUN_DIR's results.json and ledger.csv (docs/accelergy.md).

    \b
      tess-sim run workloads/dvs.yaml --out out/dvs
      tess-sim export accelergy out/dvs --ert horowitz45
      tess-sim run workloads/dvs.yaml --cost-model accelergy-ert,file=out/dvs/accelergy/ERT.yaml
    """
    out_path = Path(out) if out is not None else Path(run_dir) / "accelergy"
    hw, ledger, energy = read_run(run_dir)
    model = load_cost_model(parse_cli_spec(ert), None, "--ert", ert) if ert else None
    rows = acc.action_rows(ledger, hw)
    known = list(dict.fromkeys(rows["rule"]))
    for r in rules:
        if r not in known:
            raise UserError("--rule", r, f"not a rule of this run (rules: {', '.join(known)})")
    chosen = list(dict.fromkeys(rules)) or known
    rows = rows[rows["rule"].isin(chosen)]
    _check_out(out_path, chosen)
    check_folder(out_path)

    pe = acc.component_names(hw)[("pe", "")]
    ops = rows[rows["action"] == acc.COMPUTE]
    op_bits = {c[len(pe) + 1:]: int(b) for c, b in ops.groupby("component")["bits"].max().items()}
    arch = _dump(acc.architecture(hw, op_bits, arithmetic, technology))
    entries = None
    if model is not None:
        widths = sorted({hw.precision.bits(k) for k in type(hw.precision).model_fields})
        needed: dict[str, set[int]] = {}
        for c, g in rows.groupby("component", sort=False):
            needed[c] = set(int(b) for b in g["bits"])
            if c not in set(ops["component"]) or c.endswith((".mac", ".ac")):  # memories, contractions:
                needed[c] |= set(widths)  # every width of the precision table (what a mapper asks)
        entries = acc.ert_entries(model, hw, needed)
    with staged_folder(out_path, keep_foreign=False) as tmp:
        for rule in chosen:
            r = rows[rows["rule"] == rule]
            write_text(tmp / rule / "architecture.yaml", arch)
            write_text(tmp / rule / "action_counts.yaml", _dump(acc.action_counts(r)))
            if entries is not None:
                write_text(tmp / rule / "energy_estimation.yaml", _dump(acc.energy_estimation(r, entries)))
        if entries is not None:
            write_text(tmp / "ERT.yaml", _dump(acc.ert_document(entries)))
            write_text(tmp / "ERT_summary.yaml", _dump(acc.ert_summary(entries, f"tess-sim {model.name}")))
    n_comp = rows["component"].nunique()
    click.echo(f"wrote {out_path}/: {', '.join(f'{r}/' for r in chosen)} (architecture.yaml, action_counts.yaml"
               + (", energy_estimation.yaml" if entries else "") + f"): {n_comp} components, "
               f"{len(rows)} action counts" + (f"; ERT.yaml, ERT_summary.yaml from {model.name}: "
                                                f"{sum(len(v) for v in entries.values())} entries" if entries else ""))
    if entries is not None:
        _print_totals(rows, entries, chosen, energy, model.describe()["name"])


def _print_totals(rows, entries, rules, energy, name: str) -> None:
    """Each rule's Σ counts × ERT energy beside the run's own dynamic energy under the same model."""
    click.echo("energy_estimation Total (Σ counts × ERT energy, pJ per sample)"
               + (f" vs the run's energy.csv, model {name}, dynamic:" if energy is not None else ":"))
    for rule in rules:
        total = acc.energy_estimation(rows[rows["rule"] == rule], entries)["energy_estimation"]["Total"]
        line = f"  {rule:6s} {total:,.6g}"
        if energy is not None:
            hit = energy[(energy["model"] == name) & (energy["rule"] == rule)]
            if len(hit) == 1:
                ours = float(hit["dynamic"].iloc[0])
                line += f"  run {ours:,.6g}  relative difference {abs(total - ours) / ours if ours else 0.0:.1e}"
            else:
                line += f"  (the run was not priced with {name})"
        click.echo(line)
