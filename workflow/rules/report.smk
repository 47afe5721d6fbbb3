# Summary table and JSON (optima, delta, physical fidelity beside the MD), figures
# (convergence, fields, stress-strain, band profiles, delta history) and the inputs of the
# Snakemake HTML report (`snakemake --report results/report.html`).

FIGURES = [
    "convergence",
    "delta_history",
    "strain_fields",
    "teff_fields",
    "stress_strain",
    "band_profiles",
]
TARGET = REF["forward"]["target"] if REF["source"] == "forward" else None


rule report:
    input:
        reference=rules.reference.output.fields,
        training=rules.collect.output.training,
        results=expand(res("ego/seed_{seed}/result.nc"), seed=SEEDS),
    output:
        summary=res("summary/summary.csv"),
        summary_json=res("summary/summary.json"),
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
    script:
        "../../scripts/report.py"
