"""The calibration objective Δ (paper §5.2.2, eqs. 24, 39–41).

- ``d_field``: mean over the snapshot strains of the Grassmann distance between the reference
  strain field and the run's strain field (eq. 39), each snapshot taken at the frame nearest to
  the requested global strain in each series.
- ``d_stress``: mean absolute difference of the stress–strain curves [GPa] (eq. 40), on the run's
  frame strains inside the range both curves cover (γ = 0 excluded), the reference interpolated
  linearly — frame counts need not match.
- ``Δ = w1·d_field + w2·d_stress`` (eq. 41), default weights (0.25, 0.75).

Variants (``ObjectiveConfig.variant``, :data:`VARIANTS`):

- ``paper``: the above, as published;
- ``overshoot``: the stress errors on ``overshoot_window`` (the overshoot and the drop; default
  :data:`OVERSHOOT_WINDOW`, the authors' for the CuZr MD) weighted ×5, as in the authors'
  published calibration script;
- ``aligned`` (default): ``overshoot``, and the field distance is the smallest over shifts of
  the model's fields along y by up to ``band_shift_widths`` coarse-graining widths c of the
  reference (one shift per run, common to all snapshots, periodic), converted to grid rows with
  the reference's row spacing (:meth:`ObjectiveConfig.band_shift_rows`; default 1 c: the CuZr
  data's 50 Å = 4 rows of 12.5 Å). A continuum run localises where the initial coarse-grained
  energy is highest, a few rows (less than c) from where the MD band formed; unaligned, that
  offset costs a sharp band more than a diffuse field costs, and pulls the calibration away
  from shear banding (docs/science.md, "The objective and its defaults"). The energy field is smoothed
  over c, so a band's position is not resolved more finely than that, on any grid.

Field metrics: any of :data:`grassego.grassmann.METRICS`, or ``"frobenius"``: the relative
Euclidean distance ‖Γ_ref − Γ‖_F / ‖Γ_ref‖_F on engineering shear strains (paper §4's
comparison). Grassmann distances are scale-invariant, so the tensor/engineering factor 2 between
continuum and MD strains does not matter to them; Frobenius converts both to engineering first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import torch
import xarray as xr

from grassego.settings import settings_from
from grassego.errors import InputError
from grassego.fields import coarse_graining_rows, engineering_shear
from grassego.grassmann import (METRICS, SPACES, UNEQUAL, frobenius_distance, grassmann_distance,
                                per_snapshot_ranks)
from grassego.status import RUN_STATUS
from grassego.units import PHYSICAL, Units, case_units

#: Snapshot strains of the paper's text (§5.2.2).
PAPER_SNAPSHOT_STRAINS: tuple[float, ...] = (0.02, 0.04, 0.06, 0.08, 0.09, 0.1, 0.2, 0.35, 0.5)
#: Default global-strain window [lo, hi) of the stress overshoot and drop weighted by the
#: ``overshoot`` variants: frames 15–27 of the authors' 101 (γ = 0.075 … 0.135), as in their
#: published calibration script for the CuZr MD, whose stress peaks at γ = 0.088. Other data
#: peak elsewhere: ``grassego init-config`` places the window around the reference's peak.
OVERSHOOT_WINDOW = (0.075, 0.14)
#: Named objective variants (see the module doc): the weight of the overshoot window's stress
#: errors and whether the model's fields may shift along y (by ``band_shift_widths``).
VARIANTS: dict[str, dict[str, Any]] = {
    "paper": {"overshoot_factor": 1.0, "band_shift": False},
    "overshoot": {"overshoot_factor": 5.0, "band_shift": False},
    "aligned": {"overshoot_factor": 5.0, "band_shift": True},
}


@dataclass(frozen=True)
class ObjectiveConfig:
    """Settings of Δ: the workflow config's ``objective`` section (its defaults are the only
    ones). ``rank`` is a rank rule (see :class:`grassego.grassmann.RankRule`) or a list with
    one per snapshot; ``unequal`` the policy for unequal ranks; ``band_shift_widths`` the
    largest shift of the model's fields along y that ``aligned`` tries, in coarse-graining
    widths of the reference."""

    snapshot_strains: tuple[float, ...] = PAPER_SNAPSHOT_STRAINS
    weights: tuple[float, float] = (0.25, 0.75)
    metric: str = "geodesic"
    rank: Any = "energy:0.99"
    space: str = "column"
    unequal: str = "max"
    variant: str = "aligned"
    overshoot_window: tuple[float, float] = OVERSHOOT_WINDOW
    band_shift_widths: float = 1.0

    @property
    def overshoot_factor(self) -> float:
        """Weight of the stress error on ``overshoot_window`` (1 = unweighted, eq. 40)."""
        return VARIANTS[self.variant]["overshoot_factor"]

    def band_shift_rows(self, width_rows: float | None, n_rows: int) -> int:
        """Largest row shift of the model's fields tried against the reference (0 = none):
        ``band_shift_widths`` × the reference's coarse-graining width in grid rows
        ``width_rows`` (:func:`grassego.fields.coarse_graining_rows`), to the nearest row and at
        most half the ``n_rows`` rows (periodic: larger shifts repeat smaller ones), under a
        variant that shifts; else 0. A reference that states no width (``width_rows`` None)
        gives no length to convert, and its fields are compared unshifted (0), as the paper
        compares them; :class:`grassego.calibration.Calibration` logs a warning then."""
        if not VARIANTS[self.variant]["band_shift"] or width_rows is None:
            return 0
        return min(int(math.floor(self.band_shift_widths * width_rows + 0.5)), n_rows // 2)

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant: unknown objective variant {self.variant!r}; known: "
                             f"{', '.join(VARIANTS)}")
        if self.metric not in (*METRICS, "frobenius"):
            raise ValueError(f"metric: unknown field metric {self.metric!r}; known: "
                             f"{', '.join((*METRICS, 'frobenius'))}")
        for key, value, known in (("space", self.space, SPACES),
                                  ("unequal", self.unequal, UNEQUAL)):
            if value not in known:
                raise ValueError(f"{key}: unknown value {value!r}; known: {', '.join(known)}")
        w = self.weights
        if len(w) != 2 or not all(np.isfinite(w)) or min(w) < 0 or sum(w) <= 0:
            raise ValueError(f"weights: need two finite, non-negative numbers with a positive "
                             f"sum (field, stress), got {list(w)}")
        win = self.overshoot_window
        if len(win) != 2 or not all(np.isfinite(win)) or not 0 <= win[0] < win[1]:
            raise ValueError(f"overshoot_window: need two finite strains 0 <= lo < hi, got "
                             f"{list(win)}")
        if not (np.isfinite(self.band_shift_widths) and self.band_shift_widths >= 0):
            raise ValueError(f"band_shift_widths: need a finite number >= 0, got "
                             f"{self.band_shift_widths}")
        if not self.snapshot_strains:
            raise ValueError("snapshot_strains: at least one snapshot strain is needed")
        repeated = sorted({s for s in self.snapshot_strains
                           if self.snapshot_strains.count(s) > 1})
        if repeated:
            raise ValueError(f"snapshot_strains: {repeated[0]:g} is given more than once (it "
                             "would weigh that snapshot twice); give each strain once")
        try:
            per_snapshot_ranks(self.rank, len(self.snapshot_strains))
        except (ValueError, TypeError, KeyError) as exc:
            spec = list(self.rank) if isinstance(self.rank, tuple) else self.rank
            raise ValueError(f"rank: {spec!r} is not a rank rule ({exc}); use an integer "
                             "rank such as 5, 'rtol:1e-2', 'energy:0.99', or a list with one "
                             "per snapshot strain") from exc

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> "ObjectiveConfig":
        """From the workflow config's ``objective`` section (unknown keys are an error)."""
        kw = dict(cfg)
        for key in ("snapshot_strains", "weights", "overshoot_window"):
            if key in kw:
                kw[key] = tuple(float(v) for v in kw[key])
        if "band_shift_widths" in kw:
            kw["band_shift_widths"] = float(kw["band_shift_widths"])
        if isinstance(kw.get("rank"), list):
            kw["rank"] = tuple(kw["rank"])
        return settings_from(cls, kw, "objective")


