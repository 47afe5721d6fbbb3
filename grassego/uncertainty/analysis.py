"""The uncertainty analysis of a finished calibration (every seed together): the objective's
noise, the global sensitivity of Δ, the near-optimal region, profiles and a verdict per
parameter. :func:`analyze` takes the seeds' EGO results and the objective (a callable, so a
test can pass a function with a known answer instead of the STZ solver) and returns an
:class:`Uncertainty`: the summary block (JSON-ready) and the arrays behind the figures.

Steps (real evaluations in brackets; budget in :class:`UncertaintySettings`):

1. noise [``noise_evaluations`` per seed]: near-replicates around each seed's optimum
   (:mod:`~grassego.uncertainty.noise`); σ = the pooled standard deviation of h(Δ) (ln Δ by
   default), the GP's learned noise where fewer than two near-replicates of any seed succeed;
2. surrogate: one GP on every seed's usable evaluations (:mod:`~grassego.uncertainty.model`);
3. Sobol' indices of Δ over the parameter bounds on the GP's median prediction
   (exp of its mean of ln Δ), with bootstrap intervals (:mod:`~grassego.uncertainty.sobol`);
4. near-optimal region: h ≤ the GP's best + ``noise_multiplier`` σ
   (:mod:`~grassego.uncertainty.region`) [``check_evaluations`` of its points, spread out by
   farthest-point selection, evaluated for real];
5. profiles per parameter (:mod:`~grassego.uncertainty.profiles`) [``profile_checks`` points of
   each re-optimised profile evaluated for real];
6. intervals: per parameter, the extent of the surrogate's near-optimal points and of every real
   evaluation (history, near-replicates, checks) whose h is within the same threshold;
7. verdicts (:mod:`~grassego.uncertainty.verdict`; a parameter whose interval reaches a bound,
   or on a bound of which a seed's optimum lies, is ``at_bound``, never ``identified``), the
   seeds' optima beside the intervals, whether the seeds agree (:func:`seed_agreement`: the
   summary's first keys and a warning where they do not), and in validation mode whether the
   target lies inside the intervals.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
import xarray as xr
from scipy.stats import spearmanr

from grassego.ego.results import EGOResult
from grassego.ego.space import SearchSpace
from grassego.surrogate import GPConfig
from grassego.uncertainty import noise as noise_mod
from grassego.uncertainty.model import PooledGP
from grassego.uncertainty.profiles import profiles as profile_all, window
from grassego.uncertainty.region import near_optimal_region
from grassego.uncertainty.settings import UncertaintySettings
from grassego.uncertainty.sobol import sobol_indices
from grassego.uncertainty.verdict import verdicts

if TYPE_CHECKING:
    from grassego.problem import Problem

Objective = Callable[[np.ndarray], tuple[np.ndarray, Sequence[str]]]
#: At most this many near-optimal points are kept for the figures and the profiles' starts.
MAX_STORED = 4000
#: Real runs that widen a parameter's surrogate interval by more than this factor get a caveat.
WIDENED = 1.25
#: An interval within this fraction of the range of a bound reaches it.
BOUND_TOLERANCE = 0.005


@dataclass
class Uncertainty:
    """``summary``: the JSON-ready block of summary.json; ``data``: the arrays of the figures
    (near-optimal sample, checks, profiles, Sobol' indices; see :func:`analyze`)."""

    summary: dict[str, Any]
    data: xr.Dataset


def farthest_points(points: np.ndarray, first: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` rows of ``points`` (unit-scaled) picked greedily, each the farthest
    from those picked before and from ``first``: a spread-out subset that reaches the edges."""
    n = min(n, len(points))
    dist = np.linalg.norm(points - first, axis=1)
    picked = []
    for _ in range(n):
        k = int(np.argmax(dist))
        picked.append(k)
        dist = np.minimum(dist, np.linalg.norm(points - points[k], axis=1))
    return np.array(picked, dtype=np.int64)


class _Evaluator:
    """The objective, counting runs and their seconds, returning Δ and h(Δ) (NaN where a run
    failed) and the statuses."""

    def __init__(self, objective: Objective, to_h: Callable[[np.ndarray], np.ndarray]):
        self.objective, self.to_h, self.runs, self.seconds = objective, to_h, 0, 0.0

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        if len(x) == 0:
            return np.empty(0), np.empty(0), []
        t0 = time.perf_counter()
        delta, status = self.objective(x)
        self.seconds += time.perf_counter() - t0
        delta = np.asarray(delta, dtype=np.float64)
        ok = (np.array(status) == "ok") & np.isfinite(delta) & (delta > 0)
        self.runs += len(x)
        return np.where(ok, delta, np.nan), np.where(ok, self.to_h(np.where(ok, delta, 1.0)),
                                                     np.nan), list(status)


def analyze(results: Sequence[EGOResult], objective: Objective, space: SearchSpace,
            gp_config: GPConfig = GPConfig(), settings: UncertaintySettings =
            UncertaintySettings(), units: Mapping[str, str] | None = None,
            target: Mapping[str, float] | None = None,
            log: logging.Logger | None = None) -> Uncertainty:
    """The analysis (module doc) of the seeds' ``results`` (same parameters, in the order of
    ``space.bounds``). ``objective``: parameter rows (n, d) → (Δ (n,), status names), ``"ok"``
    for a usable run; ``units``: parameter → unit, for the verdicts' words; ``target``: the
    known answer in validation mode."""
    log = log or logging.getLogger(__name__)
    t_start = time.perf_counter()
    names, bounds, d = list(results[0].names), space.bounds, space.bounds.shape[0]
    width = bounds[:, 1] - bounds[:, 0]
    s = settings
    log_h = gp_config.y_transform == "log"
    to_h = np.log if log_h else (lambda v: np.asarray(v, dtype=np.float64))
    to_delta = np.exp if log_h else (lambda v: np.asarray(v, dtype=np.float64))
    evaluate = _Evaluator(objective, to_h)
    rng = np.random.default_rng([s.seed, 0])

    pooled = [(r.X[ok], r.y[ok]) for r in results
              for ok in [(np.array(r.status) == "ok") & np.isfinite(r.y) & (r.y > 0)]]
    x_all = np.vstack([p[0] for p in pooled])
    y_all = np.concatenate([p[1] for p in pooled])

    # 1. noise: near-replicates around each seed's optimum
    t0 = time.perf_counter()
    noise_x = np.vstack([noise_mod.near_replicates(r.x_best, bounds, s.noise_evaluations,
                                                   s.noise_scale, rng) for r in results])
    noise_delta, noise_h, _ = evaluate(noise_x)
    per_seed, n = [], s.noise_evaluations
    for k, r in enumerate(results):
        part = slice(k * n, (k + 1) * n)
        per_seed.append(noise_mod.estimate(r.y_best, noise_delta[part],
                                           np.isfinite(noise_delta[part])))
    sigma_measured = noise_mod.pooled_std([e.log_std if log_h else e.std for e in per_seed])
    log.info("noise: %d near-replicates (±%g of each range) around %d optima in %.1f s: "
             "std of %s %.4g", len(noise_x), s.noise_scale, len(results),
             time.perf_counter() - t0, "ln delta" if log_h else "delta", sigma_measured)

    # 2. surrogate
    t0 = time.perf_counter()
    gp = PooledGP(space.to_search(x_all), y_all, space.search_bounds, gp_config, s.fit_points,
                  s.seed)
    log.info("surrogate: GP on %d evaluations (hyper-parameters from %d) in %.1f s; length "
             "scales %s; learned noise %.4g", gp.n_points, gp.n_fit, time.perf_counter() - t0,
             np.round(gp.lengthscale, 3).tolist(), gp.noise_std)
    if np.isfinite(sigma_measured) and all(e.n_ok >= 2 for e in per_seed):
        sigma, noise_method = sigma_measured, "near-replicates"
    else:
        sigma, noise_method = gp.noise_std, "GP (too few usable near-replicates)"

    def h_x(x: np.ndarray) -> np.ndarray:
        return gp.mean(space.to_search(x))

    # 3. Sobol' indices of Δ over the bounds
    t0 = time.perf_counter()
    sobol = sobol_indices(lambda u: to_delta(h_x(bounds[:, 0] + u * width)), d,
                          s.sobol_samples, s.seed, s.bootstrap, s.confidence)
    log.info("Sobol' indices on the surrogate (%d predictions) in %.1f s: first %s, total %s",
             (d + 2) * s.sobol_samples, time.perf_counter() - t0,
             np.round(sobol.first, 3).tolist(), np.round(sobol.total, 3).tolist())

    # 4. near-optimal region and its real checks
    t0 = time.perf_counter()
    margin = s.noise_multiplier * sigma
    region = near_optimal_region(gp.mean, space, x_all, margin, s.candidates, s.seed)
    keep = rng.permutation(len(region.sample))[:MAX_STORED]
    sample = region.sample[keep] if len(keep) else region.points[:MAX_STORED]
    pick = farthest_points((region.points - bounds[:, 0]) / width,
                           (region.x_best - bounds[:, 0]) / width, s.check_evaluations)
    check_x = region.points[pick]
    check_delta, check_h, check_status = evaluate(check_x)
    check_mean, check_std = gp.predict(space.to_search(check_x))
    threshold = region.threshold
    log.info("near-optimal region (h <= %.5g + %.3g) in %d rounds, %d surrogate points, "
             "%d inside; %d checks, %d inside for real; %.1f s", region.h_best, margin,
             region.rounds, region.candidates, len(region.points), len(check_x),
             int(np.sum(check_h <= threshold)), time.perf_counter() - t0)

    # 5. profiles and their real checks
    t0 = time.perf_counter()
    surrogate_iv = np.stack([region.points.min(axis=0), region.points.max(axis=0)], axis=1)
    pool = region.points[rng.permutation(len(region.points))[:MAX_STORED]]
    check_idx = np.unique(np.linspace(0, s.profile_points - 1, s.profile_checks).round()
                          ).astype(int)
    grids = [np.linspace(*window(tuple(surrogate_iv[i]), tuple(bounds[i])), s.profile_points)
             for i in range(d)]
    profiles = profile_all(grids, region.x_best, pool, gp.mean_and_grad, gp.predict, space)
    pc_x = np.stack([p.points[check_idx] for p in profiles]).reshape(-1, d)
    pc_delta, pc_h, _ = evaluate(pc_x)
    log.info("profiles of %d parameters (%d points each, %d checked) in %.1f s", d,
             s.profile_points, len(check_idx), time.perf_counter() - t0)

    # 6. intervals: surrogate points and every real evaluation inside the threshold
    real_x = np.vstack([x_all, noise_x, check_x, pc_x])
    real_h = np.concatenate([to_h(y_all), noise_h, check_h, pc_h])
    real_in = real_x[np.nan_to_num(real_h, nan=np.inf) <= threshold]
    members = np.vstack([region.points, real_in])
    intervals = np.stack([members.min(axis=0), members.max(axis=0)], axis=1)
    fraction = (intervals[:, 1] - intervals[:, 0]) / width
    tol = BOUND_TOLERANCE * width
    at_lo, at_hi = intervals[:, 0] <= bounds[:, 0] + tol, intervals[:, 1] >= bounds[:, 1] - tol
    on_bound = [("both" if a and b else "lower" if a else "upper" if b else None)
                for a, b in zip(at_lo, at_hi)]
    rho = _spearman(sample)

    # 7. verdicts, seeds, target
    x_seeds = np.array([r.x_best for r in results])
    seed_lo, seed_hi = x_seeds <= bounds[:, 0] + tol, x_seeds >= bounds[:, 1] - tol
    seeds_on_bound = {n: [(r.seed, "lower" if seed_lo[k, i] else "upper")
                          for k, r in enumerate(results) if seed_lo[k, i] or seed_hi[k, i]]
                      for i, n in enumerate(names)}
    verdict = verdicts(names, units or {}, intervals, bounds, sobol.total, sobol.total_interval,
                       rho, on_bound, s.identified_fraction, s.insensitive_total, s.tradeoff_rho,
                       seeds_on_bound)
    for name, v in verdict.items():
        (log.warning if v.status == "at_bound" else log.info)("%s: %s", name, v.text)
    seed_inside = (x_seeds >= intervals[:, 0]) & (x_seeds <= intervals[:, 1])
    agreement = seed_agreement(results, names, seed_inside, to_h, threshold + margin,
                               float(to_delta(threshold + margin)))
    (log.warning if agreement["seeds_agree"] is False else log.info)(
        "%s", agreement["seed_agreement"])
    checks = _checks(check_delta, check_h, check_status, check_mean, check_std, sigma,
                     threshold, margin)
    caveats = _caveats(checks, seed_inside, names, results, noise_method, region, real_in)
    for line in caveats:
        log.warning("%s", line)

    summary: dict[str, Any] = {
        **agreement,
        "parameters_at_bound": [n for n, v in verdict.items() if v.status == "at_bound"],
        "method": _method_text(s, noise_method, log_h, space),
        "evaluations": evaluate.runs,
        "wall_time_s": round(time.perf_counter() - t_start, 1),
        "evaluation_time_s": round(evaluate.seconds, 1),
        "surrogate": {"evaluations": gp.n_points, "hyperparameter_evaluations": gp.n_fit,
                      "coordinates": space.describe(),
                      "lengthscale_search_unit": dict(zip(names, gp.lengthscale.tolist())),
                      "noise_std": gp.noise_std},
        "noise": {
            "method": noise_method, "scale": s.noise_scale, "quantity": _h_name(log_h),
            "std_used": sigma, "std_near_replicates": sigma_measured,
            "std_delta": noise_mod.pooled_std([e.std for e in per_seed]),
            "std_log_delta": noise_mod.pooled_std([e.log_std for e in per_seed]),
            "gp_noise_std": gp.noise_std,
            "per_seed": [{"seed": r.seed, **vars(e)} for r, e in zip(results, per_seed)]},
        "sobol": {
            "quantity": "delta: the surrogate's median over the parameter bounds",
            "base_samples": sobol.n_base, "bootstrap": sobol.n_bootstrap,
            "confidence": sobol.confidence,
            "first_order": _indices(names, sobol.first, sobol.first_interval),
            "total": _indices(names, sobol.total, sobol.total_interval)},
        "near_optimal": {
            "criterion": f"{_h_name(log_h)} <= surrogate best + {s.noise_multiplier:g} x noise "
                         "std",
            "delta_best_surrogate": float(to_delta(region.h_best)),
            "delta_threshold": float(to_delta(threshold)),
            "x_best_surrogate": dict(zip(names, region.x_best.tolist())),
            "surrogate_points": int(len(region.points)),
            "real_evaluations_inside": int(len(real_in)),
            "intervals": {n: {"low": float(intervals[i, 0]), "high": float(intervals[i, 1]),
                              "fraction_of_range": float(fraction[i]),
                              "reaches_bound": on_bound[i]} for i, n in enumerate(names)},
            "spearman": {n: dict(zip(names, rho[i].tolist())) for i, n in enumerate(names)},
            "checks": checks,
            "profile_checks": {"evaluations": int(len(pc_x)),
                               "inside": int(np.sum(np.nan_to_num(pc_h, nan=np.inf)
                                                    <= threshold))}},
        "seeds": {n: {"optima": x_seeds[:, i].tolist(),
                      "spread": float(np.ptp(x_seeds[:, i])),
                      "std": float(np.std(x_seeds[:, i], ddof=1)) if len(results) > 1 else 0.0,
                      "inside_interval": [bool(v) for v in seed_inside[:, i]],
                      "on_bound": {str(sd): side for sd, side in seeds_on_bound[n]}}
                  for i, n in enumerate(names)},
        "verdicts": {n: {"status": v.status, "text": v.text} for n, v in verdict.items()},
        "caveats": caveats,
        "thresholds": {"identified_fraction": s.identified_fraction,
                       "insensitive_total": s.insensitive_total, "tradeoff_rho": s.tradeoff_rho},
    }
    if target is not None:
        t = np.array([target[n] for n in names])
        summary["target_inside"] = {n: bool(intervals[i, 0] <= t[i] <= intervals[i, 1])
                                    for i, n in enumerate(names)}
    data = _dataset(names, bounds, intervals, sample, check_x, check_delta, threshold, profiles,
                    check_idx, pc_delta, sobol, x_seeds, [r.seed for r in results], noise_x,
                    noise_delta, to_delta, target, verdict)
    log.info("uncertainty analysis done in %.1f s: %d real evaluations (%.1f s of them)",
             time.perf_counter() - t_start, evaluate.runs, evaluate.seconds)
    return Uncertainty(summary=summary, data=data)


def analyze_problem(problem: Problem, results: Sequence[EGOResult],
                    settings: UncertaintySettings, target: Mapping[str, float] | None = None,
                    log: logging.Logger | None = None) -> Uncertainty:
    """:func:`analyze` of the calibration ``problem`` (:class:`grassego.problem.Problem`: its
    objective, search coordinates and GP settings) from the seeds' ``results``, in the case's
    units: the verdicts' words, the summary's ``units`` block and the data's ``param_units``
    coordinate. Logs the seeds, their evaluations and the budget of real ones to ``log``
    first."""
    log = log or logging.getLogger(__name__)
    log.info("%d seeds, %d evaluations; budget %d real evaluations", len(results),
             sum(r.n_evaluations for r in results),
             settings.real_evaluations(len(results), len(problem.names)))
    units = problem.calibration.units
    uq = analyze(results, problem.objective, problem.space, problem.settings.gp, settings,
                 units=units.parameter_labels(problem.names), target=target, log=log)
    uq.summary["units"] = units.summary_block(problem.names)
    return Uncertainty(uq.summary,
                       uq.data.assign_coords(param_units=("param", list(problem.units))))


def seed_agreement(results: Sequence[EGOResult], names: Sequence[str], seed_inside: np.ndarray,
                   to_h: Callable[[np.ndarray], np.ndarray], h_limit: float,
                   delta_limit: float) -> dict[str, Any]:
    """Whether the seeds, independent replicates, agree: every seed's optimum lies inside the
    near-optimal region — inside each parameter's interval (``seed_inside`` (seeds, d)) and with
    h(Δ) at most ``h_limit`` (the region's threshold widened by one noise margin, as the real
    checks are judged: a point on the edge lands on either side by the noise alone; Δ
    ``delta_limit``). Returns ``seeds_agree`` (None for a single seed) and ``seed_agreement``,
    a sentence naming the seeds that lie outside and why."""
    if len(results) < 2:
        return {"seeds_agree": None,
                "seed_agreement": "one seed only: no other optimum to compare it with"}
    outside = []
    for k, r in enumerate(results):
        why = [f"{', '.join(n for n, ok in zip(names, seed_inside[k]) if not ok)} outside "
               "the near-optimal intervals" if not seed_inside[k].all() else "",
               f"delta {r.y_best:.4g} above the region's {delta_limit:.4g}"
               if not float(to_h(np.array([r.y_best]))[0]) <= h_limit else ""]
        why = [w for w in why if w]
        if why:
            outside.append(f"seed {r.seed}'s optimum ({'; '.join(why)})")
    if not outside:
        text = (f"the {len(results)} seeds agree: every seed's optimum lies inside the "
                "near-optimal region")
    else:
        text = (f"the seeds do not agree — outside the near-optimal region: "
                f"{'; '.join(outside)}. The answer depends on the seed: more iterations, or a "
                "box or model that lets the seeds meet")
    return {"seeds_agree": not outside, "seed_agreement": text}


def _h_name(log_h: bool) -> str:
    return "ln delta" if log_h else "delta"


def _method_text(s: UncertaintySettings, noise_method: str, log_h: bool,
                 space: SearchSpace) -> str:
    h = _h_name(log_h)
    return (f"Noise: standard deviation of {h} over {s.noise_evaluations} near-replicates per "
            f"seed, each parameter perturbed uniformly within +-{s.noise_scale:g} of its range "
            f"around the seed's optimum (used: {noise_method}). Surrogate: one GP of {h} on "
            f"every seed's usable evaluations, in {space.describe()}. Sobol' indices of delta "
            f"(the GP's median) over the parameter bounds, Saltelli/Jansen estimators, "
            f"{s.sobol_samples} base samples, {100 * s.confidence:g} % bootstrap intervals "
            f"({s.bootstrap} resamples; Monte-Carlo error only). Near-optimal: {h} within "
            f"{s.noise_multiplier:g} noise std of the GP's best; intervals span the GP's "
            f"near-optimal points and every real evaluation inside the same threshold; "
            f"{s.check_evaluations} of its points and {s.profile_checks} points per profile "
            "evaluated for real.")


def _caveats(checks, seed_inside, names, results, noise_method, region,
             real_in) -> list[str]:
    """What should make a reader trust the intervals and verdicts less, in words."""
    out = []
    if checks["evaluations"] and checks["inside_within_noise"] < 0.5 * checks["evaluations"]:
        out.append(f"only {checks['inside_within_noise']} of the {checks['evaluations']} real "
                   "checks of the surrogate's near-optimal region came within the threshold "
                   "plus one noise margin: the surrogate is unreliable there, treat the "
                   "intervals and verdicts as rough")
    for k, r in enumerate(results):
        outside = [n for n, inside in zip(names, seed_inside[k]) if not inside]
        if outside:
            out.append(f"seed {r.seed}'s optimum (delta {r.y_best:.4g}) lies outside the "
                       f"near-optimal interval of {', '.join(outside)}: that seed ended "
                       "elsewhere than the near-optimal region")
    surrogate = np.ptp(region.points, axis=0)
    full = np.ptp(np.vstack([region.points, real_in]), axis=0)
    widened = [n for n, a, b in zip(names, surrogate, full) if b > WIDENED * max(a, 1e-300)]
    if widened:
        out.append(f"real runs inside the threshold reach well beyond the surrogate's region "
                   f"for {', '.join(widened)} (their intervals include them): the region may "
                   "reach further than the evaluations show")
    if noise_method != "near-replicates":
        out.append(f"the noise comes from the {noise_method}")
    return out


def _spearman(sample: np.ndarray) -> np.ndarray:
    """Spearman correlation matrix (d, d) of the rows of ``sample``; NaN where undefined."""
    d = sample.shape[1]
    if len(sample) < 3:
        return np.full((d, d), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.atleast_2d(spearmanr(sample).statistic)
    rho = rho if rho.shape == (d, d) else np.full((d, d), np.nan)
    const = np.ptp(sample, axis=0) == 0
    rho[const, :] = rho[:, const] = np.nan
    return rho


def _indices(names, value, interval) -> dict[str, dict[str, float]]:
    return {n: {"value": float(value[i]), "low": float(interval[i, 0]),
                "high": float(interval[i, 1])} for i, n in enumerate(names)}


def _checks(delta, h, status, mean, std, sigma, threshold, margin) -> dict[str, Any]:
    """Outcome of the real evaluations of near-optimal surrogate points: how many are inside
    the threshold, and inside it widened by the same noise margin (a point on the region's
    edge lands on either side of it by the noise alone); the surrogate's error there, also in
    units of its predictive standard deviation (GP ``std`` and noise ``sigma`` together)."""
    ok = np.isfinite(h)
    z = (h[ok] - mean[ok]) / np.sqrt(std[ok] ** 2 + sigma**2)
    return {"evaluations": int(len(h)), "usable": int(ok.sum()),
            "inside": int(np.sum(h[ok] <= threshold)),
            "inside_within_noise": int(np.sum(h[ok] <= threshold + margin)),
            "delta_median": float(np.median(delta[ok])) if ok.any() else float("nan"),
            "delta_max": float(np.max(delta[ok])) if ok.any() else float("nan"),
            "surrogate_error_rms": float(np.sqrt(np.mean((h[ok] - mean[ok]) ** 2)))
            if ok.any() else float("nan"),
            "surrogate_z_median_abs": float(np.median(np.abs(z))) if ok.any() else float("nan"),
            "failed_statuses": sorted({s for s, o in zip(status, ok) if not o})}


def _dataset(names, bounds, intervals, sample, check_x, check_delta, threshold, profiles,
             check_idx, pc_delta, sobol, x_seeds, seeds, noise_x, noise_delta, to_delta, target,
             verdict) -> xr.Dataset:
    """The arrays of the figures (Δ values back-transformed from h; bands: mean ± 2 std)."""
    d, g = len(names), len(profiles[0].values)

    def band(mean, std):
        return to_delta(mean), to_delta(mean - 2 * std), to_delta(mean + 2 * std)

    prof = {key: np.stack([band(p.mean, p.std)[k] for p in profiles])
            for k, key in enumerate(("profile_delta", "profile_low", "profile_high"))}
    sl = {key: np.stack([band(p.slice_mean, p.slice_std)[k] for p in profiles])
          for k, key in enumerate(("slice_delta", "slice_low", "slice_high"))}
    pd_ = ("param", "grid")
    ds = xr.Dataset(
        {
            "bounds": (("param", "side"), bounds),
            "interval": (("param", "side"), intervals),
            "sample": (("sample", "param"), sample),
            "check_x": (("check", "param"), check_x),
            "check_delta": ("check", check_delta),
            "profile_value": (pd_, np.stack([p.values for p in profiles])),
            "profile_points": (("param", "grid", "coordinate"),
                               np.stack([p.points for p in profiles])),
            **{k: (pd_, v) for k, v in {**prof, **sl}.items()},
            "profile_check_value": (("param", "pcheck"),
                                    np.stack([p.values[check_idx] for p in profiles])),
            "profile_check_delta": (("param", "pcheck"), pc_delta.reshape(d, len(check_idx))),
            "sobol_first": ("param", sobol.first),
            "sobol_total": ("param", sobol.total),
            "sobol_first_interval": (("param", "side"), sobol.first_interval),
            "sobol_total_interval": (("param", "side"), sobol.total_interval),
            "seed_optimum": (("seed", "param"), x_seeds),
            "noise_x": (("noise", "param"), noise_x),
            "noise_delta": ("noise", noise_delta),
            "verdict": ("param", np.array([verdict[n].text for n in names], dtype=object)),
            "status": ("param", np.array([verdict[n].status for n in names], dtype=object)),
        },
        coords={"param": names, "coordinate": names, "side": ["low", "high"], "seed": seeds,
                "grid": np.arange(g)},
        attrs={"delta_threshold": float(to_delta(threshold)),
               "title": "grassego uncertainty analysis: arrays of the figures"},
    )
    if target is not None:
        ds["target"] = ("param", np.array([target[n] for n in names], dtype=np.float64))
    return ds
