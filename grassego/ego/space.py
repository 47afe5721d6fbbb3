"""Coordinates the optimiser searches in.

The calibration vector is bounded in its own units (a box), and the initial design and the
history stay in those units. The surrogate and the trust region may work in other coordinates
where the objective's structure is closer to axis-aligned, which an ARD kernel and a box-shaped
trust region need.

:class:`MeanChiSpace` is the one that matters for the STZ calibration: the coarse-graining map
χ = β (E − E0) makes Δ depend on (β, E0) mostly through the *mean* initial disorder
m = β (Ē − E0) (Ē: mean coarse-grained potential energy of the first MD frame, eV), with β
setting the spread of χ around it. Near an optimum the good region is a thin sheet m ≈ const
(validation runs: m within ±0.3 % while β ranged over ±15 %): a curved diagonal valley in
(β, E0) that an ARD GP can only follow with tiny length scales, but an axis-aligned one in
(β, m). The search replaces E0 by m; a point mapped back outside the E0 bounds is clipped to them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from grassego.design import check_bounds
from grassego.units import PHYSICAL


class SearchSpace:
    """The parameter box itself (no change of coordinates)."""

    def __init__(self, bounds: np.ndarray):
        self.bounds = check_bounds(bounds)

    @property
    def search_bounds(self) -> np.ndarray:
        """Box (d, 2) of the search coordinates."""
        return self.bounds

    def to_search(self, x: np.ndarray) -> np.ndarray:
        """Parameter vectors (n, d) → search coordinates (n, d)."""
        return np.array(x, dtype=np.float64)

    def from_search(self, z: np.ndarray) -> np.ndarray:
        """Search coordinates (n, d) → parameter vectors, clipped to the parameter box."""
        return np.clip(np.asarray(z, dtype=np.float64), self.bounds[:, 0], self.bounds[:, 1])

    def describe(self) -> str:
        return "parameter box"


class MeanChiSpace(SearchSpace):
    """(…, β, …, E0, …) searched as (…, β, …, m = β (Ē − E0), …); see the module doc."""

    def __init__(self, bounds: np.ndarray, i_beta: int, i_e0: int, e_mean: float,
                 energy_unit: str = PHYSICAL.label("energy")):
        super().__init__(bounds)
        self.energy_unit = energy_unit
        if self.bounds[i_beta, 0] <= 0:
            raise ValueError("the mean-chi coordinates need beta bounds > 0")
        self.i_beta, self.i_e0, self.e_mean = i_beta, i_e0, float(e_mean)
        corners = np.array([b * (self.e_mean - e) for b in self.bounds[i_beta]
                            for e in self.bounds[i_e0]])
        self._search = self.bounds.copy()
        self._search[i_e0] = [corners.min(), corners.max()]

    @property
    def search_bounds(self) -> np.ndarray:
        return self._search

    def to_search(self, x: np.ndarray) -> np.ndarray:
        z = np.array(x, dtype=np.float64)
        z[:, self.i_e0] = z[:, self.i_beta] * (self.e_mean - z[:, self.i_e0])
        return z

    def from_search(self, z: np.ndarray) -> np.ndarray:
        x = np.array(z, dtype=np.float64)
        x[:, self.i_e0] = self.e_mean - x[:, self.i_e0] / x[:, self.i_beta]
        return super().from_search(x)

    def describe(self) -> str:
        return f"(beta, m = beta (E_mean - E0)) with E_mean = {self.e_mean:.6g} {self.energy_unit}"


def search_space(bounds: np.ndarray, names: Sequence[str], kind: str,
                 e_mean: float | None = None,
                 energy_unit: str = PHYSICAL.label("energy")) -> SearchSpace:
    """The search space ``kind`` (``"mean_chi"`` | ``"box"``) for parameters ``names``.
    ``mean_chi`` needs both β and E0 calibrated and the mean first-frame energy ``e_mean``
    [``energy_unit``, the case's: :meth:`grassego.units.Units.label`]; otherwise it falls back
    to the box."""
    names = list(names)
    if kind == "mean_chi" and "beta" in names and "E0" in names and e_mean is not None:
        return MeanChiSpace(bounds, names.index("beta"), names.index("E0"), e_mean,
                            energy_unit)
    if kind not in ("mean_chi", "box"):
        raise ValueError(f"search space must be 'mean_chi' or 'box', got {kind!r}")
    return SearchSpace(bounds)
