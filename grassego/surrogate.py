"""Gaussian-process surrogates of the objective Δ(X) and of run feasibility (paper §2.2, eqs.
9–16), built on BoTorch's GPyTorch models.

:class:`Surrogate` owns every transform between the calibration problem and the GP:

- inputs: the parameter box → the unit cube (fixed affine map from the configured bounds);
- outputs: Δ → h = log Δ (``y_transform="log"``: a few diverging or barely plastic runs with
  Δ ≈ 3 among good ones ≈ 0.1 would otherwise flatten the standardised GP near the minimum) or
  h = Δ (``"none"``); the GP models g = −h (BoTorch maximises), standardised by BoTorch's
  ``Standardize`` outcome transform.

The model is BoTorch's ``SingleTaskGP``: constant mean, ARD Matérn-5/2 (or RBF, eq. 16) kernel
with BoTorch's dimension-scaled log-normal length-scale prior, and a *learned* Gaussian noise:
Δ is rough on small scales (shear-band bifurcations: ±2 % between points 0.2 % of the range
apart), so the GP must not interpolate single lucky evaluations. Hyper-parameters maximise the
marginal likelihood with the priors (``fit_gpytorch_mll``, L-BFGS-B). Fits and predictions run
single-threaded and are seeded, so the same data give bitwise the same surrogate on any machine
thread count.

:class:`FeasibilityModel` classifies parameter sets into runs that give a finite Δ and runs that
fail (rejected input, diverged, non-finite): a Dirichlet-based GP classifier (Milios et al.,
NeurIPS 2018) — two GP regressions on log-transformed Dirichlet pseudo-counts with their fixed,
label-dependent noise — whose class probability is the probit-approximated softmax of the two
latent posteriors. It is differentiable in the inputs, so it can multiply an acquisition.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from typing import Iterator

import gpytorch
import linear_operator
import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.outcome import Standardize
from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
from gpytorch.mlls import ExactMarginalLogLikelihood

from grassego.design import check_bounds, from_unit, to_unit
from grassego.threads import blas_threads, torch_threads

KERNELS = ("matern52", "rbf")
Y_TRANSFORMS = ("log", "none")
DTYPE = torch.float64
#: Dirichlet prior pseudo-count of the classifier (Milios et al. use 0.01).
_ALPHA_EPS = 0.01


@dataclass(frozen=True)
class GPConfig:
    """Surrogate settings: ``kernel`` (``matern52`` | ``rbf``) and ``y_transform`` (``log`` |
    ``none``, see the module doc)."""

    kernel: str = "matern52"
    y_transform: str = "log"

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {self.kernel!r}")
        if self.y_transform not in Y_TRANSFORMS:
            raise ValueError(f"y_transform must be one of {Y_TRANSFORMS}, got "
                             f"{self.y_transform!r}")


@contextlib.contextmanager
def unchecked() -> Iterator[None]:
    """GPyTorch's and linear_operator's input checks off (their ``debug`` settings) inside the
    block: they re-verify shapes and training inputs on every kernel and operator call (up to a
    tenth of a proposal's time), and compute nothing the results depend on."""
    with gpytorch.settings.debug(False), linear_operator.settings.debug(False):
        yield


def _fit(model: SingleTaskGP, seed: int) -> SingleTaskGP:
    """Maximum a-posteriori hyper-parameters, deterministic for ``seed``, single-threaded;
    returned frozen (``requires_grad`` off), so that gradients taken through the fitted model
    (the acquisition's, with respect to its inputs) do not also flow into them."""
    with torch_threads(1), blas_threads(1), torch.random.fork_rng(), unchecked():
        torch.manual_seed(seed)
        with warnings.catch_warnings():
            # BoTorch warns about its own retries on ill-conditioned starts; the fit then
            # succeeds or raises, and both are handled by the caller.
            warnings.simplefilter("ignore")
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model.eval().requires_grad_(False)


class Surrogate:
    """A fitted GP of g = −h(Δ) on unit-cube inputs. Build with :func:`fit_surrogate`."""

    def __init__(self, model: SingleTaskGP, bounds: np.ndarray, config: GPConfig):
        self.model = model
        self.bounds = bounds
        self.config = config

    # -- transforms ------------------------------------------------------------------------
    def to_unit(self, x: np.ndarray) -> torch.Tensor:
        """Parameter-space points (n, d) → unit-cube tensor (n, d)."""
        return torch.as_tensor(to_unit(np.atleast_2d(x), self.bounds), dtype=DTYPE)

    def from_unit(self, u: torch.Tensor | np.ndarray) -> np.ndarray:
        """Unit-cube points → parameter space (n, d)."""
        return from_unit(np.atleast_2d(np.asarray(u, dtype=np.float64)), self.bounds)

    def target(self, delta: np.ndarray) -> np.ndarray:
        """Δ → the maximised GP target g = −h(Δ)."""
        return _target(delta, self.config.y_transform)

    # -- model facts -----------------------------------------------------------------------
    @property
    def lengthscale(self) -> np.ndarray:
        """ARD length scales in unit-cube units, shape (d,)."""
        return self.model.covar_module.lengthscale.detach().numpy().ravel().copy()

    @property
    def noise_std(self) -> float:
        """Learned noise standard deviation in units of h (log Δ or Δ)."""
        noise = float(self.model.likelihood.noise.detach().mean())
        return math.sqrt(noise) * float(self.model.outcome_transform.stdvs.squeeze())

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of h (log Δ or Δ) at ``x`` (n, d), latent
        (noise excluded)."""
        with torch_threads(1), torch.no_grad():
            post = self.model.posterior(self.to_unit(x))
            mean = -post.mean.squeeze(-1).numpy()
            std = post.variance.clamp_min(0).sqrt().squeeze(-1).numpy()
        return mean, std


def _target(delta: np.ndarray, y_transform: str) -> np.ndarray:
    delta = np.asarray(delta, dtype=np.float64)
    if y_transform == "log":
        return -np.log(np.maximum(delta, np.finfo(np.float64).tiny))
    return -delta


def fit_surrogate(x: np.ndarray, delta: np.ndarray, bounds: np.ndarray,
                  config: GPConfig = GPConfig(), seed: int = 0) -> Surrogate:
    """Fit the GP to finite evaluations ``(x, delta)`` (x: (n, d) in parameter units, n ≥ 2)."""
    b = check_bounds(bounds)
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    delta = np.asarray(delta, dtype=np.float64).ravel()
    if x.shape != (delta.size, b.shape[0]) or delta.size < 2:
        raise ValueError(f"need x (n, {b.shape[0]}) and delta (n,) with n >= 2; "
                         f"got {x.shape}, {delta.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(delta))):
        raise ValueError("fit_surrogate needs finite data; failed runs go to the FeasibilityModel")
    u = torch.as_tensor(to_unit(x, b), dtype=DTYPE)
    g = torch.as_tensor(_target(delta, config.y_transform), dtype=DTYPE).unsqueeze(-1)
    covar = get_covar_module_with_dim_scaled_prior(ard_num_dims=u.shape[-1],
                                                  use_rbf_kernel=config.kernel == "rbf")
    model = SingleTaskGP(u, g, covar_module=covar, outcome_transform=Standardize(m=1))
    return Surrogate(_fit(model, seed), b, config)


class FeasibilityModel:
    """Probability that a run at unit-cube inputs gives a finite Δ (see the module doc)."""

    def __init__(self, u: torch.Tensor, ok: np.ndarray, seed: int = 0):
        ok = np.asarray(ok, dtype=bool)
        alpha = _ALPHA_EPS + np.stack([~ok, ok], axis=1).astype(np.float64)  # (n, 2): fail, ok
        var = np.log1p(1.0 / alpha)
        y = np.log(alpha) - 0.5 * var
        u = u.to(DTYPE)
        model = SingleTaskGP(u, torch.as_tensor(y, dtype=DTYPE),
                             train_Yvar=torch.as_tensor(var, dtype=DTYPE),
                             outcome_transform=Standardize(m=2))
        self.model = _fit(model, seed)
        # Cache the two latent posteriors (eqs. 14-15 per class) for cheap repeated predictions
        # inside the acquisition optimisation; BoTorch's general posterior costs ~10x more here.
        with torch.no_grad():
            self._u = u
            k = self.model.covar_module(u, u).to_dense()  # (2, n, n)
            noise = self.model.likelihood.noise_covar.noise  # (2, n), standardised units
            self._chol = torch.linalg.cholesky(k + torch.diag_embed(noise))
            z = self.model.train_targets - self.model.mean_module.constant.unsqueeze(-1)
            self._alpha = torch.cholesky_solve(z.unsqueeze(-1), self._chol).squeeze(-1)
            self._const = self.model.mean_module.constant.detach()  # (2,)
            self._mean = self.model.outcome_transform.means.reshape(2)
            self._std = self.model.outcome_transform.stdvs.reshape(2)

    def latent(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and variance of the two latent functions (fail, ok) at ``u`` (…, d),
        in the Dirichlet-target units; shapes (…, 2)."""
        flat = u.reshape(-1, u.shape[-1])
        ks = self.model.covar_module(self._u, flat).to_dense()  # (2, n, m)
        mean = self._const.unsqueeze(-1) + (ks * self._alpha.unsqueeze(-1)).sum(-2)
        v = torch.linalg.solve_triangular(self._chol, ks, upper=False)
        var = (1.0 - (v * v).sum(-2)).clamp_min(0.0)
        mean = mean.T * self._std + self._mean
        var = var.T * self._std**2
        return mean.reshape(*u.shape[:-1], 2), var.reshape(*u.shape[:-1], 2)

    def log_prob(self, u: torch.Tensor) -> torch.Tensor:
        """log P(ok) at ``u`` (…, d), differentiable; shape (…)."""
        mean, var = self.latent(u)
        z = (mean[..., 1] - mean[..., 0]) / torch.sqrt(1.0 + math.pi / 8.0 * var.sum(-1))
        return torch.nn.functional.logsigmoid(z)

    def prob(self, u: torch.Tensor) -> torch.Tensor:
        """P(ok) at ``u`` (…, d), no gradients."""
        with torch_threads(1), torch.no_grad():
            return self.log_prob(u).exp()
