"""``tess-sim report``: report.html and report.md of a run or sweep folder."""

from __future__ import annotations

from pathlib import Path

import click

from tess_sim.commands.common import checked_output, write_report
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors


@click.command("report")
@click.argument("folder", type=click.Path(file_okay=False))
@user_errors
@checked_output("folder")
def report_cmd(folder):
    """Build report.html (self-contained) and report.md of a run or sweep FOLDER."""
    folder = Path(folder)
    write_report(folder)
    click.echo(f"wrote {folder}/report.html, {folder}/report.md")
