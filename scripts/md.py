"""Rule `md`: a small glass (2-D LJ or 3-D CuZr) sheared with LAMMPS (lower-scale example)."""

import json
from pathlib import Path

from grassego.logsetup import setup_logging
from grassego.md import run_shear_md

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
md_cfg = {k: v for k, v in json.loads(smk.params.md).items() if k != "enabled"}
md_cfg["omp_threads"] = min(md_cfg["omp_threads"], smk.threads)
run = run_shear_md(Path(smk.output.dump).parent, **md_cfg)
log.info("LAMMPS: %d atoms, %d frames, %d shear steps in %.0f s", run.n_atoms, run.n_frames,
         run.n_shear_steps, run.wall_time_s)
