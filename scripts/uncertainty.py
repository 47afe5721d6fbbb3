"""Rule `uncertainty`: noise, Sobol' indices, near-optimal region, profiles and verdicts of
every seed's calibration together (grassego.uncertainty.analysis)."""

import json

from grassego import ego
from grassego.fields import read_reference
from grassego.logsetup import setup_logging
from grassego.problem import Problem
from grassego.uncertainty import io
from grassego.uncertainty.analysis import analyze
from grassego.uncertainty.settings import UncertaintySettings

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
settings = UncertaintySettings.from_config(json.loads(smk.params.uncertainty))
# the ego section's surrogate keys only (search_space, kernel, y_transform): the search budget
# does not rerun this step
problem = Problem.from_config(read_reference(smk.input.reference),
                              json.loads(smk.params.calibration), json.loads(smk.params.surrogate),
                              threads=smk.threads)
results = [ego.result_from_history(p) for p in smk.input.results]
log.info("%d seeds, %d evaluations; budget %d real evaluations", len(results),
         sum(r.n_evaluations for r in results),
         settings.real_evaluations(len(results), len(problem.names)))
units = problem.calibration.units
uq = analyze(results, problem.objective, problem.space, problem.settings.gp, settings,
             units=units.parameter_labels(problem.names), target=json.loads(smk.params.target),
             log=log)
uq.summary["units"] = units.summary_block(problem.names)
io.write(uq.summary, uq.data.assign_coords(param_units=("param", list(problem.units))),
         smk.output.summary, smk.output.data)
