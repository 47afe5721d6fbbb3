"""Driving the CUDA kernel (:mod:`grassego.stz.cuda_kernel`) over a batch: one launch per
output frame for all runs, outputs recorded on the GPU, statuses decided per run.

Imported only when a GPU backend is considered (importing numba-cuda takes ~0.5 s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import numba
import numpy as np
import torch
from numba import cuda
from numba.core import config

from grassego.fields import RUN_STATUS
from grassego.stz import fused as F
from grassego.stz import kernels as K
from grassego.stz.constants import ModelConstants
from grassego.stz.cuda_kernel import (DIVERGED, N_CONSTANTS, N_SHARED_FIELDS, NON_FINITE,
                                      frame_kernel)
from grassego.stz.params import RunInputs
from grassego.stz.step import coefficient_values

Progress = Callable[[int, int], None]

#: Grid cells each thread owns (256 threads per block on the 32 × 32 grid) and the blocks that
#: must fit on one multiprocessor at once (the compiler limits registers to 65,536 / (256 · 3)
#: = 85 a thread; unlimited it takes 255 and one block runs per multiprocessor). Untuned: the
#: sweep of benchmarks/bench_cuda.py measures the alternatives.
CELLS_PER_THREAD = 4
MIN_BLOCKS = 3
#: Shared memory a block may use without the opt-in attribute [bytes].
SHARED_LIMIT = 48 * 1024
#: Threads per block at most (every CUDA GPU since compute capability 2.0).
MAX_THREADS = 1024
#: Fraction of the free GPU memory one launch's arrays may take.
MEMORY_FRACTION = 0.8


def grid_problem(ny: int, nx: int, dtype: np.dtype,
                 cells_per_thread: int = CELLS_PER_THREAD) -> str | None:
    """Why the kernel cannot take an (ny, nx) grid in ``dtype`` (None: it can): sides must be
    powers of two ≥ 4, a run's :data:`N_SHARED_FIELDS` fields must fit in 48 KiB of shared
    memory (float32: up to 1,024 cells, e.g. 32 × 32; float64: up to 512), and the cells must
    split evenly into at most :data:`MAX_THREADS` threads."""
    nc, size = ny * nx, np.dtype(dtype).itemsize
    if not F.supported(ny, nx):
        return f"grid sides must be powers of two >= 4, got {ny} x {nx}"
    if N_SHARED_FIELDS * nc * size > SHARED_LIMIT:
        return (f"a {ny} x {nx} run in {np.dtype(dtype).name} needs "
                f"{N_SHARED_FIELDS * nc * size} bytes of shared memory, more than {SHARED_LIMIT}")
    if nc % cells_per_thread or nc // cells_per_thread > MAX_THREADS:
        return f"{nc} cells do not split into at most {MAX_THREADS} threads of {cells_per_thread}"
    return None


@lru_cache(maxsize=1)
def gpu_problem() -> str | None:
    """Why no kernel can run here (None: numba-cuda sees a GPU and can compile for it, or is its
    simulator)."""
    if not cuda.is_available():
        return "numba-cuda sees no CUDA GPU (no driver, or no device visible)"
    if config.ENABLE_CUDASIM:
        return None
    try:  # the compiler libraries (NVVM, NVRTC) come separately from numba-cuda
        cuda.compile_ptx_for_current_device(_probe, (numba.float32[::1],))
    except Exception as exc:  # noqa: BLE001 - whichever library or driver call fails
        return (f"numba-cuda cannot compile for the GPU ({type(exc).__name__}: {exc}); install "
                "its CUDA libraries: pip install 'numba-cuda[cu12]' (or [cu13])")
    return None


def _probe(a):
    """A kernel to compile: whether the CUDA compiler libraries are present."""
    a[0] = 1.0


def kernel_constants(dtype: np.dtype, dx: float, dy: float, ny: int, nx: int) -> np.ndarray:
    """The kernel's constants (see :data:`grassego.stz.cuda_kernel.N_CONSTANTS`) in ``dtype``."""
    out = np.concatenate([F.typed_constants(dtype, dy / (4.0 * dx), ny, nx),
                          np.array([2.0 * dx, 2.0 * dy], dtype=dtype)])
    assert out.size == N_CONSTANTS
    return out


@contextmanager
def exact_arithmetic() -> Iterator[None]:
    """Kernels compiled inside this block keep every multiply and add separately rounded
    (NVVM ``-fma=0``; by default NVVM fuses a·b + c into one FMA, which rounds once and so
    differs from the fused CPU backend in the last bit, a difference the shear-band
    instability amplifies). numba-cuda has no switch for it, so its NVVM compile call is
    wrapped for the duration (numba-cuda compiles a kernel at its first launch)."""
    from numba.cuda.cudadrv import nvvm

    original = nvvm.compile_ir

    def compile_ir(llvmir, **options):
        return original(llvmir, **{**options, "fma": False})

    nvvm.compile_ir = compile_ir
    try:
        yield
    finally:
        nvvm.compile_ir = original


