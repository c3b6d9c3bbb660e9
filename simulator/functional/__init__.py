"""Functional engine: the exact numerics of LIF networks and of BPTT / S-TLLR / TESS (docs/math.md).

Modules (one job each):
  spec      plain network description (NetSpec, BlockSpec, PoolSpec, ReadoutSpec, NeuronParams,
            RuleParams), shape helpers, validation
  conv      im2col convolution, weight-gradient correlation, transposed convolution (BLAS)
  pool      max / avg / adaptive-avg pooling and their backward (max: first maximum, row-major)
  neuron    LIF and trace step functions with explicit state
  network   Kaiming init, forward over T (layer-major, time folded into the GEMM), online forward
  lsg       TESS learning-signal generator (fixed binary B_l)
  rules     weight gradients of bptt | stllr | tess | readout
  optim     SGD, Adam
  golden    compute_gradients, load_weights, load_data, save_npz_atomic
  activity  measure_activity (events, border-exact synaptic ops, spikes)
  data      sklearn digits as Bernoulli rate-coded spikes
  train     training loop
"""

from tess_sim.simulator.functional.activity import measure_activity
from tess_sim.simulator.functional.golden import (compute_gradients, load_data, load_weights,
                                         save_npz_atomic)
from tess_sim.simulator.functional.network import forward, init_weights
from tess_sim.simulator.functional.rules import gradients
from tess_sim.simulator.functional.spec import (BlockSpec, NetSpec, NeuronParams, PoolSpec, ReadoutSpec,
                                       RuleParams)
from tess_sim.simulator.functional.train import train

__all__ = ["BlockSpec", "NetSpec", "NeuronParams", "PoolSpec", "ReadoutSpec", "RuleParams",
           "compute_gradients", "load_weights", "load_data", "save_npz_atomic",
           "measure_activity", "forward", "init_weights", "gradients", "train"]