@dataclass
class Series:
    """One or more strain-field/stress series on common frame strains (engineering shear)."""

    strain: np.ndarray  # (F,) global shear strain of each field frame
    exy: np.ndarray  # (N, F, ny, nx) engineering shear strain
    strain_ss: np.ndarray | None = None  # (T,)
    stress: np.ndarray | None = None  # (N, T) GPa
    ok: np.ndarray = field(default=None)  # (N,) bool: runs whose outputs are usable
    cg_width_rows: float | None = None  # coarse-graining width in rows (a reference's), if known

    def __post_init__(self) -> None:
        if self.ok is None:
            self.ok = np.ones(self.exy.shape[0], dtype=bool)


def series_from_dataset(ds: xr.Dataset, source: str = "<dataset>") -> Series:
    """A :class:`Series` from a reference (``frame, y, x``) or runs (``run, frame, y, x``) dataset."""
    exy = engineering_shear(ds["exy"])
    is_runs = "run" in exy.dims
    values = exy.transpose(*(("run",) if is_runs else ()), "frame", "y", "x").values
    values = values if is_runs else values[None]
    stress_name = "tau_mean" if "tau_mean" in ds else "stress_strain" if "stress_strain" in ds else None
    stress = None
    if stress_name is not None:
        stress = np.asarray(ds[stress_name].values, dtype=np.float64)
        stress = stress if stress.ndim == 2 else stress[None]
    ok = np.ones(values.shape[0], dtype=bool)
    if "status" in ds:
        ok = np.asarray(ds["status"].values) == RUN_STATUS["ok"]
    return Series(
        strain=np.asarray(ds["strain"].values, dtype=np.float64),
        exy=np.asarray(values, dtype=np.float64),
        strain_ss=np.asarray(ds["strain_ss"].values, dtype=np.float64) if stress is not None else None,
        stress=stress,
        ok=ok,
        cg_width_rows=None if is_runs else coarse_graining_rows(ds),
    )


