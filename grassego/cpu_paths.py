"""One set of CPU code paths on every x86-64 machine, so that a calibration rerun elsewhere gives
the same bits.

The numerical libraries under grassego pick their kernels by the processor they find: torch's
own vectorised kernels (AVX-512, AVX2 or plain), Intel MKL's BLAS and LAPACK (torch's linear
algebra: the Grassmann distances, the GP's Cholesky factors) and OpenBLAS (numpy's and scipy's:
the acquisition optimiser). Each path rounds differently; measured on the default CuZr case, a
different MKL path changes Δ of a parameter set in its last bit, and torch's, MKL's or
OpenBLAS's path each change the EGO's proposals from the first iteration on: with the same code
and packages, the default case's seed-0 optimum recorded on an AMD EPYC machine (Δ 0.0887) came
out 0.0883 on an Intel Xeon. Pinning each library to
its portable path (:data:`PINNED`) makes Δ and the EGO history independent of the x86-64
processor; grassego's own Numba solver compiles for the host but gives the same bits on any
target (it uses no fast-math reordering). Other architectures (ARM) round differently still.

The libraries read these variables when they load, so they are set when grassego is imported
(:func:`pin`, called by ``grassego/__init__.py``): before numpy, scipy and torch in the CLI and in
every workflow job (the Snakefile imports grassego, and the jobs inherit its environment). A value
already in the environment is kept: export another to trade reproducibility across machines for
the host's fastest kernels (measured on the default case: about 11 % of the EGO's wall time,
nothing of the solver's).
"""

from __future__ import annotations

import os

#: Environment variable → the portable path it selects: torch's unvectorised kernels, MKL's
#: conditional-numerical-reproducibility mode for any x86-64 processor, OpenBLAS's SSE3 kernels.
PINNED = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE",
          "OPENBLAS_CORETYPE": "Prescott"}


def pin() -> None:
    """Set each variable of :data:`PINNED` that the environment does not already set."""
    for name, value in PINNED.items():
        os.environ.setdefault(name, value)
