# Single fits (ensemble.single_fits, with several references): a calibration on each reference
# alone beside the joint one, from the same designs and the same runs (that reference's
# simulate jobs), one EGO job per (reference, seed): how much the optimum varies from one MD
# run to another, and how well each single-run optimum predicts the held-out runs (rule
# predict runs them too).

if FITS:

    use rule collect as collect_single with:
        input:
            runs=expand(
                RUNS.replace("{seed}", "{{seed}}").replace("{ref}", "{{ref}}"), batch=BATCHES
            ),
            samples=rules.design.output.samples,
        output:
            training=res("training/single/{ref}/seed_{seed}.csv"),
        log:
            res("logs/collect/single/{ref}/seed_{seed}.log"),
        benchmark:
            res("benchmarks/collect/single/{ref}/seed_{seed}.tsv")
        params:
            parameters=canonical(config["parameters"]),
            weights=canonical(None),  # one reference: no joint delta (overrides collect's)

    use rule ego as ego_single with:
        input:
            reference=REF_FIELDS,
            training=rules.collect_single.output.training,
        output:
            result=res("ego/single/{ref}/seed_{seed}/result.nc"),
        log:
            res("logs/ego/single/{ref}/seed_{seed}.log"),
        benchmark:
            res("benchmarks/ego/single/{ref}/seed_{seed}.tsv")
        params:
            ego=canonical({k: v for k, v in config["ego"].items() if k != "seeds"}),
            calibration=RUN_SETTINGS,
