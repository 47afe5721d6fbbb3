"""Rule `collect`: gather one seed's scored batches into its initial training set (CSV, by
sample, with the design's `seed` column); with several references, the joint delta."""

import json

from grassego.calibration import check_initial_designs
from grassego.fields import read_runs
from grassego.joint import collected_training
from grassego.logsetup import setup_logging
from grassego.tables import read_table, write_table

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
table = collected_training([read_runs(path) for path in smk.input.runs],
                           read_table(smk.input.samples, required=["sample", "seed"]),
                           list(json.loads(smk.params.parameters)),
                           json.loads(smk.params.get("weights", "null")))
check_initial_designs(table)
write_table(table, smk.output.training)
for seed, part in table.groupby("seed"):
    log.info("seed %d: %d samples, %d ok, best delta %.4f", seed, len(part),
             int((part["status"] == "ok").sum()), part["delta"].min())
