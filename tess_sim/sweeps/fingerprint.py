"""What a stored sweep point depends on besides its resolved configuration: the code that computed
it (:func:`code_hash`) and the files the configuration names (:func:`input_digests`).

* The code hash is a SHA-256 over every source and data file of the installed packages
  (``tess_sim`` and its ``simulator``, ``cost_models``, ``reports``, ``workloads``), found where Python imports them from
  (an editable checkout or site-packages alike), without importing them. Computed once per process
  (~10 ms for ~100 files).
* A file the configuration refers to (a cost-model table, an activity CSV, a W.npz / D.npz, a
  hardware file left by reference) is hashed by content, once per process per (path, size,
  mtime); a dataset folder (``data.root``) by its listing (relative path, size, mtime of every file),
  since hashing gigabytes of recordings per sweep is not cheap.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from pathlib import Path

PACKAGES = ("tess_sim", "tess_sim.simulator", "tess_sim.cost_models", "tess_sim.reports", "tess_sim.workloads")
SUFFIXES = (".py", ".yaml", ".yml", ".csv", ".json")  # code and the data shipped with it
TABLE_SUFFIXES = (".yaml", ".yml")  # a cost-model spec ending so is a table file


def package_files(packages=PACKAGES) -> list[tuple[str, Path]]:
    """(name relative to the package's parent, path) of every code/data file of ``packages``,
    sorted; a package that is not importable is skipped."""
    out = []
    for name in packages:
        spec = importlib.util.find_spec(name)
        for loc in (spec.submodule_search_locations or []) if spec else []:
            root = Path(loc)
            for dirpath, dirs, files in os.walk(root):
                # subpackages listed in ``packages`` are walked under their own name
                dirs[:] = sorted(d for d in dirs if d != "__pycache__"
                                 and f"{name}.{d}" not in packages)
                for f in files:
                    if f.endswith(SUFFIXES):
                        p = Path(dirpath) / f
                        out.append((f"{name}/{p.relative_to(root).as_posix()}", p))
    return sorted(out)


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """SHA-256 (hex, first 16 chars) of the names and contents of :func:`package_files`."""
    h = hashlib.sha256()
    for rel, path in package_files():
        data = path.read_bytes()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=4096)
def _digest(path: str, size: int, mtime_ns: int, is_dir: bool) -> str:
    h = hashlib.sha256()
    if not is_dir:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return "sha256:" + h.hexdigest()
    for dirpath, dirs, files in os.walk(path):
        dirs.sort()
        for f in sorted(files):
            st = os.stat(os.path.join(dirpath, f))
            rel = os.path.relpath(os.path.join(dirpath, f), path)
            h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return "listing:" + h.hexdigest()


def file_digest(path: str | Path) -> str:
    """The content hash of a file (``sha256:…``), the listing hash of a folder (``listing:…``),
    or ``missing``."""
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    from stat import S_ISDIR

    return _digest(str(path), st.st_size, st.st_mtime_ns, S_ISDIR(st.st_mode))


def input_files(config: dict) -> list[str]:
    """The files a resolved workload configuration reads at run time (paths as written in it):
    cost-model tables, ``activity.path`` (file), ``activity.weights`` / ``activity.data`` and, when
    measured activity reads the ``data`` section, ``data.path`` / ``data.root``; a hardware file
    still given by reference; a NIR graph (``network.nir``)."""
    out: list[str] = []
    for spec in config.get("cost_models") or []:
        model = spec.get("model") if isinstance(spec, dict) else spec
        if isinstance(model, str) and model.endswith(TABLE_SUFFIXES):
            out.append(model)
    act = config.get("activity") or {}
    if act.get("source") == "file":
        out.append(act.get("path"))
    if act.get("source") == "measured":
        out += [act.get("weights"), act.get("data")]
        data = config.get("data") or {}
        if not act.get("data"):
            out += [data.get("path"), data.get("root")]
    if isinstance(config.get("hardware"), str):
        out.append(config["hardware"])
    net = config.get("network") or {}
    if isinstance(net, dict):
        out.append(net.get("nir"))  # a NIR graph: its layers and, by default, the measured weights
    return [p for p in out if isinstance(p, str) and p]


def input_digests(config: dict) -> dict[str, str]:
    """{path: :func:`file_digest`} for :func:`input_files` of ``config``."""
    return {p: file_digest(p) for p in input_files(config)}

