"""Rule `uncertainty`: noise, Sobol' indices, near-optimal region, profiles and verdicts of
every seed's calibration together (grassego.uncertainty.analysis)."""

import json

from grassego import ego
from grassego.fields import read_references
from grassego.logsetup import setup_logging
from grassego.problem import Problem
from grassego.uncertainty import io
from grassego.uncertainty.analysis import analyze_problem
from grassego.uncertainty.settings import UncertaintySettings

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
settings = UncertaintySettings.from_config(json.loads(smk.params.uncertainty))
# the ego section's surrogate keys only: its search budget does not rerun this step
problem = Problem.from_config(read_references(smk.input.reference),
                              json.loads(smk.params.calibration), json.loads(smk.params.surrogate),
                              threads=smk.threads)
results = [ego.result_from_history(p) for p in smk.input.results]
uq = analyze_problem(problem, results, settings, json.loads(smk.params.target), log)
io.write(uq.summary, uq.data, smk.output.summary, smk.output.data)
