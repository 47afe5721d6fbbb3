# Shared helpers of the workflow steps - result paths, batches, seeds, reference inputs - and
# the config sections each step depends on, passed as params, so that each step reruns exactly
# when what it reads changes (changing only the EGO budget reruns only the EGO and report steps).

import json

# Software deployment: one environment for every rule, the one the workflow is started from,
# with the grassego package installed (the rule scripts only call it; the Snakefile imports it to
# check the config). `make setup` builds it as .venv/ (pinned; what CI tests), `conda env create
# -f envs/grassego.yaml` as a conda environment (same pins). Each rule names that file, but
# --sdm conda is not supported: Snakemake would build the environment from a copy of the file
# under .snakemake/conda/, from where its `-e ..` (install this repository) names the wrong
# directory. (A named environment instead would make every run, even without --sdm conda, call
# `conda env export`, and fail where conda is absent.) docs/workflow.md, "Software deployment".
ENV = "../../envs/grassego.yaml"

from grassego.config import calibration_sections
from grassego.uncertainty import FIGURES as UNCERTAINTY_FIGURES

RESULTS = config["results"]
#: The simulate batches of each seed's design.
BATCHES = list(range(config["design"]["n_batches"]))
SEEDS = list(config["ego"]["seeds"])


wildcard_constraints:
    seed=r"\d+",
    batch=r"\d+",


def res(path):
    """Path under the configured results directory."""
    return f"{RESULTS}/{path}"


def canonical(obj):
    """A config section as a string (a step param, so the step reruns when it changes). Key
    order is kept: the scripts read the parameters in the config's order."""
    return json.dumps(obj)


# What turns a parameter vector into delta: grassego.problem.Problem.from_config's input.
CALIBRATION = canonical(calibration_sections(config))


REF = config["reference"]
#: The known answer in validation mode (a forward reference), else None.
TARGET = REF["forward"]["target"] if REF["source"] == "forward" else None
#: The uncertainty step (rule `uncertainty`) runs and feeds the report.
UNCERTAINTY = config["uncertainty"]["enabled"]


def reference_inputs(wildcards):
    """The files the reference step reads: declared, so that a changed file reruns it."""
    if REF["source"] == "legacy":
        return {"source": REF["legacy"]["path"]}
    if REF["source"] == "forward":
        return {"source": REF["forward"]["base"]}
    if REF["dumps"]["md"]["enabled"]:
        return {"dumps": res("md/shear.dump.gz"), "lammps_log": res("md/log.lammps")}
    from grassego.lammps_dump import expand_dumps

    files = {"dumps": [str(p) for p in expand_dumps(REF["dumps"]["files"])]}
    return files | ({"lammps_log": REF["dumps"]["log"]} if REF["dumps"]["log"] else {})


def reference_settings():
    """What the reference step reads from the config, for its source only (so that, e.g., the
    solver's settings rerun a forward reference but not a legacy one)."""
    source = REF["source"]
    settings = {"reference": {"source": source, source: REF[source]}}
    if REF["accept_unusual"]:  # only when set, so that a default run's params stay as they were
        settings["reference"]["accept_unusual"] = True
    if source == "forward":
        settings |= {
            "solver": config["solver"],
            "fixed": config.get("fixed", {}),
            "parameters": config["parameters"],
        }
    return canonical(settings)
