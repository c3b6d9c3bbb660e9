"""The kernel: vocabulary, schema, network model, rule programs, engines, functional numerics and
event data (installed as ``tess_sim.simulator``; the front door is :mod:`tess_sim`)."""
