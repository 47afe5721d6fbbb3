"""Rule `report`: summary table + JSON (optima, Δ, physical fidelity) and the figures."""

import json

from grassego.fields import read_references
from grassego.logsetup import setup_logging
from grassego.problem import Problem
from grassego.report import ReportSettings
from grassego.report_step import ReportFiles, ReportInputs, write_report

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
settings = ReportSettings.from_config(json.loads(smk.params.report))
problem = Problem.from_config(read_references(smk.input.reference),
                              json.loads(smk.params.calibration), threads=smk.threads)
files = ReportFiles(smk.output.summary, smk.output.summary_json, smk.output.diagnosis,
                    dict(zip(smk.params.figure_names, smk.output.figures)),
                    smk.output.get("uncertainty_figures", ()), smk.output.get("uncertainty_table"),
                    smk.output.get("prediction_figures", ()), smk.output.get("ensemble_figure"))
write_report(problem, settings, json.loads(smk.params.target),
             ReportInputs(**dict(smk.input.items())), files, log, smk.params.single_labels)
