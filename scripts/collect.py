"""Rule `collect`: gather the scored batches into the initial training sets (CSV, by sample,
with the design's `seed` column)."""

import json

import pandas as pd
import xarray as xr

from grassego.atomic import atomic_path
from grassego.calibration import check_initial_designs
from grassego.logsetup import setup_logging
from grassego.status import status_names
from grassego.tables import read_table

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
names = list(json.loads(smk.params.parameters))
frames = []
for path in smk.input.runs:
    with xr.open_dataset(path) as ds:
        frame = pd.DataFrame({"sample": ds["sample"].values})
        for name in names:
            frame[name] = ds[name].values
        for col in ("d_field", "d_stress", "delta", "wall_time"):
            frame[col] = ds[col].values
        frame["status"] = status_names(ds["status"].values)
        frames.append(frame)
seeds = read_table(smk.input.samples, required=["sample", "seed"])[["sample", "seed"]]
table = pd.concat(frames).merge(seeds, on="sample", validate="one_to_one").sort_values("sample")
check_initial_designs(table)
with atomic_path(smk.output.training) as tmp:
    table.to_csv(tmp, index=False, float_format="%.17g")
for seed, part in table.groupby("seed"):
    log.info("seed %d: %d samples, %d ok, best delta %.4f", seed, len(part),
             int((part["status"] == "ok").sum()), part["delta"].min())
