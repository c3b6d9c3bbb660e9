"""Reading a user's ``.npz`` archive safely (W.npz, D.npz).

Only the members asked for are read; each member's shape and dtype come from its ``.npy`` header
and are checked (by the caller, and against :data:`MAX_ARRAY_BYTES`) *before* any data is read,
so a small archive whose header claims a huge array cannot exhaust memory. Object arrays are
refused (loading them would unpickle). Every mistake is a UserError naming the file and member.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from tess_sim.simulator.errors import UserError

MAX_ARRAY_BYTES = 2 * 2**30
"""Largest array read from a user archive, counted as its float64 copy in memory (bytes)."""
_NPY_MAGIC = b"\x93NUMPY"
_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError)


@dataclass(frozen=True)
class Header:
    """What a member's ``.npy`` header claims (shape, dtype), where its data starts and the
    member's size in the archive (bytes, uncompressed)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    data_offset: int
    member_bytes: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)


class NpzArchive:
    """An open ``.npz`` (a zip of ``.npy`` members): ``keys``, :meth:`header`, :meth:`read`."""

    def __init__(self, path):
        self.path = str(path)
        p = Path(path)
        if not p.exists():
            raise UserError(self.path, "", "file not found")
        if p.is_dir():
            raise UserError(self.path, "", "is a folder, not an .npz file")
        with open(p, "rb") as fh:
            head = fh.read(len(_NPY_MAGIC))
        if not head:
            raise UserError(self.path, "", "empty file (0 bytes), not an .npz archive")
        if head == _NPY_MAGIC:
            raise UserError(self.path, "", "is a single .npy array, not an .npz archive of named arrays "
                            "(write it with numpy.savez)")
        try:
            self._zip = zipfile.ZipFile(p)
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise UserError(self.path, "", f"not an .npz archive (a zip of .npy arrays): {e}") from None
        self._members = {n[:-4] if n.endswith(".npy") else n: n for n in self._zip.namelist()}
        self.keys = list(self._members)

    def __enter__(self) -> "NpzArchive":
        return self

    def __exit__(self, *exc) -> None:
        self._zip.close()

    def _fail(self, key: str, reason: str) -> UserError:
        return UserError(self.path, key, reason)

    def header(self, key: str) -> Header:
        """The member's header, checked to be a real-number dtype (no objects). Reads no data."""
        info = self._zip.getinfo(self._members[key])
        try:
            with self._zip.open(info) as fp:
                version = npy_format.read_magic(fp)
                if version == (1, 0):
                    shape, fortran, dtype = npy_format.read_array_header_1_0(fp)
                elif version == (2, 0):
                    shape, fortran, dtype = npy_format.read_array_header_2_0(fp)
                else:
                    raise self._fail(key, f"unsupported .npy format version {version[0]}.{version[1]}")
                offset = fp.tell()
        except UserError:
            raise
        except _READ_ERRORS + (SyntaxError,) as e:
            raise self._fail(key, f"not a readable .npy member: {str(e).splitlines()[0] if str(e) else e!r}") from None
        if dtype.hasobject:
            raise self._fail(key, "holds Python objects: refused (loading it would unpickle)")
        if dtype.kind not in "biuf":
            raise self._fail(key, f"dtype {dtype} is not a real number type")
        return Header(tuple(int(n) for n in shape), dtype, offset, info.file_size)

    def read(self, key: str, header: Header | None = None) -> np.ndarray:
        """The member's array; first its header is checked against the size cap and the bytes
        the member holds. Never unpickles."""
        h = header or self.header(key)
        self.check_size(key, h)
        try:
            with self._zip.open(self._members[key]) as fp:
                return npy_format.read_array(fp, allow_pickle=False)
        except _READ_ERRORS as e:
            raise self._fail(key, f"not a readable .npy member: {str(e).splitlines()[0] if str(e) else e!r}") from None

    def check_size(self, key: str, h: Header) -> None:
        """The claimed array within :data:`MAX_ARRAY_BYTES` and exactly the bytes the member holds."""
        if h.size * max(8, h.dtype.itemsize) > MAX_ARRAY_BYTES:
            raise self._fail(key, f"header claims shape {list(h.shape)} ({h.size * 8 / 2**30:.3g} GiB as float64), "
                             f"more than the {MAX_ARRAY_BYTES / 2**30:g} GiB limit")
        if h.member_bytes != h.data_offset + h.size * h.dtype.itemsize:
            raise self._fail(key, f"header claims shape {list(h.shape)} ({h.size * h.dtype.itemsize} bytes of data), "
                             f"the member holds {h.member_bytes - h.data_offset}: truncated or corrupt")
