# Prediction (references with role holdout): each seed's optimum, the uncertainty step's
# near-optimal sets where it ran and each single fit's optimum (ensemble.single_fits), on one
# held-out reference, from that reference's own fields:
# predictive delta, stress curve, band and drop beside the held-out MD's (grassego.prediction).
# One job per held-out reference: adding one reruns only its MD/ingest, this job and the report.


rule predict:
    input:
        **UNCERTAINTY_INPUTS,
        reference=REF_FIELDS,
        results=expand(res("ego/seed_{seed}/result.nc"), seed=SEEDS),
        single=SINGLE_RESULTS,
    output:
        summary=res("prediction/{ref}.json"),
        curves=res("prediction/{ref}.nc"),
    log:
        res("logs/prediction/{ref}.log"),
    benchmark:
        res("benchmarks/prediction/{ref}.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        calibration=RUN_SETTINGS,
        field_strains=canonical(config["report"]["field_strains"]),
        single_labels=[f"{ref} seed {seed}" for ref in FITS for seed in FIT_SEEDS],
    script:
        "../../scripts/predict.py"
