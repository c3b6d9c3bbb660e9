"""``tess-sim data …`` commands (a click group the main CLI attaches with ``add_command``)."""

from __future__ import annotations

import functools
import sys

import click

from simulator.errors import UserError


def user_errors_exit_2(fn):
    """Decorator: a :class:`UserError` becomes its one-line message on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            click.echo(exc.line(), err=True)
            sys.exit(2)

    return wrapper


@click.group(name="data")
def data():
    """Event-camera data: inspect recordings and dataset folders."""


@data.command("info")
@click.argument("path", type=click.Path())
@user_errors_exit_2
def info(path):
    """Describe PATH: a recording (.aedat AEDAT 3.1 / AER-DAT 2.0, .npy) or a dataset folder —
    events, duration, event rate, pixel range, classes."""
    from simulator.events.info import describe

    click.echo(describe(path))


if __name__ == "__main__":  # pragma: no cover
    data()
