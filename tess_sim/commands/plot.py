"""``tess-sim plot``: the figures of a finished sweep folder (:func:`write_sweep_plots`, which
``sweep`` calls too)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from tess_sim.outputs import checked_output
from tess_sim.reports.sweep import sweep_figures
from tess_sim.simulator.atomic import write_bytes
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors


def write_sweep_plots(folder: Path, title: str, formats=("png", "svg"), dpi: int = 100) -> list[str]:
    """The sweep's figures (see reports.sweep.sweep_figures) as PNG and SVG files; returns names."""
    meta = json.loads((folder / "sweep.json").read_text())
    table = pd.read_csv(folder / "sweep.csv")
    names = []
    for fmt in formats:
        for stem, image in sweep_figures(table, list(meta["settings"]), title, fmt, dpi).items():
            names.append(write_bytes(folder / f"{stem}.{fmt}", image).name)
    return names


@click.command("plot")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--format", "formats", default="png,svg", show_default=True, help="Comma-separated: png, svg.")
@click.option("--dpi", type=click.IntRange(min=20, max=600), default=100, show_default=True)
@user_errors
@checked_output("folder")
def plot_cmd(folder, formats, dpi):
    """Draw the plots of a finished sweep FOLDER (cost versus each swept key, heatmaps, energy)."""
    folder = Path(folder)
    if not (folder / "sweep.json").exists() or not (folder / "sweep.csv").exists():
        raise UserError(str(folder), "", "not a finished sweep folder (sweep.json, sweep.csv)")
    fmts = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in fmts if f not in ("png", "svg")]
    if bad or not fmts:
        raise UserError("--format", "", f"unknown format '{(bad or [formats])[0]}' (png, svg)")
    meta = json.loads((folder / "sweep.json").read_text())
    names = write_sweep_plots(folder, meta.get("title", meta["name"]), fmts, dpi)
    click.echo(f"wrote {folder}/: " + (", ".join(names) or "(nothing to plot)"))
