"""One EGO proposal: local GP, trust region, feasibility-weighted noisy expected improvement, and
``q`` points chosen greedily with the earlier picks pending.

Steps (in the unit cube of the search bounds):

1. the ``n_local`` evaluated points nearest to the best finite Δ form the neighbourhood; the GP
   (:func:`grassego.surrogate.fit_surrogate`) is fitted to its finite evaluations, in local
   coordinates rotated onto the principal axes of its best points (a valley that runs
   diagonally in the parameters becomes axis-aligned for the ARD kernel and the trust region);
2. the trust-region centre is the neighbourhood point with the best *posterior mean* (not the
   best noisy observation); the region is the box ``centre ± half_widths`` in the local
   coordinates, clipped to the box around the (rotated) cube;
3. the acquisition is BoTorch's qLogNEI (or qLogEI), plus log P(ok) of the feasibility classifier
   where the neighbourhood holds failed runs; BoTorch's ``optimize_acqf`` maximises it over the
   region from ``raw_samples`` quasi-random starts, ``num_restarts`` of them polished by
   L-BFGS-B, sequentially for ``q > 1`` (each pick sees the earlier ones as pending points).

Every random choice is seeded from ``seed``, and everything runs on one thread, so a proposal is
a deterministic function of the history.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.logei import qLogExpectedImprovement, qLogNoisyExpectedImprovement
from botorch.optim import optimize_acqf
from botorch.sampling import SobolQMCNormalSampler

from grassego.design import from_unit, to_unit
from grassego.ego.settings import EGOSettings
from grassego.ego.trust_region import TrustRegion
from grassego.surrogate import DTYPE, FeasibilityModel, Surrogate, fit_surrogate, unchecked
from grassego.threads import torch_threads

#: Most neighbourhood points (best posterior means first) in the baseline of noisy EI.
N_BASELINE = 50


@dataclass
class Proposal:
    """``x`` (q, d) new points in parameter units; ``acquisition`` (q,) log acquisition value of
    each greedy pick; ``centre`` (d,) trust-region centre in parameter units; ``surrogate`` the
    local GP (on the local coordinates, see :func:`propose`); ``axes`` (d, d) their directions
    in the unit cube of the search bounds (columns); ``n_local`` / ``n_failed``: neighbourhood
    size and its failed runs."""

    x: np.ndarray
    acquisition: np.ndarray
    centre: np.ndarray
    surrogate: Surrogate
    axes: np.ndarray
    n_local: int
    n_failed: int


class _TimesFeasibility(AcquisitionFunction):
    """log(acquisition × Π P(ok)) of a log-space acquisition and a feasibility classifier."""

    def __init__(self, acquisition: AcquisitionFunction, feasibility: FeasibilityModel):
        super().__init__(model=acquisition.model)
        self.acquisition = acquisition
        self.feasibility = feasibility
        self.X_pending = acquisition.X_pending

    def set_X_pending(self, X_pending: torch.Tensor | None = None) -> None:
        super().set_X_pending(X_pending)
        self.acquisition.set_X_pending(X_pending)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.acquisition(X) + self.feasibility.log_prob(X).sum(-1)


def _neighbourhood(u: np.ndarray, centre: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` rows of ``u`` nearest to ``centre`` (stable order)."""
    dist = np.linalg.norm(u - centre, axis=1)
    return np.sort(np.argsort(dist, kind="stable")[:k])


