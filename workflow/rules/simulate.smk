# The fan-out: one job per design batch of each seed runs the batched STZ solver and scores
# every run against the reference; collect gathers a seed's batches into its initial training
# set (its `seed` column names the EGO seed).


rule simulate:
    input:
        reference=rules.reference.output.fields,
        batch=res("design/seed_{seed}/batch_{batch}.csv"),
    output:
        runs=res("runs/seed_{seed}/batch_{batch}.nc"),
    log:
        res("logs/simulate/seed_{seed}/batch_{batch}.log"),
    benchmark:
        res("benchmarks/simulate/seed_{seed}/batch_{batch}.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        calibration=CALIBRATION,
    script:
        "../../scripts/simulate.py"


rule collect:
    input:
        runs=expand(res("runs/seed_{{seed}}/batch_{batch}.nc"), batch=BATCHES),
        samples=rules.design.output.samples,
    output:
        training=res("training/seed_{seed}.csv"),
    log:
        res("logs/collect/seed_{seed}.log"),
    benchmark:
        res("benchmarks/collect/seed_{seed}.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        parameters=canonical(config["parameters"]),
    script:
        "../../scripts/collect.py"
