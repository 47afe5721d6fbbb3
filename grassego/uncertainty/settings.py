"""Settings of the uncertainty analysis (the workflow config's ``uncertainty`` block maps onto
:class:`UncertaintySettings`; its defaults are the schema's, checked by tests/test_config.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from grassego.settings import settings_from


@dataclass(frozen=True)
class UncertaintySettings:
    """Budgets, estimator seeds and verdict thresholds of :func:`grassego.uncertainty.analyze`.

    Real evaluations (the budget, all seeds together: ``noise_evaluations`` × seeds +
    ``check_evaluations`` + ``profile_checks`` × parameters)
        ``noise_evaluations``: near-replicates per seed around its optimum, each parameter
        perturbed uniformly within ± ``noise_scale`` × its range; the spread of their Δ is the
        objective's noise. ``check_evaluations``: near-optimal points of the surrogate evaluated
        for real. ``profile_checks``: points of each parameter's profile evaluated for real.
    Surrogate (no solver runs)
        ``fit_points``: at most this many evaluations fit the GP's hyper-parameters (the lowest
        Δ half and a seeded random half of the rest); the posterior is conditioned on all of
        them. ``sobol_samples``: base sample N of the Saltelli design (a power of two; N (d + 2)
        predictions); ``bootstrap``: resamples for the indices' intervals at ``confidence``.
        ``candidates``: surrogate points per round of the near-optimal search;
        ``profile_points``: grid points per profile.
    Near-optimal region
        the parameter sets whose surrogate Δ is within ``noise_multiplier`` noise standard
        deviations of the surrogate's best (on the GP's scale: log Δ by default).
    Verdict thresholds (:mod:`grassego.uncertainty.verdict`)
        ``identified_fraction``: a parameter whose near-optimal interval spans at most this
        fraction of its range is identified, unless it or a seed's optimum is at a bound
        (``at_bound``); ``insensitive_total``: a total Sobol index below
        this means Δ is insensitive to it; ``tradeoff_rho``: an absolute Spearman correlation
        over the near-optimal set at least this large means two parameters trade off.
    ``seed``: seeds every random choice (perturbations, Sobol' scrambling, bootstrap, GP fit).
    """

    noise_evaluations: int = 16
    noise_scale: float = 0.002
    noise_multiplier: float = 2.0
    check_evaluations: int = 24
    profile_checks: int = 5
    profile_points: int = 41
    fit_points: int = 400
    sobol_samples: int = 4096
    bootstrap: int = 300
    confidence: float = 0.95
    candidates: int = 16384
    identified_fraction: float = 0.25
    insensitive_total: float = 0.05
    tradeoff_rho: float = 0.8
    seed: int = 0

    def __post_init__(self) -> None:
        for name, least in (("noise_evaluations", 2), ("check_evaluations", 0),
                            ("profile_checks", 0), ("profile_points", 3), ("fit_points", 8),
                            ("sobol_samples", 64), ("bootstrap", 10), ("candidates", 256),
                            ("seed", 0)):
            if getattr(self, name) < least:
                raise ValueError(f"{name}: must be >= {least}, got {getattr(self, name)}")
        n = self.sobol_samples
        if n & (n - 1):
            raise ValueError(f"sobol_samples: must be a power of two (balance of the Sobol' "
                             f"sequence), got {n}")
        for name, lo, hi in (("noise_scale", 0.0, 0.5), ("confidence", 0.0, 1.0),
                             ("insensitive_total", 0.0, 1.0)):
            if not lo < getattr(self, name) < hi:
                raise ValueError(f"{name}: must lie in ({lo:g}, {hi:g}), got {getattr(self, name)}")
        for name in ("identified_fraction", "tradeoff_rho"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name}: must lie in (0, 1], got {getattr(self, name)}")
        if not self.noise_multiplier > 0:
            raise ValueError(f"noise_multiplier: must be > 0, got {self.noise_multiplier}")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> "UncertaintySettings":
        """From the workflow config's ``uncertainty`` section (``enabled`` is the workflow's
        switch, not a setting); unknown keys are an error."""
        kw = {k: v for k, v in cfg.items() if k != "enabled"}
        return settings_from(cls, kw, "uncertainty")

    def real_evaluations(self, n_seeds: int, n_parameters: int) -> int:
        """Solver runs the analysis makes: its budget."""
        return (self.noise_evaluations * n_seeds + self.check_evaluations
                + self.profile_checks * n_parameters)


