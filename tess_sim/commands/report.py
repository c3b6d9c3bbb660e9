"""``tess-sim report``: report.html and report.md of a run or sweep folder (:func:`write_report`,
which ``run`` and ``sweep`` call too)."""

from __future__ import annotations

from pathlib import Path

import click

from tess_sim.outputs import checked_output
from tess_sim.reports.page import build_report
from tess_sim.simulator.atomic import write_text
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors


def write_report(folder: Path) -> None:
    """report.html (self-contained) and report.md of a run or sweep folder."""
    page_html, page_md = build_report(folder)
    write_text(folder / "report.html", page_html)
    write_text(folder / "report.md", page_md)


@click.command("report")
@click.argument("folder", type=click.Path(file_okay=False))
@user_errors
@checked_output("folder")
def report_cmd(folder):
    """Build report.html (self-contained) and report.md of a run or sweep FOLDER."""
    folder = Path(folder)
    write_report(folder)
    click.echo(f"wrote {folder}/report.html, {folder}/report.md")
