"""Rule `ego`: one seed of the trust-region EGO, resumable from its on-disk history."""

import json
import shutil
import time

import numpy as np

from grassego import ego
from grassego.atomic import atomic_path
from grassego.fields import read_reference
from grassego.logsetup import setup_logging
from grassego.problem import Problem

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
ego_cfg, seed = json.loads(smk.params.ego), int(smk.wildcards.seed)
problem = Problem.from_config(read_reference(smk.input.reference),
                              json.loads(smk.params.calibration), ego_cfg, threads=smk.threads)
training = problem.read_training(smk.input.training, seed)
state_path = problem.state_path(smk.output.result, training, seed)
log.info("seed %d: %d initial runs, state %s; %s", seed, len(training), state_path,
         problem.describe())
t0 = time.perf_counter()
result = ego.minimize(problem, ego.EGOLoop.from_config(ego_cfg), seed=seed,
                      initial=problem.initial_runs(training), state_path=state_path)
# The declared output is a snapshot of the finished history (same format, see ego.read_history).
with atomic_path(smk.output.result, suffix=".nc.tmp") as tmp:
    shutil.copyfile(state_path, tmp)
log.info("seed %d done in %.0f s (%s): delta_best %.5f at %s", seed, time.perf_counter() - t0,
         result.stop_reason, result.y_best,
         dict(zip(problem.names, np.round(result.x_best, 5).tolist())))
