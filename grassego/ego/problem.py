"""What the EGO loop minimises (:class:`SearchProblem`) and the runs it starts from
(:class:`InitialRuns`): with the loop settings (:class:`grassego.ego.EGOLoop`), everything
:func:`grassego.ego.minimize` takes. The STZ calibration's problem is one of these
(:class:`grassego.problem.Problem`); the tests and benchmarks build others on analytic functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from grassego.ego.settings import EGOSettings
from grassego.ego.space import SearchSpace

#: ``objective(X)``: a ``(q, d)`` array of parameter sets → ``q`` values (NaN/inf = failed), or
#: a pair ``(values, statuses)`` with one status string per point (``"ok"``, ``"diverged"``, …).
Objective = Callable[[np.ndarray], Any]


@dataclass(frozen=True, eq=False)
class SearchProblem:
    """``objective`` over the box ``space.bounds`` (``(d, 2)``, in the parameters' units, the
    box the history keeps), searched in ``space``'s coordinates (:mod:`grassego.ego.space`) as
    ``settings`` say. ``names`` and ``units`` name each parameter and its unit in the history
    (``param``, ``param_units``)."""

    objective: Objective
    space: SearchSpace
    names: tuple[str, ...]
    units: tuple[str, ...] | None
    settings: EGOSettings

    def __post_init__(self) -> None:
        d = self.space.bounds.shape[0]
        for what, values in (("names", self.names), ("units", self.units)):
            if values is not None and len(values) != d:
                raise ValueError(f"{len(values)} {what} for {d} parameters")

    @property
    def bounds(self) -> np.ndarray:
        """The parameter box ``(d, 2)``."""
        return self.space.bounds

    @classmethod
    def box(cls, objective: Objective, bounds: np.ndarray | Sequence[Sequence[float]],
            names: Sequence[str] | None = None, settings: EGOSettings = EGOSettings(),
            space: SearchSpace | None = None) -> "SearchProblem":
        """``objective`` over ``bounds``, searched in ``space`` (default: the box itself);
        parameters named ``x0``, ``x1``, … unless ``names`` are given; no units."""
        space = SearchSpace(bounds) if space is None else space
        if not np.array_equal(space.bounds, np.asarray(bounds, dtype=np.float64)):
            raise ValueError("the search space was built for other bounds")
        d = space.bounds.shape[0]
        names = tuple(f"x{i}" for i in range(d)) if names is None else tuple(map(str, names))
        return cls(objective, space, names, None, settings)


@dataclass(frozen=True)
class InitialRuns:
    """The parameter sets ``X`` ``(n, d)`` a history starts from and, when they were evaluated
    elsewhere (the workflow's simulate jobs), their values ``y`` and optional statuses
    ``status`` (otherwise the loop evaluates them first)."""

    X: np.ndarray
    y: np.ndarray | None = None
    status: Sequence[str] | None = field(default=None)

    def __post_init__(self) -> None:
        x = np.atleast_2d(np.asarray(self.X, dtype=np.float64))
        object.__setattr__(self, "X", x)
        if self.y is None:
            return
        y = np.asarray(self.y, dtype=np.float64).ravel()
        object.__setattr__(self, "y", y)
        if y.size != x.shape[0]:
            raise ValueError(f"initial y has {y.size} values for {x.shape[0]} points")
        if self.status is not None and len(self.status) != y.size:
            raise ValueError(f"initial status has {len(self.status)} entries for {y.size} points")
