"""Batched quasi-static STZ solver: simple shear of a periodic cell (paper §5.1.2–5.1.3).

Each quasi-static step (the projection method of Rycroft, Sui & Bouchbinder in the simple-shear
coordinate transformation, as in the original code):

1. explicit step: ENO2 upwind advection of stresses, χ and the reference map; the local plastic
   relaxation of the deviatoric stress with the χ source, adaptively sub-stepped per cell; the
   Truesdell-rate terms; the plastic-rate-mediated χ diffusion;
2. projection: the velocity whose elastic stress increment restores ∇·σ = 0 solves a linear
   system with constant 2 × 2 block coefficients, solved exactly by FFT on the periodic grid; its
   stress increment (plus the imposed shear λμ dt) is added.

With the torch backend all runs of a batch advance together as tensors ``(N, y, x)``; with the
fused backend (:mod:`grassego.stz.fused_batch`) chunks of runs advance in cache-resident Numba
loops; with the cuda backend (:mod:`grassego.stz.cuda_batch`) each run is one GPU thread block
holding its state in shared memory. Runs differ only through their per-run coefficients, so a batch gives the same per-run
results as single runs (bitwise with the fused backend).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from grassego.status import RUN_STATUS, FailureTracker
from grassego.stz import kernels as K
from grassego.stz.constants import DYNAMICS, ModelConstants
from grassego.stz.fused import supported as fused_supported
from grassego.stz.fused_batch import run_fused
from grassego.stz.params import RunInputs, chi_from_energy, prepare_inputs
from grassego.stz.step import (
    Coefficients,
    coefficient_values,
    advection_terms,
    explicit_update,
    plastic_start,
    projection_force,
    projection_update,
)

Progress = Callable[[int, int], None]
ChunkDone = Callable[[int, int], None]
log = logging.getLogger(__name__)


@dataclass
class StzResult:
    """Outputs of :func:`simulate_batch` (numpy, one leading ``run`` axis).

    - ``exy`` (N, F, ny, nx): Green–Lagrange E_xy (tensor shear strain) at the kept frames [1]
    - ``t_eff`` (N, F, ny, nx): effective temperature χ·T_Z at the kept frames [K]
    - ``frames`` (F,): kept frame indices; ``strain`` (F,): their global shear strain [1]
    - ``tau_mean`` (N, n_frames + 1): grid-mean shear stress at every frame [GPa]
    - ``strain_all`` (n_frames + 1,): global shear strain of every frame [1]
    - ``status`` (N,) int8: :data:`grassego.status.RUN_STATUS` codes
    - ``wall_time`` (N,): wall time of the chunk that computed the run, shared equally among its
      runs [s] (0 for rejected runs)
    - ``params``: the per-run parameters as given (name → (N,) float64)

    Failed runs (any status but ok) have NaN fields and stress curves.
    """

    exy: np.ndarray
    t_eff: np.ndarray
    frames: np.ndarray
    strain: np.ndarray
    tau_mean: np.ndarray
    strain_all: np.ndarray
    status: np.ndarray
    wall_time: np.ndarray
    params: dict[str, np.ndarray]


def _coefficients(run: dict[str, np.ndarray], dx: float, dy: float, c: ModelConstants,
                  dynamics: str, dtype: torch.dtype, device: torch.device) -> Coefficients:
    """:func:`coefficient_values` as tensors for the PyTorch path (see :class:`Coefficients`)."""
    values = coefficient_values(run, dx, dy, c, dynamics)

    def t(name: str) -> torch.Tensor:
        dims = 4 if name in ("hx", "hy") else 3
        return torch.as_tensor(values[name], dtype=dtype, device=device).reshape((-1,) + (1,) * (dims - 1))

    return Coefficients(**{name: t(name) for name in Coefficients._fields})


def _zero_failed(failed: torch.Tensor, *fields: torch.Tensor) -> list[torch.Tensor]:
    """Zero the state of failed runs (bool (n,)) so they cost nothing more and stay finite."""
    keep = (~failed).reshape(-1, 1, 1, 1)
    return [torch.where(keep, torch.nan_to_num(f, nan=0.0, posinf=0.0, neginf=0.0),
                        torch.zeros_like(f)) for f in fields]


_COMPILED: dict[str, Callable] = {}
_STAGES = {"start": plastic_start, "advect": advection_terms, "explicit": explicit_update,
           "force": projection_force, "solve": K.solve_projection, "update": projection_update}


def _guarded(compiled: Callable, eager: Callable) -> Callable:
    """Call ``compiled``; if compiling or running it fails, warn once and use ``eager`` (the
    functions are pure, so the retry gives the same result)."""
    state = {"ok": True}

    def call(*args):
        if state["ok"]:
            try:
                return compiled(*args)
            except Exception as exc:  # noqa: BLE001 - any inductor/toolchain failure
                state["ok"] = False
                log.warning("torch.compile failed (%s); continuing without compilation", exc)
        return eager(*args)

    return call


def _kernels(use_compile: bool) -> dict[str, Callable]:
    """The step stages, each compiled separately with torch.compile when asked (separate graphs
    keep inductor from inlining whole stencil chains into every consumer)."""
    if not use_compile:
        return dict(_STAGES)
    if not _COMPILED:
        for name, fn in _STAGES.items():
            _COMPILED[name] = _guarded(torch.compile(fn, dynamic=False), fn)
    return dict(_COMPILED)


def _run_chunk(inputs: RunInputs, rows: np.ndarray, keep: np.ndarray, c: ModelConstants,
               dynamics: str, dtype: torch.dtype, device: torch.device,
               progress: Progress | None, use_compile: bool
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Solve the runs ``rows`` of ``inputs`` together. Returns exy, t_eff, tau_mean, status."""
    ny, nx = inputs.pe0.shape
    dx, dy = c.lx_A / nx, c.ly_A / ny
    run = {k: v[rows] for k, v in inputs.per_run.items()}
    co = _coefficients(run, dx, dy, c, dynamics, dtype, device)
    thermal = dynamics != "athermal"
    n, nf = len(rows), c.n_frames
    pe0 = torch.as_tensor(inputs.pe0, dtype=torch.float64, device=device)
    per = {k: torch.as_tensor(run[k], device=device).reshape(-1, 1, 1)
           for k in ("chi_energy_factor", "beta", "E0", "T_Z_K", "s_y")}
    chi0 = chi_from_energy(pe0, per["beta"], per["E0"], per["chi_energy_factor"]).to(dtype)
    stag = torch.cat((torch.zeros((n, 4, ny, nx), dtype=dtype, device=device), chi0[:, None]), 1)
    vel = torch.zeros((n, 2, ny, nx), dtype=dtype, device=device)
    xi = torch.zeros_like(vel)
    sym = K.projection_symbols(ny, nx, dx, dy, dtype, device)
    fn = _kernels(use_compile)
    dgamma = c.max_strain / c.n_steps
    lfac = dy / (4.0 * dx)

    exy = np.full((n, len(keep), ny, nx), np.nan, dtype=np.float32)
    t_eff = np.full_like(exy, np.nan)
    tau_mean = np.zeros((n, nf + 1), dtype=np.float64)
    failures = FailureTracker(n)
    slot = {int(f): i for i, f in enumerate(keep)}
    s_y, t_z = per["s_y"][:, 0, 0], per["T_Z_K"].to(dtype)

    def record(frame: int, lt: float) -> None:
        tau_mean[:, frame] = (stag[:, 3].double().mean(dim=(-2, -1)) * s_y).cpu().numpy()
        if frame in slot:
            e = K.green_lagrange_exy(xi[:, 0], xi[:, 1], lt, dx, dy)
            exy[:, slot[frame]] = e.to(torch.float32).cpu().numpy()
            t_eff[:, slot[frame]] = (stag[:, 4] * t_z).to(torch.float32).cpu().numpy()

    record(0, 0.0)
    step = 0
    for frame in range(1, nf + 1):
        stuck_runs = torch.zeros(n, dtype=torch.bool, device=device)
        for _ in range(c.steps_per_frame):
            lt0 = torch.tensor(step * dgamma, dtype=dtype, device=device)
            lt1 = torch.tensor((step + 1) * dgamma, dtype=dtype, device=device)
            sbar, s1, c1, left, big = fn["start"](stag, co, lt0, thermal)
            s_new, chi_loc, stuck = K.finish_substeps(s1, c1, left, big, co.rate_pre, co.chi_pre,
                                                      co.chi_inf, co.adapt, c.max_substeps,
                                                      co.thermal() if thermal else None)
            if stuck is not None:
                stuck_runs |= stuck.flatten(1).any(1)
            adv, xi, grad = fn["advect"](stag, vel, xi, co)
            stag = fn["explicit"](stag, grad, adv, sbar, s_new, chi_loc, co, lt0, lfac)
            vel = fn["solve"](fn["force"](stag, co, lt1), co.mu, co.lam, lt1, sym)
            stag = fn["update"](stag, vel, co, lt1)
            step += 1
        finite = torch.isfinite(stag).flatten(1).all(1) & torch.isfinite(xi).flatten(1).all(1)
        huge = stag[:, :4].abs().flatten(1).amax(1) > c.diverge_stress
        new_bad = failures.update(finite.cpu().numpy(), huge.cpu().numpy(),
                                  stuck_runs.cpu().numpy())
        if new_bad.any():
            failed = torch.as_tensor(failures.failed, device=device)
            stag, vel, xi = _zero_failed(failed, stag, vel, xi)
        record(frame, step * dgamma)
        if progress is not None:
            progress(frame, nf)

    failures.blank(exy, t_eff, tau_mean)
    return exy, t_eff, tau_mean, failures.codes()


