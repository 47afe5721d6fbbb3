"""Rule `uncertainty`: noise, Sobol' indices, near-optimal region, profiles and verdicts of
every seed's calibration together (grassego.uncertainty.analysis)."""

import json

import numpy as np
import torch

from grassego import ego
from grassego.calibration import Calibration
from grassego.fields import read_reference
from grassego.logsetup import setup_logging
from grassego.surrogate import GPConfig
from grassego.uncertainty import io
from grassego.uncertainty.analysis import analyze
from grassego.uncertainty.settings import UncertaintySettings

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
torch.set_num_threads(smk.threads)
cfg = json.loads(smk.params.calibration)
surrogate = json.loads(smk.params.surrogate)
settings = UncertaintySettings.from_config(json.loads(smk.params.uncertainty))
names = list(cfg["parameters"])
bounds = np.array([cfg["parameters"][n] for n in names], dtype=np.float64)
calib = Calibration.from_config(read_reference(smk.input.reference), cfg, threads=smk.threads)
results = [ego.result_from_history(p) for p in smk.input.results]
space = ego.search_space(bounds, names, surrogate["search_space"], e_mean=float(calib.pe0.mean()),
                         energy_unit=calib.units.label("energy"))
log.info("%d seeds, %d evaluations; budget %d real evaluations", len(results),
         sum(r.n_evaluations for r in results), settings.real_evaluations(len(results), len(names)))
uq = analyze(results, calib.evaluate, space,
             GPConfig(kernel=surrogate["kernel"], y_transform=surrogate["y_transform"]),
             settings, units=calib.units.parameter_labels(names),
             target=json.loads(smk.params.target), log=log)
uq.summary["units"] = calib.units.summary_block(names)
units = calib.units.parameter_names(names)
io.write(uq.summary, uq.data.assign_coords(param_units=("param", units)), smk.output.summary,
         smk.output.data)
