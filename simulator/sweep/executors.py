"""Executors: run point tasks serially, on local processes, or on a Dask ``distributed``
cluster, and hand each outcome to a callback in the main process *as it finishes* (the callback
stores it at once, so an interrupt loses only the points in flight).

Every executor calls the same pure function :func:`compute_point` on the same inputs, so results
are identical bit for bit whatever the executor.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed

from ..errors import UserError
from .point import compute_point

EXECUTORS = ("serial", "process", "dask")

# (key, config) in; on_done(key, result or None, error message or None)
Task = tuple[str, dict]
OnDone = Callable[[str, dict | None, str | None], None]


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


def run_serial(tasks: Iterable[Task], engine: str, on_done: OnDone, **_) -> None:
    """One point after the other in this process."""
    for key, config in tasks:
        try:
            result = compute_point(config, engine)
        except Exception as exc:  # a failing point is reported, the others go on
            on_done(key, None, _error(exc))
        else:
            on_done(key, result, None)


def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the main process (which stops the sweep cleanly), so that an
    idle worker does not print a KeyboardInterrupt traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_process(tasks: Iterable[Task], engine: str, on_done: OnDone, workers: int | None = None, **_) -> None:
    """A local process pool (``workers`` processes, default all cores)."""
    tasks = list(tasks)
    if not tasks:
        return
    n = min(workers or os.cpu_count() or 1, len(tasks))
    pool = ProcessPoolExecutor(max_workers=n, initializer=_ignore_sigint)
    try:
        futures = {pool.submit(compute_point, config, engine): key for key, config in tasks}
        for fut in as_completed(futures):
            exc = fut.exception()
            on_done(futures[fut], None if exc else fut.result(), _error(exc) if exc else None)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def run_dask(tasks: Iterable[Task], engine: str, on_done: OnDone, workers: int | None = None,
             scheduler: str | None = None, **_) -> None:
    """A Dask ``distributed`` cluster at ``scheduler`` (tcp://HOST:PORT), or a local cluster of
    ``workers`` single-threaded processes when no scheduler is given. Workers must be able to
    import this package (same version)."""
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise UserError("--executor", "dask", "needs the 'distributed' package "
                        "(pip install 'tess-sim[dask]')") from None
    tasks = list(tasks)
    if not tasks:
        return
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="20s")
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        raise UserError("--scheduler", scheduler or "", f"cannot reach the Dask scheduler: {exc}") from None
    try:
        futures = {client.submit(compute_point, config, engine, key=f"tess-sim-point-{key}", pure=False): key
                   for key, config in tasks}
        for fut in dask_completed(list(futures)):
            key = futures[fut]
            if fut.status == "finished":
                on_done(key, fut.result(), None)
            else:
                on_done(key, None, _error(fut.exception()))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


RUNNERS = {"serial": run_serial, "process": run_process, "dask": run_dask}


def execute(executor: str, tasks: Iterable[Task], engine: str, on_done: OnDone, **options) -> None:
    """Run ``tasks`` on the named executor (see :data:`EXECUTORS`)."""
    if executor not in RUNNERS:
        raise UserError("--executor", executor, f"unknown executor (available: {', '.join(EXECUTORS)})")
    RUNNERS[executor](tasks, engine, on_done, **options)