def nearest_frames(strain: np.ndarray, targets: Sequence[float], source: str = "series"
                   ) -> np.ndarray:
    """Index of the frame nearest to each target strain.

    A target farther than one frame spacing outside the covered range is an error naming
    ``source`` (the snapshot would not exist in the data).
    """
    strain = np.asarray(strain, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    spacing = float(np.max(np.diff(strain))) if strain.size > 1 else 0.0
    outside = (targets < strain.min() - spacing) | (targets > strain.max() + spacing)
    if np.any(outside):
        bad = targets[outside][0]
        raise InputError(source, f"snapshot strain {bad:g} lies outside the frames' strain range "
                                 f"[{strain.min():g}, {strain.max():g}]")
    return np.abs(strain[None, :] - targets[:, None]).argmin(axis=1)


def field_distances(ref: Series, run: Series, cfg: ObjectiveConfig,
                    ref_source: str = "reference", run_source: str = "runs"
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per-snapshot field distances ``(N, S)`` and the reference ranks per snapshot ``(S,)``."""
    i_ref = nearest_frames(ref.strain, cfg.snapshot_strains, ref_source)
    i_run = nearest_frames(run.strain, cfg.snapshot_strains, run_source)
    a = torch.as_tensor(ref.exy[0, i_ref])  # (S, ny, nx)
    b = torch.as_tensor(run.exy[:, i_run])  # (N, S, ny, nx)
    n_snap = len(cfg.snapshot_strains)
    if cfg.metric == "frobenius":
        d = frobenius_distance(a, b, relative=True).numpy()
        return d, np.zeros(n_snap, dtype=np.int64)
    rules = per_snapshot_ranks(cfg.rank, n_snap)
    finite = torch.isfinite(b).all(dim=(-1, -2))
    b = torch.where(finite[..., None, None], b, torch.zeros_like(b))
    best = None
    max_shift = cfg.band_shift_rows(ref.cg_width_rows, a.shape[-2])
    for shift in range(-max_shift, max_shift + 1):
        bs = torch.roll(b, shift, dims=-2) if shift else b
        out = np.empty((b.shape[0], n_snap))
        ranks = np.empty(n_snap, dtype=np.int64)
        for s, rule in enumerate(rules):
            res = grassmann_distance(a[s], bs[:, s], metric=cfg.metric, rank=rule, space=cfg.space,
                                     unequal=cfg.unequal)
            out[:, s] = res.distance.numpy()
            ranks[s] = int(res.rank_a.reshape(-1)[0])
        if best is None:
            best = out
        else:
            take = out.mean(axis=1) < best.mean(axis=1)
            best[take] = out[take]
    out = best
    out[~finite.numpy()] = np.nan
    return out, ranks


def stress_distance(ref: Series, run: Series, cfg: "ObjectiveConfig | None" = None) -> np.ndarray:
    """Mean absolute stress difference [GPa] per run (eq. 40), the errors on the overshoot window
    weighted by ``cfg.overshoot_factor``; NaN where a curve is missing."""
    if ref.stress is None or run.stress is None:
        return np.full(run.exy.shape[0], np.nan)
    lo = max(ref.strain_ss.min(), run.strain_ss.min())
    hi = min(ref.strain_ss.max(), run.strain_ss.max())
    grid_mask = (run.strain_ss >= lo) & (run.strain_ss <= hi) & (run.strain_ss > 0)
    if not np.any(grid_mask):
        raise ValueError("the stress-strain curves share no strain range")
    grid = run.strain_ss[grid_mask]
    ref_on_grid = np.interp(grid, ref.strain_ss, ref.stress[0])
    err = np.abs(run.stress[:, grid_mask] - ref_on_grid[None, :])
    if cfg is not None and cfg.overshoot_factor != 1.0:
        lo, hi = cfg.overshoot_window
        err = err * np.where((grid >= lo) & (grid < hi), cfg.overshoot_factor, 1.0)
    # one contiguous row at a time: NumPy's blocked sum of a (N, T) array can round differently
    # with N, and a run's Δ must not depend on its batch
    return np.array([row.mean() for row in err])


def evaluate(reference: xr.Dataset, runs: xr.Dataset, cfg: ObjectiveConfig = ObjectiveConfig(),
             ref_source: str = "reference", run_source: str = "runs") -> xr.Dataset:
    """Distances of every run in ``runs`` to ``reference``.

    Returns a dataset on ``run`` (size 1 if ``runs`` is a reference-style file) with
    ``d_snapshot(run, snapshot)``, ``d_field``, ``d_stress`` [the reference's stress unit],
    ``delta`` and the coordinate ``snapshot_strain``; failed runs (status ≠ ok or non-finite
    fields) get NaN.
    """
    ref = series_from_dataset(reference, ref_source)
    run = series_from_dataset(runs, run_source)
    return distances_dataset(ref, run, cfg, ref_source, run_source, case_units(reference))


def distances_dataset(ref: Series, run: Series, cfg: ObjectiveConfig,
                      ref_source: str = "reference", run_source: str = "runs",
                      units: Units = PHYSICAL) -> xr.Dataset:
    """Like :func:`evaluate`, from :class:`Series`; ``units``: the case's unit system."""
    d_snap, ranks = field_distances(ref, run, cfg, ref_source, run_source)
    d_field = d_snap.mean(axis=1)
    d_stress = stress_distance(ref, run, cfg)
    w1, w2 = cfg.weights
    delta = w1 * d_field + w2 * d_stress if run.stress is not None else w1 * d_field
    bad = ~run.ok
    for arr in (d_field, d_stress, delta):
        arr[bad] = np.nan
    d_snap[bad] = np.nan
    field_units = "1" if cfg.metric == "frobenius" else "rad" if cfg.metric in (
        "geodesic", "asimov") else "1"
    return xr.Dataset(
        {
            "d_snapshot": (("run", "snapshot"), d_snap,
                           {"long_name": f"{cfg.metric} field distance per snapshot",
                            "units": field_units}),
            "d_field": ("run", d_field, {"long_name": "mean field distance (eq. 39)",
                                         "units": field_units}),
            "d_stress": ("run", d_stress, {"long_name": "mean |stress difference| (eq. 40)",
                                           **units.cf("stress")}),
            "delta": ("run", delta, {"long_name": "objective w1*d_field + w2*d_stress (eq. 41)",
                                     "weights": np.asarray(cfg.weights)}),
            "rank_reference": ("snapshot", ranks, {"long_name": "rank of the reference subspace"}),
        },
        coords={"snapshot_strain": ("snapshot", np.asarray(cfg.snapshot_strains),
                                    {"units": "1"})},
        attrs={"metric": cfg.metric, "rank": str(cfg.rank), "space": cfg.space,
               "unequal_rank_policy": cfg.unequal, "variant": cfg.variant},
    )
