# The space-filling designs of the calibration vector, one per EGO seed (independent replicates:
# seed s draws from the stream spawned for s from design.seed), written once and split into
# batches for the simulate fan-out: one set of batch jobs serves every seed.


rule design:
    output:
        samples=res("design/samples.csv"),
        batches=expand(res("design/batch_{batch}.csv"), batch=BATCHES),
    log:
        res("logs/design.log"),
    benchmark:
        res("benchmarks/design.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        design=canonical(config["design"]),
        parameters=canonical(config["parameters"]),
        seeds=SEEDS,
    script:
        "../../scripts/design.py"
