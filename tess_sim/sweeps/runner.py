"""Plan a sweep (validate every key and every point before anything runs), run the points that
are not stored yet, and assemble the tidy table.

Sweep folder layout::

    DIR/.lock             held (flock) for the whole sweep: one sweep at a time (see :mod:`.lock`)
    DIR/sweep.json        what was swept: workload, engine, version, settings, point keys
                          (written first: it claims the folder for this sweep)
    DIR/points/KEY.json   one finished point (see :mod:`.store`)
    DIR/sweep.csv         the tidy table: one row per (point, rule); sweep.parquet with pyarrow
    DIR/sweep_NAME.csv    an extra table NAME of the runs (engines / cost models), stacked per point
    DIR/failures.json     the points that raised this time, with their settings and error
"""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tess_sim.api import ENGINES, from_dict, load
from tess_sim.simulator.atomic import write_bytes, write_text
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.workload import Workload, override_path, set_dotted
from tess_sim.sweeps import fingerprint
from tess_sim.sweeps.executors import execute
from tess_sim.sweeps.grid import build_grid, check_key, parse_set, parse_values
from tess_sim.sweeps.lock import SweepLock
from tess_sim.sweeps.store import POINTS, PointStore, canonical, point_key, remove_temporary
from tess_sim.version import __version__


@dataclass
class Point:
    """One grid point: the settings (canonical key -> value), its store key and resolved config."""

    settings: dict[str, Any]
    key: str
    config: dict


@dataclass
class SweepPlan:
    """A validated sweep: every point resolved and keyed, nothing run yet."""

    workload: str
    name: str
    engine: str
    settings: dict[str, list[Any]]
    points: list[Point]
    title: str = ""
    path: str = ""  # the workload file, absolute ("" when built in memory)

    def to_dict(self) -> dict:
        return {"tool": "tess-sim", "version": __version__, "code": fingerprint.code_hash(),
                "workload": self.workload, "workload_path": self.path, "name": self.name,
                "title": self.title or self.name, "engine": self.engine, "settings": self.settings,
                "points": [{"key": p.key, "settings": p.settings} for p in self.points]}


@dataclass
class SweepResult:
    """What a sweep run did: the table of every stored point, and what happened to each point."""

    plan: SweepPlan
    table: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    computed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # recomputed: stored by other code
    failures: dict[str, str] = field(default_factory=dict)


def resolved(wl: Workload) -> dict:
    """The fully resolved configuration of a workload (defaults filled, hardware inline, no sweep
    section, and every file it names absolute: cost-model tables, ``activity.path`` /
    ``weights`` / ``data``, ``data.path`` / ``root``): what a point's hash is computed from
    (with those files' contents, see :func:`.store.point_key`), and what a worker rebuilds it
    from, in any working directory."""
    data = wl.model_dump(mode="json", exclude_none=True, exclude={"sweep"})
    base = Path(wl.source).resolve().parent if wl.source else Path.cwd()

    def absolute(path):
        return str(base / path) if isinstance(path, str) and path and not Path(path).is_absolute() else path

    def model(spec):
        if isinstance(spec, str) and spec.endswith(fingerprint.TABLE_SUFFIXES):
            return absolute(spec)
        if isinstance(spec, dict) and isinstance(spec.get("model"), str):
            return dict(spec, model=model(spec["model"]))
        return spec

    if "cost_models" in data:
        data["cost_models"] = [model(s) for s in data["cost_models"]]
    for section, keys in (("activity", ("path", "weights", "data")), ("data", ("path", "root"))):
        for k in keys:
            if k in (data.get(section) or {}):
                data[section][k] = absolute(data[section][k])
    return data


def _settings(wl: Workload, where: str, sets: list[str] | dict[str, Any] | None) -> dict[str, list[Any]]:
    """The workload's ``sweep:`` section overridden by ``sets`` (``--set`` wins on the same key)."""
    out: dict[str, list[Any]] = {}
    for key, spec in (wl.sweep or {}).items():
        out[check_key(key, where=f"{where}: sweep")] = parse_values(key, spec, where=f"{where}: sweep")
    if isinstance(sets, dict):
        for key, spec in sets.items():
            out[check_key(key)] = parse_values(key, spec)
    else:
        for text in sets or []:
            key, values = parse_set(text)
            out[key] = values
    return out


def _describe(settings: dict[str, Any]) -> str:
    return " ".join(f"{k}={json.dumps(v)}" for k, v in settings.items()) or "(base workload)"


