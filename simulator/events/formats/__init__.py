"""Event-file formats: AEDAT 3.1 (DVS Gesture), AER-DAT 2.0 (CIFAR10-DVS), ``.npy`` arrays, and
AEDAT 4 (today's iniVation cameras; through the optional ``aedat`` package).

:func:`read_events` picks the reader from the file's first bytes (``#!AER-DAT4.0``,
``#!AER-DAT3.1``, ``#!AER-DAT2.0``, the ``.npy`` magic), so a mis-named file is still read
correctly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.core import file_size
from tess_sim.simulator.events.formats import aedat4, aedat31, aerdat2, npy

FORMATS = {"aedat4": aedat4, "aedat3.1": aedat31, "aerdat2.0": aerdat2, "npy": npy}


def sniff_format(path) -> str:
    """``"aedat4"``, ``"aedat3.1"``, ``"aerdat2.0"`` or ``"npy"`` from the first bytes of
    ``path``."""
    file_size(path)
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(b"#!AER-DAT4"):
        return "aedat4"
    if head.startswith(b"#!AER-DAT3"):
        return "aedat3.1"
    if head.startswith(b"#!AER-DAT2"):
        return "aerdat2.0"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    raise UserError(str(path), "byte 0", "unknown event file format: expected a '#!AER-DAT4.0', "
                    "'#!AER-DAT3.1' or '#!AER-DAT2.0' header or a .npy file, found "
                    f"{head[:12]!r}")


def read_events(path, **options) -> np.ndarray:
    """Read a whole event file into an :data:`~tess_sim.simulator.events.core.EVENT_DTYPE` array.

    ``options`` go to the format's reader (``convention=`` for AER-DAT 2.0, ``stream=`` for
    AEDAT 4).
    """
    fmt = sniff_format(path)
    return FORMATS[fmt].read(Path(path), **options)


__all__ = ["read_events", "sniff_format", "aedat4", "aedat31", "aerdat2", "npy", "FORMATS"]