def _twiddles(n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Bit-reversal permutation (int32) and twiddle rows cos, −sin, +sin of a length-n FFT."""
    rev, cw, sw = F.fft_tables(n, dtype)
    return rev.astype(np.int32), np.ascontiguousarray(np.stack([cw, -sw, sw]))


def bytes_per_run(ny: int, nx: int, dtype: np.dtype, n_kept: int, n_frames: int) -> int:
    """GPU memory one run takes during a launch: state, coefficients, outputs [bytes]."""
    size = np.dtype(dtype).itemsize
    return (F.N_STATE * ny * nx * size + len(F.CO_NAMES + F.THERMAL_NAMES) * size + 2 * 8 + 1
            + (n_frames + 1) * 8 + 2 * max(n_kept, 1) * ny * nx * 4)


def runs_per_launch(n: int, per_run: int) -> int:
    """Runs launched together: all, or as many as :data:`MEMORY_FRACTION` of the free GPU
    memory holds."""
    free = cuda.current_context().get_memory_info()[0]
    if not np.isfinite(free):  # the simulator
        return n
    return max(1, min(n, int(free * MEMORY_FRACTION // per_run)))


def run_cuda(inputs: RunInputs, rows: np.ndarray, keep: np.ndarray, c: ModelConstants,
             dynamics: str, dtype: torch.dtype, progress: Progress | None,
             cells_per_thread: int | None = None, min_blocks: int | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Solve the runs ``rows`` of ``inputs`` with the CUDA kernel and the STZ law ``dynamics``
    (:data:`grassego.stz.constants.DYNAMICS`). Returns exy, t_eff,
    tau_mean, status as :func:`grassego.stz.solver._run_chunk` does. ``progress`` is called as
    ``progress(frame, n_frames)`` once a frame of every run of a launch is done;
    ``cells_per_thread`` and ``min_blocks``: see :func:`grassego.stz.cuda_kernel.frame_kernel`
    (default: :data:`CELLS_PER_THREAD`, :data:`MIN_BLOCKS`)."""
    cells_per_thread = cells_per_thread or CELLS_PER_THREAD
    min_blocks = min_blocks or MIN_BLOCKS
    np_dtype = np.dtype(str(dtype).removeprefix("torch."))
    ny, nx = inputs.pe0.shape
    why = grid_problem(ny, nx, np_dtype, cells_per_thread)
    if why:
        raise ValueError(f"the cuda backend cannot run this batch: {why}")
    dx, dy = c.lx_A / nx, c.ly_A / ny
    n, nf, nk = len(rows), c.n_frames, len(keep)
    run = {k: v[rows] for k, v in inputs.per_run.items()}
    chi0 = (run["chi_energy_factor"] * run["beta"])[:, None, None] * (inputs.pe0 - run["E0"][:, None, None])
    coefficients = coefficient_values(run, dx, dy, c, dynamics)
    coef = np.stack([coefficients[name] for name in F.CO_NAMES + F.THERMAL_NAMES],
                    axis=1).astype(np_dtype)
    per_run = np.stack([run["s_y"], run["T_Z_K"]], axis=1)
    sym = K.projection_symbols(ny, nx, dx, dy, torch.float64, torch.device("cpu"), full=True)
    revx, twx = _twiddles(nx, np_dtype)
    revy, twy = _twiddles(ny, np_dtype)
    shared = {name: cuda.to_device(a) for name, a in dict(
        consts=kernel_constants(np_dtype, dx, dy, ny, nx),
        sym=np.ascontiguousarray(sym.numpy().astype(np_dtype)),
        lts=(np.arange(c.n_steps + 1) * (c.max_strain / c.n_steps)).astype(np_dtype),
        revx=revx, revy=revy, twx=twx, twy=twy,
        diverge=np.array([c.diverge_stress], dtype=np.float64)).items()}
    threads = ny * nx // cells_per_thread
    kernel = frame_kernel(np_dtype.name, cells_per_thread, threads, min_blocks, dynamics)
    smem = N_SHARED_FIELDS * ny * nx * np_dtype.itemsize
    slot = {int(f): i for i, f in enumerate(keep)}

    exy = np.empty((n, nk, ny, nx), dtype=np.float32)
    t_eff = np.empty_like(exy)
    tau_mean = np.empty((n, nf + 1), dtype=np.float64)
    code = np.empty(n, dtype=np.int8)
    chunk = runs_per_launch(n, bytes_per_run(ny, nx, np_dtype, nk, nf))
    for start in range(0, n, chunk):
        part = slice(start, min(start + chunk, n))
        m = part.stop - part.start
        state = np.zeros((m, F.N_STATE, ny, nx), dtype=np_dtype)
        state[:, 4] = chi0[part]
        d_state, d_coef = cuda.to_device(state), cuda.to_device(coef[part])
        d_per_run = cuda.to_device(np.ascontiguousarray(per_run[part]))
        d_status = cuda.to_device(np.zeros(m, dtype=np.int8))
        d_tau = cuda.device_array((m, nf + 1), dtype=np.float64)
        d_exy = cuda.device_array((m, max(nk, 1), ny, nx), dtype=np.float32)
        d_teff = cuda.device_array_like(d_exy)
        for frame in range(nf + 1):
            steps = c.steps_per_frame if frame else 0
            with exact_arithmetic():
                kernel[m, threads, 0, smem](
                    d_state, d_coef, shared["consts"], shared["sym"], shared["lts"],
                    shared["revx"], shared["revy"], shared["twx"], shared["twy"],
                    max(frame - 1, 0) * c.steps_per_frame, steps, c.max_substeps,
                    shared["diverge"], frame, slot.get(frame, -1), d_per_run, d_status, d_tau,
                    d_exy, d_teff)
            if progress is not None and frame:
                cuda.synchronize()
                progress(frame, nf)
        code[part] = d_status.copy_to_host()
        tau_mean[part] = d_tau.copy_to_host()
        if nk:
            exy[part] = d_exy.copy_to_host()
            t_eff[part] = d_teff.copy_to_host()

    status = np.full(n, RUN_STATUS["ok"], dtype=np.int8)
    status[code == DIVERGED] = RUN_STATUS["diverged"]
    status[code == NON_FINITE] = RUN_STATUS["non_finite"]
    failed = code != 0
    exy[failed], t_eff[failed], tau_mean[failed] = np.nan, np.nan, np.nan
    return exy, t_eff, tau_mean, status
