"""Profiles of the surrogate along each parameter: h (log Δ by default) as one parameter moves
over a window, (a) with the others held at the surrogate's optimum (a slice) and (b) with the
others re-optimised at every value (the profile: how much Δ must rise when that parameter is
forced away, given that the others may compensate — flat where parameters trade off).

The re-optimisation minimises the GP mean over the other parameters inside their bounds,
all grid values at once (one L-BFGS-B problem whose parts are independent), with the GP's exact
gradient carried through the search-coordinate map by finite differences of that map; it starts
from the best near-optimal surrogate point nearest to each grid value and from the optimum, and
keeps the better end. Every profile's every start is one row of a single L-BFGS-B problem (the
held coordinate a variable with equal bounds), so the cost is a few hundred batched GP calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import minimize

from grassego.ego.space import SearchSpace

#: Step [unit cube of the parameters] of the finite differences of the search-coordinate map.
_MAP_STEP = 1e-7
#: L-BFGS-B iterations per round of the re-optimisation (all profiles together); where it stops
#: early, a profile value is an upper bound of the minimum over the other parameters.
MAX_ITER = 150


@dataclass(frozen=True)
class Profile:
    """One parameter's profile: grid ``values`` (G,) [its units]; the slice at the optimum
    (``slice_mean``, ``slice_std``: GP mean and standard deviation of h); the re-optimised
    parameter sets ``points`` (G, d) with ``mean``, ``std`` of h there."""

    values: np.ndarray
    slice_mean: np.ndarray
    slice_std: np.ndarray
    points: np.ndarray
    mean: np.ndarray
    std: np.ndarray


def window(interval: tuple[float, float], bounds: tuple[float, float]) -> tuple[float, float]:
    """The plotted range of a parameter: its near-optimal ``interval`` widened on each side by
    its own width, at least 5 % of the range, inside ``bounds``."""
    lo, hi = interval
    pad = max(hi - lo, 0.05 * (bounds[1] - bounds[0]))
    return max(bounds[0], lo - pad), min(bounds[1], hi + pad)


class _Objective:
    """h and its gradient at parameter vectors, through the search space."""

    def __init__(self, gp_mean_and_grad: Callable, space: SearchSpace):
        self.f, self.space = gp_mean_and_grad, space
        self.lo = space.bounds[:, 0]
        self.width = space.bounds[:, 1] - space.bounds[:, 0]

    def __call__(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """h at unit-cube parameter points ``u`` (m, d) and dh/du (m, d)."""
        x = self.lo + u * self.width
        z = self.space.to_search(x)
        h, dz = self.f(z)
        grad = np.empty_like(u)
        for k in range(u.shape[1]):
            step = np.zeros(u.shape[1])
            step[k] = _MAP_STEP
            dzdu = (self.space.to_search(self.lo + (u + step) * self.width) - z) / _MAP_STEP
            grad[:, k] = np.sum(dz * dzdu, axis=1)
        return h, grad


def _minimise(obj: _Objective, starts: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Minimise h from every row of ``starts`` (m, d, unit cube) with coordinate ``fixed[r]``
    of row r held (an L-BFGS-B variable with equal bounds); one problem, rows independent.
    Returns the end points (m, d)."""
    m, d = starts.shape
    held = np.zeros((m, d), dtype=bool)
    held[np.arange(m), fixed] = True
    lower = np.where(held, starts, 0.0).ravel()
    upper = np.where(held, starts, 1.0).ravel()

    def fun(v):
        h, grad = obj(v.reshape(m, d))
        return float(h.sum()), np.where(held, 0.0, grad).ravel()

    res = minimize(fun, starts.ravel(), jac=True, method="L-BFGS-B",
                   bounds=list(zip(lower, upper)), options={"maxiter": MAX_ITER})
    return res.x.reshape(m, d)


def profiles(grids: list[np.ndarray], x_opt: np.ndarray, pool: np.ndarray,
             gp_mean_and_grad: Callable, gp_predict: Callable,
             space: SearchSpace) -> list[Profile]:
    """The profile of every parameter i over its grid ``grids[i]`` (see the module doc).
    ``x_opt`` (d,): the surrogate's optimum; ``pool`` (n, d): near-optimal surrogate points
    (start points); ``gp_mean_and_grad`` / ``gp_predict``: the GP on search coordinates."""
    obj = _Objective(gp_mean_and_grad, space)
    u_grids = [(values - obj.lo[i]) / obj.width[i] for i, values in enumerate(grids)]
    u_opt = (x_opt - obj.lo) / obj.width
    u_pool = (np.vstack([pool, x_opt]) - obj.lo) / obj.width
    h_pool, _ = obj(u_pool)
    first = []
    for i, u_val in enumerate(u_grids):
        # per grid value, the lowest-h pool point among those nearest in coordinate i
        dist = np.abs(u_pool[None, :, i] - u_val[:, None])
        spacing = np.min(np.diff(u_val)) if u_val.size > 1 else 1.0
        near = dist <= dist.min(axis=1, keepdims=True) + 0.5 * spacing
        from_pool = u_pool[np.argmin(np.where(near, h_pool[None, :], np.inf), axis=1)]
        first.append((from_pool, np.repeat(u_opt[None], u_val.size, axis=0)))
    best = _round(obj, u_grids, first)
    # a sweep: restart every grid value from its neighbours' ends (mends a start that fell into
    # a worse local minimum than the values beside it)
    sweep = [tuple(rows[np.clip(np.arange(len(rows)) + shift, 0, len(rows) - 1)]
                   for shift in (-1, 1)) for rows in best]
    best = [_better(obj, a, b) for a, b in zip(best, _round(obj, u_grids, sweep))]
    out = []
    for i, (values, u_best) in enumerate(zip(grids, best)):
        points = obj.lo + u_best * obj.width
        sliced = np.repeat(x_opt[None], values.size, axis=0)
        sliced[:, i] = values
        slice_mean, slice_std = gp_predict(space.to_search(sliced))
        mean, std = gp_predict(space.to_search(points))
        out.append(Profile(values=np.asarray(values, dtype=np.float64), slice_mean=slice_mean,
                           slice_std=slice_std, points=points, mean=mean, std=std))
    return out


def _round(obj: _Objective, u_grids: list[np.ndarray],
           starts: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """One re-optimisation of every profile from two starts per grid value (``starts[i]``: two
    (G_i, d) arrays, unit cube; coordinate i is set to the grid); per parameter the better end
    of each grid value."""
    rows, fixed = [], []
    for i, (u_val, pair) in enumerate(zip(u_grids, starts)):
        for start in pair:
            start = start.copy()
            start[:, i] = u_val
            rows.append(start)
            fixed.append(np.full(u_val.size, i))
    ends = _minimise(obj, np.vstack(rows), np.concatenate(fixed))
    out, row = [], 0
    for u_val in u_grids:
        g = u_val.size
        out.append(_better(obj, ends[row:row + g], ends[row + g:row + 2 * g]))
        row += 2 * g
    return out


def _better(obj: _Objective, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row by row, the one of ``a`` and ``b`` (m, d, unit cube) with the lower h."""
    return np.where((obj(a)[0] <= obj(b)[0])[:, None], a, b)