def plan_sweep(workload: str | Path | Workload, sets: list[str] | dict[str, Any] | None = None,
               engine: str = "analytical") -> SweepPlan:
    """Validate the keys, expand the grid and resolve every point (UserError on any mistake,
    naming the point's settings)."""
    if engine not in ENGINES:
        raise UserError("--engine", "", f"unknown engine '{engine}' (available: {', '.join(ENGINES)})")
    wl = workload if isinstance(workload, Workload) else load(workload)
    where = wl.source or "<workload>"
    settings = _settings(wl, where, sets)
    base = resolved(wl)
    folder = Path(wl.source).resolve().parent if wl.source else None
    points, seen = [], set()
    for values in build_grid(settings):
        data = base
        for key, v in values.items():
            data = set_dotted(data, key, override_path(key, v, folder), where="--set")
        try:
            pwl = from_dict(data, where)
        except UserError as exc:
            raise UserError(exc.where, exc.field, f"{exc.reason} (sweep point {_describe(values)})") from None
        pwl._source = wl.source
        config = resolved(pwl)
        key = point_key(config, engine)
        if key not in seen:
            seen.add(key)
            points.append(Point(values, key, config))
    path = str(Path(wl.source).resolve()) if wl.source else ""
    return SweepPlan(where, wl.name, engine, settings, points, wl.dataset or wl.name, path)


def build_table(plan: SweepPlan, results: dict[str, dict], name: str = "summary") -> pd.DataFrame:
    """The points' ``name`` tables stacked in grid order, each row led by the point's settings and
    key: for the summary, one row per (point, rule). Other names are the extra tables of a run."""
    rows, cols = [], list(plan.settings) + ["point"]
    for p in plan.points:
        res = results.get(p.key, {})
        tab = res.get("summary") if name == "summary" else res.get("tables", {}).get(name)
        if tab:
            cols += [c for c in tab["columns"] if c not in cols]
            rows += [{**p.settings, "point": p.key, **dict(zip(tab["columns"], row))} for row in tab["data"]]
    if not rows:
        return pd.DataFrame(columns=cols + (["rule"] if name == "summary" else []))
    return pd.DataFrame(rows, columns=cols)


def write_table(table: pd.DataFrame, out: Path) -> list[str]:
    """sweep.csv, and sweep.parquet when pyarrow is installed; returns the file names written."""
    written = [write_text(out / "sweep.csv", table.to_csv(index=False)).name]
    if importlib.util.find_spec("pyarrow") is None:  # to_parquet needs it
        return written

    buf = io.BytesIO()
    table.to_parquet(buf, index=False)
    written.append(write_bytes(out / "sweep.parquet", buf.getvalue()).name)
    return written


def _values(values: list) -> str:
    """A value list, short: ``1,2,4`` or ``1,2,3,…,63,64 (64 values)``."""
    items = [json.dumps(v, separators=(",", ":")) for v in values]
    if len(items) <= 6:
        return ",".join(items)
    return ",".join(items[:3] + ["…"] + items[-2:]) + f" ({len(items)} values)"


def describe_sweep(meta: dict, engine: bool = False) -> str:
    """``<workload> over <key>=<values> × …`` (and ``on the <engine> engine``) of a sweep.json."""
    grid = " × ".join(f"{k}={_values(v)}" for k, v in (meta.get("settings") or {}).items())
    text = f"{meta.get('workload', '?')} over {grid or '(no grid)'}"
    return text + (f" on the {meta.get('engine')} engine" if engine else "")


def _workload_id(meta: dict) -> str:
    """The absolute workload file of a sweep.json (older files: its path as given), else its name."""
    if meta.get("workload_path"):
        return meta["workload_path"]
    where = meta.get("workload")
    return str(Path(where).resolve()) if where and where != "<workload>" else f"<{meta.get('name')}>"


def extends(old: dict, new: dict) -> bool:
    """Whether sweep ``new`` is sweep ``old`` or extends it: same workload file and engine, the same
    swept keys, and every value of ``old`` still in ``new`` (a grid only grows; sweep.csv then
    holds every point ``old`` had). Anything else is another sweep."""
    o, n = old.get("settings") or {}, new.get("settings") or {}
    if _workload_id(old) != _workload_id(new) or old.get("engine") != new.get("engine") or set(o) != set(n):
        return False
    return all({canonical(v) for v in o[k]} <= {canonical(v) for v in n[k]} for k in o)


def _read_meta(path: Path) -> dict | None:
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return meta if isinstance(meta, dict) else None


