"""A click group whose commands are imported when one is used (click's "lazily loading
subcommands"): its ``--help`` lists them from a table, importing no command module.

Kept light (click only): ``tess-sim --help`` and every command import it.
"""

from __future__ import annotations

import importlib

import click

#: a group's table: command name -> (``"module:attribute"`` of the click command, the first
#: paragraph of its help, which ``--help`` lists; tests/test_cli_lazy.py checks both)
Table = dict[str, tuple[str, str]]


def load_command(target: str) -> click.Command:
    """The click command that ``target`` (``"module:attribute"``) names, importing its module:
    the one place a command module is imported (tests/test_architecture.py checks every target
    of every table, since the module name here is data)."""
    module, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose commands are the entries of ``lazy`` (see :data:`Table`)."""

    def __init__(self, *args, lazy: Table, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx):
        return sorted(self.lazy)

    def get_command(self, ctx, cmd_name):
        return load_command(self.lazy[cmd_name][0]) if cmd_name in self.lazy else None

    def format_commands(self, ctx, formatter):
        """The Commands section of ``--help``, as click writes it from the loaded commands (each
        first paragraph shortened to the width), made from the table."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = [(name, click.Command(name, help=self.lazy[name][1]).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
