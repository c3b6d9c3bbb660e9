"""Ctrl-C, remembered: the CLI's SIGINT handler raises KeyboardInterrupt as Python's default does
and also notes that it fired, so an interrupt that a library turned into another exception
(pandas' JSON writer reports one as "Maximum recursion level reached") or swallowed still ends
the command as interrupted (exit 130) and no output folder is committed after it."""

from __future__ import annotations

import signal

_fired = False


def _on_sigint(signum, frame):
    global _fired
    _fired = True
    raise KeyboardInterrupt


def watch() -> None:
    """Install the handler (main thread only: the CLI calls this before running a command)."""
    global _fired
    _fired = False
    try:
        signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread (an embedding application's worker): leave it
        pass


def fired() -> bool:
    """True once SIGINT arrived after :func:`watch`."""
    return _fired
