"""Outcome of an EGO run and the summary over independent seeds."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import xarray as xr

from grassego.ego.history import History


@dataclass
class EGOResult:
    """The best point and the full history in evaluation order.

    ``X`` (n, d) in parameter units; ``y`` (n,) Δ (NaN for failures); ``status`` per row;
    ``iteration`` (0 = initial design); ``acquisition``: log acquisition value when the row was
    proposed (NaN for the design); ``tr_length``: trust-region edge then; ``wall_time`` [s] of
    the objective call that evaluated the row. ``stop_reason``: "threshold", "max_iter",
    "stalled" (the trust region collapsed and ``stop_on_stall`` was set) or "incomplete" (read
    from a run that has not finished).
    """

    x_best: np.ndarray
    y_best: float
    X: np.ndarray
    y: np.ndarray
    status: list[str]
    iteration: np.ndarray
    acquisition: np.ndarray
    tr_length: np.ndarray
    wall_time: np.ndarray
    names: list[str]
    seed: int
    stop_reason: str

    @property
    def converged(self) -> bool:
        """True if the threshold was reached."""
        return self.stop_reason == "threshold"

    @property
    def n_evaluations(self) -> int:
        return int(self.y.size)


def result_of(h: History, stop_reason: str) -> EGOResult:
    """An :class:`EGOResult` from an in-memory history."""
    finite = np.isfinite(h.y)
    if finite.any():
        i = int(np.flatnonzero(finite)[np.argmin(h.y[finite])])
        x_best, y_best = h.X[i].copy(), float(h.y[i])
    else:
        x_best, y_best = np.full(h.X.shape[1], np.nan), math.nan
    return EGOResult(x_best=x_best, y_best=y_best, X=h.X.copy(), y=h.y.copy(),
                     status=list(h.status), iteration=h.iteration.copy(),
                     acquisition=h.acquisition.copy(), tr_length=h.tr_length.copy(),
                     wall_time=h.wall_time.copy(), names=list(h.names), seed=h.seed,
                     stop_reason=stop_reason)


def result_from_history(path: str | os.PathLike) -> EGOResult:
    """An :class:`EGOResult` from a history file; stop reason "incomplete" for a run that has not
    finished (still running, or killed)."""
    h = History.load(Path(path))
    return result_of(h, h.stop_reason or "incomplete")


def summarize_seeds(paths_or_results: Iterable[str | os.PathLike | EGOResult]) -> xr.Dataset:
    """Gather independent seeds: best X and Δ per seed, their mean and spread across seeds.

    Returns a Dataset with dims ``seed`` and ``param``: ``x_best(seed, param)``,
    ``y_best(seed)``, ``n_evaluations(seed)``, ``n_failed(seed)``, ``x_best_mean(param)``,
    ``x_best_std(param)`` (sample std, ddof=1; 0 for one seed), ``y_best_mean``, ``y_best_std``
    and ``x_overall(param)``/``y_overall``/``seed_overall`` (the best seed).
    """
    results = [r if isinstance(r, EGOResult) else result_from_history(r) for r in paths_or_results]
    if not results:
        raise ValueError("summarize_seeds needs at least one result")
    names = results[0].names
    for r in results[1:]:
        if r.names != names:
            raise ValueError(f"seed {r.seed} has parameters {r.names}, seed "
                             f"{results[0].seed} has {names}")
    seeds = [r.seed for r in results]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"duplicate seeds: {seeds}")
    xb = np.array([r.x_best for r in results])
    yb = np.array([r.y_best for r in results])
    several = len(results) > 1
    i = int(np.nanargmin(yb)) if np.isfinite(yb).any() else 0
    return xr.Dataset(
        {
            "x_best": (("seed", "param"), xb),
            "y_best": ("seed", yb),
            "n_evaluations": ("seed", np.array([r.n_evaluations for r in results])),
            "n_failed": ("seed", np.array([int((~np.isfinite(r.y)).sum()) for r in results])),
            "x_best_mean": ("param", np.nanmean(xb, axis=0)),
            "x_best_std": ("param", np.nanstd(xb, axis=0, ddof=1) if several
                           else np.zeros(len(names))),
            "y_best_mean": ((), float(np.nanmean(yb))),
            "y_best_std": ((), float(np.nanstd(yb, ddof=1)) if several else 0.0),
            "x_overall": ("param", xb[i]),
            "y_overall": ((), float(yb[i])),
            "seed_overall": ((), int(seeds[i])),
        },
        coords={"seed": seeds, "param": names},
    )
