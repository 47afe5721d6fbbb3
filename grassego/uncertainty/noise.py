"""The objective's noise, measured: Δ is deterministic (bitwise the same for the same
parameters) but rough at small scales — a shear band that forms one step earlier or a row
further moves it by a few per cent — so the noise that matters is its spread between
near-replicates: parameter sets a tiny, fixed distance apart around an optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def near_replicates(x: np.ndarray, bounds: np.ndarray, n: int, scale: float,
                    rng: np.random.Generator) -> np.ndarray:
    """``n`` points around ``x`` (d,), each parameter perturbed uniformly within ± ``scale`` ×
    its range (``bounds`` (d, 2)), clipped to the bounds; shape (n, d)."""
    width = bounds[:, 1] - bounds[:, 0]
    points = x + rng.uniform(-1.0, 1.0, size=(n, x.size)) * scale * width
    return np.clip(points, bounds[:, 0], bounds[:, 1])


@dataclass(frozen=True)
class NoiseEstimate:
    """Spread of Δ over one optimum's near-replicates: ``n_ok`` of ``n`` runs usable;
    ``delta_best`` the optimum's own Δ; ``mean``, ``low``, ``high`` and ``std`` (sample standard
    deviation) of the near-replicates' Δ, ``log_std`` that of ln Δ (the relative noise)."""

    delta_best: float
    n: int
    n_ok: int
    mean: float
    low: float
    high: float
    std: float
    log_std: float


def estimate(delta_best: float, delta: np.ndarray, ok: np.ndarray) -> NoiseEstimate:
    """The spread of the usable near-replicates' Δ (``delta`` with ``ok`` marking the runs that
    gave one); NaN statistics with fewer than two."""
    d = np.asarray(delta, dtype=np.float64)[np.asarray(ok, dtype=bool)]
    d = d[np.isfinite(d) & (d > 0)]
    two = d.size >= 2
    return NoiseEstimate(
        delta_best=float(delta_best), n=int(np.size(delta)), n_ok=int(d.size),
        mean=float(d.mean()) if d.size else np.nan, low=float(d.min()) if d.size else np.nan,
        high=float(d.max()) if d.size else np.nan,
        std=float(d.std(ddof=1)) if two else np.nan,
        log_std=float(np.log(d).std(ddof=1)) if two else np.nan)


def pooled_std(values: list[float]) -> float:
    """Root mean square of per-optimum standard deviations (NaN ones left out; NaN if none)."""
    v = np.array([x for x in values if np.isfinite(x)])
    return float(np.sqrt(np.mean(v**2))) if v.size else float("nan")
