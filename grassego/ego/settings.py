"""Settings of the trust-region EGO: the workflow config's ``ego`` section maps onto
:class:`EGOLoop` (how many seeds, iterations and points) and :class:`EGOSettings` (how the
optimiser searches). Their defaults are the only ones; the schema's must agree
(tests/test_settings.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from grassego.settings import settings_from
from grassego.surrogate import GPConfig

ACQUISITIONS = ("log_nei", "log_ei")
DESIGNS = ("lhs", "sobol")
SEARCH_SPACES = ("mean_chi", "box")
#: Keys of the config's ``ego`` section that belong to the surrogate (:class:`GPConfig`).
GP_KEYS = ("kernel", "y_transform")


@dataclass(frozen=True)
class EGOLoop:
    """The ``ego`` keys that set what runs rather than how the optimiser searches: ``seeds``,
    the independent replicates (one EGO job and one initial design each); ``max_iter``,
    iterations per seed after the initial design; ``batch_size``, points per iteration (q);
    ``threshold``, stop a seed once its best Δ is below it (None: never). With a
    :class:`grassego.ego.SearchProblem`, what :func:`grassego.ego.minimize` takes.
    :data:`BUDGET_KEYS` only extend or shorten a run: changing them continues a seed's history
    instead of starting a new one."""

    seeds: tuple[int, ...] = (0, 1)
    max_iter: int = 80
    batch_size: int = 4
    threshold: float | None = None

    def __post_init__(self) -> None:
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise ValueError(f"seeds must be distinct integers >= 0, got {list(self.seeds)}")
        if self.max_iter < 0 or self.batch_size < 1:
            raise ValueError(f"need max_iter >= 0 and batch_size >= 1, got {self.max_iter}, "
                             f"{self.batch_size}")

    @classmethod
    def from_config(cls, ego: Mapping[str, Any]) -> "EGOLoop":
        """From the workflow config's ``ego`` section (its other keys are :class:`EGOSettings`')."""
        kw = {k: ego[k] for k in LOOP_KEYS if k in ego}
        if "seeds" in kw:
            kw["seeds"] = tuple(int(s) for s in kw["seeds"])
        return cls(**kw)


#: Keys of the config's ``ego`` section that are :class:`EGOLoop`'s, not settings.
LOOP_KEYS = tuple(f.name for f in fields(EGOLoop))
#: Loop keys that only extend or shorten a seed's run (not part of its problem).
BUDGET_KEYS = ("seeds", "max_iter", "threshold")


@dataclass(frozen=True)
class EGOSettings:
    """Loop, trust-region and acquisition settings.

    Surrogate
        ``gp``: kernel and output transform (:class:`grassego.surrogate.GPConfig`);
        ``n_local``: the GP is fitted to the ``n_local`` evaluated points nearest to the
        incumbent (the original authors refit on 200 nearest neighbours; the trust region never
        leaves their neighbourhood, and the cost per iteration stays flat as the history grows);
        ``rotate``: fit it, and shape the trust region, in coordinates rotated onto the
        principal axes of the neighbourhood's best points (:func:`grassego.ego.propose.
        principal_axes`), which follow a valley that runs diagonally in the parameters.
    Acquisition
        ``acquisition``: ``log_nei`` — BoTorch's qLogNEI, expected improvement over the best
        *posterior* value of the evaluated points, integrated over the noisy GP, so one lucky
        rough evaluation does not anchor the search — or ``log_ei`` (qLogEI on the best
        observed value, the paper's eq. 18); both on the log scale (no underflow far from the
        optimum). ``mc_samples``: quasi-MC samples; ``raw_samples`` / ``num_restarts``: starts
        of the gradient optimisation of the acquisition. ``q > 1`` points are chosen greedily,
        each with the earlier picks as pending points in the joint MC integral.
        ``feasibility``: multiply the acquisition by the probability that a run succeeds
        (GP classifier of ok vs rejected/diverged/non-finite runs) where the neighbourhood holds
        failures.
    Trust region (TuRBO-1, Eriksson et al. 2019)
        a box around the best-posterior-mean point, edge ``length`` (unit cube, geometric mean
        over dimensions) stretched per dimension by the GP length scales; doubled after
        ``success_tol`` consecutive improving iterations, halved after ``failure_tol``
        non-improving ones, restarted at ``tr_init`` when it falls below ``tr_min``. (TuRBO's
        ⌈max(4, d)/q⌉ = 1 at q = 4 halves the region after every batch without a new best; on
        the rough CuZr Δ that collapsed it within six iterations, while 3 and a floor of 1/32
        let it settle on the optimum.) An iteration improves when its best Δ beats the best so
        far by the relative margin ``improvement_tol``.
    Coordinates
        ``search_space``: ``mean_chi`` searches (β, E0) as (β, m = β (Ē − E0)), where the
        STZ objective's valleys are axis-aligned (:mod:`grassego.ego.space`; used when both are
        calibrated), ``box`` the parameters themselves. The caller builds the space
        (:func:`grassego.ego.search_space`) and passes it to :func:`grassego.ego.minimize` in
        its :class:`grassego.ego.SearchProblem` (the calibration's: :mod:`grassego.problem`).
    Loop
        ``design``: initial design when none is given; ``stop_on_stall``: end the run when the
        trust region collapses instead of restarting it; ``log_every``: iterations between
        progress lines.
    """

    gp: GPConfig = field(default_factory=GPConfig)
    acquisition: str = "log_nei"
    design: str = "lhs"
    search_space: str = "mean_chi"
    n_local: int = 200
    rotate: bool = True
    feasibility: bool = True
    mc_samples: int = 128
    raw_samples: int = 256
    num_restarts: int = 4
    tr_init: float = 0.8
    tr_min: float = 2.0**-5
    tr_max: float = 1.6
    success_tol: int = 3
    failure_tol: int = 3
    improvement_tol: float = 1e-3
    stop_on_stall: bool = False
    log_every: int = 1

    def __post_init__(self) -> None:
        for name, allowed in (("acquisition", ACQUISITIONS), ("design", DESIGNS),
                              ("search_space", SEARCH_SPACES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.n_local < 4:
            raise ValueError(f"n_local must be >= 4, got {self.n_local}")
        for name in ("mc_samples", "raw_samples", "num_restarts", "success_tol", "failure_tol",
                     "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 < self.tr_min <= self.tr_init <= self.tr_max:
            raise ValueError("tr_min, tr_init, tr_max: trust-region lengths need 0 < tr_min <= "
                             f"tr_init <= tr_max, got {self.tr_min}, {self.tr_init}, "
                             f"{self.tr_max}")
        if not self.improvement_tol >= 0:
            raise ValueError(f"improvement_tol must be >= 0, got {self.improvement_tol}")

    @classmethod
    def from_config(cls, ego: Mapping[str, Any]) -> "EGOSettings":
        """From the workflow config's ``ego`` section: its loop keys (:data:`LOOP_KEYS`) are
        :class:`EGOLoop`'s, ``kernel`` and ``y_transform`` go to ``gp``,
        every other key is a field of this class."""
        gp = GPConfig(**{k: ego[k] for k in GP_KEYS if k in ego})
        return cls.from_mapping({**{k: v for k, v in ego.items()
                                    if k not in LOOP_KEYS and k not in GP_KEYS}, "gp": gp})

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> "EGOSettings":
        """Build from a config mapping; ``gp`` may be a nested mapping of :class:`GPConfig` keys."""
        kw = dict(cfg)
        if isinstance(kw.get("gp"), Mapping):
            kw["gp"] = settings_from(GPConfig, kw["gp"], "GP")
        return settings_from(cls, kw, "EGO")
