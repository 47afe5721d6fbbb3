"""Rule `simulate`: the batched STZ solver on one design batch, scored against the reference."""

import json
import time

from grassego.fields import read_reference, write_netcdf
from grassego.logsetup import setup_logging
from grassego.problem import Problem
from grassego.status import RUN_STATUS

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
problem = Problem.from_config(read_reference(smk.input.reference),
                              json.loads(smk.params.calibration), threads=smk.threads)
t0 = time.perf_counter()
runs = problem.run_batch(smk.input.batch, log)
write_netcdf(runs, smk.output.runs)
ok = int((runs["status"] == RUN_STATUS["ok"]).sum())
log.info("%d/%d runs ok in %.1f s; best delta %.4f", ok, runs.sizes["run"],
         time.perf_counter() - t0, float(runs["delta"].min()) if ok else float("nan"))
