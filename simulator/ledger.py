"""The ledger: one tidy table of everything a sample does, the one interface between engines
and cost models (engines never price, cost models never walk the network).

Columns:

========== ===============================================================================
convention ``full`` (the whole cost, README, Counting conventions) or ``paper`` (the published table's counts)
rule       ``bptt`` | ``stllr`` | ``tess``
layer      layer name (``input`` for the network input, ``-`` for network-wide buffers)
phase      fwd, neuron, trace, lsg, bwd, wgrad, update; ``state`` for held buffers
unit       ``pe`` for operations; else the buffer kind (weights, membrane, traces, history,
           errors, gradients, optimizer, lsg, spikes)
action     op kind (mac, ac, add, mul, cmp, exp, div, sqrt), ``read`` / ``write`` (elements
           moved), or ``hold`` (elements resident at the peak of a sample)
count      per sample (float: optimizer work is divided by the batch size; rates give
           expected counts)
bits       operand width of an op, element width of an access or of a held element
term       the term of the rule the row counts, in the words of docs/math.md (e.g. ``causal
           corr(tr_x, m·Psi)``, ``LIF update``, ``paper memory: traces``); the rule's module
           (or the shared module it calls: forward, traces, readout, update, state) writes it
           on the line that counts it. One row per term: no row adds two formulas
memory     the memory that serves an access (or holds a buffer): ``""`` until the buffers are
           placed (:func:`simulator.placement.with_memory` splits each access between its home
           memory and the DRAM); a mapped dataflow's mapper sets it itself for the accesses of the
           contractions it tiled (``rf`` for the PEs' register files, a buffer, the DRAM);
           ``""`` for ops and ``paper`` rows
========== ===============================================================================

The SimPy engine puts its timing table beside it; every column keeps its meaning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["convention", "rule", "layer", "phase", "unit", "action", "count", "bits", "term", "memory"]


class LedgerError(RuntimeError):
    """An impossible count reached the ledger: an internal error (exit 1), never the user's."""


def make_ledger(rows: list[tuple]) -> pd.DataFrame:
    """A ledger DataFrame from rows in :data:`COLUMNS` order (a row without its last field,
    ``memory``, is not placed yet: ``""``). Counts are float64 (exact up to 2^53, never
    wrapping); a negative or non-finite count, or a row naming no term, raises
    :class:`LedgerError`."""
    rows = [tuple(r) + ("",) if len(r) == len(COLUMNS) - 1 else r for r in rows]
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["count"] = df["count"].astype(float)
    df["bits"] = df["bits"].astype(int)
    check_counts(df)
    unnamed = ~df["term"].map(lambda t: isinstance(t, str) and t != "")
    if unnamed.any():
        row = df[unnamed].iloc[0]
        raise LedgerError(f"a ledger row names no term ({row['rule']}, {row['layer']}, {row['phase']}, "
                          f"{row['unit']}, {row['action']}): please report this")
    return df


def check_counts(df: pd.DataFrame) -> None:
    """The backstop behind the load-time limits: every count is finite and >= 0."""
    counts = df["count"].to_numpy(float)
    bad = ~np.isfinite(counts) | (counts < 0)
    if bad.any():
        row = df[bad].iloc[0]
        raise LedgerError(f"impossible count {row['count']!r} in the ledger ({row['rule']}, {row['layer']}, "
                          f"{row['phase']}, {row['unit']}, {row['action']}, {row.get('term', '')}): "
                          "please report this")


def ops(ledger: pd.DataFrame) -> pd.DataFrame:
    """Operation rows only."""
    return ledger[ledger["unit"] == "pe"]


def held(ledger: pd.DataFrame) -> pd.DataFrame:
    """State rows only (action ``hold``)."""
    return ledger[ledger["action"] == "hold"]

