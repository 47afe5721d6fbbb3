"""The surrogate of the uncertainty analysis: one GP of h(Δ) (log Δ by default, as the EGO's;
:mod:`grassego.surrogate`) over the pooled evaluations of every seed, in the optimiser's search
coordinates.

The hyper-parameters are fitted (marginal likelihood with BoTorch's priors,
:func:`grassego.surrogate.fit_surrogate`) to at most ``fit_points`` evaluations — the lowest-Δ
half and a seeded random half of the rest, so that the region around the optima and the whole
box are both represented — and the posterior is then conditioned on every evaluation with those
hyper-parameters: one Cholesky factorisation, not a fit, so the cost stays bounded when seeds
and budgets grow. Predictions use that factorisation directly (k(x, X) α and the usual variance
formula), in chunks, with gradients where asked.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from grassego.design import check_bounds, to_unit
from grassego.surrogate import DTYPE, GPConfig, fit_surrogate
from grassego.threads import torch_threads

_CHUNK = 4096


def fit_subset(delta: np.ndarray, fit_points: int, seed: int) -> np.ndarray:
    """Indices of the evaluations that fit the hyper-parameters (all of them if at most
    ``fit_points``): the ``fit_points // 2`` lowest Δ and a seeded random choice of the rest;
    sorted."""
    n = delta.size
    if n <= fit_points:
        return np.arange(n)
    order = np.argsort(delta, kind="stable")
    best = order[: fit_points // 2]
    rest = np.random.default_rng([seed, 2]).choice(order[fit_points // 2:],
                                                   size=fit_points - best.size, replace=False)
    return np.sort(np.concatenate([best, rest]))


class PooledGP:
    """GP of h = log Δ (or Δ, ``config.y_transform``) on search coordinates ``z`` (n, d) inside
    ``bounds`` (d, 2), from finite evaluations ``delta`` (n,); see the module doc."""

    def __init__(self, z: np.ndarray, delta: np.ndarray, bounds: np.ndarray,
                 config: GPConfig = GPConfig(), fit_points: int = 400, seed: int = 0):
        self.bounds = check_bounds(bounds)
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        delta = np.asarray(delta, dtype=np.float64)
        subset = fit_subset(delta, fit_points, seed)
        fitted = fit_surrogate(z[subset], delta[subset], self.bounds, config, seed).model
        self.n_points, self.n_fit = int(delta.size), int(subset.size)
        # BoTorch's GP models g = -h standardised; keep its scaling and hyper-parameters.
        self._g_mean = float(fitted.outcome_transform.means.squeeze())
        self._g_std = float(fitted.outcome_transform.stdvs.squeeze())
        self._kernel = fitted.covar_module
        self._noise = float(fitted.likelihood.noise.detach().mean())
        self._const = float(fitted.mean_module.constant.detach())
        g = -_h(delta, config.y_transform)
        with torch_threads(1), torch.no_grad():
            self._u = self._unit(z)
            k = self._kernel(self._u, self._u).to_dense()
            k = k + self._noise * torch.eye(len(z), dtype=DTYPE)
            self._chol = _cholesky(k)
            resid = torch.as_tensor((g - self._g_mean) / self._g_std - self._const, dtype=DTYPE)
            self._alpha = torch.cholesky_solve(resid.unsqueeze(-1), self._chol).squeeze(-1)

    def _unit(self, z: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(to_unit(np.atleast_2d(z), self.bounds), dtype=DTYPE)

    @property
    def lengthscale(self) -> np.ndarray:
        """ARD length scales, unit cube of the search coordinates, shape (d,)."""
        return self._kernel.lengthscale.detach().numpy().ravel().copy()

    @property
    def noise_std(self) -> float:
        """Learned noise standard deviation in units of h."""
        return math.sqrt(self._noise) * self._g_std

    def _h(self, g_standardised: torch.Tensor) -> np.ndarray:
        return -(g_standardised.detach().numpy() * self._g_std + self._g_mean)

    def mean(self, z: np.ndarray) -> np.ndarray:
        """Posterior mean of h at ``z`` (m, d)."""
        out = np.empty(len(z))
        with torch_threads(1), torch.no_grad():
            for s in range(0, len(z), _CHUNK):
                k = self._kernel(self._unit(z[s:s + _CHUNK]), self._u).to_dense()
                out[s:s + _CHUNK] = self._h(self._const + k @ self._alpha)
        return out

    def mean_and_grad(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean of h at ``z`` (m, d) and its gradient with respect to ``z`` (m, d)."""
        width = torch.as_tensor(self.bounds[:, 1] - self.bounds[:, 0], dtype=DTYPE)
        with torch_threads(1):
            u = self._unit(z).requires_grad_(True)
            g = self._const + self._kernel(u, self._u).to_dense() @ self._alpha.detach()
            g.sum().backward()
        return self._h(g), -(u.grad / width).numpy() * self._g_std

    def predict(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of h at ``z`` (m, d), latent (noise excluded)."""
        mean, std = np.empty(len(z)), np.empty(len(z))
        with torch_threads(1), torch.no_grad():
            for s in range(0, len(z), _CHUNK):
                u = self._unit(z[s:s + _CHUNK])
                k = self._kernel(u, self._u).to_dense()
                v = torch.linalg.solve_triangular(self._chol, k.T, upper=False)
                prior = self._kernel(u, u, diag=True)
                mean[s:s + _CHUNK] = self._h(self._const + k @ self._alpha)
                std[s:s + _CHUNK] = (prior - (v * v).sum(0)).clamp_min(0).sqrt().numpy()
        return mean, std * self._g_std


def _h(delta: np.ndarray, y_transform: str) -> np.ndarray:
    """h(Δ): ln Δ (``"log"``) or Δ (``"none"``), the GP's target before the sign change."""
    return np.log(np.maximum(delta, np.finfo(np.float64).tiny)) if y_transform == "log" else delta


def _cholesky(k: torch.Tensor) -> torch.Tensor:
    """Lower Cholesky factor of ``k``, with growing jitter on the diagonal if needed."""
    eye = torch.eye(k.shape[0], dtype=k.dtype)
    for jitter in (0.0, 1e-8, 1e-6, 1e-4):
        chol, info = torch.linalg.cholesky_ex(k + jitter * eye)
        if int(info) == 0:
            return chol
    raise ValueError("the GP's covariance matrix is not positive definite even with jitter 1e-4")
