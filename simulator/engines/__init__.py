"""Engines turn a workload's rule programs and activity into the ledger: the analytical engine
(:mod:`.analytical`, closed form) and the SimPy engine (:mod:`.simpy`, simulated time) are
siblings that do not import each other; what both need — Works → ledger rows — is :mod:`.rows`."""
