"""Rule `design`: one space-filling design per EGO seed, all split into the simulate batches."""

import json

from grassego.atomic import atomic_path
from grassego.design import DesignSettings, initial_designs, split_batches
from grassego.logsetup import setup_logging

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
settings = DesignSettings.from_config(json.loads(smk.params.design))
parameters = json.loads(smk.params.parameters)
table = initial_designs(settings, parameters, smk.params.seeds)
with atomic_path(smk.output.samples) as tmp:
    table.to_csv(tmp, index=False, float_format="%.17g")
for path, idx in zip(smk.output.batches, split_batches(len(table), settings.n_batches)):
    with atomic_path(path) as tmp:
        table.iloc[idx].to_csv(tmp, index=False, float_format="%.17g")
log.info("%s designs: %d samples of %s for seeds %s (design seed %d), in %d batches",
         settings.method, settings.n_samples, list(parameters), list(smk.params.seeds),
         settings.seed, settings.n_batches)