BACKENDS = ("auto", "fused", "torch", "cuda")


def cuda_problem(shape: tuple[int, int], dtype: torch.dtype) -> str | None:
    """Why the CUDA kernel backend (:mod:`grassego.stz.cuda_batch`) cannot run a grid of
    ``shape`` in ``dtype`` here (None: it can)."""
    try:
        from grassego.stz import cuda_batch
    except ImportError as exc:  # numba-cuda missing, or its CUDA bindings
        return f"numba-cuda cannot be imported ({exc})"
    np_dtype = np.dtype(str(dtype).removeprefix("torch."))
    return cuda_batch.grid_problem(*shape, np_dtype) or cuda_batch.gpu_problem()


def gpu_visible() -> bool:
    """Whether torch or numba-cuda sees a CUDA GPU."""
    if torch.cuda.is_available():
        return True
    try:
        from numba import cuda
    except ImportError:
        return False
    return bool(cuda.is_available())


def choose_backend(backend: str, device: torch.device, shape: tuple[int, int],
                   dtype: torch.dtype) -> str:
    """The backend that solves a batch on ``device`` with an initial field of ``shape`` (see
    :func:`simulate_batch`); raises ``ValueError`` saying why if ``backend`` cannot."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if device.type == "cpu":
        fused_ok = fused_supported(*shape)
        if backend == "fused" and not fused_ok:
            raise ValueError(f"the fused backend needs power-of-two grid sides, got grid "
                             f"{shape[0]} x {shape[1]}")
        if backend == "cuda":
            raise ValueError("the cuda backend runs on a GPU: it needs device cuda, got cpu")
        if backend == "auto":
            return "fused" if fused_ok else "torch"
        return backend
    if backend == "fused":
        raise ValueError(f"the fused backend needs device cpu, got {device.type}")
    if device.type != "cuda":
        if backend == "cuda":
            raise ValueError(f"the cuda backend needs device cuda, got {device.type}")
        return "torch"
    kernel_problem = cuda_problem(shape, dtype) if backend in ("auto", "cuda") else None
    if backend == "cuda" and kernel_problem:
        raise ValueError(f"the cuda backend cannot run here: {kernel_problem}")
    if backend == "cuda" or (backend == "auto" and kernel_problem is None):
        return "cuda"
    if not torch.cuda.is_available():
        why = f"; the cuda backend cannot run it: {kernel_problem}" if kernel_problem else ""
        raise ValueError(f"the torch backend needs a CUDA build of torch that sees the GPU{why}")
    return "torch"


def simulate_batch(
    params: Mapping[str, Iterable[float]],
    pe0: np.ndarray,
    pe_final: np.ndarray,
    keep_frames: Iterable[int] | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
    constants: ModelConstants | None = None,
    progress: Progress | None = None,
    batch_size: int | None = None,
    compile: bool = False,
    backend: str = "auto",
    threads: int | None = None,
    chunk_done: ChunkDone | None = None,
    dynamics: str = DYNAMICS[0],
) -> StzResult:
    """Run the STZ model for a batch of parameter sets from one initial energy field.

    ``params``: mapping (or DataFrame) name → 1-D array of length N with at least ``c0`` [1],
    ``s_y`` [GPa], ``beta`` [1/eV], ``E0`` [eV]; any of :data:`PER_RUN_FIELDS` may be given per
    run too (else the value of ``constants``, default :class:`ModelConstants`). ``pe0`` /
    ``pe_final`` (ny, nx): coarse-grained potential energy of the first and last MD frame
    [eV/atom]; χ = β (pe0 − E0) and
    χ∞ = β (max pe_final − E0). ``keep_frames``: frame indices (0 … n_frames) whose fields are
    kept (default all). ``batch_size``: runs solved together (default all); ``progress``:
    called as ``progress(frame, n_frames)`` after each frame of each chunk; ``chunk_done``: called
    as ``chunk_done(runs_solved, runs_to_solve)`` after each chunk (rejected runs are neither
    solved nor counted; :class:`grassego.stz.progress.RunProgress` logs both); ``compile``: fuse the
    step kernels with ``torch.compile`` (a one-off compile of 1–2 min per batch shape; ~1.8×
    faster on a 400-run CPU batch; falls back to eager if compilation fails). ``wall_time`` is the
    chunk's wall time shared equally among its runs.

    ``dynamics``: the STZ plastic law, one of :data:`grassego.stz.constants.DYNAMICS`: the
    paper's ``athermal`` law (the default) or the original solver's thermally activated
    ``linear`` law, whose constants (``delta_K``, ``theta_K``, ``omega_A3``, ``eps0``, ``kappa``,
    ``stz_rho``) come from ``constants`` or per run from ``params``.

    ``backend``: ``fused`` runs the Numba kernels of :mod:`grassego.stz.fused` (CPU only, grid
    sides powers of two; ~8× faster than ``torch`` on a CPU, and a run's result is independent
    of the batch, the chunking and the thread count); ``cuda`` the numba-cuda kernel of
    :mod:`grassego.stz.cuda_kernel` (device ``cuda``: one thread block per run, one launch per
    frame; grid sides powers of two, float32 up to 1,024 cells, float64 up to 512); ``torch``
    the PyTorch tensor path (any device); ``auto`` picks ``fused`` on the CPU and ``cuda`` on
    a GPU where the grid allows, else ``torch``. ``cuda`` gives bitwise the runs of
    ``fused``; ``torch`` agrees with both to rounding. ``threads``: CPU threads of the fused backend (default: Numba's
    setting); the torch path uses torch's setting.

    Per-run problems (non-finite or out-of-range parameters, χ ≤ 0, a final effective
    temperature below ``constants.min_final_teff_K``) give status ``rejected_input``; runs that
    blow up give ``non_finite`` or ``diverged``; none of them affects the other runs. Problems of
    the whole call (bad field shapes, NaNs in the fields, unknown parameter names, bad frame
    indices) raise ``ValueError``.
    """
    c = ModelConstants() if constants is None else constants
    if dynamics not in DYNAMICS:
        raise ValueError(f"dynamics must be one of {DYNAMICS}, got {dynamics!r}")
    inputs = prepare_inputs(params, pe0, pe_final, c)
    nf = c.n_frames
    keep = np.arange(nf + 1) if keep_frames is None else np.unique(np.asarray(list(keep_frames), dtype=np.int64))
    if keep.size and (keep.min() < 0 or keep.max() > nf):
        raise ValueError(f"keep_frames must lie in 0 … {nf}, got {keep.min()} … {keep.max()}")
    device = torch.device(device)
    backend = choose_backend(backend, device, inputs.pe0.shape, dtype)
    n = inputs.n_runs
    ny, nx = inputs.pe0.shape
    exy = np.full((n, keep.size, ny, nx), np.nan, dtype=np.float32)
    t_eff = np.full_like(exy, np.nan)
    tau_mean = np.full((n, nf + 1), np.nan)
    status = np.full(n, RUN_STATUS["rejected_input"], dtype=np.int8)
    wall = np.zeros(n)
    valid = np.flatnonzero(inputs.valid)
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    size = len(valid) if batch_size is None else int(batch_size)
    for start in range(0, len(valid), max(size, 1)):
        rows = valid[start:start + size]
        t0 = time.perf_counter()
        if backend == "fused":
            out = run_fused(inputs, rows, keep, c, dynamics, dtype, threads, progress)
        elif backend == "cuda":
            from grassego.stz.cuda_batch import run_cuda

            out = run_cuda(inputs, rows, keep, c, dynamics, dtype, progress)
        else:
            out = _run_chunk(inputs, rows, keep, c, dynamics, dtype, device, progress, compile)
        exy[rows], t_eff[rows], tau_mean[rows], status[rows] = out
        wall[rows] = (time.perf_counter() - t0) / len(rows)
        if chunk_done is not None:
            chunk_done(start + len(rows), len(valid))
    strain_all = np.asarray(c.frame_strains())
    return StzResult(exy=exy, t_eff=t_eff, frames=keep, strain=strain_all[keep],
                     tau_mean=tau_mean, strain_all=strain_all, status=status, wall_time=wall,
                     params=inputs.given)


