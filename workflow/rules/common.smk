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
from grassego.references import calibration_entries, holdout_entries, is_joint, reference_entries
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
#: The same less the joint weights: what one run on one reference depends on (simulate,
#: predict), so that adding a reference or changing a weight reruns no existing run.
RUN_SETTINGS = canonical({k: v for k, v in calibration_sections(config).items() if k != "weights"})


# The references: one (`reference:`, named None; its files keep the unnamed paths below) or
# several (`references:`, each file under a directory of its name, the {ref} wildcard).
JOINT = is_joint(config)
ENTRIES = {entry.name: entry for entry in reference_entries(config)}
#: The references each parameter set is scored on, and those only predicted.
CALIBRATE = [entry.name for entry in calibration_entries(config)]
HOLDOUT = [entry.name for entry in holdout_entries(config)]
REF_FIELDS = res("reference/{ref}/fields.nc" if JOINT else "reference/fields.nc")
MD_DIR = res("md/{ref}" if JOINT else "md")
#: The calibrate references' fields (one file, or a list for a joint calibration).
CALIBRATION_FIELDS = expand(REF_FIELDS, ref=CALIBRATE) if JOINT else REF_FIELDS
#: Single fits (ensemble.single_fits): every reference calibrated alone too, with these seeds.
FITS = list(ENTRIES) if config["ensemble"]["single_fits"] else []
FIT_SEEDS = list(config["ensemble"]["seeds"])
SINGLE_RESULTS = expand(res("ego/single/{ref}/seed_{seed}/result.nc"), ref=FITS, seed=FIT_SEEDS)
PRIMARY = ENTRIES[CALIBRATE[0]].section if CALIBRATE else config["reference"]
#: The known answer in validation mode (a forward first calibrate reference), else None.
TARGET = PRIMARY["forward"]["target"] if PRIMARY["source"] == "forward" else None
#: The uncertainty step (rule `uncertainty`) runs and feeds the report.
UNCERTAINTY = config["uncertainty"]["enabled"]


if JOINT:

    wildcard_constraints:
        ref="|".join(ENTRIES),


def reference_of(wildcards):
    """The settings of the reference a job works on (its {ref} wildcard; the one reference)."""
    return ENTRIES[wildcards.get("ref")].section


def reference_inputs(wildcards):
    """The files the reference step reads: declared, so that a changed file reruns it."""
    ref = reference_of(wildcards)
    if ref["source"] == "legacy":
        return {"source": ref["legacy"]["path"]}
    if ref["source"] == "forward":
        return {"source": ref["forward"]["base"]}
    if ref["dumps"]["md"]["enabled"]:
        md_dir = MD_DIR.format(ref=wildcards.get("ref"))
        return {"dumps": f"{md_dir}/shear.dump.gz", "lammps_log": f"{md_dir}/log.lammps"}
    from grassego.lammps_dump import expand_dumps

    files = {"dumps": [str(p) for p in expand_dumps(ref["dumps"]["files"])]}
    return files | ({"lammps_log": ref["dumps"]["log"]} if ref["dumps"]["log"] else {})


def reference_settings(wildcards):
    """What the reference step reads from the config, for its source only (so that, e.g., the
    solver's settings rerun a forward reference but not a legacy one)."""
    ref = reference_of(wildcards)
    source = ref["source"]
    settings = {"reference": {"source": source, source: ref[source]}}
    if ref["accept_unusual"]:  # only when set, so that a default run's params stay as they were
        settings["reference"]["accept_unusual"] = True
    if source == "forward":
        settings |= {
            "solver": config["solver"],
            "fixed": config.get("fixed", {}),
            "parameters": config["parameters"],
        }
    return canonical(settings)
