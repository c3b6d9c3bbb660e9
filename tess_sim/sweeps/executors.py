"""Executors: run point tasks serially, on local processes, or on a Dask ``distributed``
cluster, and hand each outcome to a callback in the main process *as it finishes* (the callback
stores it at once, so an interrupt loses only the points in flight).

Every executor calls the same pure function :func:`compute_point` on the same inputs, so results
are identical bit for bit whatever the executor.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from tess_sim.children import init_child
from tess_sim.simulator.errors import UserError
from tess_sim.sweeps.point import compute_point

EXECUTORS = ("serial", "process", "dask")

# (key, config) in; on_done(key, result or None, error message or None)
Task = tuple[str, dict]
OnDone = Callable[[str, dict | None, str | None], None]


class Interrupts:
    """Ctrl-C during a sweep, made safe: the first SIGINT only sets a flag that the executors check
    between points (so no pool or queue internals are interrupted half-way, which can hang the
    exit); a second SIGINT interrupts at once. Inactive outside the main thread, and when SIGINT
    is ignored (a background job)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self) -> "Interrupts":
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, None):
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def check(self) -> None:
        """Raise KeyboardInterrupt here (a safe point) if Ctrl-C was pressed."""
        if self.requested:
            raise KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


def run_serial(tasks: Iterable[Task], engine: str, on_done: OnDone, stop: Interrupts | None = None,
               **_) -> None:
    """One point after the other in this process (Ctrl-C: after the point in flight)."""
    for key, config in tasks:
        if stop is not None:
            stop.check()
        try:
            result = compute_point(config, engine)
        except Exception as exc:  # a failing point is reported, the others go on
            on_done(key, None, _error(exc))
        else:
            on_done(key, result, None)


def run_process(tasks: Iterable[Task], engine: str, on_done: OnDone, workers: int | None = None,
                stop: Interrupts | None = None, **_) -> None:
    """A local process pool (``workers`` processes, default all cores). Ctrl-C cancels the queued
    points; the ones in flight finish in their workers and are not stored. Workers die with this
    process (see :func:`tess_sim.children.init_child`)."""
    tasks = list(tasks)
    if not tasks:
        return
    n = min(workers or os.cpu_count() or 1, len(tasks))
    parent = os.getpid() if multiprocessing.get_start_method() in ("fork", "spawn") else None
    pool = ProcessPoolExecutor(max_workers=n, initializer=init_child, initargs=(parent,))
    try:
        futures = {pool.submit(compute_point, config, engine): key for key, config in tasks}
        pending = set(futures)
        while pending:
            if stop is not None:
                stop.check()
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                exc = fut.exception()
                on_done(futures[fut], None if exc else fut.result(), _error(exc) if exc else None)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def run_dask(tasks: Iterable[Task], engine: str, on_done: OnDone, workers: int | None = None,
             scheduler: str | None = None, stop: Interrupts | None = None, **_) -> None:
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
            if stop is not None:
                stop.check()
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
    """Run ``tasks`` on the named executor (see :data:`EXECUTORS`); Ctrl-C raises
    KeyboardInterrupt at the next safe point (see :class:`Interrupts`)."""
    if executor not in RUNNERS:
        raise UserError("--executor", executor, f"unknown executor (available: {', '.join(EXECUTORS)})")
    with Interrupts() as stop:
        RUNNERS[executor](tasks, engine, on_done, stop=stop, **options)