def claim(plan: SweepPlan, out: Path, force: bool = False, log: Callable[[str], None] = lambda msg: None) -> None:
    """Refuse ``out`` when it holds another sweep (see :func:`extends`) unless ``force``; then write
    this sweep's sweep.json, so that even a killed first run marks the folder as its own."""
    new = json.loads(json.dumps(plan.to_dict()))  # as it reads back
    old = _read_meta(out / "sweep.json")
    if old is not None and not extends(old, new):
        engines = old.get("engine") != new["engine"]
        what = f"holds a sweep of {describe_sweep(old, engines)}; this is {describe_sweep(new, engines)}"
        if not force:
            raise UserError(str(out), "", f"{what}; use --force or another --out")
        log(f"{out}: {what}; replacing it (--force)")
    write_text(out / "sweep.json", json.dumps(plan.to_dict(), indent=1))


def run_sweep(plan: SweepPlan, out: str | Path, executor: str = "process", workers: int | None = None,
              scheduler: str | None = None, force: bool = False,
              log: Callable[[str], None] = lambda msg: None, progress=None) -> SweepResult:
    """Run the points of ``plan`` that are not stored in ``out`` yet (all of them with ``force``),
    storing each as it finishes; then write the table. ``progress`` (optional) gets
    ``start(total)``, ``advance(failed: bool, message)`` and ``close()``.

    The folder is locked for the whole call (a second sweep on it waits, then UserError); a
    folder holding another sweep is refused unless ``force`` (:func:`claim`); temporary files a
    killed sweep left are removed; a point stored by other code is recomputed (``stale``)."""
    out = Path(out)
    with SweepLock(out):
        claim(plan, out, force, log)
        left = remove_temporary(out) + remove_temporary(out / POINTS)
        if left:
            log(f"removed {len(left)} temporary file(s) an interrupted sweep left in {out}")
        return _run_locked(plan, out, executor, workers, scheduler, force, log, progress)


def _run_locked(plan: SweepPlan, out: Path, executor, workers, scheduler, force, log, progress) -> SweepResult:
    store = PointStore(out)
    res = SweepResult(plan, pd.DataFrame())
    done: dict[str, dict] = {}
    todo = []
    for p in plan.points:
        status, body = ("missing", None) if force else store.read(p.key)
        if status == "ok":
            done[p.key] = body["result"]
            res.skipped.append(p.key)
            continue
        if status == "stale":
            res.stale.append(p.key)
        elif status.startswith("corrupt"):
            res.corrupt.append(p.key)
            log(f"corrupt point file {store.path(p.key)} ({status[9:]}), recomputing: {_describe(p.settings)}")
        todo.append(p)
    by_key = {p.key: p for p in todo}
    code = fingerprint.code_hash()

    def on_done(key: str, result: dict | None, error: str | None) -> None:
        if error is None and result.get("version") != __version__:  # a cluster worker of another version
            error = f"the worker runs tess-sim {result.get('version')}, this is {__version__}"
        elif error is None and result.get("code") != code:  # same version, other code
            error = f"the worker runs other tess-sim {__version__} code ({result.get('code')}, this is {code})"
        if error is None:
            store.write(key, plan.engine, by_key[key].settings, result)
            done[key] = result
            res.computed.append(key)
            msg = None
        else:
            res.failures[key] = error
            msg = f"point failed: {_describe(by_key[key].settings)}: {error}"
            log(msg)
        if progress is not None:
            progress.advance(error is not None, msg)

    if progress is not None:
        progress.start(len(todo))
    try:
        execute(executor, [(p.key, p.config) for p in todo], plan.engine, on_done,
                workers=workers, scheduler=scheduler)
    finally:
        if progress is not None:
            progress.close()
    failures = [{"point": k, "settings": by_key[k].settings, "error": e} for k, e in res.failures.items()]
    write_text(out / "failures.json", json.dumps(failures, indent=1))
    res.table = build_table(plan, done)
    write_table(res.table, out)
    for name in sorted({n for r in done.values() for n in r.get("tables", {})}):
        res.tables[name] = build_table(plan, done, name)
        write_text(out / f"sweep_{name}.csv", res.tables[name].to_csv(index=False))
    return res


def sweep(workload: str | Path | Workload, sets: list[str] | dict[str, Any] | None = None,
          out: str | Path | None = None, engine: str = "analytical", executor: str = "process",
          workers: int | None = None, scheduler: str | None = None, force: bool = False) -> SweepResult:
    """Plan and run a sweep; the Python form of ``tess-sim sweep``.

    >>> res = sweep("workloads/dvs.yaml", {"T": "1..1024*2"}, out="out/sweep-dvs")
    >>> res.table[["input.T", "rule", "paper_memory_MB"]]
    """
    plan = plan_sweep(workload, sets, engine)
    return run_sweep(plan, out or Path("out") / f"sweep-{plan.name}", executor, workers, scheduler, force)
