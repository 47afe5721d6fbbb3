"""The EGO loop (paper Algorithm 1, with a trust region and noise-aware acquisition).

:func:`minimize` runs on any ``objective`` mapping a ``(q, d)`` array of parameter sets to ``q``
values of Δ (NaN/inf for failed evaluations, optionally with a status string per point): an
initial design (given, or a space-filling one), then until ``min Δ < threshold`` or
``max_iter`` iterations: propose ``q`` points (:func:`grassego.ego.propose.propose`), evaluate
them, update the trust region (:mod:`grassego.ego.trust_region`).

The history (:mod:`grassego.ego.history`) is rewritten atomically when a batch is proposed
(rows "pending") and after each objective call, the previous version kept as a backup; a second
call with the same arguments resumes (from the backup if the file is damaged): pending rows are
evaluated first, then the loop continues. Proposals are seeded from
``(seed, iteration)`` and the trust region is replayed from the history, so a resumed run
proposes exactly the points an uninterrupted run would.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from grassego.design import check_bounds, from_unit, latin_hypercube, sobol, split_batches
from grassego.ego.history import History
from grassego.ego.propose import propose
from grassego.ego.results import EGOResult, result_of
from grassego.ego.settings import EGOSettings
from grassego.ego.space import SearchSpace
from grassego.ego.trust_region import replay
from grassego.errors import GrassegoError, InputError
from grassego.status import scored_statuses

log = logging.getLogger(__name__)

Objective = Callable[[np.ndarray], Any]


def _call_objective(objective: Objective, x: np.ndarray) -> tuple[np.ndarray, list[str], float]:
    """Evaluate, returning values, statuses and the wall time [s] of the call."""
    t0 = time.perf_counter()
    out = objective(x.copy())
    wall = time.perf_counter() - t0
    statuses: list[str] | None = None
    if (isinstance(out, tuple) and len(out) == 2 and not np.isscalar(out[1])
            and all(isinstance(s, str) for s in out[1])):
        out, statuses = out[0], [str(s) for s in out[1]]
    values = np.asarray(out, dtype=np.float64).ravel()
    q = x.shape[0]
    if values.size != q or (statuses is not None and len(statuses) != q):
        raise GrassegoError(f"objective returned {values.size} values for {q} points")
    return values, scored_statuses(values, statuses), wall


def _evaluate_pending(h: History, objective: Objective, chunks: int | None) -> None:
    pend = h.pending()
    if not pend.size:
        return
    parts = [pend] if chunks is None else [pend[p] for p in split_batches(pend.size, chunks)]
    for rows in parts:
        values, statuses, wall = _call_objective(objective, h.X[rows])
        h.y[rows] = values
        for r, s in zip(rows, statuses):
            h.status[r] = s
        h.wall_time[rows] = wall
        h.write()


def _check_resume(h: History, bounds: np.ndarray, names: list[str], seed: int,
                  initial_X: np.ndarray | None) -> None:
    problems = []
    if h.seed != seed:
        problems.append(f"it was written with seed {h.seed}, this run has seed {seed}")
    if h.bounds.shape != bounds.shape or not np.array_equal(h.bounds, bounds):
        problems.append(f"its bounds {h.bounds.tolist()} differ from {bounds.tolist()}")
    if h.names != names:
        problems.append(f"its parameter names {h.names} differ from {names}")
    if initial_X is not None:
        stored = h.X[h.iteration == 0]
        if stored.shape != initial_X.shape or not np.allclose(stored, initial_X, rtol=1e-12,
                                                              atol=0):
            problems.append("its initial design differs from the given initial_X")
    if problems:
        raise InputError(h.path, "cannot resume this EGO history: " + "; ".join(problems))


def _initial_rows(h: History, n_initial: int, seed: int, settings: EGOSettings,
                  initial_X: np.ndarray | None, initial_y: np.ndarray | None,
                  initial_status: Sequence[str] | None) -> None:
    d = h.bounds.shape[0]
    if initial_X is None:
        if n_initial < 1:
            raise ValueError(f"n_initial must be >= 1, got {n_initial}")
        design = latin_hypercube if settings.design == "lhs" else sobol
        h.add(design(n_initial, h.bounds, seed), iteration=0)
        return
    if initial_X.shape[1] != d or initial_X.shape[0] < 1:
        raise ValueError(f"initial_X must have shape (n, {d}), got {initial_X.shape}")
    if initial_y is None:
        h.add(initial_X, iteration=0)
        return
    y0 = np.asarray(initial_y, dtype=np.float64).ravel()
    if y0.size != initial_X.shape[0]:
        raise ValueError(f"initial_y has {y0.size} values for {initial_X.shape[0]} points")
    if initial_status is not None and len(initial_status) != y0.size:
        raise ValueError(f"initial_status has {len(initial_status)} entries for {y0.size} points")
    h.add(initial_X, iteration=0, y=y0, status=scored_statuses(y0, initial_status))


def minimize(objective: Objective, bounds: np.ndarray | Sequence[Sequence[float]], *,
             n_initial: int, max_iter: int, batch_size: int, threshold: float | None = None,
             seed: int = 0, state_path: str | os.PathLike | None = None,
             names: Sequence[str] | None = None, initial_X: np.ndarray | None = None,
             initial_y: np.ndarray | None = None, initial_status: Sequence[str] | None = None,
             initial_chunks: int | None = None, space: SearchSpace | None = None,
             settings: EGOSettings = EGOSettings(),
             units: Sequence[str] | None = None) -> EGOResult:
    """Minimise ``objective`` over the box ``bounds``.

    ``objective(X)`` takes a ``(q, d)`` array and returns ``q`` values (NaN/inf = failed), or a
    pair ``(values, statuses)`` with one status string per point (``"ok"``, ``"diverged"``, ...).
    ``n_initial``: size of the space-filling design (``settings.design``); ignored when
    ``initial_X`` is given: those points seed the history (with ``initial_y`` and optional
    ``initial_status`` if already evaluated elsewhere, otherwise they are evaluated first).
    ``initial_chunks``: split the design's evaluation into that many objective calls (default one).
    ``max_iter``: iterations (objective calls of ``batch_size`` points) after the design.
    ``threshold``: stop once the best finite Δ is below it. ``space``: the coordinates the
    surrogate and trust region work in (:mod:`grassego.ego.space`; default the box
    ``bounds``). ``units``: each parameter's unit, recorded in the history (``param_units``).
    ``state_path``: NetCDF history file,
    created or resumed. Same arguments and seed → identical sequence of X. An exception raised
    by the objective propagates; the rows it was evaluating stay "pending" in the file and are
    evaluated first when the run is resumed.
    """
    b = check_bounds(bounds)
    d = b.shape[0]
    space = SearchSpace(b) if space is None else space
    if not np.array_equal(space.bounds, b):
        raise ValueError("the search space was built for other bounds")
    names = [f"x{i}" for i in range(d)] if names is None else [str(n) for n in names]
    if len(names) != d:
        raise ValueError(f"{len(names)} names for {d} parameters")
    if batch_size < 1 or max_iter < 0:
        raise ValueError(f"need batch_size >= 1 and max_iter >= 0, got {batch_size}, {max_iter}")
    x0 = None if initial_X is None else np.atleast_2d(np.asarray(initial_X, dtype=np.float64))
    path = None if state_path is None else Path(state_path)
    h = None if path is None else History.resume(path)
    if h is not None:
        _check_resume(h, b, names, seed, x0)
        log.info("EGO seed %d: resuming %s with %d rows (%d pending)", seed, path, h.y.size,
                 h.pending().size)
        h.units = h.units if units is None else [str(u) for u in units]
    else:
        h = History(b, names, seed, path, units)
        _initial_rows(h, n_initial, seed, settings, x0, initial_y, initial_status)
        h.write()
    _evaluate_pending(h, objective, initial_chunks if int(h.iteration.max()) == 0 else None)

    t = int(h.iteration.max())
    region = replay(h.y, h.iteration, settings)
    while True:
        ok = h.ok()
        best = float(h.y[ok].min()) if ok.any() else math.inf
        if threshold is not None and best < threshold:
            reason = "threshold"
            break
        if t >= max_iter:
            reason = "max_iter"
            break
        if region.restarts and settings.stop_on_stall:
            reason = "stalled"
            break
        t += 1
        h.stop_reason = ""
        t0 = time.perf_counter()
        if ok.sum() >= 2:
            p = propose(space.to_search(h.X), h.y, ok, space.search_bounds, region, batch_size,
                        settings, seed=int(np.random.default_rng([seed, t]).integers(2**31)))
            x_new, acq = space.from_search(p.x), p.acquisition
        else:
            log.warning("EGO seed %d: fewer than 2 finite Δ; iteration %d samples at random",
                        seed, t)
            x_new = from_unit(np.random.default_rng([seed, t]).random((batch_size, d)), b)
            acq, p = np.full(batch_size, np.nan), None
        t_prop = time.perf_counter() - t0
        h.add(x_new, iteration=t, acquisition=acq, tr_length=region.length)
        h.write()
        _evaluate_pending(h, objective, None)
        restarts = region.restarts
        region.update(h.y[h.iteration == t], settings)
        if region.restarts > restarts:
            log.warning("EGO seed %d: the trust region collapsed below %g (restart %d)", seed,
                        settings.tr_min, region.restarts)
        if t % settings.log_every == 0 or t == max_iter:
            failed = Counter(s for s, good in zip(h.status, h.ok()) if not good)
            log.info("EGO seed %d iter %d/%d: N=%d best Δ=%.6g TR %.3g%s propose %.2f s "
                     "objective %.2f s%s", seed, t, max_iter, h.y.size,
                     float(np.nanmin(h.y)) if np.isfinite(h.y).any() else math.nan,
                     region.length,
                     "" if p is None else f" (local GP on {p.n_local}, {p.n_failed} failed)",
                     t_prop, float(h.wall_time[-1]),
                     f"; failed so far {dict(failed)}" if failed else "")
    log.info("EGO seed %d stopped (%s) after %d iterations, %d evaluations: best Δ=%.6g",
             seed, reason, t, h.y.size, best)
    h.stop_reason = reason
    h.write()
    h.keep_finished()
    return result_of(h, reason)
