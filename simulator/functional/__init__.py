"""Functional engine: the exact numerics of LIF networks and of BPTT / S-TLLR / TESS (docs/math.md).

It reads the resolved network :class:`tess_sim.simulator.network.Net` (``build_network`` of a
workload) — the same description the counting side reads; its arrays take their shapes from the
blocks (``in_shape``, ``pre_shape``, ``post_shape``, ``weight_shape``) and the conv / pool
arithmetic from :mod:`tess_sim.simulator.shapes`.

Modules (one job each):
  conv      im2col convolution, weight-gradient correlation, transposed convolution (BLAS;
            maps stored channels-last)
  parallel  elementwise / copy work split among threads (numpy releases the GIL)
  pool      max / avg / adaptive-avg pooling and their backward (max: first maximum, row-major)
  neuron    LIF and trace step functions with explicit state (a block's workload Neuron)
  network   weight_shapes, Kaiming init, forward over T (layer-major, time folded into the
            GEMM), online forward
  lsg       TESS learning-signal generator (fixed binary B_l)
  rules     RuleParams, weight gradients of bptt | stllr | tess | readout
  optim     SGD, Adam
  golden    compute_gradients, load_weights, load_data, save_npz_atomic
  npz       npz reading with shapes checked from the headers
  activity  measure_activity (events, border-exact synaptic ops, spikes)
  data      sklearn digits as Bernoulli rate-coded spikes
  train     training loop
"""

from tess_sim.simulator.functional.activity import measure_activity
from tess_sim.simulator.functional.golden import (compute_gradients, load_data, load_weights,
                                                  save_npz_atomic)
from tess_sim.simulator.functional.network import forward, init_weights, weight_shapes
from tess_sim.simulator.functional.rules import RuleParams, gradients
from tess_sim.simulator.functional.train import train

__all__ = ["RuleParams", "compute_gradients", "load_weights", "load_data", "save_npz_atomic",
           "measure_activity", "forward", "init_weights", "weight_shapes", "gradients", "train"]
