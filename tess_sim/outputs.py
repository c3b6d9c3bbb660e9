"""Output folders that appear complete or not at all, and output paths checked before the work.

Every output folder is written through :func:`staged_folder`: its files go into a temporary
sibling folder (``out/.<name>.XXXX.tmp``) that is renamed onto ``out/<name>`` at the end. A run
folder (``tess-sim run``) replaces the files an earlier run wrote there (:data:`RUN_FILES`) as a
set; any other file in the folder (e.g. ``tess-sim train``'s ``weights_<rule>.npz`` and
``training.csv``, which share the default folder) is carried over into the new folder, and the
old folder is deleted only after the rename. A new folder (:func:`new_folder`, ``tess-sim data
synth``) is the same, for a folder that must not exist yet (or be empty).
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tess_sim import interrupt
from tess_sim.simulator.atomic import _umask, make_folder
from tess_sim.simulator.errors import InternalError, UserError, is_write_error, write_error

if TYPE_CHECKING:  # annotations only: writing a folder does not need pandas
    import pandas as pd

RUN_FILES = frozenset({"summary.csv", "ledger.csv", "energy.csv", "energy_breakdown.csv", "results.json",
                       "activity.csv", "placement.csv", "timing.csv", "mapping.csv", "complexity.png", "report.html",
                       "report.md", "densities.csv", "energy_dense_bound.csv", "neurobench.csv"})


def _os(call, path, *args):
    """``call(*args)``; a write error as a UserError naming ``path``."""
    try:
        return call(*args)
    except OSError as exc:
        if is_write_error(exc):
            raise write_error(exc, path) from None
        raise


def check_folder(path: str | Path) -> Path:
    """An output folder the command will be able to write into, checked before any work and
    without creating anything: ``path`` is a folder or missing (missing parents are created at
    write time), and the nearest existing folder above it accepts a new file. A UserError naming
    the path otherwise (a file in the way, read-only, full, no permission, /proc, ...)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(str(path), "", "cannot write: exists and is not a folder")
    base = path
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise UserError(str(path), "", f"cannot write: {base} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(".tmp", ".probe.", str(base))
    except OSError as exc:
        if exc.errno == errno.ENOENT:  # an existing folder that takes no files (/proc)
            raise UserError(str(path), "", f"cannot write: {base} accepts no new files") from None
        raise (write_error(exc, path) if is_write_error(exc) else exc) from None
    os.close(fd)
    os.unlink(probe)
    return path


def check_file(path: str | Path) -> Path:
    """An output file the command will be able to write (see :func:`check_folder`)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(str(path), "", "cannot write: is a folder (give a file name)")
    try:
        check_folder(path.parent)
    except UserError as exc:  # name the file asked for
        raise UserError(str(path), "", exc.reason) from None
    return path


def checked_output(name: str, kind: str = "folder"):
    """Decorator of a command: check the output path of keyword ``name`` (when given) before the
    command does any work (:func:`check_folder` / :func:`check_file`): a bad path is exit 2,
    nothing written. Put it below ``@user_errors``."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if kwargs.get(name) is not None:
                (check_file if kind == "file" else check_folder)(kwargs[name])
            return fn(*args, **kwargs)

        return wrapper

    return deco


def check_run_folder(path: str | Path) -> Path:
    """A run folder (:func:`staged_folder` replaces it whole): :func:`check_folder`, and not the
    current folder or one that holds it, which cannot be replaced under the user's feet."""
    path = check_folder(path)
    here, full = Path.cwd().resolve(), Path(os.path.abspath(path)).resolve()
    if full == here or full in here.parents:
        raise UserError(str(path), "", "is the current folder or holds it: a run's folder is replaced whole "
                        "when the run ends; give the run a folder of its own (e.g. --out out/run)")
    return path


@contextmanager
def staged_folder(out: str | Path, keep_foreign: bool = True):
    """Yield a temporary sibling folder of ``out``; on success it replaces ``out`` (see the
    module docstring), on any exception (Ctrl-C included) it is deleted and ``out`` untouched.
    A write error inside the block is a UserError naming ``out``."""
    check_run_folder(out)
    shown, out = Path(out), Path(os.path.abspath(out))  # "a/." and "sub/.." name their folder
    if out.exists() and not out.is_dir():
        raise UserError(str(shown), "", "cannot write: exists and is not a folder")
    make_folder(out.parent)
    tmp = Path(_os(tempfile.mkdtemp, out, ".tmp", f".{out.name}.", str(out.parent)))
    _os(os.chmod, out, tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; outputs get the usual permissions

    def named(path: str) -> str:  # the path the user asked for, not the temporary folder
        return str(shown) + path[len(str(tmp)):] if path.startswith(str(tmp)) else path

    try:
        yield tmp
        if interrupt.fired():  # Ctrl-C that the work swallowed: commit nothing
            raise KeyboardInterrupt
        _commit(tmp, out, keep_foreign)
    except UserError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.where.startswith(str(tmp)):
            raise UserError(named(exc.where), exc.field, exc.reason) from None
        raise
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if not is_write_error(exc):
            raise
        raise UserError(str(shown), "", f"cannot write: {exc.strerror or exc}"
                        + (f" ({named(str(exc.filename))})" if exc.filename else "")) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def new_folder(out: str | Path):
    """:func:`staged_folder` for a folder that must not exist yet or be empty (nothing of an
    earlier one is replaced): a UserError, before anything is written, otherwise."""
    path = Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UserError(str(path), "", "already exists and is not an empty folder; give a new "
                        "folder (nothing was written)")
    with staged_folder(path) as tmp:
        yield tmp


@contextmanager
def removed_if_empty(folder: str | Path):
    """On an exception, remove ``folder`` and the parents this block created, if left empty
    (a failed or interrupted command leaves no empty output folder behind)."""
    folder = Path(folder)
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    try:
        yield folder
    except BaseException:
        for p in missing:  # deepest first
            try:
                p.rmdir()
            except OSError:
                break
        raise


def _commit(tmp: Path, out: Path, keep_foreign: bool) -> None:
    """Rename ``tmp`` onto ``out``; an existing ``out`` is moved aside first (its foreign files
    moved into ``tmp``) and deleted after the rename succeeded; on failure it is restored."""
    if not out.exists():
        _os(os.rename, out, tmp, out)
        return
    moved = []
    old = Path(_os(tempfile.mkdtemp, out, ".old", f".{out.name}.", str(out.parent)))
    try:
        if keep_foreign:
            for entry in sorted(os.listdir(out)):
                if entry not in RUN_FILES and not (tmp / entry).exists():
                    _os(os.rename, out / entry, out / entry, tmp / entry)
                    moved.append(entry)
        _os(os.rename, out, out, old)  # onto the empty folder ``old``
    except BaseException:
        for entry in moved:
            os.rename(tmp / entry, out / entry)
        os.rmdir(old)
        raise
    try:
        _os(os.rename, out, tmp, out)
    except BaseException:
        os.rename(old, out)
        for entry in moved:
            os.rename(tmp / entry, out / entry)
        raise
    shutil.rmtree(old, ignore_errors=True)


# result columns where NaN means "not priced / not applicable" (an empty CSV cell); inf never passes
NOT_APPLICABLE = {"energy": {"leakage", "seconds", "per_sop", "per_sop_dynamic", "total_vs_bptt"},
                  "energy_breakdown": {"power_mw", "energy"}, "summary": {"history_max_T"}}


def result_tables(res, costs) -> dict[str, pd.DataFrame | None]:
    """The tables of a run (``simulator.api.Results``) and its cost report that are written out,
    by name, for :func:`check_finite`."""
    return {"summary": res.summary, "ledger": res.ledger, "energy": costs.summary,
            "energy_breakdown": costs.breakdown, "timing": res.timing, "placement": res.placement}


def check_finite(tables: dict[str, pd.DataFrame | None], allow_nan: dict[str, set[str]] | None = None) -> None:
    """Every number in every table is finite, else an InternalError naming the table, column
    and row (checked before anything is written). ``allow_nan[table]``: columns where NaN means
    "not priced / not applicable" (an empty CSV cell); inf is never allowed."""
    allow_nan = allow_nan or {}
    for name, df in tables.items():
        if df is None:
            continue
        num = df.select_dtypes(include="number")
        for col in num.columns:
            v = num[col].to_numpy(dtype=float)
            bad = np.isinf(v) if col in allow_nan.get(name, ()) else ~np.isfinite(v)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InternalError(f"{name}: column '{col}' has the non-finite value {v[i]} "
                                    f"(row {df.index[i]!r}); nothing was written")
