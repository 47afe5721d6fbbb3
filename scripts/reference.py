"""Rule `reference`: write the reference fields file (legacy / dumps / forward)."""

import json
from pathlib import Path

import torch

from grassego.calibration import Calibration
from grassego.fields import read_reference, write_reference
from grassego.legacy import read_legacy
from grassego.logsetup import setup_logging
from grassego.objective import nearest_frames
from grassego.plausibility import check_reference

smk = snakemake  # noqa: F821  (injected by Snakemake)
log = setup_logging(smk.log[0])
torch.set_num_threads(smk.threads)
settings = json.loads(smk.params.settings)
ref_cfg = settings["reference"]
source = ref_cfg["source"]

if source == "legacy":
    path = Path(smk.input.source)
    ds = read_reference(path) if path.suffix == ".nc" else read_legacy(path)
elif source == "forward":
    base = read_reference(smk.input.source)
    target = ref_cfg["forward"]["target"]
    calib = Calibration.from_config(
        base, {**settings, "objective": {"snapshot_strains": smk.params.snapshot_strains}},
        threads=smk.threads)
    log.info("forward run at target %s", target)
    ds = calib.forward_reference(target)
else:
    from grassego.ingest import IngestSettings, read_dumps

    files = [smk.input.dumps] if isinstance(smk.input.dumps, str) else list(smk.input.dumps)
    ds = read_dumps(files, log_file=smk.input.get("lammps_log"),
                    settings=IngestSettings.from_config(ref_cfg["dumps"]))

nearest_frames(ds["strain"].values, smk.params.snapshot_strains, f"reference ({source})")
check_reference(ds, f"reference ({source})", smk.params.snapshot_strains,
                accept_unusual=ref_cfg.get("accept_unusual", False))
write_reference(ds, smk.output.fields)
log.info("reference: %d frames of %d x %d from %s", ds.sizes["frame"], ds.sizes["y"],
         ds.sizes["x"], source)
