"""Efficient global optimisation of a batched black-box objective (paper §2.3, §3.5, Algorithm 1).

:func:`minimize` runs Algorithm 1 on any ``objective`` mapping a ``(q, d)`` array of parameter
sets to ``q`` values of Δ (NaN/inf for failed evaluations): a space-filling initial design, then
until ``min Δ < threshold`` or ``max_iter`` iterations, fit the GP surrogate
(:mod:`grassego.surrogate`), maximise the expected improvement and evaluate the chosen point(s).

Acquisition
    Expected improvement, eq. (20), with ``f_min`` the smallest finite Δ observed (eq. 18) and
    ``s`` the latent posterior standard deviation. The search maximises ``log EI`` by default
    (``acquisition="log_ei"``; same maximiser as EI, but no underflow to 0 far from the optimum,
    so ranking and gradients stay informative); ``"ei"`` maximises EI itself. The search scores a
    scrambled Sobol set of ``n_candidates`` unit-cube points (plus a share of local perturbations
    around the best points): an exact posterior mean and a cheap upper bound on the variance for
    every candidate, the exact EI for those whose bound can still beat the best exact value (at
    most ``n_exact``), then L-BFGS-B polishing of the best ``n_polish`` in the unit cube.
Batches
    ``batch_size = q > 1`` points per iteration by Kriging believer (fantasy value = posterior
    mean) or constant liar (fantasy value = current f_min), conditioning the GP on each fantasy
    with fixed hyper-parameters.
Failures
    Non-finite Δ rows stay in the history with their status; the GP sees them imputed with the
    worst finite Δ observed, and the log says so.
State (``state_path``, NetCDF4; see :func:`read_history`)
    The history is rewritten atomically after each objective call and when a batch is proposed
    (rows then carry status ``"pending"``); a second call with the same arguments resumes:
    pending rows are evaluated first, then the loop continues. Candidate sets and GP restarts are
    seeded from ``(seed, iteration)`` and the warm-start hyper-parameters are stored in the file,
    so a resumed run proposes exactly the points an uninterrupted run would.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import torch
import xarray as xr
from scipy.optimize import minimize as scipy_minimize
from scipy.stats import qmc

from grassego.config import reject_unknown_keys
from grassego.atomic import atomic_path
from grassego.design import check_bounds, from_unit, latin_hypercube, sobol, split_batches
from grassego.errors import GrassegoError, InputError
from grassego.surrogate import (GPConfig, Surrogate, fit_gp, hyperparameters_from_json,
                                hyperparameters_to_json, threads_for)

log = logging.getLogger(__name__)

ACQUISITIONS = ("log_ei", "ei")
BATCH_STRATEGIES = ("kriging_believer", "constant_liar")
DESIGNS = ("lhs", "sobol")
Y_TRANSFORMS = ("none", "log")
HISTORY_FORMAT = "grassego-ego-history-1"
_DT = torch.float64
_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

Objective = Callable[[np.ndarray], Any]


# ------------------------------------------------------------------------------------------------
# Expected improvement, eq. (20)
# ------------------------------------------------------------------------------------------------
def expected_improvement(mean: torch.Tensor, std: torch.Tensor, f_min: float) -> torch.Tensor:
    """EI of eq. (20): (f_min − ŷ) Φ(z) + s φ(z), z = (f_min − ŷ)/s; max(f_min − ŷ, 0) at s = 0."""
    mean, std = torch.as_tensor(mean, dtype=_DT), torch.as_tensor(std, dtype=_DT)
    diff = f_min - mean
    safe = torch.where(std > 0, std, torch.ones_like(std))
    z = diff / safe
    ei = diff * torch.special.ndtr(z) + safe * torch.exp(-0.5 * z * z - _LOG_SQRT_2PI)
    return torch.where(std > 0, ei.clamp_min(0.0), diff.clamp_min(0.0))


def _log_h(z: torch.Tensor) -> torch.Tensor:
    """log(z Φ(z) + φ(z)), accurate for all z (no underflow for z → −∞)."""
    direct = torch.log((z * torch.special.ndtr(z) + torch.exp(-0.5 * z * z - _LOG_SQRT_2PI))
                       .clamp_min(1e-300))
    zn = z.clamp_max(-1.0)
    # z Φ(z) + φ(z) = φ(z) (1 + z Φ(z)/φ(z)), Φ/φ = sqrt(π/2) erfcx(−z/√2)
    mills = math.sqrt(math.pi / 2.0) * torch.special.erfcx(-zn / _SQRT2)
    tail = -0.5 * zn * zn - _LOG_SQRT_2PI + torch.log1p(zn * mills)
    asym = -0.5 * zn * zn - _LOG_SQRT_2PI - 2.0 * torch.log(-zn)  # h(z) ~ φ(z)/z² below −1e6
    tail = torch.where(zn < -1e6, asym, tail)
    return torch.where(z > -1.0, direct, tail)


def log_expected_improvement(mean: torch.Tensor, std: torch.Tensor, f_min: float) -> torch.Tensor:
    """log of :func:`expected_improvement`, finite wherever EI > 0 even if EI underflows."""
    mean, std = torch.as_tensor(mean, dtype=_DT), torch.as_tensor(std, dtype=_DT)
    diff = f_min - mean
    safe = torch.where(std > 0, std, torch.ones_like(std))
    out = torch.log(safe) + _log_h(diff / safe)
    return torch.where(std > 0, out, torch.log(diff.clamp_min(0.0)))


# ------------------------------------------------------------------------------------------------
# Settings and result
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EGOSettings:
    """Acquisition-search and loop settings (the config's ``ego`` block maps onto these).

    ``n_candidates``: Sobol candidates per search (rounded up to a power of two);
    ``screen_budget``: most kernel entries (training points × candidates) one screen may cost;
    above ``screen_budget / n_candidates`` training points the Sobol set shrinks to the largest
    power of two that fits (never below 2¹³), which keeps an iteration at N = 1,200 near 1 s;
    ``local_fraction``: share of extra candidates perturbing the best points;
    ``n_exact``: most candidates given the exact variance; ``n_polish``: gradient-polished starts;
    ``full_refit_every``: iterations between GP fits with random restarts (others warm-start);
    ``stall_tol``/``stall_patience``: EI below ``stall_tol`` × (spread of finite Δ) for
    ``stall_patience`` consecutive iterations counts as stalled; ``stop_on_stall`` then ends the
    run;
    ``log_every``: iterations between progress lines.
    ``y_transform``: ``"log"`` fits the GP (and computes EI and the stall test) on log Δ, for
    objectives spanning orders of magnitude (a few diverging or elastic runs with Δ ≈ 3 among
    good ones ≈ 0.1 otherwise flatten the standardised GP near the minimum); Δ must be > 0.
    """

    gp: GPConfig = field(default_factory=GPConfig)
    acquisition: str = "log_ei"
    batch_strategy: str = "kriging_believer"
    design: str = "lhs"
    n_candidates: int = 2**17
    screen_budget: float = 4e7
    local_fraction: float = 0.1
    n_exact: int = 2048
    n_polish: int = 5
    full_refit_every: int = 10
    stall_tol: float = 1e-6
    stall_patience: int = 5
    stop_on_stall: bool = False
    log_every: int = 1
    y_transform: str = "none"

    def __post_init__(self) -> None:
        for name, allowed in (("acquisition", ACQUISITIONS), ("batch_strategy", BATCH_STRATEGIES),
                              ("design", DESIGNS), ("y_transform", Y_TRANSFORMS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.n_candidates < 2 or self.n_exact < 1 or self.n_polish < 0:
            raise ValueError("need n_candidates >= 2, n_exact >= 1, n_polish >= 0")
        if not self.screen_budget > 0:
            raise ValueError(f"screen_budget must be > 0, got {self.screen_budget}")
        if not 0.0 <= self.local_fraction < 1.0:
            raise ValueError(f"local_fraction must be in [0, 1), got {self.local_fraction}")
        if self.full_refit_every < 1 or self.stall_patience < 1 or self.log_every < 1:
            raise ValueError("full_refit_every, stall_patience and log_every must be >= 1")

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> "EGOSettings":
        """Build from a config mapping; ``gp`` may be a nested mapping of :class:`GPConfig` keys."""
        reject_unknown_keys(cls, cfg, "EGO")
        kw = dict(cfg)
        if isinstance(kw.get("gp"), Mapping):
            reject_unknown_keys(GPConfig, kw["gp"], "GP")
            kw["gp"] = GPConfig(**kw["gp"])
        return cls(**kw)


@dataclass
class EGOResult:
    """Outcome of :func:`minimize`: the best point and the full history in evaluation order.

    ``X`` (n, d) in parameter units; ``y`` (n,) Δ (NaN for failures); ``status`` per row;
    ``iteration`` (0 = initial design); ``ei``: EI when the row was proposed, in Δ units (log-Δ
    units with ``y_transform="log"``; NaN for the design); ``wall_time`` [s] of the objective call that evaluated the row.
    ``stop_reason``: "threshold", "max_iter" or "stalled".
    """

    x_best: np.ndarray
    y_best: float
    X: np.ndarray
    y: np.ndarray
    status: list[str]
    iteration: np.ndarray
    ei: np.ndarray
    wall_time: np.ndarray
    names: list[str]
    seed: int
    stop_reason: str
    stalled: bool

    @property
    def converged(self) -> bool:
        """True if the threshold was reached."""
        return self.stop_reason == "threshold"

    @property
    def n_evaluations(self) -> int:
        return int(self.y.size)


# ------------------------------------------------------------------------------------------------
# History on disk
# ------------------------------------------------------------------------------------------------
class _History:
    """The growing table of evaluations, mirrored to a NetCDF file after every change."""

    def __init__(self, bounds: np.ndarray, names: list[str], seed: int, path: Path | None):
        d = bounds.shape[0]
        self.bounds, self.names, self.seed, self.path = bounds, names, seed, path
        self.X = np.empty((0, d))
        self.y = np.empty(0)
        self.status: list[str] = []
        self.iteration = np.empty(0, dtype=np.int64)
        self.ei = np.empty(0)
        self.wall_time = np.empty(0)
        self.hyper: dict[str, list[float]] | None = None
        self.stop_reason = ""

    def add(self, x: np.ndarray, iteration: int, ei: np.ndarray | None = None,
            y: np.ndarray | None = None, status: Sequence[str] | None = None) -> None:
        q = x.shape[0]
        self.X = np.vstack([self.X, x])
        self.y = np.concatenate([self.y, np.full(q, np.nan) if y is None else y])
        self.status += ["pending"] * q if status is None else list(status)
        self.iteration = np.concatenate([self.iteration, np.full(q, iteration, dtype=np.int64)])
        self.ei = np.concatenate([self.ei, np.full(q, np.nan) if ei is None else ei])
        self.wall_time = np.concatenate([self.wall_time, np.full(q, np.nan)])

    def pending(self) -> np.ndarray:
        return np.flatnonzero(np.array(self.status) == "pending")

    def done(self) -> np.ndarray:
        return np.flatnonzero(np.array(self.status) != "pending")

    def to_dataset(self) -> xr.Dataset:
        ev = np.arange(self.y.size)
        ds = xr.Dataset(
            {
                "X": (("evaluation", "param"), self.X, {"long_name": "evaluated parameter set",
                                                       "units": "parameter units"}),
                "y": ("evaluation", self.y, {"long_name": "objective value (Delta)",
                                             "comment": "NaN for failed or pending evaluations"}),
                "status": ("evaluation", np.array(self.status, dtype=object),
                           {"comment": "ok | pending | non_finite | status reported by objective"}),
                "iteration": ("evaluation", self.iteration.astype(np.int32),
                              {"comment": "0 = initial design, t >= 1 = EGO iteration"}),
                "ei": ("evaluation", self.ei, {"long_name": "expected improvement at proposal",
                                               "units": "objective units"}),
                "wall_time": ("evaluation", self.wall_time,
                              {"units": "s", "comment": "duration of the objective call"}),
                "bounds": (("param", "side"), self.bounds),
            },
            coords={"evaluation": ev, "param": self.names, "side": ["lower", "upper"]},
            attrs={"format": HISTORY_FORMAT, "seed": int(self.seed),
                   "gp_hyperparameters": hyperparameters_to_json(self.hyper),
                   "stop_reason": self.stop_reason},
        )
        return ds

    def write(self) -> None:
        if self.path is None:
            return
        ds = self.to_dataset()
        enc = {v: {"zlib": True, "complevel": 4}
               for v in ("X", "y", "ei", "wall_time", "iteration")}
        with atomic_path(self.path, suffix=".nc.tmp") as tmp:
            ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=enc)

    @classmethod
    def load(cls, path: Path) -> "_History":
        ds = read_history(path)
        h = cls(ds["bounds"].values.astype(np.float64), [str(n) for n in ds["param"].values],
                int(ds.attrs["seed"]), path)
        h.X = ds["X"].values.astype(np.float64).reshape(-1, h.bounds.shape[0])
        h.y = ds["y"].values.astype(np.float64)
        h.status = [str(s) for s in ds["status"].values]
        h.iteration = ds["iteration"].values.astype(np.int64)
        h.ei = ds["ei"].values.astype(np.float64)
        h.wall_time = ds["wall_time"].values.astype(np.float64)
        h.hyper = hyperparameters_from_json(str(ds.attrs.get("gp_hyperparameters", "")))
        h.stop_reason = str(ds.attrs.get("stop_reason", ""))
        return h


def read_history(path: str | os.PathLike) -> xr.Dataset:
    """Read and check an EGO history file.

    Format (NetCDF4, ``format`` attribute ``grassego-ego-history-1``): dims ``evaluation`` (rows in
    evaluation order), ``param`` (coordinate: parameter names), ``side`` (lower, upper); variables
    ``X(evaluation, param)``, ``y(evaluation)`` (Δ, NaN if failed/pending), ``status(evaluation)``
    (string), ``iteration(evaluation)`` (0 = design), ``ei(evaluation)``, ``wall_time(evaluation)``
    [s], ``bounds(param, side)``; attributes ``seed``, ``gp_hyperparameters`` (JSON of the last
    fit's raw hyper-parameters, the next warm start) and ``stop_reason`` ("" while running, else
    "threshold", "max_iter" or "stalled").
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            ds = ds.load()
    except (OSError, ValueError) as exc:
        raise InputError(path, f"not a readable NetCDF file ({exc})") from exc
    if ds.attrs.get("format") != HISTORY_FORMAT:
        raise InputError(path, f"not an EGO history file (format attribute is "
                               f"{ds.attrs.get('format')!r}, expected {HISTORY_FORMAT!r})")
    missing = [v for v in ("X", "y", "status", "iteration", "ei", "wall_time", "bounds")
               if v not in ds]
    if missing or "seed" not in ds.attrs:
        raise InputError(path, f"EGO history lacks {missing or ['seed attribute']}")
    return ds


# ------------------------------------------------------------------------------------------------
# Acquisition search
# ------------------------------------------------------------------------------------------------
def _score(kind: str, mean: torch.Tensor, var: torch.Tensor, f_min: float) -> torch.Tensor:
    std = var.sqrt()
    if kind == "ei":
        return expected_improvement(mean, std, f_min)
    return log_expected_improvement(mean, std, f_min)


def _candidates(sur: Surrogate, settings: EGOSettings, rng: np.random.Generator) -> torch.Tensor:
    """Scrambled Sobol points in the unit cube plus Gaussian perturbations of the best points."""
    n, d = sur.train_u.shape
    m = int(math.ceil(math.log2(settings.n_candidates)))
    if math.isfinite(settings.screen_budget):
        m_budget = int(math.floor(math.log2(max(settings.screen_budget / n, 1.0))))
        m = min(m, max(m_budget, min(m, 13)))
    u = qmc.Sobol(d, scramble=True, seed=rng).random_base2(m)
    n_local = int(round(settings.local_fraction * u.shape[0]))
    if n_local:
        best = torch.argsort(sur.train_z)[: min(5, sur.train_z.numel())].numpy()
        centres = sur.train_u.numpy()[rng.choice(best, size=n_local)]
        radius = 10.0 ** rng.uniform(-3.0, -1.0, size=(n_local, 1))
        local = np.clip(centres + radius * rng.standard_normal((n_local, d)), 0.0, 1.0)
        u = np.vstack([u, local])
    return torch.as_tensor(u, dtype=_DT)


def _polish(sur: Surrogate, kind: str, u0: np.ndarray, f_min: float) -> tuple[np.ndarray, float]:
    """Maximise the acquisition from ``u0`` with L-BFGS-B in the unit cube."""

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        u = torch.as_tensor(v, dtype=_DT).reshape(1, -1).requires_grad_(True)
        mean, var = sur.predict_unit(u)
        val = _score(kind, mean, var, f_min).sum()
        if not math.isfinite(val.item()):
            return 1e300, np.zeros_like(v)
        val.backward()
        return -val.item(), -u.grad.numpy().ravel()

    res = scipy_minimize(fun, u0, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * u0.size,
                         options={"maxiter": 50})
    return np.clip(res.x, 0.0, 1.0), -float(res.fun)


def _maximise_acquisition(sur: Surrogate, f_min: float, settings: EGOSettings,
                          rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Unit-cube point maximising the acquisition and its EI (standardised units)."""
    kind = settings.acquisition
    cand = _candidates(sur, settings, rng)
    mean, var_ub = sur.screen(cand)
    bound = _score(kind, mean, var_ub, f_min)  # acquisition is increasing in the variance
    order = torch.argsort(bound, descending=True)
    best = -math.inf
    scored_idx, scored_val = [], []
    chunk = sur.config.chunk
    for start in range(0, min(settings.n_exact, order.numel()), chunk):
        idx = order[start:start + chunk]
        if scored_idx and float(bound[idx[0]]) <= best:
            break  # no remaining candidate can beat the best exact value
        m, v = sur.predict_unit_chunked(cand[idx])
        val = _score(kind, m, v, f_min)
        scored_idx.append(idx)
        scored_val.append(val)
        best = max(best, float(val.max()))
    idx = torch.cat(scored_idx)
    val = torch.cat(scored_val)
    ranked = idx[torch.argsort(val, descending=True)].numpy()
    starts: list[np.ndarray] = []
    for i in ranked:  # the best few distinct candidates
        if len(starts) >= max(settings.n_polish, 1):
            break
        u = cand[i].numpy()
        if all(np.max(np.abs(u - s)) > 1e-3 for s in starts):
            starts.append(u)
    best_u, best_val = starts[0], float(val.max())
    for u0 in starts[: settings.n_polish]:
        u, v = _polish(sur, kind, u0, f_min)
        if v > best_val:
            best_u, best_val = u, v
    with torch.no_grad():
        m, v = sur.predict_unit(torch.as_tensor(best_u, dtype=_DT).reshape(1, -1))
        ei = float(expected_improvement(m, v.sqrt(), f_min))
    return best_u, ei


def propose(sur: Surrogate, f_min: float, q: int, settings: EGOSettings,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``q`` new points (parameter units, (q, d)) and their EI at proposal (objective units).

    ``f_min`` in objective units. Points after the first come from the GP conditioned on the
    earlier picks' fantasy values (Kriging believer or constant liar).
    """
    xs, eis = [], []
    f = float(sur.standardise(f_min))
    for j in range(q):
        u, ei = _maximise_acquisition(sur, f, settings, rng)
        x = from_unit(u.reshape(1, -1), sur.bounds)
        xs.append(x[0])
        eis.append(ei * sur.y_scale)
        if j + 1 < q:
            if settings.batch_strategy == "kriging_believer":
                lie = float(sur.predict(x)[0][0])
            else:
                lie = float(sur.y_mean + f * sur.y_scale)
            sur = sur.condition_on(x, np.array([lie]))
            f = min(f, float(sur.standardise(lie)))
    return np.array(xs), np.array(eis)


# ------------------------------------------------------------------------------------------------
# The loop
# ------------------------------------------------------------------------------------------------
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
    if statuses is None:
        statuses = ["ok"] * q
    statuses = ["non_finite" if s == "ok" and not np.isfinite(v) else s
                for v, s in zip(values, statuses)]
    return values, statuses, wall


def _evaluate_pending(h: _History, objective: Objective, chunks: int | None) -> None:
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


def _gp_data(h: _History) -> tuple[np.ndarray, np.ndarray, int, Counter]:
    """Evaluated rows with non-finite Δ replaced by the worst finite Δ."""
    rows = h.done()
    x, y = h.X[rows], h.y[rows].copy()
    bad = ~np.isfinite(y)
    failed = Counter(h.status[r] for r in rows[bad])
    if bad.any() and (~bad).any():
        y[bad] = y[~bad].max()
    return x, y, int(bad.sum()), failed


def _transform(y: np.ndarray, kind: str) -> np.ndarray:
    """The objective as the GP sees it (see ``EGOSettings.y_transform``)."""
    if kind == "log":
        return np.log(np.maximum(y, np.finfo(np.float64).tiny))
    return y


def _stalled(h: _History, settings: EGOSettings) -> bool:
    it = h.iteration[h.iteration > 0]
    if it.size == 0:
        return False
    last = np.unique(it)[-settings.stall_patience:]
    if last.size < settings.stall_patience:
        return False
    finite = _transform(h.y[np.isfinite(h.y)], settings.y_transform)
    spread = float(finite.max() - finite.min()) if finite.size else 0.0
    max_ei = [np.nanmax(h.ei[h.iteration == t], initial=-np.inf) for t in last]
    return bool(np.all(np.array(max_ei) <= settings.stall_tol * max(spread, 1e-300)))


def _check_resume(h: _History, bounds: np.ndarray, names: list[str], seed: int) -> None:
    problems = []
    if h.seed != seed:
        problems.append(f"it was written with seed {h.seed}, this run has seed {seed}")
    if h.bounds.shape != bounds.shape or not np.array_equal(h.bounds, bounds):
        problems.append(f"its bounds {h.bounds.tolist()} differ from {bounds.tolist()}")
    if h.names != names:
        problems.append(f"its parameter names {h.names} differ from {names}")
    if problems:
        raise InputError(h.path, "cannot resume this EGO history: " + "; ".join(problems))


def _initial_rows(h: _History, n_initial: int, seed: int, settings: EGOSettings,
                  initial_X: np.ndarray | None, initial_y: np.ndarray | None,
                  initial_status: Sequence[str] | None) -> None:
    d = h.bounds.shape[0]
    if initial_X is None:
        if n_initial < 1:
            raise ValueError(f"n_initial must be >= 1, got {n_initial}")
        design = latin_hypercube if settings.design == "lhs" else sobol
        h.add(design(n_initial, h.bounds, seed), iteration=0)
        return
    x0 = np.atleast_2d(np.asarray(initial_X, dtype=np.float64))
    if x0.shape[1] != d or x0.shape[0] < 1:
        raise ValueError(f"initial_X must have shape (n, {d}), got {x0.shape}")
    if initial_y is None:
        h.add(x0, iteration=0)
        return
    y0 = np.asarray(initial_y, dtype=np.float64).ravel()
    if y0.size != x0.shape[0]:
        raise ValueError(f"initial_y has {y0.size} values for {x0.shape[0]} points")
    st = ["ok"] * y0.size if initial_status is None else [str(s) for s in initial_status]
    if len(st) != y0.size:
        raise ValueError(f"initial_status has {len(st)} entries for {y0.size} points")
    st = ["non_finite" if s == "ok" and not np.isfinite(v) else s for v, s in zip(y0, st)]
    h.add(x0, iteration=0, y=y0, status=st)


def _result(h: _History, stop_reason: str, stalled: bool) -> EGOResult:
    finite = np.isfinite(h.y)
    if finite.any():
        i = int(np.flatnonzero(finite)[np.argmin(h.y[finite])])
        x_best, y_best = h.X[i].copy(), float(h.y[i])
    else:
        x_best, y_best = np.full(h.X.shape[1], np.nan), math.nan
    return EGOResult(x_best=x_best, y_best=y_best, X=h.X.copy(), y=h.y.copy(),
                     status=list(h.status), iteration=h.iteration.copy(), ei=h.ei.copy(),
                     wall_time=h.wall_time.copy(), names=list(h.names), seed=h.seed,
                     stop_reason=stop_reason, stalled=stalled)


def minimize(objective: Objective, bounds: np.ndarray | Sequence[Sequence[float]], *,
             n_initial: int, max_iter: int, threshold: float | None = None, seed: int = 0,
             batch_size: int = 1, state_path: str | os.PathLike | None = None,
             names: Sequence[str] | None = None, initial_X: np.ndarray | None = None,
             initial_y: np.ndarray | None = None, initial_status: Sequence[str] | None = None,
             initial_chunks: int | None = None,
             settings: EGOSettings = EGOSettings()) -> EGOResult:
    """Minimise ``objective`` over the box ``bounds`` by EGO (Algorithm 1).

    ``objective(X)`` takes a ``(q, d)`` array and returns ``q`` values (NaN/inf = failed), or a
    pair ``(values, statuses)`` with one status string per point (``"ok"``, ``"diverged"``, ...).
    ``n_initial``: size of the space-filling design (``settings.design``); ignored when
    ``initial_X`` is given: those points seed the history (with ``initial_y`` and optional
    ``initial_status`` if already evaluated elsewhere, otherwise they are evaluated first).
    ``initial_chunks``: split the design's evaluation into that many objective calls (default one).
    ``max_iter``: EGO iterations (objective calls of ``batch_size`` points) after the design.
    ``threshold``: stop once the best finite Δ is below it. ``state_path``: NetCDF history file,
    created or resumed. Same arguments and seed → identical sequence of X. An exception raised
    by the objective propagates; the rows it was evaluating stay "pending" in the file and are
    evaluated first when the run is resumed.
    """
    b = check_bounds(bounds)
    d = b.shape[0]
    names = [f"x{i}" for i in range(d)] if names is None else [str(n) for n in names]
    if len(names) != d:
        raise ValueError(f"{len(names)} names for {d} parameters")
    if batch_size < 1 or max_iter < 0:
        raise ValueError(f"need batch_size >= 1 and max_iter >= 0, got {batch_size}, {max_iter}")
    path = None if state_path is None else Path(state_path)
    if path is not None and path.exists():
        h = _History.load(path)
        _check_resume(h, b, names, seed)
        if initial_X is not None:
            x0 = np.atleast_2d(np.asarray(initial_X, dtype=np.float64))
            stored = h.X[h.iteration == 0]
            if stored.shape != x0.shape or not np.allclose(stored, x0, rtol=1e-12, atol=0):
                raise InputError(path, "its initial design differs from the given initial_X")
        log.info("EGO seed %d: resuming %s with %d rows (%d pending)", seed, path, h.y.size,
                 h.pending().size)
    else:
        h = _History(b, names, seed, path)
        _initial_rows(h, n_initial, seed, settings, initial_X, initial_y, initial_status)
        h.write()
    _evaluate_pending(h, objective, initial_chunks if int(h.iteration.max()) == 0 else None)

    t = int(h.iteration.max())
    n_failed_logged = -1
    stalled = _stalled(h, settings)
    while True:
        best = np.nanmin(h.y) if np.isfinite(h.y).any() else math.inf
        if threshold is not None and best < threshold:
            reason = "threshold"
            break
        if t >= max_iter:
            reason = "max_iter"
            break
        if stalled and settings.stop_on_stall:
            reason = "stalled"
            break
        t += 1
        h.stop_reason = ""
        rng = np.random.default_rng([seed, t])
        x, y, n_bad, failed = _gp_data(h)
        if n_bad != n_failed_logged and n_bad:
            log.warning("EGO seed %d: %d failed evaluation(s) (%s) imputed with the worst "
                        "finite Δ = %.6g", seed, n_bad, dict(failed), float(np.max(y)))
        n_failed_logged = n_bad
        t0 = time.perf_counter()
        if np.isfinite(h.y).sum() >= 2:
            full = h.hyper is None or (t - 1) % settings.full_refit_every == 0
            with threads_for(y.size):
                sur = fit_gp(x, _transform(y, settings.y_transform), b, settings.gp,
                             warm_start=h.hyper, seed=int(rng.integers(2**31)),
                             restarts=settings.gp.restarts if full else None)
                t_fit = time.perf_counter() - t0
                f_best = float(_transform(np.array([best]), settings.y_transform)[0])
                x_new, ei = propose(sur, f_best, batch_size, settings, rng)
            h.hyper = sur.hyperparameters()
        else:
            log.warning("EGO seed %d: fewer than 2 finite Δ; iteration %d samples at random",
                        seed, t)
            t_fit = 0.0
            x_new, ei = from_unit(rng.random((batch_size, d)), b), np.full(batch_size, np.nan)
        t_acq = time.perf_counter() - t0 - t_fit
        h.add(x_new, iteration=t, ei=ei)
        h.write()
        _evaluate_pending(h, objective, None)
        was_stalled, stalled = stalled, _stalled(h, settings)
        if stalled and not was_stalled:
            log.warning("EGO seed %d: EI has stalled (max EI <= %g x spread of Δ for %d "
                        "iterations)", seed, settings.stall_tol, settings.stall_patience)
        if t % settings.log_every == 0 or t == max_iter:
            log.info("EGO seed %d iter %d/%d: N=%d best Δ=%.6g max EI=%.3g fit %.2f s "
                     "acq %.2f s objective %.2f s", seed, t, max_iter, h.y.size,
                     float(np.nanmin(h.y)) if np.isfinite(h.y).any() else math.nan,
                     float(np.nanmax(ei, initial=-np.inf)) if np.isfinite(ei).any() else math.nan,
                     t_fit, t_acq, float(h.wall_time[-1]))
    log.info("EGO seed %d stopped (%s) after %d iterations, %d evaluations: best Δ=%.6g",
             seed, reason, t, h.y.size, best)
    h.stop_reason = reason
    h.write()
    return _result(h, reason, stalled)


# ------------------------------------------------------------------------------------------------
# Several seeds
# ------------------------------------------------------------------------------------------------
def result_from_history(path: str | os.PathLike, settings: EGOSettings = EGOSettings()
                        ) -> EGOResult:
    """An :class:`EGOResult` from a history file; stop reason "incomplete" for a run that has not
    finished (still running, or killed)."""
    h = _History.load(Path(path))
    return _result(h, h.stop_reason or "incomplete", _stalled(h, settings))


def summarize_seeds(paths_or_results: Iterable[str | os.PathLike | EGOResult]) -> xr.Dataset:
    """Gather independent seeds: best X and Δ per seed, their mean and spread across seeds.

    Returns a Dataset with dims ``seed`` and ``param``: ``x_best(seed, param)``,
    ``y_best(seed)``, ``n_evaluations(seed)``, ``n_failed(seed)``, ``x_best_mean(param)``,
    ``x_best_std(param)`` (sample std, ddof=1; 0 for one seed), ``y_best_mean``, ``y_best_std``
    and ``x_overall(param)``/``y_overall``/``seed_overall`` (the best seed).
    """
    results = [r if isinstance(r, EGOResult) else result_from_history(r) for r in paths_or_results]
    if not results:
        raise ValueError("summarize_seeds needs at least one result")
    names = results[0].names
    for r in results[1:]:
        if r.names != names:
            raise ValueError(f"seed {r.seed} has parameters {r.names}, seed "
                             f"{results[0].seed} has {names}")
    seeds = [r.seed for r in results]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"duplicate seeds: {seeds}")
    xb = np.array([r.x_best for r in results])
    yb = np.array([r.y_best for r in results])
    ddof = 1 if len(results) > 1 else 0
    i = int(np.nanargmin(yb)) if np.isfinite(yb).any() else 0
    return xr.Dataset(
        {
            "x_best": (("seed", "param"), xb),
            "y_best": ("seed", yb),
            "n_evaluations": ("seed", np.array([r.n_evaluations for r in results])),
            "n_failed": ("seed", np.array([int((~np.isfinite(r.y)).sum()) for r in results])),
            "x_best_mean": ("param", np.nanmean(xb, axis=0)),
            "x_best_std": ("param", np.nanstd(xb, axis=0, ddof=ddof) if len(results) > 1
                           else np.zeros(len(names))),
            "y_best_mean": ((), float(np.nanmean(yb))),
            "y_best_std": ((), float(np.nanstd(yb, ddof=ddof)) if len(results) > 1 else 0.0),
            "x_overall": ("param", xb[i]),
            "y_overall": ((), float(yb[i])),
            "seed_overall": ((), int(seeds[i])),
        },
        coords={"seed": seeds, "param": names},
    )
