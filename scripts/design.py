"""Rule `design`: the space-filling initial design of one EGO seed, split into its simulate
batches."""

import json

from grassego.design import DesignSettings, initial_designs, split_batches
from grassego.logsetup import setup_logging
from grassego.tables import write_table

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
settings = DesignSettings.from_config(json.loads(smk.params.design))
parameters = json.loads(smk.params.parameters)
seed = int(smk.wildcards.seed)
table = initial_designs(settings, parameters, [seed])
write_table(table, smk.output.samples)
for path, idx in zip(smk.output.batches, split_batches(len(table), settings.n_batches)):
    write_table(table.iloc[idx], path)
log.info("%s design: %d samples of %s for seed %d (design seed %d), in %d batches",
         settings.method, settings.n_samples, list(parameters), seed, settings.seed,
         settings.n_batches)
