# How sure the calibration is: the objective's noise (near-replicates around each seed's
# optimum), Sobol indices of delta on a GP of every seed's evaluations, the near-optimal region
# with an interval and a profile per parameter (checked with real runs), and a verdict per
# parameter (grassego.uncertainty). One job for all seeds: the analysis pools them (one GP on
# every evaluation, one near-optimal region, the seeds' optima set beside its intervals), and
# its solver runs use the job's two threads at once; a job per seed would refit the GP per seed
# and need a merge step to compare the seeds.


rule uncertainty:
    input:
        reference=CALIBRATION_FIELDS,
        results=expand(res("ego/seed_{seed}/result.nc"), seed=SEEDS),
    output:
        summary=res("uncertainty/uncertainty.json"),
        data=res("uncertainty/uncertainty.nc"),
    log:
        res("logs/uncertainty.log"),
    benchmark:
        res("benchmarks/uncertainty.tsv")
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        uncertainty=canonical({k: v for k, v in config["uncertainty"].items() if k != "enabled"}),
        calibration=CALIBRATION,
        surrogate=canonical(
            {k: config["ego"][k] for k in ("search_space", "kernel", "y_transform")}
        ),
        target=canonical(TARGET),
    script:
        "../../scripts/uncertainty.py"


# The uncertainty step's files, when it is enabled (the report's and the predictions' inputs).
UNCERTAINTY_INPUTS = (
    {
        "uncertainty": rules.uncertainty.output.summary,
        "uncertainty_data": rules.uncertainty.output.data,
    }
    if UNCERTAINTY
    else {}
)
