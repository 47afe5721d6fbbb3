"""Rule `reference`: write the reference fields file (legacy / dumps / forward)."""

import json

from grassego.fields import write_reference
from grassego.logsetup import setup_logging
from grassego.reference_source import build_reference

smk = snakemake  # noqa: F821  (injected by Snakemake)
log = setup_logging(smk.log[0])
settings = json.loads(smk.params.settings)
ds = build_reference(settings, smk.params.snapshot_strains, source=smk.input.get("source"),
                     dumps=smk.input.get("dumps"), lammps_log=smk.input.get("lammps_log"),
                     threads=smk.threads, log=log)
write_reference(ds, smk.output.fields)
log.info("reference: %d frames of %d x %d from %s", ds.sizes["frame"], ds.sizes["y"],
         ds.sizes["x"], settings["reference"]["source"])
