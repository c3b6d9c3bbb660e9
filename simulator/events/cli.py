"""``tess-sim data …`` commands (a click group the main CLI attaches with ``add_command``)."""

from __future__ import annotations

import click

from simulator.errors import exit_2_on_user_error


@click.group(name="data")
def data():
    """Event-camera data: inspect recordings and dataset folders."""


@data.command("info")
@click.argument("path", type=click.Path())
@exit_2_on_user_error
def info(path):
    """Describe PATH: a recording (.aedat AEDAT 3.1 / AER-DAT 2.0, .npy) or a dataset folder —
    events, duration, event rate, pixel range, classes."""
    from simulator.events.info import describe

    click.echo(describe(path))


if __name__ == "__main__":  # pragma: no cover
    data()
