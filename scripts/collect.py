"""Rule `collect`: gather the scored batches into the initial training set (CSV, by sample)."""

import pandas as pd
import xarray as xr

from grassego.atomic import atomic_path
from grassego.fields import RUN_STATUS
from grassego.logsetup import setup_logging

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
names = list(smk.config["parameters"])
status_name = {v: k for k, v in RUN_STATUS.items()}
frames = []
for path in smk.input.runs:
    with xr.open_dataset(path) as ds:
        frame = pd.DataFrame({"sample": ds["sample"].values})
        for name in names:
            frame[name] = ds[name].values
        for col in ("d_field", "d_stress", "delta", "wall_time"):
            frame[col] = ds[col].values
        frame["status"] = [status_name.get(int(s), "unknown") for s in ds["status"].values]
        frames.append(frame)
table = pd.concat(frames).sort_values("sample")
with atomic_path(smk.output.training) as tmp:
    table.to_csv(tmp, index=False, float_format="%.10g")
log.info("training set: %d samples, %d ok, best delta %.4f", len(table),
         int((table["status"] == "ok").sum()), table["delta"].min())
