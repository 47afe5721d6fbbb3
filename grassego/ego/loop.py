"""The EGO loop (paper Algorithm 1, with a trust region and noise-aware acquisition).

:func:`minimize` runs on any problem (:class:`grassego.ego.problem.SearchProblem`: an
objective mapping a ``(q, d)`` array of parameter sets to ``q`` values of Δ, NaN/inf for failed
evaluations, optionally with a status string per point): initial runs (given, or a
space-filling design), then until ``min Δ < threshold`` or ``max_iter`` iterations: propose
``q`` points (:func:`grassego.ego.propose.propose`), evaluate them, update the trust region
(:mod:`grassego.ego.trust_region`).

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

import numpy as np

from grassego.design import from_unit, latin_hypercube, sobol, split_batches
from grassego.ego.history import History
from grassego.ego.problem import InitialRuns, Objective, SearchProblem
from grassego.ego.propose import propose
from grassego.ego.results import EGOResult, result_of
from grassego.ego.settings import EGOLoop, EGOSettings
from grassego.ego.trust_region import replay
from grassego.errors import GrassegoError, InputError
from grassego.status import scored_statuses

log = logging.getLogger(__name__)


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


def _initial_rows(h: History, initial: int | InitialRuns, seed: int,
                  settings: EGOSettings) -> None:
    d = h.bounds.shape[0]
    if not isinstance(initial, InitialRuns):
        if initial < 1:
            raise ValueError(f"the initial design needs >= 1 point, got {initial}")
        design = latin_hypercube if settings.design == "lhs" else sobol
        h.add(design(initial, h.bounds, seed), iteration=0)
        return
    if initial.X.shape[1] != d or initial.X.shape[0] < 1:
        raise ValueError(f"initial X must have shape (n, {d}), got {initial.X.shape}")
    if initial.y is None:
        h.add(initial.X, iteration=0)
        return
    h.add(initial.X, iteration=0, y=initial.y, status=scored_statuses(initial.y, initial.status))


def minimize(problem: SearchProblem, loop: EGOLoop, *, initial: int | InitialRuns,
             seed: int = 0, state_path: str | os.PathLike | None = None,
             initial_chunks: int | None = None) -> EGOResult:
    """Minimise ``problem.objective`` over ``problem.bounds`` (:class:`SearchProblem`: the
    objective, the coordinates the surrogate and trust region work in, the parameters' names
    and units recorded in the history, the optimiser's settings).

    ``loop``: ``max_iter`` iterations (objective calls of ``batch_size`` points) after the
    initial runs, or fewer once the best finite Δ is below ``threshold`` (its ``seeds`` are
    the workflow's; this run's is ``seed``). ``initial``: the size of a space-filling design
    (``problem.settings.design``) drawn from ``seed``, or the given :class:`InitialRuns`
    (evaluated first unless their values are given); ``initial_chunks``: split their
    evaluation into that many objective calls (default one). ``state_path``: NetCDF history
    file, created or resumed. Same arguments and seed → identical sequence of X. An exception
    raised by the objective propagates; the rows it was evaluating stay "pending" in the file
    and are evaluated first when the run is resumed.
    """
    objective, b, names, settings = (problem.objective, problem.bounds, list(problem.names),
                                     problem.settings)
    space, d = problem.space, b.shape[0]
    max_iter, batch_size, threshold = loop.max_iter, loop.batch_size, loop.threshold
    x0 = initial.X if isinstance(initial, InitialRuns) else None
    units = None if problem.units is None else list(problem.units)
    path = None if state_path is None else Path(state_path)
    h = None if path is None else History.resume(path)
    if h is not None:
        _check_resume(h, b, names, seed, x0)
        log.info("EGO seed %d: resuming %s with %d rows (%d pending)", seed, path, h.y.size,
                 h.pending().size)
        h.units = h.units if units is None else units
    else:
        h = History(b, names, seed, path, units)
        _initial_rows(h, initial, seed, settings)
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
