"""Gaussian-process surrogate of the objective Δ(X) (paper §2.2, eqs. 9–16; §3.5, eqs. 25–26).

A GPyTorch exact GP in float64:

- inputs scaled to the unit cube from the configured bounds, outputs standardised (zero mean,
  unit variance; paper §2.2 last paragraph);
- constant mean, ARD Matérn-5/2 kernel (or ARD RBF, eq. 16) times a signal variance σf²;
- Gaussian noise σn² learned, bounded below by ``noise_floor`` (standardised units), or fixed;
- hyper-parameters by maximising the exact marginal likelihood with L-BFGS-B (scipy, gradients
  from torch autograd through GPyTorch), from several random starts and/or a warm start (the
  previous iteration's raw hyper-parameters).

Predictions (eqs. 14–15) reuse one cached Cholesky factor of K(X, X) + σn² I and are evaluated in
chunks, so 10⁵ candidate points never build a joint covariance. :meth:`Surrogate.screen` also
returns a cheap, rigorous upper bound on the predictive variance (conditioning on the single most
correlated training point) that lets the acquisition search skip the expensive exact variance for
most candidates. All variances are of the latent f (noise excluded); means and standard deviations
returned by :meth:`Surrogate.predict` are in the objective's units.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass
from typing import Iterator, Mapping

import gpytorch
import numpy as np
import torch
from scipy.optimize import minimize as scipy_minimize

from grassego.threads import torch_threads
from grassego.design import check_bounds, to_unit

KERNELS = ("matern52", "rbf")
_DT = torch.float64
# Box constraints of the hyper-parameters (unit-cube inputs, standardised outputs).
_LENGTHSCALE = (0.01, 100.0)
_OUTPUTSCALE = (0.01, 100.0)
_NOISE_MAX = 1.0
_CHOL_SIZE = 10**7  # always an exact Cholesky, never GPyTorch's CG/Lanczos path


@dataclass(frozen=True)
class GPConfig:
    """Surrogate settings.

    ``noise_floor``: lower bound on the learned noise variance (standardised units);
    ``fixed_noise``: if set, the noise variance is fixed to this value instead of learned;
    ``restarts``: random starts of a cold fit; ``maxiter``/``maxiter_warm``: L-BFGS iterations
    per start for cold / warm-started fits; ``chunk``: candidate points per prediction chunk.
    """

    kernel: str = "matern52"
    noise_floor: float = 1e-6
    fixed_noise: float | None = None
    restarts: int = 3
    maxiter: int = 200
    maxiter_warm: int = 25
    chunk: int = 2000

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {self.kernel!r}")
        if not self.noise_floor > 0:
            raise ValueError(f"noise_floor must be > 0, got {self.noise_floor}")
        if self.fixed_noise is not None and not self.fixed_noise > 0:
            raise ValueError(f"fixed_noise must be > 0, got {self.fixed_noise}")
        if self.restarts < 0 or self.maxiter < 1 or self.maxiter_warm < 1 or self.chunk < 1:
            raise ValueError("restarts must be >= 0; maxiter, maxiter_warm and chunk >= 1")


class _ExactGP(gpytorch.models.ExactGP):
    """Constant mean, scaled ARD kernel."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, config: GPConfig):
        noise_lower = config.noise_floor if config.fixed_noise is None else 0.5 * config.fixed_noise
        likelihood = gpytorch.likelihoods.GaussianLikelihood(
            noise_constraint=gpytorch.constraints.Interval(noise_lower, _NOISE_MAX)
        )
        super().__init__(x, y, likelihood)
        d = x.shape[-1]
        lengthscale = gpytorch.constraints.Interval(*_LENGTHSCALE)
        if config.kernel == "matern52":
            base = gpytorch.kernels.MaternKernel(
                nu=2.5, ard_num_dims=d, lengthscale_constraint=lengthscale
            )
        else:
            base = gpytorch.kernels.RBFKernel(ard_num_dims=d, lengthscale_constraint=lengthscale)
        self.mean_module = gpytorch.means.ConstantMean()
        self.covar_module = gpytorch.kernels.ScaleKernel(
            base, outputscale_constraint=gpytorch.constraints.Interval(*_OUTPUTSCALE)
        )
        self.to(_DT)

    def forward(self, x: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
        return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))


