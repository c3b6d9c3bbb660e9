"""The point store: one JSON file per finished point, named by the hash of its resolved
configuration and of the files it names, written atomically, checked on read.

A point file holds ``{"key", "version", "code", "engine", "settings", "result", "digest"}`` where
``code`` is the :func:`~.fingerprint.code_hash` of the code that computed it and ``digest`` the
SHA-256 of the canonical JSON of everything else; a file that does not parse, whose key does not
match its name, or whose digest does not match is *corrupt*; one computed by other code (another
version, or the same version edited) is *stale*. Both are reported and recomputed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tess_sim.version import __version__
from tess_sim.simulator.atomic import write_text
from tess_sim.sweeps import fingerprint

POINTS = "points"


def canonical(obj: Any) -> str:
    """Canonical JSON (sorted keys, no spaces); floats as Python's shortest round-trip repr."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def point_key(config: dict, engine: str) -> str:
    """The point's identity: SHA-256 (hex, first 24 chars) of the resolved workload, the engine
    and the content of every file the workload names (:func:`~.fingerprint.input_digests`).
    The code is not in the key but in the stored point (so a code change is told apart from a
    new point, and recomputes the point in place)."""
    blob = canonical({"tool": "tess-sim", "engine": engine, "workload": config,
                      "inputs": fingerprint.input_digests(config)})
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class PointStore:
    """The ``points/`` folder of a sweep directory."""

    def __init__(self, root: str | Path):
        self.dir = Path(root) / POINTS

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def write(self, key: str, engine: str, settings: dict, result: dict) -> Path:
        """Store a finished point atomically."""
        body = {"key": key, "version": __version__, "code": fingerprint.code_hash(), "engine": engine,
                "settings": settings, "result": result}
        body["digest"] = hashlib.sha256(canonical(body).encode()).hexdigest()
        return write_text(self.path(key), canonical(body))

    def read(self, key: str) -> tuple[str, dict | None]:
        """(status, body): status ``missing``, ``ok``, ``stale`` (computed by other code) or
        ``corrupt: <why>``."""
        p = self.path(key)
        if not p.exists():
            return "missing", None
        try:
            body = json.loads(p.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            return f"corrupt: {type(exc).__name__}", None
        if not isinstance(body, dict) or "digest" not in body:
            return "corrupt: no digest", None
        digest = body.pop("digest")
        if hashlib.sha256(canonical(body).encode()).hexdigest() != digest:
            return "corrupt: digest mismatch", None
        if body.get("key") != key or "result" not in body:
            return "corrupt: key mismatch", None
        if body.get("version") != __version__ or body.get("code") != fingerprint.code_hash():
            return "stale", body
        return "ok", body


def remove_temporary(folder: Path) -> list[Path]:
    """Remove the temporary files (``.*.tmp``, see :mod:`simulator.atomic`) a killed writer left
    in ``folder``; only while holding the sweep's lock. Returns the files removed."""
    removed = sorted(folder.glob(".*.tmp")) if folder.is_dir() else []
    for p in removed:
        p.unlink(missing_ok=True)
    return removed
