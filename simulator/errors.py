"""User-facing errors: one line naming the file, the field path and the reason.

The CLI turns a :class:`UserError` into that line on stderr and exit code 2; an
:class:`InternalError` (a bug: e.g. a non-finite number in a result table) into one line and exit
code 1; anything else is an internal error too (exit code 1, with its traceback).
"""

from __future__ import annotations

import errno
import os

# errno of an output that cannot be written, and how the one-line message says it
WRITE_ERRNOS = {
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENAMETOOLONG: "file name too long",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "is a folder",
    errno.EEXIST: "exists and is not a folder",
    errno.ENOENT: "cannot be created (no such file or folder)",
    errno.EFBIG: "file too large",
    errno.EIO: "input/output error",
}


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

    def __reduce__(self):  # pickled by its parts (a background process sends it back whole)
        return type(self), (self.where, self.field, self.reason)

    def line(self) -> str:
        """The one-line message: ``FILE: FIELD: REASON`` (FIELD omitted when empty)."""
        parts = [self.where] + ([self.field] if self.field else []) + [self.reason]
        return ": ".join(parts).replace("\n", " ")


class InternalError(Exception):
    """A bug detected before it reaches a file (e.g. a NaN in a result table): exit code 1."""


def is_write_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an OSError that an output folder or file the user chose can cause."""
    return isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS


def write_error(exc: OSError, path: str | os.PathLike | None = None, what: str = "cannot write") -> UserError:
    """The UserError of a failed write: ``PATH: cannot write: REASON`` (``path`` defaults to the
    file the OSError names)."""
    where = path if path is not None else (exc.filename or "<output>")
    reason = WRITE_ERRNOS.get(exc.errno) or (exc.strerror or str(exc)).lower()
    return UserError(str(where), "", f"{what}: {reason}" if what else reason)


def exit_2_on_user_error(fn):
    """Decorator for CLI commands: a UserError (or an OSError of a write, see
    :data:`WRITE_ERRNOS`) becomes ``error: <line>`` on stderr and exit 2; an InternalError
    ``internal error: <message>`` and exit 1."""
    import functools
    import sys

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import click

        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            click.echo(f"error: {exc.line()}", err=True)
            sys.exit(2)
        except InternalError as exc:
            click.echo("internal error: " + str(exc).replace("\n", " "), err=True)
            sys.exit(1)
        except OSError as exc:
            if not is_write_error(exc) or exc.errno == errno.ENOENT:  # ENOENT: a bug unless at a write
                raise
            click.echo(f"error: {write_error(exc, what='').line()}", err=True)
            sys.exit(2)

    return wrapper