class Surrogate:
    """A fitted GP with its cached Cholesky factor. Build with :func:`fit_gp`."""

    def __init__(self, model: _ExactGP, bounds: np.ndarray, y_mean: float, y_scale: float,
                 neg_mll: float, config: GPConfig):
        self.model = model.eval()
        self.config = config
        self.bounds = bounds
        self.y_mean = y_mean
        self.y_scale = y_scale
        self.neg_mll = neg_mll  # per data point, standardised units
        self.train_u: torch.Tensor = model.train_inputs[0]
        self.train_z: torch.Tensor = model.train_targets
        with torch.no_grad():
            self.const = float(model.mean_module.constant)
            self.outputscale = float(model.covar_module.outputscale)
            self.noise = float(model.likelihood.noise)
            k = self._kernel(self.train_u, self.train_u)
            self.chol = _cholesky(k + self.noise * torch.eye(k.shape[0], dtype=_DT))
            self.alpha = torch.cholesky_solve((self.train_z - self.const).unsqueeze(-1), self.chol)

    # -- hyper-parameters ------------------------------------------------------------------
    @property
    def lengthscale(self) -> np.ndarray:
        """ARD length scales in unit-cube units, shape (d,)."""
        return self.model.covar_module.base_kernel.lengthscale.detach().numpy().ravel().copy()

    def hyperparameters(self) -> dict[str, list[float]]:
        """Raw (unconstrained) hyper-parameters, JSON-serialisable, for a later warm start."""
        return {n: p.detach().numpy().ravel().tolist() for n, p in self.model.named_parameters()}

    # -- prediction ------------------------------------------------------------------------
    def _kernel(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.model.covar_module(a, b).to_dense()

    def predict_unit(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardised posterior mean and latent variance at unit-cube points ``u`` (b, d).

        Differentiable with respect to ``u`` (used by the gradient polish); no chunking.
        """
        ks = self._kernel(self.train_u, u)  # (n, b)
        mean = self.const + (ks * self.alpha).sum(0)
        v = torch.linalg.solve_triangular(self.chol, ks, upper=False)
        var = (self.outputscale - (v * v).sum(0)).clamp_min(1e-30)
        return mean, var

    def predict_unit_chunked(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """As :meth:`predict_unit`, without gradients, in chunks of ``chunk`` points."""
        with torch.no_grad():
            parts = [self.predict_unit(c) for c in torch.split(u, self.config.chunk)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def screen(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardised mean (exact) and an upper bound on the latent variance at ``u`` (m, d).

        The bound is the variance after conditioning on the single most correlated training point,
        σf² − max_j k(u, x_j)² / (σf² + σn²); conditioning on all points can only lower it.
        Costs one kernel block per chunk, no triangular solve.
        """
        means, bounds = [], []
        with torch.no_grad():
            for c in torch.split(u, self.config.chunk):
                ks = self._kernel(self.train_u, c)
                means.append(self.const + ks.T @ self.alpha.squeeze(-1))
                kmax = ks.max(0).values
                bounds.append(self.outputscale - kmax * kmax / (self.outputscale + self.noise))
        return torch.cat(means), torch.cat(bounds).clamp_min(1e-30)

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of f at ``x`` (n, d) in the objective's units."""
        u = torch.as_tensor(to_unit(np.atleast_2d(x), self.bounds), dtype=_DT)
        mean, var = self.predict_unit_chunked(u)
        return (mean.numpy() * self.y_scale + self.y_mean,
                np.sqrt(var.numpy()) * self.y_scale)

    def standardise(self, y: np.ndarray | float) -> np.ndarray:
        """Objective values -> the GP's standardised units."""
        return (np.asarray(y, dtype=np.float64) - self.y_mean) / self.y_scale

    def condition_on(self, x_new: np.ndarray, y_new: np.ndarray) -> "Surrogate":
        """A surrogate with the same hyper-parameters and ``(x_new, y_new)`` added to the data
        (for Kriging-believer / constant-liar batches). ``y_new`` in the objective's units."""
        u_new = torch.as_tensor(to_unit(np.atleast_2d(x_new), self.bounds), dtype=_DT)
        z_new = torch.as_tensor(self.standardise(np.atleast_1d(y_new)), dtype=_DT)
        u = torch.cat([self.train_u, u_new])
        z = torch.cat([self.train_z, z_new])
        model = _ExactGP(u, z, self.config)
        model.load_state_dict(self.model.state_dict())
        return Surrogate(model, self.bounds, self.y_mean, self.y_scale, self.neg_mll, self.config)


@contextlib.contextmanager
def threads_for(n_points: int, min_points: int = 400) -> Iterator[None]:
    """Run torch single-threaded inside the block when there are fewer than ``min_points``
    training points: for such small matrices thread start-up and contention cost more than they
    gain (measured: a 30-point EGO run took 6x longer on 2 busy cores than on 1)."""
    with torch_threads(1) if n_points < min_points else contextlib.nullcontext():
        yield


def _cholesky(k: torch.Tensor) -> torch.Tensor:
    """Cholesky factor, adding diagonal jitter (relative 1e-10 … 1e-4) only if needed."""
    chol, info = torch.linalg.cholesky_ex(k)
    scale = float(k.detach().diagonal().mean())
    jitter = 1e-10 * scale
    while int(info) != 0:
        if jitter > 1e-4 * scale:
            raise np.linalg.LinAlgError("covariance matrix is not positive definite")
        chol, info = torch.linalg.cholesky_ex(k + jitter * torch.eye(k.shape[0], dtype=_DT))
        jitter *= 10.0
    return chol


def _random_start(model: _ExactGP, rng: np.random.Generator, fixed_noise: float | None) -> None:
    d = model.train_inputs[0].shape[-1]
    values = {
        "covar_module.base_kernel.lengthscale": torch.as_tensor(
            np.exp(rng.uniform(np.log(0.05), np.log(2.0), size=(1, d))), dtype=_DT),
        "covar_module.outputscale": torch.tensor(float(np.exp(rng.uniform(np.log(0.3), np.log(3)))),
                                                 dtype=_DT),
        "mean_module.constant": torch.tensor(float(rng.normal(0.0, 0.5)), dtype=_DT),
    }
    if fixed_noise is None:
        values["likelihood.noise_covar.noise"] = torch.tensor(
            float(np.exp(rng.uniform(np.log(1e-4), np.log(1e-1)))), dtype=_DT)
    model.initialize(**values)


def _set_raw(model: _ExactGP, raw: Mapping[str, list[float]]) -> bool:
    """Load raw hyper-parameters; False (model untouched) if names or sizes do not match."""
    params = dict(model.named_parameters())
    if set(raw) != set(params) or any(len(raw[n]) != p.numel() for n, p in params.items()):
        return False
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(torch.as_tensor(raw[n], dtype=_DT).reshape(p.shape))
    return True


def _neg_log_likelihood(model: _ExactGP) -> torch.Tensor:
    """−log p(z | X, φ) / n for the model's training data (eq. 11 with the constant mean)."""
    x, z = model.train_inputs[0], model.train_targets
    n = z.shape[0]
    k = model.covar_module(x).to_dense() + model.likelihood.noise * torch.eye(n, dtype=_DT)
    chol = _cholesky(k)
    r = (z - model.mean_module.constant).unsqueeze(-1)
    a = torch.cholesky_solve(r, chol)
    quad_logdet = 0.5 * (r * a).sum() + torch.log(chol.diagonal()).sum()
    return quad_logdet / n + 0.5 * math.log(2 * math.pi)


def _optimise(model: _ExactGP, maxiter: int) -> float:
    """Minimise the negative log marginal likelihood (per point) with L-BFGS-B, in place."""
    params = [p for p in model.parameters() if p.requires_grad]

    def set_vec(v: np.ndarray) -> None:
        with torch.no_grad():
            i = 0
            for p in params:
                p.copy_(torch.as_tensor(v[i:i + p.numel()], dtype=_DT).reshape(p.shape))
                i += p.numel()

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        set_vec(v)
        for p in params:
            p.grad = None
        try:
            loss = _neg_log_likelihood(model)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(v)
        loss.backward()
        grad = torch.cat([p.grad.reshape(-1) for p in params]).numpy()
        if not (np.isfinite(loss.item()) and np.all(np.isfinite(grad))):
            return 1e10, np.zeros_like(v)
        return loss.item(), grad

    v0 = torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy()
    bounds = [(-20.0, 20.0)] * v0.size  # raw-parameter box keeps sigmoid/softplus away from 0
    res = scipy_minimize(fun, np.clip(v0, -20, 20), jac=True, method="L-BFGS-B", bounds=bounds,
                         options={"maxiter": maxiter})
    set_vec(res.x)
    return float(res.fun)


def fit_gp(x: np.ndarray, y: np.ndarray, bounds: np.ndarray, config: GPConfig = GPConfig(), *,
           warm_start: Mapping[str, list[float]] | None = None, restarts: int | None = None,
           seed: int = 0) -> Surrogate:
    """Fit the GP to finite data ``(x, y)`` (x: (n, d) in parameter units; y: (n,)).

    Starts: the warm start (if given and compatible), the default start when there is no warm
    start, and ``restarts`` random starts (default: ``config.restarts`` without a warm start, 0
    with one). The start with the lowest negative marginal likelihood wins. Deterministic for a
    given ``seed``.
    """
    b = check_bounds(bounds)
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != (y.size, b.shape[0]) or y.size < 2:
        raise ValueError(f"need x (n, {b.shape[0]}) and y (n,) with n >= 2; "
                         f"got {x.shape}, {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("fit_gp needs finite data; impute failed evaluations first")
    y_mean = float(y.mean())
    y_scale = float(y.std()) or 1.0
    u = torch.as_tensor(to_unit(x, b), dtype=_DT)
    z = torch.as_tensor((y - y_mean) / y_scale, dtype=_DT)
    model = _ExactGP(u, z, config)
    if config.fixed_noise is not None:
        model.likelihood.noise = config.fixed_noise
        model.likelihood.noise_covar.raw_noise.requires_grad_(False)
    rng = np.random.default_rng([seed, 0x6A7])
    starts: list[dict[str, list[float]] | None] = []
    default = {n: p.detach().numpy().ravel().tolist() for n, p in model.named_parameters()}
    if warm_start is not None and _set_raw(model, warm_start):
        starts.append(dict(warm_start))
        n_random = 0 if restarts is None else restarts
        maxiter = config.maxiter_warm if n_random == 0 else config.maxiter
    else:
        starts.append(default)
        n_random = config.restarts if restarts is None else restarts
        maxiter = config.maxiter
    for _ in range(n_random):
        _set_raw(model, default)
        _random_start(model, rng, config.fixed_noise)
        starts.append({n: p.detach().numpy().ravel().tolist() for n, p in model.named_parameters()})
    best, best_loss = None, np.inf
    with threads_for(y.size):
        for start in starts:
            _set_raw(model, start)
            loss = _optimise(model, maxiter)
            if loss < best_loss:
                best_loss, best = loss, {n: p.detach().numpy().ravel().tolist()
                                         for n, p in model.named_parameters()}
    _set_raw(model, best)
    return Surrogate(model, b, y_mean, y_scale, best_loss, config)


def hyperparameters_to_json(h: Mapping[str, list[float]] | None) -> str:
    """Serialise raw hyper-parameters (``""`` for none) for storage in a file attribute."""
    return "" if h is None else json.dumps(dict(h), sort_keys=True)


def hyperparameters_from_json(s: str) -> dict[str, list[float]] | None:
    """Inverse of :func:`hyperparameters_to_json` (float64 round-trips exactly through repr)."""
    return json.loads(s) if s else None


