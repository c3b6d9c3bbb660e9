"""Build of the optional compiled kernels; all metadata is in setup.cfg.

``simulator/functional/_kernels.c`` (plain C, bound with ctypes by kernels.py) is compiled when
a C compiler is there; ``optional=True``: without one the install goes on and the engine runs
its numpy code.  ``-ffp-contract=off``: no fused multiply-adds, so each kernel rounds exactly as
the numpy operations it replaces."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("tess_sim.simulator.functional._kernels",
                             ["simulator/functional/_kernels.c"],
                             extra_compile_args=["-O3", "-ffp-contract=off", "-fno-fast-math"],
                             optional=True)])
