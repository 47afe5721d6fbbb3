"""Driving the fused CPU kernels (:mod:`grassego.stz.fused`) over a batch: packing runs into
lane chunks, stepping frame by frame, recording outputs and detecting failed runs."""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
import torch

from grassego.status import FailureTracker
from grassego.stz import fused as F
from grassego.stz import kernels as K
from grassego.stz.constants import ModelConstants
from grassego.stz.params import RunInputs, chi_from_energy
from grassego.stz.step import coefficient_values

Progress = Callable[[int, int], None]


def _tables(ny: int, nx: int, dtype: np.dtype) -> tuple:
    """Periodic neighbour indices, mirrored wavenumber indices and FFT tables for the kernels."""
    ix, iy = np.arange(nx), np.arange(ny)
    revx, cwx, swx = F.fft_tables(nx, dtype)
    revy, cwy, swy = F.fft_tables(ny, dtype)
    return ((ix + 1) % nx, (ix - 1) % nx, (ix + 2) % nx, (ix - 2) % nx,
            (iy + 1) % ny, (iy - 1) % ny, (iy + 2) % ny, (iy - 2) % ny,
            (-ix) % nx, (-iy) % ny, revx, cwx, -swx, swx, revy, cwy, -swy, swy)


def _lanes(a: np.ndarray, n_chunks: int, lanes: int) -> np.ndarray:
    """(N, …) per-run values → (chunks, …, lanes), padding with the last run."""
    pad = n_chunks * lanes - a.shape[0]
    a = np.concatenate([a, np.repeat(a[-1:], pad, axis=0)]) if pad else a
    return np.moveaxis(a.reshape((n_chunks, lanes) + a.shape[1:]), 1, -1)


def _runs(a: np.ndarray, n: int) -> np.ndarray:
    """(chunks, …, lanes) → (N, …): the inverse of :func:`_lanes` without the padding."""
    return np.moveaxis(a, -1, 1).reshape((-1,) + a.shape[1:-1])[:n]


def run_fused(inputs: RunInputs, rows: np.ndarray, keep: np.ndarray, c: ModelConstants,
              dynamics: str, dtype: torch.dtype, threads: int | None, progress: Progress | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Solve the runs ``rows`` of ``inputs`` with the fused kernels and the STZ law
    ``dynamics``. Returns exy, t_eff, tau_mean, status as
    :func:`grassego.stz.solver._run_chunk` does."""
    np_dtype = np.dtype(str(dtype).removeprefix("torch."))
    ny, nx = inputs.pe0.shape
    dx, dy = c.lx_A / nx, c.ly_A / ny
    n, nf = len(rows), c.n_frames
    lanes = F.lanes_for(n)
    n_chunks = -(-n // lanes)
    run = {k: v[rows] for k, v in inputs.per_run.items()}
    per = {k: run[k][:, None, None] for k in ("beta", "E0", "chi_energy_factor")}
    chi0 = chi_from_energy(inputs.pe0, per["beta"], per["E0"], per["chi_energy_factor"])
    state = np.zeros((n, F.N_STATE, ny, nx), dtype=np_dtype)
    state[:, 4] = chi0
    state = np.ascontiguousarray(_lanes(state, n_chunks, lanes))
    coefficients = coefficient_values(run, dx, dy, c, dynamics)

    def packed(names: tuple[str, ...]) -> np.ndarray:
        rows_ = np.stack([coefficients[name] for name in names], axis=1).astype(np_dtype)
        return np.ascontiguousarray(_lanes(rows_, n_chunks, lanes))

    coef = packed(F.CO_NAMES)
    thermal = None if dynamics == "athermal" else packed(F.THERMAL_NAMES)
    consts = F.typed_constants(np_dtype, dy / (4.0 * dx), ny, nx)
    sym = K.projection_symbols(ny, nx, dx, dy, torch.float64, torch.device("cpu"), full=True)
    sym = sym.numpy().astype(np_dtype)
    dgamma = c.max_strain / c.n_steps
    lts = (np.arange(c.n_steps + 1) * dgamma).astype(np_dtype)
    tables = _tables(ny, nx, np_dtype)
    stuck = np.zeros((n_chunks, lanes), dtype=np.bool_)
    summary = np.zeros((n_chunks, 3, lanes))
    failures = FailureTracker(n)

    exy = np.full((n, len(keep), ny, nx), np.nan, dtype=np.float32)
    t_eff = np.full_like(exy, np.nan)
    tau_mean = np.zeros((n, nf + 1), dtype=np.float64)
    slot = {int(f): i for i, f in enumerate(keep)}
    s_y, t_z = run["s_y"], run["T_Z_K"]

    def record(frame: int, lt: float) -> None:
        tau_mean[:, frame] = _runs(summary[:, 0], n) * s_y
        if frame in slot:
            xi = torch.from_numpy(_runs(state[:, 7:9], n))
            exy[:, slot[frame]] = K.green_lagrange_exy(xi[:, 0], xi[:, 1], lt, dx, dy).numpy()
            with np.errstate(over="ignore"):  # a blowing-up run, flagged below
                t_eff[:, slot[frame]] = _runs(state[:, 4], n) * t_z[:, None, None]

    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads or previous, numba.config.NUMBA_NUM_THREADS)))
    try:
        record(0, 0.0)  # stresses start at zero, as does summary
        for frame in range(1, nf + 1):
            step0 = (frame - 1) * c.steps_per_frame
            F.advance(state, coef, consts, sym, lts, step0, c.steps_per_frame, c.max_substeps,
                      stuck, tables, summary, thermal)
            new_bad = failures.update(_runs(summary[:, 1], n) > 0,
                                      _runs(summary[:, 2], n) > c.diverge_stress, _runs(stuck, n))
            if new_bad.any():
                bad = np.flatnonzero(new_bad)
                state[bad // lanes, ..., bad % lanes] = 0
            record(frame, frame * c.steps_per_frame * dgamma)
            if progress is not None:
                progress(frame, nf)
    finally:
        numba.set_num_threads(previous)

    failures.blank(exy, t_eff, tau_mean)
    return exy, t_eff, tau_mean, failures.codes()
