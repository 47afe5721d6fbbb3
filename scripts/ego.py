"""Rule `ego`: one seed of the trust-region EGO, resumable from its on-disk history."""

import json
import shutil
import time

import numpy as np
import torch

from grassego import ego
from grassego.atomic import atomic_path
from grassego.calibration import Calibration, ego_state_path
from grassego.design import parameter_box
from grassego.fields import read_reference
from grassego.logsetup import setup_logging
from grassego.tables import read_table

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
torch.set_num_threads(smk.threads)
cfg = json.loads(smk.params.calibration)
ego_cfg = json.loads(smk.params.ego)
seed = int(smk.wildcards.seed)
names, bounds = parameter_box(cfg["parameters"])
training = read_table(smk.input.training, text=["status"],
                      required=["seed", *names, "delta", "status"])
training = training[training["seed"] == seed]
reference = read_reference(smk.input.reference)
loop = ego.EGOLoop.from_config(ego_cfg)
settings = ego.EGOSettings.from_config(ego_cfg)
state_path = ego_state_path(smk.output.result, reference, training, cfg, ego_cfg, seed)
log.info("seed %d: %d initial runs, state %s", seed, len(training), state_path)

calib = Calibration.from_config(reference, cfg, threads=smk.threads)
space = ego.search_space(bounds, names, settings.search_space, e_mean=float(calib.pe0.mean()),
                         energy_unit=calib.units.label("energy"))
log.info("seed %d: searching in %s", seed, space.describe())
t0 = time.perf_counter()
result = ego.minimize(
    calib.evaluate,
    bounds,
    initial_X=training[names].to_numpy(),
    initial_y=training["delta"].to_numpy(),
    initial_status=training["status"].tolist(),
    n_initial=len(training),
    max_iter=loop.max_iter,
    threshold=loop.threshold,
    seed=seed,
    batch_size=loop.batch_size,
    state_path=state_path,
    names=names,
    space=space,
    settings=settings,
    units=calib.units.parameter_names(names),
)
# The declared output is a snapshot of the finished history (same format, see ego.read_history).
with atomic_path(smk.output.result, suffix=".nc.tmp") as tmp:
    shutil.copyfile(state_path, tmp)
log.info("seed %d done in %.0f s (%s): delta_best %.5f at %s", seed, time.perf_counter() - t0,
         result.stop_reason, result.y_best, dict(zip(names, np.round(result.x_best, 5).tolist())))
