"""Ctrl-C, remembered: the CLI's SIGINT handler raises KeyboardInterrupt as Python's default does
and also notes that it fired, so an interrupt that a library turned into another exception
(pandas' JSON writer reports one as "Maximum recursion level reached") or swallowed still ends
the command as interrupted (exit 130) and no output folder is committed after it."""

from __future__ import annotations

import signal
from contextlib import contextmanager

_fired = False


def _on_sigint(signum, frame):
    global _fired
    _fired = True
    raise KeyboardInterrupt


@contextmanager
def watched():
    """Within the block SIGINT is noted (:func:`fired`) and raises KeyboardInterrupt; after it,
    the previous handler is back and nothing is noted (main thread only: elsewhere, as in an
    embedding application's worker thread, the block runs unwatched)."""
    global _fired
    _fired = False
    try:
        previous = signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:
        previous = None
    try:
        yield
    finally:
        _fired = False
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def fired() -> bool:
    """True once SIGINT arrived inside :func:`watched`."""
    return _fired
