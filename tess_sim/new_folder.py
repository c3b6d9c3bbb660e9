"""A new output folder that appears complete or not at all (written in a temporary sibling,
renamed into place at the end)."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tess_sim.simulator.atomic import _umask
from tess_sim.simulator.errors import UserError


@contextmanager
def new_folder(out):
    """Yield a temporary folder beside ``out``; on success rename it to ``out``.

    ``out`` must not exist or be an empty folder. Any failure (an exception, Ctrl-C, a full or
    read-only disk) removes the temporary folder and leaves ``out`` as it was; ``OSError``
    becomes a :class:`UserError` naming the path.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(str(out), "", "already exists and is not an empty folder; give a new "
                        "folder (nothing was written)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        os.chmod(tmp, 0o777 & ~_umask())
    except OSError as exc:
        raise UserError(str(out), "", f"cannot create the folder: {exc.strerror or exc}") from None
    try:
        yield tmp
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError(str(out), "", f"cannot write: {exc.strerror or exc}"
                        + (f" ({exc.filename})" if exc.filename else "")) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
