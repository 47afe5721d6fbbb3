# One EGO job per seed: from the seed's own initial design, fit the local GP surrogate and add
# runs by trust-region noisy expected improvement until the threshold or the iteration cap. The
# evaluation history lives in a state directory beside the result that is NOT a declared output
# (Snakemake would delete it after a kill); a rerun resumes from it, so a killed job loses no
# evaluation. The state directory name carries a fingerprint of everything that defines the
# problem (reference, design, objective, solver, optimiser settings), so a changed problem
# starts afresh while a changed budget continues the same history.


rule ego:
    input:
        reference=CALIBRATION_FIELDS,
        training=rules.collect.output.training,
    output:
        result=res("ego/seed_{seed}/result.nc"),
    log:
        res("logs/ego/seed_{seed}.log"),
    benchmark:
        res("benchmarks/ego/seed_{seed}.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        # not ego.seeds: a job's seed is its wildcard, so adding or dropping a seed reruns no
        # other seed's job
        ego=canonical({k: v for k, v in config["ego"].items() if k != "seeds"}),
        calibration=CALIBRATION,
    script:
        "../../scripts/ego.py"
