"""The workflow's report step: from the finished calibration (the problem, each seed's EGO
history, the initial training tables, the uncertainty step's files) to every file of the report.

It runs every reported set (each seed's optimum and the comparison sets) with the fields of
every frame, and writes the summary table and JSON (:mod:`grassego.summary`, opening with the
misfit diagnosis of :mod:`grassego.misfit`), the diagnosis page and the figures
(:mod:`grassego.report`), and where the uncertainty step ran, its figures and table
(:mod:`grassego.uncertainty.plots`).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from grassego.atomic import write_text_atomic
from grassego import plots
from grassego.ego import result_from_history
from grassego.joint import joint_scores
from grassego.misfit import diagnosis
from grassego.problem import Problem
from grassego.report import ReportSettings, diagnosis_html, write_figures
from grassego.status import status_names
from grassego.summary import (REFERENCE_LABEL, headline, parameter_sets, set_fidelity,
                              summary_dict, summary_json, summary_table)
from grassego.tables import read_table, write_table
from grassego.uncertainty import FIGURES as UNCERTAINTY_FIGURES
from grassego.uncertainty import io as uncertainty_io
from grassego.uncertainty import plots as uncertainty_plots

PathLike = str | os.PathLike


@dataclass(frozen=True)
class ReportFiles:
    """Where the report step writes: ``summary`` (CSV), ``summary_json``, ``diagnosis`` (HTML
    page), ``figures`` (name of :data:`grassego.report.FIGURES` → PNG path); where the
    uncertainty step ran, ``uncertainty_figures`` (PNG paths in the order of
    :data:`grassego.uncertainty.FIGURES`) and ``uncertainty_table`` (HTML); one
    ``prediction_figures`` PNG per held-out reference, in the order of the predictions; with
    single fits, ``ensemble_figure`` (PNG)."""

    summary: PathLike
    summary_json: PathLike
    diagnosis: PathLike
    figures: Mapping[str, PathLike]
    uncertainty_figures: Sequence[PathLike] = ()
    uncertainty_table: PathLike | None = None
    prediction_figures: Sequence[PathLike] = ()
    ensemble_figure: PathLike | None = None


@dataclass(frozen=True)
class ReportInputs:
    """What the report step reads (the report rule's input names): ``reference``, the
    calibrate reference's fields file (several: the calibrate references', in order; the first
    gives the figures and the misfit diagnosis's name); ``training``: each seed's initial
    training table (CSV, the collect step's); ``results``: each seed's EGO result (NetCDF
    history); ``uncertainty`` and ``uncertainty_data``: the uncertainty step's JSON and NetCDF
    files, None where it is off; ``predictions`` and ``prediction_curves``: the predict step's
    JSON and NetCDF file of each held-out reference (named by the file's stem); ``single``:
    the EGO result of each single fit (calibration on one reference alone)."""

    reference: PathLike | Sequence[PathLike]
    training: Sequence[PathLike]
    results: Sequence[PathLike]
    uncertainty: PathLike | None = None
    uncertainty_data: PathLike | None = None
    predictions: Sequence[PathLike] = ()
    prediction_curves: Sequence[PathLike] = ()
    single: Sequence[PathLike] = ()

    @property
    def reference_path(self) -> PathLike:
        """The (first calibrate) reference's fields file."""
        ref = self.reference
        return ref if isinstance(ref, (str, os.PathLike)) else ref[0]


def write_report(problem: Problem, settings: ReportSettings,
                 target: Mapping[str, float] | None, inputs: ReportInputs, files: ReportFiles,
                 log: logging.Logger, single_labels: Sequence[str] = ()) -> dict[str, Any]:
    """Write every report file of :class:`ReportFiles` from :class:`ReportInputs` and return
    summary.json's content.

    ``problem``: the calibration; ``settings``: the ``report`` section; ``target``: the
    validation target, if any; ``single_labels``: the label (``<reference> seed <s>``) of each
    of ``inputs.single`` (summary.json block ``ensemble``). With several calibrate references,
    Δ is the joint Δ, the figures and the misfit diagnosis are the first reference's, and
    summary.json's block ``references`` has each set's Δ and fidelity on each reference; with
    held-out references, block ``prediction`` has each one's prediction. Logs the reported
    sets' Δ, whether the seeds agree (a warning where they do not), the misfit and the best Δ
    to ``log``.
    """
    training, results = inputs.training, inputs.results
    uncertainty, uncertainty_data = inputs.uncertainty, inputs.uncertainty_data
    predictions = list(zip(inputs.predictions, inputs.prediction_curves, strict=True))
    single_fits = dict(zip(single_labels, inputs.single, strict=True))
    reference_path = inputs.reference_path
    calib, strains = problem.calibration, settings.field_strains
    reference, names = calib.reference, list(problem.names)
    n_initial = pd.concat([read_table(path, text=["status"], required=["seed"])
                           for path in training]).groupby("seed").size().to_dict()
    by_seed = {r.seed: r for r in (result_from_history(path) for path in results)}
    sets = parameter_sets(by_seed, names, settings.compare, target)
    X = np.array(list(sets.values()))
    runs_by_ref = {name: c.runs_dataset(c.parameter_table(X), keep_frames=c.all_frames())
                   for name, c in problem.calibrations.items()}
    runs = runs_by_ref[next(iter(runs_by_ref))]
    joint, _ = joint_scores([r["delta"].values for r in runs_by_ref.values()],
                            [status_names(r["status"].values) for r in runs_by_ref.values()],
                            problem.weights)
    deltas = dict(zip(sets, joint.tolist()))
    fidelity = set_fidelity(runs, reference, list(sets), strains)
    log.info("delta of the reported sets: %s", deltas)

    table = summary_table(by_seed, names, sets, deltas, fidelity)
    write_table(table, files.summary, "%.6g")
    summary = summary_dict(by_seed, names, deltas, fidelity, n_initial,
                           problem.config["calibration"]["objective"], target)
    best = f"seed {summary['best']['seed']}"
    summary["units"] = calib.units.summary_block(table.columns)
    uq_summary, uq_data = (uncertainty_io.read(uncertainty, uncertainty_data) if uncertainty
                           else (None, None))
    if uncertainty:
        summary["uncertainty"] = uq_summary
    if len(runs_by_ref) > 1:
        summary["references"] = {
            name: {"role": "calibrate", "weight": w,
                   "delta": dict(zip(sets, r["delta"].values.tolist())),
                   "fidelity": set_fidelity(r, problem.calibrations[name].reference, list(sets),
                                            strains)}
            for (name, r), w in zip(runs_by_ref.items(), problem.weights)}
    if single_fits:
        summary["ensemble"] = ensemble_block(
            {label: result_from_history(path) for label, path in single_fits.items()},
            names, summary["best"], uq_summary)
    if predictions:
        summary["prediction"] = {Path(path).stem: prediction_block(path, deltas, runs_by_ref)
                                 for path, _ in predictions}
    misfit = diagnosis(reference["strain_ss"].values, reference["stress_strain"].values,
                       {label: (runs["strain_ss"].values, runs["tau_mean"].values[k])
                        for k, label in enumerate(sets) if label.startswith("seed ")},
                       best, calib.solver.dynamics, reference_path, calib.units.label("stress"))
    summary = {**headline(uq_summary, misfit), **summary}
    (log.warning if summary["seeds_agree"] is False else log.info)("%s", summary["seed_agreement"])
    log.info("misfit of %s: %s", best, misfit["sentence"])
    write_text_atomic(files.summary_json, summary_json(summary))
    write_text_atomic(files.diagnosis, diagnosis_html(summary))

    write_figures(files.figures, reference, runs, deltas, by_seed, max(n_initial.values()),
                  strains, best, calib.model_constants, calib.units, target)
    if single_fits:
        ensemble = summary["ensemble"]
        plots.plot_ensemble(ensemble["single_fits"], ensemble["joint"]["optimum"], ensemble["joint"]["intervals"], names,
                            [calib.units.parameter_axis(n) for n in names],
                            files.ensemble_figure)
    for (path, curves), out in zip(predictions, files.prediction_figures, strict=True):
        with xr.open_dataset(curves, engine="netcdf4") as ds:
            plots.plot_prediction(ds.load(), out, title=f"held-out reference {Path(path).stem}",
                                  stress_label=calib.units.axis("shear stress τ", "stress"),
                                  y_label=calib.units.axis("y", "length"))
    if uncertainty:
        uncertainty_plots.write_all(uq_summary, uq_data,
                                    dict(zip(UNCERTAINTY_FIGURES, files.uncertainty_figures)),
                                    files.uncertainty_table, calib.units)
    log.info("report written: best delta %.5f (%s)", summary["best"]["delta"], best)
    return summary


def prediction_block(path: PathLike, deltas: Mapping[str, float],
                     runs_by_ref: Mapping[str | None, xr.Dataset]) -> dict[str, Any]:
    """summary.json's entry of one held-out reference: the predict step's JSON (``path``) with,
    per seed, its in-sample Δ (the calibration's, joint) and Δ on each calibrate reference
    beside the predictive one, and a sentence comparing the best seed's prediction with the
    held-out MD."""
    with open(path, encoding="utf-8") as fh:
        block = json.load(fh)
    for label, entry in block["sets"].items():
        entry["delta_in_sample"] = deltas[label]
        if len(runs_by_ref) > 1:
            entry["delta_in_sample_per_reference"] = {
                name: float(r["delta"].values[list(deltas).index(label)])
                for name, r in runs_by_ref.items()}
    best = min(block["sets"], key=lambda label: deltas[label])
    entry, md = block["sets"][best], block[REFERENCE_LABEL]
    if block["single_fits"]:
        block["comparison"] = _prediction_comparison(Path(path).stem, best, block)
    block["sentence"] = (
        f"{best}'s optimum predicts {Path(path).stem} with delta {entry['delta']:.4g} (in "
        f"sample {entry['delta_in_sample']:.4g}); peak stress {entry['peak_stress']:.4g} at "
        f"strain {entry['peak_strain']:.3g} against the MD's {md['peak_stress']:.4g} at "
        f"{md['peak_strain']:.3g} ({100 * (entry['peak_stress'] / md['peak_stress'] - 1):+.1f} %)")
    return block


def _prediction_comparison(name: str, best: str, block: Mapping[str, Any]) -> dict[str, Any]:
    """The joint optimum's prediction of held-out reference ``name`` (its best seed ``best``'s)
    against a calibration on that reference itself (its single fits' best in-sample Δ) and
    against the single-run optima of the other references (the median of their predictive
    Δ), and its peak stress against the held-out MD's [%]."""
    joint = block["sets"][best]["delta"]
    own = [v["delta_own"] for label, v in block["single_fits"].items()
           if label.startswith(f"{name} seed ")]
    others = [v["delta"] for label, v in block["single_fits"].items()
              if not label.startswith(f"{name} seed ")]
    out: dict[str, Any] = {"joint_delta": joint}
    if own:
        out |= {"own_fit_delta": min(own), "joint_over_own_fit": joint / min(own) - 1}
    if others:
        median = float(np.median(others))
        out |= {"single_fits_median_delta": median, "joint_below_median": joint < median}
    out["peak_stress_error"] = (block["sets"][best]["peak_stress"]
                                / block[REFERENCE_LABEL]["peak_stress"] - 1)
    return out


def ensemble_block(single: Mapping[str, Any], names: Sequence[str], best: Mapping[str, Any],
                   uncertainty: Mapping[str, Any] | None) -> dict[str, Any]:
    """summary.json's ``ensemble`` block: each single fit's optimum and Δ on its own reference
    (``single``: label → EGO result), each parameter's spread over them (min, max, standard
    deviation), and beside it the joint optimum (``best``: summary.json's ``best``) with its
    near-optimal interval (``uncertainty``: the uncertainty step's summary; None: no
    interval)."""
    values = {label: {n: float(v) for n, v in zip(names, r.x_best)} for label, r in single.items()}
    spread = {n: {"min": min(v[n] for v in values.values()),
                  "max": max(v[n] for v in values.values()),
                  "std": float(np.std([v[n] for v in values.values()],
                                      ddof=1 if len(values) > 1 else 0))} for n in names}
    intervals = ({n: [uncertainty["near_optimal"]["intervals"][n]["low"],
                      uncertainty["near_optimal"]["intervals"][n]["high"]] for n in names}
                 if uncertainty else None)
    return {"single_fits": {label: {**values[label], "delta": float(r.y_best)}
                            for label, r in single.items()},
            "spread": spread,
            "joint": {"optimum": {n: best["x"][n] for n in names}, "intervals": intervals}}
