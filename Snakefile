# grassego: Grassmannian EGO calibration of the STZ continuum model against coarse-grained MD.
#
#   reference -> design -> simulate (one job per batch) -> collect -> ego (one job per seed)
#     -> uncertainty (all seeds) -> report
#   (several references: one reference job each; simulate per batch and calibrate reference;
#    predict per holdout reference, before the report)
#
# Run:   snakemake --cores 2 --profile config/profiles/local            (laptop)
#        snakemake --profile config/profiles/slurm                       (cluster)
#        snakemake --configfile config/examples/paper_validation.yaml ... (another case)

from snakemake.utils import min_version

min_version("8.20")


# The shipped default case, unless the command line names config file(s): then those alone
# (with the schema's defaults) define the run, so an example config is never mixed with the default.
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from grassego.config import check_workflow_config  # noqa: E402
from grassego.errors import ConfigError  # noqa: E402

# Every problem of the config before any job: one line each, no traceback, exit status 1. The
# config files are read again strictly (Snakemake keeps the last of a repeated key).
try:
    check_workflow_config(
        config,
        workflow.configfiles,
        Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml",
        ".",  # paths in the config are relative to the working directory
    )
except ConfigError as exc:
    sys.exit(f"Config error:\n{exc}")


include: "workflow/rules/common.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/design.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/ego.smk"
include: "workflow/rules/ensemble.smk"
include: "workflow/rules/uncertainty.smk"
include: "workflow/rules/prediction.smk"
include: "workflow/rules/report.smk"


# One run per results directory, whatever the working directory (Snakemake's own lock is per
# working directory). Taken when a real run starts, before any job: onstart runs neither in dry
# runs nor in job processes (Snakemake starts those with --no-hooks), and --report, --lint or
# --unlock do not start a run. Held until Snakemake exits.
onstart:
    from grassego.lock import lock_results

    try:
        lock_results(RESULTS)
    except ConfigError as exc:
        sys.exit(str(exc))


rule all:
    default_target: True
    input:
        summary=rules.report.output.summary,
        figures=rules.report.output.figures,
        predictions=expand(res("figures/prediction_{ref}.png"), ref=HOLDOUT),
