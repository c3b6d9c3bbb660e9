"""``tess-sim data info``: describe a recording or a dataset folder."""

from __future__ import annotations

import click

from tess_sim.simulator.errors import exit_2_on_user_error
from tess_sim.simulator.events.info import describe


@click.command("info")
@click.argument("path", type=click.Path())
@exit_2_on_user_error
def info(path):
    """Describe PATH: a recording (.aedat AEDAT 3.1 / AER-DAT 2.0, .npy, .aedat4 AEDAT 4) or a dataset folder —
    events, duration, event rate, pixel range, classes."""
    click.echo(describe(path))
