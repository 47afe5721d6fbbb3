"""Rule `design`: the space-filling design of the calibration vector, split into batches."""

import numpy as np
import pandas as pd

from grassego.atomic import atomic_path
from grassego.design import latin_hypercube, sobol, split_batches
from grassego.logsetup import setup_logging

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
d = smk.config["design"]
params = smk.config["parameters"]
names = list(params)
bounds = np.array([params[n] for n in names], dtype=np.float64)
make = latin_hypercube if d["method"] == "lhs" else sobol
X = make(d["n_samples"], bounds, d["seed"])
table = pd.DataFrame(X, columns=names)
table.insert(0, "sample", np.arange(len(table)))
with atomic_path(smk.output.samples) as tmp:
    table.to_csv(tmp, index=False, float_format="%.10g")
for path, idx in zip(smk.output.batches, split_batches(len(table), d["n_batches"])):
    with atomic_path(path) as tmp:
        table.iloc[idx].to_csv(tmp, index=False, float_format="%.10g")
log.info("%s design: %d samples of %s in %d batches (seed %d)", d["method"], len(table),
         names, d["n_batches"], d["seed"])
