"""The trust region of the EGO loop (TuRBO-1 rules, Eriksson et al., NeurIPS 2019).

The region's state is a pure function of the evaluated history — the best Δ of the initial
design, then the Δ of each completed iteration in order — so a resumed run rebuilds exactly the
region an uninterrupted run had, with nothing extra stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grassego.ego.settings import EGOSettings


@dataclass
class TrustRegion:
    """``length``: edge in the unit cube (geometric mean over dimensions); ``best``: best finite
    Δ seen; ``successes`` / ``failures``: consecutive improving / non-improving iterations;
    ``restarts``: collapses below ``tr_min`` so far."""

    length: float
    best: float = math.inf
    successes: int = 0
    failures: int = 0
    restarts: int = 0

    def update(self, delta: np.ndarray, settings: EGOSettings) -> None:
        """Account for one iteration's evaluations ``delta`` (NaN for failed runs)."""
        finite = np.asarray(delta, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        new = float(finite.min()) if finite.size else math.inf
        margin = settings.improvement_tol * abs(self.best) if math.isfinite(self.best) else 0.0
        if new < self.best - margin:
            self.successes, self.failures = self.successes + 1, 0
        else:
            self.successes, self.failures = 0, self.failures + 1
        self.best = min(self.best, new)
        if self.successes >= settings.success_tol:
            self.length, self.successes = min(2.0 * self.length, settings.tr_max), 0
        elif self.failures >= settings.failure_tol:
            self.length, self.failures = self.length / 2.0, 0
        if self.length < settings.tr_min:
            self.length, self.successes, self.failures = settings.tr_init, 0, 0
            self.restarts += 1

    def half_widths(self, lengthscale: np.ndarray) -> np.ndarray:
        """Per-dimension half-edges: ``length / 2`` stretched by the GP length scales, normalised
        to a geometric mean of one (TuRBO)."""
        w = np.asarray(lengthscale, dtype=np.float64)
        w = w / np.exp(np.mean(np.log(w)))
        return 0.5 * self.length * w


def replay(delta: np.ndarray, iteration: np.ndarray, settings: EGOSettings) -> TrustRegion:
    """The trust region after the completed iterations of a history (``delta`` and
    ``iteration`` per row; rows of iteration 0 are the initial design)."""
    delta = np.asarray(delta, dtype=np.float64)
    design = delta[iteration == 0]
    finite = design[np.isfinite(design)]
    tr = TrustRegion(settings.tr_init, float(finite.min()) if finite.size else math.inf)
    for t in np.unique(iteration[iteration > 0]):
        tr.update(delta[iteration == t], settings)
    return tr
