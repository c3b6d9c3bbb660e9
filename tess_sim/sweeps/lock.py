"""One sweep at a time per folder: an exclusive ``flock`` on ``DIR/.lock`` held for the whole sweep.

The lock belongs to the open file, which forked pool workers share: after a SIGKILL of the sweep
it stays held until the last of its workers is gone too, so a resumed sweep never runs beside a
survivor. A second sweep waits up to :data:`WAIT` seconds, then refuses (UserError, exit 2)
naming the folder and the pid written in the lock file. Without ``fcntl`` (not POSIX), or on a
file system without ``flock``, no lock.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tess_sim.simulator.errors import UserError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK = ".lock"
WAIT = 5.0  # seconds a second sweep waits (the workers of a killed sweep die within ~0.5 s)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SweepLock:
    """``with SweepLock(folder):`` — the folder is created, locked, and the holder's pid written."""

    def __init__(self, folder: str | Path, wait: float | None = None):
        self.folder = Path(folder)
        self.wait = WAIT if wait is None else wait
        self.fd: int | None = None

    def _holder(self) -> str:
        try:
            pid = int((self.folder / LOCK).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return "a process that did not write its pid"
        if _alive(pid):
            return f"pid {pid}"
        return f"the workers of pid {pid}, which has exited"

    def __enter__(self) -> "SweepLock":
        self.folder.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            return self
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise UserError(str(self.folder), "", f"another sweep is running in this folder "
                                    f"(held by {self._holder()}); wait for it to finish or use another --out") from None
                time.sleep(0.05)
            except OSError:  # a file system without flock (ENOLCK, EOPNOTSUPP): run unlocked
                os.close(fd)
                return self
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)  # no pid of a finished sweep left behind
            fcntl.flock(self.fd, fcntl.LOCK_UN)  # for every process sharing the open file
            os.close(self.fd)
            self.fd = None
