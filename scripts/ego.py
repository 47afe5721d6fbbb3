"""Rule `ego`: one seed of Grassmannian EGO, resumable from its on-disk history."""

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from grassego import ego
from grassego.calibration import Calibration, dtype_from_name, resolve_device
from grassego.fields import read_reference, write_netcdf
from grassego.logsetup import setup_logging
from grassego.objective import ObjectiveConfig

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
fingerprint = hashlib.sha256()
for path in (smk.input.reference, smk.input.training):
    fingerprint.update(Path(path).read_bytes())
fingerprint.update(json.dumps([smk.params.parameters, smk.params.solver, smk.params.objective,
                               ego_cfg["batch_size"], ego_cfg["kernel"],
                               ego_cfg["n_candidates"], seed]).encode())
state_path = Path(smk.params.state_root) / f"state-{fingerprint.hexdigest()[:12]}" / "history.nc"
log.info("seed %d: state %s", seed, state_path)

calib = Calibration(
    reference=read_reference(smk.input.reference),
    names=names,
    objective=ObjectiveConfig.from_mapping(cfg["objective"]),
    fixed=cfg.get("fixed", {}),
    constants=cfg["solver"]["constants"],
    device=resolve_device(cfg["solver"]["device"]),
    dtype=dtype_from_name(cfg["solver"]["dtype"]),
)
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
    kernel=ego_cfg["kernel"],
    n_candidates=ego_cfg["n_candidates"],
)
history = xr.Dataset(
    {
        "X": (("evaluation", "parameter"), np.asarray(result.X)),
        "delta": ("evaluation", np.asarray(result.y, dtype=np.float64)),
        "status": ("evaluation", np.asarray(result.status, dtype=str)),
        "iteration": ("evaluation", np.asarray(result.iteration, dtype=np.int32)),
        "x_best": ("parameter", np.asarray(result.x_best)),
    },
    coords={"parameter": names},
    attrs={"seed": seed, "y_best": float(result.y_best), "n_initial": len(training),
           "stop_reason": str(getattr(result, "stop_reason", "")),
           "lower_bounds": bounds[:, 0], "upper_bounds": bounds[:, 1]},
)
write_netcdf(history, smk.output.result)
log.info("seed %d done in %.0f s: delta_best %.5f at %s", seed, time.perf_counter() - t0,
         result.y_best, dict(zip(names, np.round(result.x_best, 5))))
