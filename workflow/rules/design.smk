# The space-filling design of the calibration vector, one job per EGO seed (independent
# replicates: seed s draws from the stream spawned for s from design.seed), split into that
# seed's batches for the simulate fan-out. Nothing of a seed's design, runs or training set
# depends on the other seeds: adding a seed computes only the new seed's.


rule design:
    output:
        samples=res("design/seed_{seed}/samples.csv"),
        batches=expand(res("design/seed_{{seed}}/batch_{batch}.csv"), batch=BATCHES),
    log:
        res("logs/design/seed_{seed}.log"),
    benchmark:
        res("benchmarks/design/seed_{seed}.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        design=canonical(config["design"]),
        parameters=canonical(config["parameters"]),
    script:
        "../../scripts/design.py"