def principal_axes(u: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Orthonormal axes (columns, longest first) of the spread of the best points among ``u``
    (n, d): the best fifth by ``delta``. Along a narrow valley the good points line up, so the
    first axis follows the valley. The identity while the fifth holds fewer than 10 d points
    (too few for a covariance to mean anything)."""
    d = u.shape[1]
    k = u.shape[0] // 5
    if k < 10 * d:
        return np.eye(d)
    top = u[np.argsort(delta, kind="stable")[:k]]
    values, vectors = np.linalg.eigh(np.cov(top.T))
    vectors = vectors[:, ::-1]
    return vectors * np.where(vectors.sum(0) < 0, -1.0, 1.0)  # a deterministic sign per axis


def propose(X: np.ndarray, delta: np.ndarray, ok: np.ndarray, bounds: np.ndarray,
            region: TrustRegion, q: int, settings: EGOSettings, seed: int) -> Proposal:
    """``q`` new points from the evaluated rows ``X`` (n, d), ``delta`` (n,) and ``ok`` (n,)
    (True where Δ is finite); needs at least two finite rows.

    The neighbourhood is described in local coordinates s = ½ + (u − u_best) R (u: unit cube of
    ``bounds``; R: :func:`principal_axes` of the neighbourhood's best points with
    ``settings.rotate``, else the identity — then s is u shifted, and the GP the same), in which
    the GP's ARD length scales and the box-shaped trust region can follow a valley that runs
    diagonally in the parameters. Lengths are those of the unit cube; the trust region is clipped
    to the box around the rotated cube, and proposals are mapped back and clipped to the cube.
    """
    u = to_unit(X, bounds)
    d = u.shape[1]
    best = int(np.flatnonzero(ok)[np.argmin(delta[ok])])
    near = _neighbourhood(u, u[best], settings.n_local)
    fit = near[ok[near]]
    axes = principal_axes(u[fit], delta[fit]) if settings.rotate else np.eye(d)
    origin = u[best]

    def to_local(points: np.ndarray) -> np.ndarray:
        return 0.5 + (points - origin) @ axes

    corners = to_local(np.array(np.meshgrid(*[[0.0, 1.0]] * d)).reshape(d, -1).T)
    unit = np.array([[0.0, 1.0]] * d)  # the surrogate's inputs are s itself
    sur = fit_surrogate(to_local(u[fit]), delta[fit], unit, settings.gp, seed=seed)
    s_fit = sur.to_unit(to_local(u[fit]))
    with torch_threads(1), torch.random.fork_rng(), warnings.catch_warnings(), unchecked():
        warnings.simplefilter("ignore")  # BoTorch's notes on its own restarts and pruning
        torch.manual_seed(seed)
        with torch.no_grad():
            mean = sur.model.posterior(s_fit).mean.squeeze(-1)
        centre = s_fit[int(torch.argmax(mean))].numpy()
        # the incumbent of noisy EI is among the best posterior means: a baseline of those keeps
        # the MC integral small (cost ~ baseline size) without changing what it integrates over
        baseline = s_fit[torch.argsort(mean, descending=True)[:N_BASELINE]]
        half = region.half_widths(sur.lengthscale)
        box = torch.as_tensor(np.stack([np.maximum(centre - half, corners.min(0)),
                                        np.minimum(centre + half, corners.max(0))]), dtype=DTYPE)
        sampler = SobolQMCNormalSampler(torch.Size([settings.mc_samples]), seed=seed)
        if settings.acquisition == "log_nei":
            acq = qLogNoisyExpectedImprovement(sur.model, X_baseline=baseline, sampler=sampler,
                                               prune_baseline=True)
        else:
            acq = qLogExpectedImprovement(sur.model, best_f=float(sur.target(delta[fit]).max()),
                                          sampler=sampler)
        n_failed = int((~ok[near]).sum())
        if settings.feasibility and n_failed:
            acq = _TimesFeasibility(acq, FeasibilityModel(sur.to_unit(to_local(u[near])),
                                                          ok[near], seed=seed))
        cand, values = optimize_acqf(acq, bounds=box, q=q, num_restarts=settings.num_restarts,
                                     raw_samples=settings.raw_samples, sequential=True,
                                     options={"seed": seed, "maxiter": 200})

    def to_parameters(points: np.ndarray) -> np.ndarray:
        return from_unit(np.clip(origin + (points - 0.5) @ axes.T, 0.0, 1.0), bounds)

    return Proposal(x=to_parameters(cand.detach().numpy()),
                    acquisition=np.atleast_1d(values.detach().numpy()).astype(np.float64),
                    centre=to_parameters(centre[None])[0], surrogate=sur, axes=axes,
                    n_local=int(near.size), n_failed=n_failed)
