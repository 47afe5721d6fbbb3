"""The quasi-static STZ continuum solver, batched over parameter sets.

Three backends compute the same discretisation: fused Numba kernels on the CPU
(:mod:`grassego.stz.fused`, the default there), a numba-cuda kernel with one thread block per
run on a GPU (:mod:`grassego.stz.cuda_kernel`, the default there) and PyTorch tensors on any
device (:mod:`grassego.stz.step`).

Public API: :class:`ModelConstants` (every model constant, with units),
:func:`simulate_batch` (solve a batch of parameter sets from an initial energy field) returning a
:class:`StzResult`, :func:`to_runs_dataset` (the runs NetCDF contract of
:mod:`grassego.fields`), and :func:`chi_from_energy` (the energy-to-χ map every run starts
from).
"""

from grassego.stz.constants import PER_RUN_FIELDS, ModelConstants
from grassego.stz.dataset import to_runs_dataset
from grassego.stz.params import REQUIRED_PARAMS, chi_from_energy
from grassego.stz.solver import StzResult, simulate_batch

__all__ = [
           "PER_RUN_FIELDS",
           "REQUIRED_PARAMS",
           "ModelConstants",
           "StzResult",
           "chi_from_energy",
           "simulate_batch",
           "to_runs_dataset",
]
