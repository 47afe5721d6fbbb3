# One EGO job per seed: retrain the GPyTorch surrogate and add samples by expected improvement
# until the threshold or the iteration cap. The evaluation history lives in a state directory
# that is NOT a declared output (Snakemake would delete it after a kill); a rerun resumes from
# it, so a killed job loses no evaluation. The state directory name carries a fingerprint of
# everything that defines the problem (reference, design, objective, solver), so a changed
# problem starts afresh while a changed budget continues the same history.


rule ego:
    input:
        reference=rules.reference.output.fields,
        training=rules.collect.output.training,
    output:
        result=res("ego/seed_{seed}/result.nc"),
    params:
        ego=canonical(config["ego"]),
        parameters=canonical(config["parameters"]),
        solver=SOLVER_SETTINGS,
        objective=OBJECTIVE_SETTINGS,
        state_root=res("ego/seed_{seed}"),
    log:
        res("logs/ego/seed_{seed}.log"),
    benchmark:
        res("benchmarks/ego/seed_{seed}.tsv")
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    script:
        "../../scripts/ego.py"
