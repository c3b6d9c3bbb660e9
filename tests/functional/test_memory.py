"""memory.keep_freed_memory: after it, a large array made again after being freed reuses its
pages (no page faults); before it, glibc maps it anew and every page faults.  Each case runs in
its own interpreter (the setting is process-wide)."""

import json
import subprocess
import sys

import pytest

CODE = """
import json, resource, sys
import numpy as np
from tess_sim.simulator.functional.memory import keep_freed_memory
ok = keep_freed_memory() if sys.argv[1] == "keep" else None
faults = []
for _ in range(3):
    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = np.empty(64 << 20, dtype=np.uint8)
    a[::4096] = 1  # touch every page
    del a
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
print(json.dumps({"ok": ok, "faults": faults}))
"""


def _run(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CODE, mode], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def test_freed_pages_are_reused():
    keep = _run("keep")
    if keep["ok"] is False:
        pytest.skip("this C library has no mallopt (not glibc)")
    plain = _run("plain")
    pages = (64 << 20) // 4096
    # without: every round maps the 64 MiB anew (huge pages, where the kernel gives them, make
    # fewer but still some faults each round); with: only the first round faults
    assert min(plain["faults"][1:]) > 0
    assert keep["faults"][0] > 0 and max(keep["faults"][1:]) <= pages // 100
