"""The calibration summary: every reported optimum (each seed's, and named comparison sets such
as the paper's published optimum or the validation target) with its Δ, the spread over seeds,
and the physical fidelity of each set (:mod:`grassego.fidelity`) beside the MD's; opening with
whether the seeds agree, which parameters ended at a bound and what the model cannot follow
(:func:`headline`).

``summary.json`` is strict JSON (:func:`summary_json`): a missing value (NaN, e.g. the Δ of a set
whose run failed or a band width where no band formed) is ``null``, as is an infinite one.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from grassego.ego import EGOResult, summarize_seeds
from grassego.fidelity import dataset_fidelity

#: Label of the reference's row in the fidelity tables.
REFERENCE_LABEL = "MD"


def parameter_sets(results: Mapping[int, EGOResult], names: Sequence[str],
                   compare: Mapping[str, Mapping[str, float]],
                   target: Mapping[str, float] | None = None) -> dict[str, list[float]]:
    """Label → parameter vector of every set the report evaluates: ``seed <s>`` for each seed's
    optimum, then each comparison set (which must give every calibrated parameter), then the
    validation ``target`` as ``target`` unless a comparison set has that label."""
    sets = {f"seed {s}": r.x_best.tolist() for s, r in sorted(results.items())}
    if target is not None:
        compare = {**compare, "target": compare.get("target", target)}
    for label, values in compare.items():
        missing = [n for n in names if n not in values]
        if missing:
            raise ValueError(f"report.compare.{label}: no value for {missing}")
        sets[label] = [float(values[n]) for n in names]
    return sets


def set_fidelity(runs: xr.Dataset, reference: xr.Dataset, labels: Sequence[str],
                 band_strains: Sequence[float]) -> dict[str, dict[str, float]]:
    """Label → physical fidelity (:func:`grassego.fidelity.dataset_fidelity`, without Δ) of
    each run of ``runs`` (one per label, in order) and of the reference (:data:`REFERENCE_LABEL`),
    the band features at ``band_strains``."""
    out = {label: {k: v for k, v in f.items() if k != "delta"}
           for label, f in zip(labels, dataset_fidelity(runs, band_strains, "reported sets"))}
    out[REFERENCE_LABEL] = dataset_fidelity(reference, band_strains, "reference")[0]
    return out


def summary_table(results: Mapping[int, EGOResult], names: Sequence[str],
                  sets: Mapping[str, Sequence[float]], deltas: Mapping[str, float],
                  fidelity: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """One row per set (seeds first, then comparison sets, then the MD): parameters, Δ,
    evaluations, failed runs and stop reason (seeds), and the fidelity features."""
    rows = []
    for label, x in sets.items():
        row: dict[str, Any] = {"set": label, **dict(zip(names, x)), "delta": deltas[label]}
        if label.startswith("seed "):
            r = results[int(label.split()[1])]
            row.update(evaluations=r.n_evaluations, failed=int((~np.isfinite(r.y)).sum()),
                       stop_reason=r.stop_reason)
        rows.append({**row, **fidelity[label]})
    rows.append({"set": REFERENCE_LABEL, **fidelity[REFERENCE_LABEL]})
    return pd.DataFrame(rows)


def summary_dict(results: Mapping[int, EGOResult], names: Sequence[str],
                 deltas: Mapping[str, float], fidelity: Mapping[str, Mapping[str, float]],
                 n_initial: Mapping[int, int], objective: Mapping[str, Any],
                 target: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The JSON summary: per-seed optima, the best seed, mean and spread over seeds, Δ and
    fidelity of every set beside the MD's, and (validation mode) the relative error of the mean
    of the seeds' optima and of each seed's optimum against the target."""
    seeds = summarize_seeds(list(results.values()))
    best_seed = int(seeds["seed_overall"])
    x_best = seeds["x_overall"].values
    per_seed = [{"seed": s, **dict(zip(names, r.x_best.tolist())), "delta": float(r.y_best),
                 "evaluations": r.n_evaluations, "initial": n_initial[s],
                 "failed": int((~np.isfinite(r.y)).sum()), "stop_reason": r.stop_reason}
                for s, r in sorted(results.items())]
    out: dict[str, Any] = {
        "parameters": list(names),
        "per_seed": per_seed,
        "best": {"seed": best_seed, "x": dict(zip(names, x_best.tolist())),
                 "delta": float(seeds["y_overall"])},
        "mean": dict(zip(names, seeds["x_best_mean"].values.tolist())),
        "std": dict(zip(names, seeds["x_best_std"].values.tolist())),
        "delta_mean": float(seeds["y_best_mean"]),
        "delta_std": float(seeds["y_best_std"]),
        "delta_of_compared_sets": {k: v for k, v in deltas.items() if not k.startswith("seed ")},
        "fidelity": {k: dict(v) for k, v in fidelity.items()},
        "objective": dict(objective),
    }
    if target is not None:
        mean = seeds["x_best_mean"].values
        out["relative_error_vs_target"] = {
            "mean_of_seeds": {n: float((mean[i] - target[n]) / abs(target[n]))
                              for i, n in enumerate(names)},
            "per_seed": {str(r["seed"]): {n: float((r[n] - target[n]) / abs(target[n]))
                                          for n in names} for r in per_seed},
        }
    return out


#: The uncertainty block's keys that summary.json repeats first (its opening lines).
HEADLINE_KEYS = ("seeds_agree", "seed_agreement", "parameters_at_bound")


def headline(uncertainty: Mapping[str, Any] | None, misfit: Mapping[str, Any]
             ) -> dict[str, Any]:
    """The first keys of summary.json: whether the seeds agree and which parameters ended at a
    bound (:data:`HEADLINE_KEYS` of the uncertainty step's block; None where the step is off),
    then the ``misfit`` block (:func:`grassego.misfit.diagnosis`)."""
    if uncertainty is None:
        first = {"seeds_agree": None, "seed_agreement": "not judged: the uncertainty step is "
                 "off (uncertainty.enabled)", "parameters_at_bound": None}
    else:
        first = {k: uncertainty[k] for k in HEADLINE_KEYS}
    return {**first, "misfit": dict(misfit)}


def _json_ready(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays as Python numbers and lists, and every
    non-finite float as None; mappings and sequences are converted recursively."""
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summary_json(summary: Mapping[str, Any]) -> str:
    """The summary as strict JSON text (indented, newline-terminated): NaN and ±inf become
    ``null``, NumPy numbers plain ones; anything else JSON cannot hold is a ``TypeError``."""
    return json.dumps(_json_ready(summary), indent=2, allow_nan=False) + "\n"
