"""Rule `design`: one space-filling design per EGO seed, all split into the simulate batches."""

import json

import numpy as np
import pandas as pd

from grassego.atomic import atomic_path
from grassego.design import replicate_design, split_batches
from grassego.logsetup import setup_logging

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
d = json.loads(smk.params.design)
params = json.loads(smk.params.parameters)
names = list(params)
bounds = np.array([params[n] for n in names], dtype=np.float64)
parts = []
for seed in smk.params.seeds:
    part = pd.DataFrame(replicate_design(d["method"], d["n_samples"], bounds, d["seed"], seed),
                        columns=names)
    part.insert(0, "seed", seed)
    parts.append(part)
table = pd.concat(parts, ignore_index=True)
table.insert(0, "sample", np.arange(len(table)))
with atomic_path(smk.output.samples) as tmp:
    table.to_csv(tmp, index=False, float_format="%.17g")
for path, idx in zip(smk.output.batches, split_batches(len(table), d["n_batches"])):
    with atomic_path(path) as tmp:
        table.iloc[idx].to_csv(tmp, index=False, float_format="%.17g")
log.info("%s designs: %d samples of %s for seeds %s (design seed %d), in %d batches",
         d["method"], d["n_samples"], names, list(smk.params.seeds), d["seed"],
         d["n_batches"])
