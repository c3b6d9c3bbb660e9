"""Child processes: the set-up every worker process of ours runs (Ctrl-C left to the main
process, death with the parent), and :class:`Background`, one piece of work done in a forked
child while the main process goes on — the run command draws complexity.png on the second core
while the SimPy engine simulates on the first."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL = 0.25  # seconds between parent checks where prctl is unavailable
#: where a child can be forked cheaply and safely (it shares the parent's memory; nothing is
#: pickled on the way in). Elsewhere (macOS, Windows) :class:`Background` works in the caller.
FORK = sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _set_pdeathsig(sig: int = signal.SIGKILL) -> bool:
    """Linux: have the kernel send ``sig`` to this process when its parent dies. False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(ppid: int, poll: float = POLL) -> threading.Thread:
    """The portable fallback: a daemon thread that kills this process once its parent is no
    longer ``ppid`` (re-parented to init or a subreaper: the parent died)."""
    def watch() -> None:
        while os.getppid() == ppid:
            time.sleep(poll)
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))

    t = threading.Thread(target=watch, name="tess-sim-parent-watch", daemon=True)
    t.start()
    return t


def init_child(parent: int | None) -> None:
    """Worker set-up: leave Ctrl-C to the main process (which stops cleanly, and an idle worker
    prints no KeyboardInterrupt traceback), and die with the parent (SIGKILL at once: workers hold
    no output files, the main process alone writes them). ``parent``: the pid the worker must
    have as parent (None: forkserver, whose server dies with the main process and so takes its
    workers along)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ppid = os.getppid()
    if not _set_pdeathsig():
        _watch_parent(ppid)
    if parent is not None and os.getppid() != parent:  # the parent died before the watch began
        os._exit(1)


def _work(send, fn: Callable[..., Any], args: tuple, parent: int) -> None:
    """The child's body: ``fn(*args)`` and its outcome (value, or exception and traceback text)
    sent back through the pipe."""
    init_child(parent)
    try:
        outcome = (True, fn(*args), "")
    except BaseException as exc:  # noqa: BLE001 -- every failure goes back to the parent
        outcome = (False, exc, traceback.format_exc())
    try:
        send.send(outcome)
    except Exception as exc:  # the value or the exception does not pickle: say so
        send.send((False, RuntimeError(f"background result could not be sent: {exc}"), outcome[2]))
    finally:
        send.close()


class Background:
    """``fn(*args)`` computed in a forked child process while this one goes on; :meth:`result`
    waits for its value, or raises here the exception it raised (a :class:`UserError` stays one,
    so the CLI still exits 2 with its line). Without fork (:data:`FORK`, or ``fork=False``)
    :meth:`result` calls ``fn`` itself, so both paths give the same value. Use it as a context
    manager: leaving the block (an error, Ctrl-C) stops a child whose result was not collected."""

    def __init__(self, fn: Callable[..., Any], *args: Any, fork: bool | None = None):
        self.fn, self.args = fn, args
        self._proc = self._recv = None
        if FORK if fork is None else fork:
            ctx = multiprocessing.get_context("fork")
            self._recv, send = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(target=_work, args=(send, fn, args, os.getpid()), daemon=True,
                                     name=f"tess-sim-{getattr(fn, '__name__', 'work')}")
            self._proc.start()
            send.close()  # the child holds the only write end: its death is an EOF here

    def result(self) -> Any:
        """The value of ``fn(*args)``, waiting for the child (it runs once: a second call is an
        error, not a second computation)."""
        if self._recv is None:
            return self.fn(*self.args)
        if self._proc is None:
            raise RuntimeError("Background.result() was already called")
        proc, self._proc = self._proc, None
        try:
            ok, value, text = self._recv.recv()
        except EOFError:
            proc.join()
            raise RuntimeError(f"the background process {proc.name} ended (exit code {proc.exitcode}) "
                               "without a result") from None
        finally:
            self._recv.close()
        proc.join()
        if ok:
            return value
        if text and hasattr(value, "add_note"):  # Python 3.11+
            value.add_note(f"in the background process:\n{text.rstrip()}")
        raise value

    def close(self) -> None:
        """Stop the child if its result was not collected."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._recv.close()
            self._proc = None

    def __enter__(self) -> "Background":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
