"""Engines turn a workload's rule programs and activity into the ledger."""
