"""Space-filling designs of the calibration vector X in box bounds (paper §2.3, Algorithm 1 l.2).

Every design is seeded and reproducible: the same ``(n, bounds, seed)`` gives the same array.
Bounds are a ``(d, 2)`` array of ``[lower, upper]`` per parameter, in the parameters' own units;
the returned designs are ``(n, d)`` float64 arrays in those units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import qmc

from grassego.settings import settings_from


def check_bounds(bounds: np.ndarray | list) -> np.ndarray:
    """Return ``bounds`` as a ``(d, 2)`` float64 array; raise ``ValueError`` if malformed."""
    b = np.asarray(bounds, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] < 1:
        raise ValueError(f"bounds must have shape (d, 2), got {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError("bounds must be finite")
    if np.any(b[:, 1] <= b[:, 0]):
        bad = np.flatnonzero(b[:, 1] <= b[:, 0]).tolist()
        raise ValueError(f"bounds need lower < upper; violated for parameter(s) {bad}")
    return b


def to_unit(x: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Map points from the box ``bounds`` to the unit cube."""
    b = check_bounds(bounds)
    return (np.asarray(x, dtype=np.float64) - b[:, 0]) / (b[:, 1] - b[:, 0])


def from_unit(u: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Map points from the unit cube to the box ``bounds``."""
    b = check_bounds(bounds)
    return b[:, 0] + np.asarray(u, dtype=np.float64) * (b[:, 1] - b[:, 0])


def latin_hypercube(n: int, bounds: np.ndarray | list,
                    seed: int | np.random.SeedSequence) -> np.ndarray:
    """``n`` points of a random Latin hypercube in ``bounds`` (one point per stratum per axis)."""
    b = check_bounds(bounds)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    u = qmc.LatinHypercube(d=b.shape[0], seed=np.random.default_rng(seed)).random(n)
    return from_unit(u, b)


def sobol(n: int, bounds: np.ndarray | list, seed: int | np.random.SeedSequence) -> np.ndarray:
    """The first ``n`` points of a scrambled Sobol sequence in ``bounds``.

    The sequence is drawn to the next power of two (Sobol's balance property holds for those)
    and truncated to ``n``.
    """
    b = check_bounds(bounds)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    m = int(np.ceil(np.log2(n)))
    u = qmc.Sobol(d=b.shape[0], scramble=True, seed=np.random.default_rng(seed)).random_base2(m)
    return from_unit(u[:n], b)


DESIGNS = {"lhs": latin_hypercube, "sobol": sobol}


def replicate_design(method: str, n: int, bounds: np.ndarray | list, seed: int,
                     replicate: int) -> np.ndarray:
    """The initial design of one independent replicate (EGO seed) of a calibration: ``n`` points
    of ``method`` (``lhs`` | ``sobol``) drawn from the random stream spawned for ``replicate``
    from the design ``seed``, so replicates are independent and each is reproducible alone."""
    if method not in DESIGNS:
        raise ValueError(f"design method must be one of {sorted(DESIGNS)}, got {method!r}")
    return DESIGNS[method](n, bounds, np.random.SeedSequence(seed, spawn_key=(replicate,)))


def split_batches(n: int, n_batches: int) -> list[np.ndarray]:
    """Split ``range(n)`` into ``n_batches`` contiguous index arrays whose sizes differ by <= 1.

    Empty batches are dropped when ``n_batches > n``.
    """
    if n < 0 or n_batches < 1:
        raise ValueError(f"need n >= 0 and n_batches >= 1, got n={n}, n_batches={n_batches}")
    return [part for part in np.array_split(np.arange(n), n_batches) if part.size]


@dataclass(frozen=True)
class DesignSettings:
    """The workflow config's ``design`` section (its defaults are the only ones): ``method``
    (:data:`DESIGNS`), ``n_samples`` of each EGO seed's initial design, ``n_batches`` (parallel
    simulate jobs over all seeds' samples), ``seed`` from which every seed's stream is spawned
    (:func:`replicate_design`)."""

    method: str = "lhs"
    n_samples: int = 120
    n_batches: int = 4
    seed: int = 2021

    def __post_init__(self) -> None:
        if self.method not in DESIGNS:
            raise ValueError(f"design.method must be one of {sorted(DESIGNS)}, got "
                             f"{self.method!r}")
        if self.n_samples < 2 or self.n_batches < 1 or self.seed < 0:
            raise ValueError(f"design: need n_samples >= 2, n_batches >= 1 and seed >= 0, got "
                             f"{self.n_samples}, {self.n_batches}, {self.seed}")

    @classmethod
    def from_config(cls, design: Mapping[str, Any]) -> "DesignSettings":
        """From the workflow config's ``design`` section (unknown keys are an error)."""
        return settings_from(cls, design, "design")


def parameter_box(parameters: Mapping[str, Sequence[float]]) -> tuple[list[str], np.ndarray]:
    """Names and ``(d, 2)`` bounds of the config's ``parameters`` section (name → [lower,
    upper], in the parameters' units), in the config's order."""
    names = list(parameters)
    return names, check_bounds([parameters[n] for n in names])


def initial_designs(settings: DesignSettings, parameters: Mapping[str, Sequence[float]],
                    seeds: Sequence[int]) -> pd.DataFrame:
    """Every EGO seed's initial design in one table: columns ``sample`` (0, 1, … over all
    seeds), ``seed``, then one per parameter of ``parameters`` (name → bounds); each seed's
    ``settings.n_samples`` rows are :func:`replicate_design`'s for that seed."""
    names, bounds = parameter_box(parameters)
    parts = []
    for seed in seeds:
        part = pd.DataFrame(replicate_design(settings.method, settings.n_samples, bounds,
                                             settings.seed, seed), columns=names)
        part.insert(0, "seed", seed)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "sample", np.arange(len(table)))
    return table
