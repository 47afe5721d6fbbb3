"""Rule `ego`: one seed of the trust-region EGO, resumable from its on-disk history."""

import json
import time

import numpy as np

from grassego.ego import EGOLoop
from grassego.fields import read_references
from grassego.logsetup import setup_logging
from grassego.problem import Problem

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
ego_cfg, seed = json.loads(smk.params.ego), int(smk.wildcards.seed)
problem = Problem.from_config(read_references(smk.input.reference),
                              json.loads(smk.params.calibration), ego_cfg, threads=smk.threads)
t0 = time.perf_counter()
result = problem.run_seed(smk.input.training, seed, EGOLoop.from_config(ego_cfg),
                          smk.output.result, log)
log.info("seed %d done in %.0f s (%s): delta_best %.5f at %s", seed, time.perf_counter() - t0,
         result.stop_reason, result.y_best,
         dict(zip(problem.names, np.round(result.x_best, 5).tolist())))
