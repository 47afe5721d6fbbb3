"""Rule `report`: summary table + JSON (optima, Δ, physical fidelity) and the figures."""

import json

import numpy as np
import pandas as pd

from grassego import ego
from grassego.atomic import atomic_path, write_text_atomic
from grassego.fields import read_reference
from grassego.logsetup import setup_logging
from grassego.misfit import diagnosis
from grassego.problem import Problem
from grassego.report import ReportSettings, diagnosis_html, write_figures
from grassego.summary import (headline, parameter_sets, set_fidelity, summary_dict, summary_json,
                              summary_table)
from grassego.tables import read_table
from grassego.uncertainty import FIGURES as UNCERTAINTY_FIGURES
from grassego.uncertainty import io as uncertainty_io
from grassego.uncertainty import plots as uncertainty_plots

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
cfg = json.loads(smk.params.calibration)
settings = ReportSettings.from_config(json.loads(smk.params.report))
target = json.loads(smk.params.target)
reference = read_reference(smk.input.reference)
training = pd.concat([read_table(path, text=["status"], required=["seed"])
                      for path in smk.input.training])
calib = Problem.from_config(reference, cfg, threads=smk.threads).calibration
names, strains = list(calib.names), settings.field_strains

# ---- every reported set: each seed's optimum and the comparison sets, all frames -------------
results = {r.seed: r for r in (ego.result_from_history(p) for p in smk.input.results)}
sets = parameter_sets(results, names, settings.compare, target)
runs = calib.runs_dataset(calib.parameter_table(np.array(list(sets.values()))),
                          keep_frames=calib.all_frames())
deltas = dict(zip(sets, runs["delta"].values.tolist()))
fidelity = set_fidelity(runs, reference, list(sets), strains)
log.info("delta of the reported sets: %s", deltas)

table = summary_table(results, names, sets, deltas, fidelity)
with atomic_path(smk.output.summary) as tmp:
    table.to_csv(tmp, index=False, float_format="%.6g")
n_initial = training.groupby("seed").size().to_dict()
summary = summary_dict(results, names, deltas, fidelity, n_initial, cfg["objective"], target)
best = f"seed {summary['best']['seed']}"
summary["units"] = calib.units.summary_block(table.columns)
uncertainty = hasattr(smk.input, "uncertainty")
if uncertainty:
    uq_summary, uq_data = uncertainty_io.read(smk.input.uncertainty, smk.input.uncertainty_data)
    summary["uncertainty"] = uq_summary
misfit = diagnosis(reference["strain_ss"].values, reference["stress_strain"].values,
                   {label: (runs["strain_ss"].values, runs["tau_mean"].values[k])
                    for k, label in enumerate(sets) if label.startswith("seed ")},
                   best, cfg["solver"].get("dynamics", "athermal"), smk.input.reference,
                   calib.units.label("stress"))
summary = {**headline(uq_summary if uncertainty else None, misfit), **summary}
(log.warning if summary["seeds_agree"] is False else log.info)("%s", summary["seed_agreement"])
log.info("misfit of %s: %s", best, misfit["sentence"])
write_text_atomic(smk.output.summary_json, summary_json(summary))
write_text_atomic(smk.output.diagnosis, diagnosis_html(summary))

# ---- figures ---------------------------------------------------------------------------------
write_figures(dict(zip(smk.params.figure_names, smk.output.figures)), reference, runs, deltas,
              results, max(n_initial.values()), strains, best, calib.model_constants, calib.units,
              target)
if uncertainty:
    uncertainty_plots.write_all(uq_summary, uq_data,
                                dict(zip(UNCERTAINTY_FIGURES, smk.output.uncertainty_figures)),
                                smk.output.uncertainty_table, calib.units)
log.info("report written: best delta %.5f (%s)", summary["best"]["delta"], best)
