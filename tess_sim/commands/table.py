"""``tess-sim table …``: tables recomputed from the shipped workloads (today: ``table paper``)."""

from __future__ import annotations

import click

from tess_sim.paper import display, paper_table
from tess_sim.simulator.errors import exit_2_on_user_error as user_errors


@click.group("table")
def table():
    """Tables recomputed from the shipped workloads."""


@table.command("paper")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "markdown"]), default="text",
              show_default=True)
@click.option("--workloads", "folder", type=click.Path(file_okay=False, exists=True), default=None,
              help="Folder holding dvs, cifar10, cifar100 and cifar10dvs .yaml (default: the shipped ones).")
@user_errors
def table_paper(fmt, folder):
    """The TESS paper's #MAC / memory table (per sample, batch 1) beside the published cells."""
    t = paper_table(folder)
    if fmt == "csv":
        click.echo(t.to_csv(index=False), nl=False)
        return
    shown = display(t)
    click.echo(_markdown(shown) if fmt == "markdown" else shown.to_string(index=False))
    click.echo("\nPublished cells are truncated to two decimals; the '2dp' columns truncate ours the same way.")
    dvs = t[(t["dataset"] == "DVS Gesture") & (t["method"] == "BPTT")]
    if len(dvs):
        row = dvs.iloc[0]
        click.echo(f"DVS Gesture #MAC: ours uses its {row['classes']} classes ({row['mac_millions']:.2f} M); "
                   f"the published {row['published_mac_millions']} M fits 10 classes "
                   f"(T × 512 = {row['T'] * 512 / 1e6:.5f} M per class).")
    click.echo("TESS #MAC: ours is 2·C·D_l per block (LSG projection and back-projection) + in × C for "
               "the readout, per learning step; the published cells follow no count we could derive "
               "(see 'ours/published').")


def _markdown(df) -> str:
    """A DataFrame of strings as a Markdown table (no tabulate dependency)."""
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)
