"""The workflow's report step: from the finished calibration (the problem, each seed's EGO
history, the initial training tables, the uncertainty step's files) to every file of the report.

It runs every reported set (each seed's optimum and the comparison sets) with the fields of
every frame, and writes the summary table and JSON (:mod:`grassego.summary`, opening with the
misfit diagnosis of :mod:`grassego.misfit`), the diagnosis page and the figures
(:mod:`grassego.report`), and where the uncertainty step ran, its figures and table
(:mod:`grassego.uncertainty.plots`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from grassego.atomic import write_text_atomic
from grassego.ego import result_from_history
from grassego.misfit import diagnosis
from grassego.problem import Problem
from grassego.report import ReportSettings, diagnosis_html, write_figures
from grassego.summary import (headline, parameter_sets, set_fidelity, summary_dict, summary_json,
                              summary_table)
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
    :data:`grassego.uncertainty.FIGURES`) and ``uncertainty_table`` (HTML)."""

    summary: PathLike
    summary_json: PathLike
    diagnosis: PathLike
    figures: Mapping[str, PathLike]
    uncertainty_figures: Sequence[PathLike] = ()
    uncertainty_table: PathLike | None = None


def write_report(problem: Problem, settings: ReportSettings,
                 target: Mapping[str, float] | None, reference_path: PathLike,
                 training: Sequence[PathLike], results: Sequence[PathLike], files: ReportFiles,
                 log: logging.Logger, uncertainty: PathLike | None = None,
                 uncertainty_data: PathLike | None = None) -> dict[str, Any]:
    """Write every report file of :class:`ReportFiles` and return summary.json's content.

    ``problem``: the calibration (its reference is the MD's, read from ``reference_path``, the
    name the misfit diagnosis gives); ``settings``: the ``report`` section; ``target``: the
    validation target, if any; ``training``: each seed's initial training table (CSV, the
    collect step's); ``results``: each seed's EGO result (NetCDF history); ``uncertainty`` and
    ``uncertainty_data``: the uncertainty step's JSON and NetCDF files, None where it is off.
    Logs the reported sets' Δ, whether the seeds agree (a warning where they do not), the
    misfit and the best Δ to ``log``.
    """
    calib, strains = problem.calibration, settings.field_strains
    reference, names = calib.reference, list(problem.names)
    n_initial = pd.concat([read_table(path, text=["status"], required=["seed"])
                           for path in training]).groupby("seed").size().to_dict()
    by_seed = {r.seed: r for r in (result_from_history(path) for path in results)}
    sets = parameter_sets(by_seed, names, settings.compare, target)
    runs = calib.runs_dataset(calib.parameter_table(np.array(list(sets.values()))),
                              keep_frames=calib.all_frames())
    deltas = dict(zip(sets, runs["delta"].values.tolist()))
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
    if uncertainty:
        uncertainty_plots.write_all(uq_summary, uq_data,
                                    dict(zip(UNCERTAINTY_FIGURES, files.uncertainty_figures)),
                                    files.uncertainty_table, calib.units)
    log.info("report written: best delta %.5f (%s)", summary["best"]["delta"], best)
    return summary
