"""Atomic output: write to a temporary file in the target folder, then rename over the target,
so that a crash, a full disk or a read-only folder never leaves a truncated file behind.

Every failure of a write the user's path can cause (read-only, full, no permission, a file where a
folder is needed, ...; see :data:`simulator.errors.WRITE_ERRNOS`) is raised as a UserError naming
the path (exit 2 in the CLI).
"""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tess_sim.simulator.errors import is_write_error, write_error


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_folder(path: str | Path) -> Path:
    """``mkdir -p path``; a write error (a file in the way, read-only, ...) as a UserError."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise write_error(FileExistsError(17, "exists", str(path)), path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise (write_error(exc, path) if is_write_error(exc) else exc) from None
    return path


def _finish(fh) -> None:
    """Flush a temporary output to the disk (the step where a full disk shows; tests patch it)."""
    fh.flush()
    os.fsync(fh.fileno())


@contextmanager
def atomic_output(path: str | Path):
    """Open a temporary binary file next to ``path`` (parent folders are created); rename it
    onto ``path`` on success. An exception leaves ``path`` untouched; a write error becomes a
    UserError naming ``path``."""
    path = Path(path)
    make_folder(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise (write_error(exc, path) if is_write_error(exc) else exc) from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
        with os.fdopen(fd, "wb") as fh:
            yield fh
            _finish(fh)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if is_write_error(exc) and exc.errno != errno.ENOENT:
            raise write_error(exc, path) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_output(path) as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))
