# Shared helpers of the workflow steps - result paths, batches, seeds, reference inputs - and
# the config sections each step depends on, passed as params, so that each step reruns exactly
# when what it reads changes (changing only the EGO budget reruns only the EGO and report steps).

import json

RESULTS = config["results"]
BATCHES = list(range(config["design"]["n_batches"]))
SEEDS = list(config["ego"]["seeds"])


def res(path):
    """Path under the configured results directory."""
    return f"{RESULTS}/{path}"


def canonical(obj):
    """A config section as a string (a step param, so the step reruns when it changes). Key
    order is kept: the scripts read the parameters in the config's order."""
    return json.dumps(obj)


SOLVER_SETTINGS = canonical(
    {"solver": config["solver"], "fixed": config.get("fixed", {})}
)
# What turns a parameter vector into delta: grassego.calibration.Calibration.from_config's input.
CALIBRATION = canonical(
    {k: config.get(k, {}) for k in ("parameters", "fixed", "objective", "solver")}
)


REF = config["reference"]


def reference_inputs(wildcards):
    if REF["source"] == "legacy":
        return {"source": REF["legacy"]["path"]}
    if REF["source"] == "forward":
        return {"source": REF["forward"]["base"]}
    if REF["dumps"]["md"]["enabled"]:
        return {"dump": res("md/shear.dump.gz"), "lammps_log": res("md/log.lammps")}
    return {}
