"""Variance-based global sensitivity: first-order and total Sobol' indices of a function on the
unit cube, with bootstrap confidence intervals.

For f(U), U uniform on [0, 1]^d, with variance V: the first-order index S_i = V(E[f | U_i]) / V
is the share of V that U_i explains alone; the total index S_T,i = E(V[f | U_~i]) / V the share
it takes part in, interactions included (S_T,i − S_i: through interactions only; S_T,i ≈ 0:
f does not depend on U_i). Estimators (Saltelli et al., Comput. Phys. Commun. 181, 2010, Table 2):
two independent N-point samples A and B (the two halves of a scrambled Sobol' sequence in 2d
dimensions) and, for each i, A_B^i = A with column i taken from B; then

    S_i    = mean( f(B) (f(A_B^i) − f(A)) ) / V       (Saltelli 2010)
    S_T,i  = mean( (f(A) − f(A_B^i))² ) / (2 V)        (Jansen 1999)

with V the variance of f over A and B together: N (d + 2) evaluations of f. The intervals are
percentiles of the same estimators over rows of the design resampled with replacement: the
Monte-Carlo error of the estimate, not any error of f itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.stats import qmc


@dataclass(frozen=True)
class SobolIndices:
    """First-order and total indices, shape (d,), with their intervals (d, 2) at
    ``confidence`` from ``n_bootstrap`` resamples of the ``n_base``-row design; ``variance``:
    the variance of f."""

    first: np.ndarray
    total: np.ndarray
    first_interval: np.ndarray
    total_interval: np.ndarray
    variance: float
    n_base: int
    n_bootstrap: int
    confidence: float


def saltelli_design(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The two base samples A, B (each (n, d), unit cube) of the estimators."""
    sample = qmc.Sobol(2 * d, scramble=True, seed=np.random.default_rng(seed)).random(n)
    return sample[:, :d], sample[:, d:]


def _estimate(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> tuple[np.ndarray, ...]:
    """Indices from f(A) (..., n), f(B) (..., n) and f(A_B^i) (..., d, n); leading axes are
    resamples."""
    var = np.var(np.concatenate([f_a, f_b], axis=-1), axis=-1)[..., None]
    first = np.mean(f_b[..., None, :] * (f_ab - f_a[..., None, :]), axis=-1) / var
    total = 0.5 * np.mean((f_a[..., None, :] - f_ab) ** 2, axis=-1) / var
    return first, total, var[..., 0]


def sobol_indices(f: Callable[[np.ndarray], np.ndarray], d: int, n: int = 4096, seed: int = 0,
                  n_bootstrap: int = 300, confidence: float = 0.95) -> SobolIndices:
    """Sobol' indices of ``f`` (unit-cube points (m, d) → values (m,)) over [0, 1]^d; see the
    module doc. ``f`` is called once, on all n (d + 2) points."""
    a, b = saltelli_design(n, d, seed)
    ab = np.repeat(a[None], d, axis=0)
    for i in range(d):
        ab[i, :, i] = b[:, i]
    values = np.asarray(f(np.concatenate([a, b, ab.reshape(d * n, d)])), dtype=np.float64)
    if values.shape != ((d + 2) * n,) or not np.all(np.isfinite(values)):
        raise ValueError(f"f must return {(d + 2) * n} finite values")
    f_a, f_b, f_ab = values[:n], values[n:2 * n], values[2 * n:].reshape(d, n)
    if np.var(np.concatenate([f_a, f_b])) == 0:
        raise ValueError("f is constant over the unit cube: its Sobol' indices are undefined")
    first, total, var = _estimate(f_a, f_b, f_ab)
    rows = np.random.default_rng([seed, 1]).integers(0, n, size=(n_bootstrap, n))
    boot_first, boot_total, _ = _estimate(f_a[rows], f_b[rows], f_ab[:, rows].transpose(1, 0, 2))
    tail = 50 * (1 - confidence)
    return SobolIndices(
        first=first, total=total,
        first_interval=np.percentile(boot_first, [tail, 100 - tail], axis=0).T,
        total_interval=np.percentile(boot_total, [tail, 100 - tail], axis=0).T,
        variance=float(var), n_base=n, n_bootstrap=n_bootstrap, confidence=confidence)
