# The fan-out: one job per design batch runs the batched STZ solver and scores every run
# against the reference; collect gathers the batches into the initial training sets (a `seed`
# column says which EGO seed each sample belongs to).


rule simulate:
    input:
        reference=rules.reference.output.fields,
        batch=res("design/batch_{batch}.csv"),
    output:
        runs=res("runs/batch_{batch}.nc"),
    log:
        res("logs/simulate/batch_{batch}.log"),
    benchmark:
        res("benchmarks/simulate/batch_{batch}.tsv")
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
        runs=expand(res("runs/batch_{batch}.nc"), batch=BATCHES),
        samples=rules.design.output.samples,
    output:
        training=res("training/initial.csv"),
    log:
        res("logs/collect.log"),
    benchmark:
        res("benchmarks/collect.tsv")
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
