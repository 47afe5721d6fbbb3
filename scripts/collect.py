"""Rule `collect`: gather one seed's scored batches into its initial training set (CSV, by
sample, with the design's `seed` column)."""

import json

import xarray as xr

from grassego.atomic import atomic_path
from grassego.calibration import check_initial_designs, training_table
from grassego.logsetup import setup_logging
from grassego.tables import read_table

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
names = list(json.loads(smk.params.parameters))
runs = []
for path in smk.input.runs:
    with xr.open_dataset(path) as ds:
        runs.append(ds.load())
samples = read_table(smk.input.samples, required=["sample", "seed"])
table = training_table(runs, samples, names)
check_initial_designs(table)
with atomic_path(smk.output.training) as tmp:
    table.to_csv(tmp, index=False, float_format="%.17g")
for seed, part in table.groupby("seed"):
    log.info("seed %d: %d samples, %d ok, best delta %.4f", seed, len(part),
             int((part["status"] == "ok").sum()), part["delta"].min())
