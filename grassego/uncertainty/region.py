"""The near-optimal region: the parameter sets whose surrogate h (log Δ by default) lies within
a margin (``noise_multiplier`` noise standard deviations) of the surrogate's best, found by
sampling the surrogate in a box that adapts to the region.

The search works in the unit cube of the optimiser's search coordinates (where the STZ
problem's β–E0 valley is axis-aligned, :mod:`grassego.ego.space`): the box starts around the
evaluated points that are near-optimal by the surrogate; each round fills it with a scrambled
Sobol' sample, keeps the points inside the region (and inside the parameter box), then fits the
box to them with a margin of a quarter of their extent — pushing a face out by half the box
wherever the region reaches it — until no face is reached. The region's points from every round
give its extent; a final box's uniform sample gives its shape (correlations, scatter plots).
The region holds only what the surrogate predicts to be near-optimal: it does not reach where
no evaluation does (there the GP reverts to its mean), which the real check evaluations test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.stats import qmc

from grassego.ego.space import SearchSpace

#: Rounds of box adaptation, and of extra draws in the final box for its uniform sample.
MAX_ROUNDS, MAX_EXTRA_DRAWS = 10, 4
#: Points wanted in the final box's uniform sample.
MIN_SAMPLE = 400


@dataclass(frozen=True)
class Region:
    """``points`` (n, d, parameter units): every surrogate point found inside the region;
    ``sample`` (m, d): those of the final box's uniform draws (the region's shape);
    ``h_best`` at ``x_best``: the surrogate's lowest h seen; ``threshold`` = h_best + margin;
    ``candidates``: surrogate predictions made; ``rounds``: boxes tried."""

    points: np.ndarray
    sample: np.ndarray
    x_best: np.ndarray
    h_best: float
    threshold: float
    candidates: int
    rounds: int


class _Search:
    """Surrogate predictions in the unit cube of the search coordinates, the best seen so far."""

    def __init__(self, h: Callable[[np.ndarray], np.ndarray], space: SearchSpace):
        self.h, self.space = h, space
        sb = space.search_bounds
        self.lo, self.width = sb[:, 0], sb[:, 1] - sb[:, 0]
        self.count = 0
        self.h_best, self.x_best = np.inf, None

    def evaluate(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Parameter vectors and h of unit-cube points ``w``; points outside the parameter box
        (search coordinates that map back only by clipping) are dropped."""
        z = self.lo + w * self.width
        x = self.space.from_search(z)
        valid = np.all(np.abs(self.space.to_search(x) - z) <= 1e-9 * self.width, axis=1)
        x, z = x[valid], z[valid]
        h = self.h(z) if len(z) else np.empty(0)
        self.count += len(z)
        if h.size and h.min() < self.h_best:
            self.h_best, self.x_best = float(h.min()), x[int(np.argmin(h))].copy()
        return x, h

    def unit(self, x: np.ndarray) -> np.ndarray:
        return (self.space.to_search(x) - self.lo) / self.width


def near_optimal_region(h: Callable[[np.ndarray], np.ndarray], space: SearchSpace,
                        starts: np.ndarray, margin: float, n_candidates: int,
                        seed: int) -> Region:
    """The region {x : h(x) ≤ min h + ``margin``} of the surrogate mean ``h`` (search
    coordinates (m, d) → (m,)), searched from ``starts`` (k, d, parameter units: the evaluated
    points); see the module doc."""
    search = _Search(h, space)
    found_x, found_h = search.evaluate(search.unit(starts))
    inside = found_h <= search.h_best + margin
    w_in = search.unit(found_x[inside])
    lo = np.clip(w_in.min(axis=0) - 0.02, 0, 1)
    hi = np.clip(w_in.max(axis=0) + 0.02, 0, 1)
    found_x, found_h = [found_x], [found_h]
    draw = 0

    def fill(lo, hi):
        nonlocal draw
        unit = qmc.Sobol(lo.size, scramble=True,
                         seed=np.random.default_rng([seed, draw])).random(n_candidates)
        draw += 1
        x, hx = search.evaluate(lo + unit * (hi - lo))
        found_x.append(x)
        found_h.append(hx)
        return x, hx

    rounds = 0
    for rounds in range(1, MAX_ROUNDS + 1):
        fill(lo, hi)
        xs, hs = np.concatenate(found_x), np.concatenate(found_h)
        w = search.unit(xs[hs <= search.h_best + margin])
        low, high = w.min(axis=0), w.max(axis=0)
        reach = 0.05 * (hi - lo)
        pushed_lo = (low - lo < reach) & (lo > 0)
        pushed_hi = (hi - high < reach) & (hi < 1)
        pad = 0.25 * (high - low) + 1e-4
        lo_new = np.where(pushed_lo, lo - 0.5 * (hi - lo), low - pad)
        hi_new = np.where(pushed_hi, hi + 0.5 * (hi - lo), high + pad)
        lo, hi = np.clip(lo_new, 0, 1), np.clip(hi_new, 0, 1)
        if not (pushed_lo.any() or pushed_hi.any()):
            break
    sample_x, sample_h = [], []
    for _ in range(MAX_EXTRA_DRAWS):
        x, hx = fill(lo, hi)
        sample_x.append(x)
        sample_h.append(hx)
        if sum(int((s <= search.h_best + margin).sum()) for s in sample_h) >= MIN_SAMPLE:
            break
    threshold = search.h_best + margin
    xs, hs = np.concatenate(found_x), np.concatenate(found_h)
    sx, sh = np.concatenate(sample_x), np.concatenate(sample_h)
    return Region(points=xs[hs <= threshold], sample=sx[sh <= threshold],
                  x_best=search.x_best, h_best=search.h_best, threshold=threshold,
                  candidates=search.count, rounds=rounds)
