"""Prediction of a held-out reference: do the calibrated parameters describe a run they were
not fitted to?

After the calibration, each seed's optimum — and, where the uncertainty step ran, its real
checks of the near-optimal region that came within its threshold (the parameter sets that fit
the calibration data as well as the optimum, to within the objective's noise) — is run on a
``holdout`` reference, from that reference's own initial energy field, cell and shear rate.
:func:`predict` scores every run against the held-out MD (its predictive Δ) and measures the
same physics as the report does for the calibration data (:func:`grassego.summary.set_fidelity`:
peak stress and strain, stress after the drop, flow stress, band row, width and localisation),
beside the held-out MD's own values.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import numpy as np
import xarray as xr

from grassego.ego import EGOResult
from grassego.fidelity import row_profile
from grassego.fields import engineering_shear
from grassego.objective import nearest_frames
from grassego.problem import Problem
from grassego.summary import REFERENCE_LABEL, set_fidelity

#: Label prefix of the near-optimal sets' runs.
NEAR_OPTIMAL = "near-optimal"


def near_optimal_sets(uncertainty_data: xr.Dataset | None, names: Sequence[str]) -> np.ndarray:
    """The uncertainty step's real checks of its near-optimal region whose Δ came within its
    threshold (``check_x`` rows with ``check_delta`` ≤ the ``delta_threshold`` attribute), in
    the order of ``names``: (k, d); (0, d) without an uncertainty step."""
    if uncertainty_data is None:
        return np.empty((0, len(names)))
    x = uncertainty_data["check_x"].sel(param=list(names)).values
    delta = uncertainty_data["check_delta"].values
    inside = np.isfinite(delta) & (delta <= uncertainty_data.attrs["delta_threshold"])
    return np.asarray(x[inside], dtype=np.float64)


def predict(problem: Problem, results: Sequence[EGOResult], near_optimal: np.ndarray,
            strains: Sequence[float], log: logging.Logger,
            single_fits: Mapping[str, EGOResult] | None = None
            ) -> tuple[dict[str, Any], xr.Dataset]:
    """Run each seed's optimum (``results``), the ``near_optimal`` sets (k, d) and each single
    fit's optimum (``single_fits``: label → result of a calibration on one reference alone) on
    the held-out reference of ``problem`` (its only reference) and measure them against it.

    Returns the summary (JSON-ready: ``sets``: per seed, its predictive Δ and fidelity;
    ``MD``: the held-out MD's fidelity; ``near_optimal``: how many sets, and the min, median
    and max of their Δ and of each fidelity feature; ``single_fits``: per single fit, its
    optimum, in-sample Δ (``delta_own``), predictive Δ and fidelity) and a dataset of the
    curves and band profiles (``set`` = the seeds' labels, the near-optimal sets', the single
    fits'; the MD's stress curve and profiles beside them) at the report's field ``strains``."""
    calib = problem.calibration
    single_fits = dict(single_fits or {})
    seeds = {f"seed {r.seed}": np.asarray(r.x_best, dtype=np.float64) for r in results}
    near = [f"{NEAR_OPTIMAL} {k}" for k in range(len(near_optimal))]
    labels = [*seeds, *near, *single_fits]
    X = np.vstack([*seeds.values(), near_optimal.reshape(-1, len(problem.names)),
                   *(np.asarray(r.x_best, dtype=np.float64) for r in single_fits.values())])
    runs = calib.runs_dataset(calib.parameter_table(X), keep_frames=calib.all_frames())
    delta = np.asarray(runs["delta"].values, dtype=np.float64)
    fidelity = set_fidelity(runs, calib.reference, labels, strains)
    log.info("predictive delta of %s on the held-out reference: %s", list(seeds),
             np.round(delta[:len(seeds)], 5).tolist())

    def entry(k: int, label: str) -> dict[str, Any]:
        return {**dict(zip(problem.names, X[k].tolist())), "delta": float(delta[k]),
                **fidelity[label]}

    first_single = len(seeds) + len(near)
    summary = {
        "sets": {label: entry(k, label) for k, label in enumerate(seeds)},
        REFERENCE_LABEL: fidelity[REFERENCE_LABEL],
        "near_optimal": _spread(near, delta[len(seeds):first_single], fidelity),
        "single_fits": {label: {**entry(first_single + k, label),
                                "delta_own": float(r.y_best)}
                        for k, (label, r) in enumerate(single_fits.items())},
    }
    return summary, _curves(runs, calib.reference, labels, strains)


def _spread(labels: Sequence[str], delta: np.ndarray,
            fidelity: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """How many near-optimal sets were run, and min/median/max of their Δ and of each feature
    (over the runs that finished)."""
    out: dict[str, Any] = {"runs": len(labels)}
    if not labels:
        return out
    columns = {"delta": delta, **{key: np.array([fidelity[label].get(key, np.nan)
                                                 for label in labels])
                                  for key in fidelity[labels[0]]}}
    for key, values in columns.items():
        finite = values[np.isfinite(values)]
        out[key] = ({"min": float(finite.min()), "median": float(np.median(finite)),
                     "max": float(finite.max())} if finite.size else None)
    return out


def _curves(runs: xr.Dataset, reference: xr.Dataset, labels: Sequence[str],
            strains: Sequence[float]) -> xr.Dataset:
    """Stress curves and row-mean strain profiles of the runs and of the held-out MD."""
    i_run = nearest_frames(runs["strain"].values, strains, "predicted runs")
    i_ref = nearest_frames(reference["strain"].values, strains, "held-out reference")
    run_exy = engineering_shear(runs["exy"]).values
    ref_exy = engineering_shear(reference["exy"]).values
    profile = np.array([[row_profile(run_exy[k, i]) for i in i_run] for k in range(len(labels))])
    return xr.Dataset(
        {"tau_mean": (("set", "strain_ss"), runs["tau_mean"].values.astype(np.float64),
                      runs["tau_mean"].attrs),
         "delta": ("set", runs["delta"].values.astype(np.float64)),
         "profile": (("set", "field_strain", "y"), profile),
         "md_stress": ("md_strain_ss", reference["stress_strain"].values.astype(np.float64),
                       reference["stress_strain"].attrs),
         "md_profile": (("field_strain", "y"),
                        np.array([row_profile(ref_exy[i]) for i in i_ref]))},
        coords={"set": list(labels), "strain_ss": runs["strain_ss"].values,
                "md_strain_ss": reference["strain_ss"].values, "field_strain": list(strains),
                "y": reference["y"].values},
        attrs={"title": "grassego prediction of a held-out reference: curves and band "
                        "profiles of each seed's optimum and the near-optimal sets"})
