"""User-facing errors: one line naming the file, the field path and the reason.

The CLI turns a :class:`UserError` into that line on stderr and exit code 2; anything else is an
internal error (exit code 1).
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input (a workload, a weights file, a data file, a CLI option).

    ``where`` is the file (or option) at fault, ``field`` the dotted path inside it (may be
    empty), ``reason`` what is wrong and, where possible, how to fix it.
    """

    def __init__(self, where: str, field: str, reason: str):
        self.where = str(where)
        self.field = field
        self.reason = reason
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line message: ``FILE: FIELD: REASON`` (FIELD omitted when empty)."""
        parts = [self.where] + ([self.field] if self.field else []) + [self.reason]
        return ": ".join(parts).replace("\n", " ")


def exit_2_on_user_error(fn):
    """Decorator for CLI commands: a UserError becomes ``error: <line>`` on stderr and exit 2."""
    import functools
    import sys

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            import click

            click.echo(f"error: {exc.line()}", err=True)
            sys.exit(2)

    return wrapper
