"""Rule `ego`: one seed of Grassmannian EGO, resumable from its on-disk history."""

import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from grassego import ego
from grassego.calibration import Calibration
from grassego.atomic import atomic_path
from grassego.fields import read_reference
from grassego.logsetup import setup_logging

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
torch.set_num_threads(smk.threads)
cfg = smk.config
seed = int(smk.wildcards.seed)
ego_cfg = cfg["ego"]
names = list(cfg["parameters"])
bounds = np.array([cfg["parameters"][n] for n in names], dtype=np.float64)
training = pd.read_csv(smk.input.training)

# The state directory is keyed by everything that defines the problem, not by the budget.
# Files enter by their values (not bytes or wall times), so a regenerated identical reference or
# design resumes the same history.
reference = read_reference(smk.input.reference)
fingerprint = hashlib.sha256()
for name in ("pe", "exy", "strain", "stress_strain", "strain_ss"):
    fingerprint.update(np.ascontiguousarray(reference[name].values).tobytes())
fingerprint.update(training[names + ["delta", "status"]].to_csv(index=False).encode())
fingerprint.update(json.dumps([smk.params.parameters, smk.params.solver, smk.params.objective,
                               {k: v for k, v in ego_cfg.items()
                                if k not in ("max_iter", "threshold", "seeds")}, seed]).encode())
state_path = Path(smk.params.state_root) / f"state-{fingerprint.hexdigest()[:12]}" / "history.nc"
log.info("seed %d: state %s", seed, state_path)

calib = Calibration.from_config(reference, cfg, threads=smk.threads)
settings = ego.EGOSettings.from_mapping({
    "gp": {"kernel": ego_cfg["kernel"]},
    "n_candidates": ego_cfg["n_candidates"],
    "acquisition": ego_cfg["acquisition"],
    "batch_strategy": ego_cfg["batch_strategy"],
    "stop_on_stall": ego_cfg["stop_on_stall"],
    "y_transform": ego_cfg["y_transform"],
})
t0 = time.perf_counter()
result = ego.minimize(
    calib.evaluate,
    bounds,
    initial_X=training[names].to_numpy(),
    initial_y=training["delta"].to_numpy(),
    initial_status=training["status"].tolist(),
    n_initial=len(training),
    max_iter=ego_cfg["max_iter"],
    threshold=ego_cfg["threshold"],
    seed=seed,
    batch_size=ego_cfg["batch_size"],
    state_path=state_path,
    names=names,
    settings=settings,
)
# The declared output is a snapshot of the finished history (same format, see ego.read_history).
with atomic_path(smk.output.result, suffix=".nc.tmp") as tmp:
    shutil.copyfile(state_path, tmp)
log.info("seed %d done in %.0f s (%s): delta_best %.5f at %s", seed, time.perf_counter() - t0,
         result.stop_reason, result.y_best, dict(zip(names, np.round(result.x_best, 5))))
