"""Sweep progress: a tqdm bar (points done, ETA, failures) on a terminal, silent when piped.
Failure messages are always printed (above the bar on a terminal)."""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    """The ``progress`` object :func:`simulator.sweep.run_sweep` expects."""

    def __init__(self, stream=None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.bar = None
        self.failed = 0

    def start(self, total: int) -> None:
        if self.enabled and total:
            self.bar = tqdm(total=total, unit="point", file=self.stream, dynamic_ncols=True,
                            desc="sweep", bar_format="{desc}: {n}/{total} points |{bar}| "
                            "{elapsed}<{remaining} ETA{postfix}")

    def advance(self, failed: bool, message: str | None = None) -> None:
        self.failed += failed
        if self.bar is not None:
            if failed:
                self.bar.set_postfix_str(f"{self.failed} failed", refresh=False)
            self.bar.update(1)

    def note(self, message: str) -> None:
        """A line the user must see (a failure, a corrupt file), kept clear of the bar."""
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
