# The fan-out: one job per design batch of each seed runs the batched STZ solver and scores
# every run against the reference; collect gathers a seed's batches into its initial training
# set (its `seed` column names the EGO seed).


# With several references, one job per (calibrate reference, batch), each run initialised from
# its reference's own fields; collect merges them into the joint delta (grassego.joint): its
# runs files reference-major (the first reference's batches first), its param `weights`
# (joint only) name -> weight in that order.
RUNS = res(
    "runs/seed_{seed}/batch_{batch}/{ref}.nc" if JOINT else "runs/seed_{seed}/batch_{batch}.nc"
)


rule simulate:
    input:
        reference=REF_FIELDS,
        batch=res("design/seed_{seed}/batch_{batch}.csv"),
    output:
        runs=RUNS,
    log:
        res(
            "logs/simulate/seed_{seed}/batch_{batch}/{ref}.log"
            if JOINT
            else "logs/simulate/seed_{seed}/batch_{batch}.log"
        ),
    benchmark:
        res(
            "benchmarks/simulate/seed_{seed}/batch_{batch}/{ref}.tsv"
            if JOINT
            else "benchmarks/simulate/seed_{seed}/batch_{batch}.tsv"
        )
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        calibration=RUN_SETTINGS,
    script:
        "../../scripts/simulate.py"


rule collect:
    input:
        runs=expand(
            RUNS.replace("{seed}", "{{seed}}"),
            **({"ref": CALIBRATE} if JOINT else {}),
            batch=BATCHES,
        ),
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
        **({"weights": canonical(calibration_sections(config)["weights"])} if JOINT else {}),
        parameters=canonical(config["parameters"]),
    script:
        "../../scripts/collect.py"
