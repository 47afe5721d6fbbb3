"""Rule `predict`: each seed's optimum and the near-optimal sets on one held-out reference."""

import json

from grassego.ego import result_from_history
from grassego.fields import read_reference
from grassego.logsetup import setup_logging
from grassego.prediction import near_optimal_sets, predict
from grassego.problem import Problem
from grassego.uncertainty import io

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
problem = Problem.from_config(read_reference(smk.input.reference),
                              json.loads(smk.params.calibration), threads=smk.threads)
uq = (io.read(smk.input.uncertainty, smk.input.uncertainty_data)[1]
      if smk.input.get("uncertainty") else None)
summary, curves = predict(problem, [result_from_history(p) for p in smk.input.results],
                          near_optimal_sets(uq, problem.names),
                          json.loads(smk.params.field_strains), log,
                          {label: result_from_history(path)
                           for label, path in zip(smk.params.single_labels, smk.input.single)})
io.write(summary, curves, smk.output.summary, smk.output.curves)
