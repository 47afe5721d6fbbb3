# Summary table and JSON (whether the seeds agree, parameters at a bound, the misfit diagnosis,
# optima, delta, physical fidelity beside the MD, and the uncertainty step's block), the
# diagnosis page, figures (convergence, fields, stress-strain, band profiles, delta history; the
# uncertainty step's profiles, pairs, Sobol indices and verdict table) and the inputs of the
# Snakemake HTML report (`snakemake --report results/report.html`).

FIGURES = [
    "convergence",
    "delta_history",
    "strain_fields",
    "teff_fields",
    "stress_strain",
    "band_profiles",
]
#: Joint calibration: the held-out references' predictions (figure prediction_<name>.png each).
PREDICTIONS = (
    {
        "predictions": expand(rules.predict.output.summary, ref=HOLDOUT),
        "prediction_curves": expand(rules.predict.output.curves, ref=HOLDOUT),
    }
    if HOLDOUT
    else {}
)


rule report:
    input:
        **UNCERTAINTY_INPUTS,
        **PREDICTIONS,
        reference=CALIBRATION_FIELDS,
        training=expand(rules.collect.output.training, seed=SEEDS),
        results=expand(res("ego/seed_{seed}/result.nc"), seed=SEEDS),
        single=SINGLE_RESULTS,
    output:
        **(
            {
                "uncertainty_figures": [
                    report(
                        res(f"figures/{name}.png"),
                        caption=f"../report/{name}.rst",
                        category="Uncertainty",
                    )
                    for name in UNCERTAINTY_FIGURES
                ],
                "uncertainty_table": report(
                    res("summary/uncertainty.html"),
                    caption="../report/uncertainty_table.rst",
                    category="Uncertainty",
                ),
            }
            if UNCERTAINTY
            else {}
        ),
        **(
            {
                "prediction_figures": [
                    report(
                        res(f"figures/prediction_{name}.png"),
                        caption="../report/prediction.rst",
                        category="Prediction",
                    )
                    for name in HOLDOUT
                ]
            }
            if HOLDOUT
            else {}
        ),
        **(
            {
                "ensemble_figure": report(
                    res("figures/ensemble.png"),
                    caption="../report/ensemble.rst",
                    category="Prediction",
                )
            }
            if FITS
            else {}
        ),
        summary=res("summary/summary.csv"),
        summary_json=res("summary/summary.json"),
        diagnosis=report(
            res("summary/diagnosis.html"),
            caption="../report/diagnosis.rst",
            category="Calibration",
        ),
        figures=[
            report(
                res(f"figures/{name}.png"),
                caption=f"../report/{name}.rst",
                category="Calibration",
            )
            for name in FIGURES
        ],
    log:
        res("logs/report.log"),
    benchmark:
        res("benchmarks/report.tsv")
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        calibration=CALIBRATION,
        report=canonical(config["report"]),
        target=canonical(TARGET),
        figure_names=FIGURES,
        single_labels=[f"{ref} seed {seed}" for ref in FITS for seed in FIT_SEEDS],
    script:
        "../../scripts/report.py"
