# The space-filling design (Latin hypercube or Sobol) of the calibration vector, written once and
# split into batches for the simulate fan-out.


rule design:
    output:
        samples=res("design/samples.csv"),
        batches=expand(res("design/batch_{batch}.csv"), batch=BATCHES),
    params:
        design=canonical(config["design"]),
        parameters=canonical(config["parameters"]),
    log:
        res("logs/design.log"),
    benchmark:
        res("benchmarks/design.tsv")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/design.py"
