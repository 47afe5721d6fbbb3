# The reference fields file, from (a) shipped/legacy coarse-grained fields, (b) LAMMPS dumps
# coarse-grained with OVITO, or (c) a forward continuum run at target parameters (validation);
# with several references, one job per reference (and per MD run), side by side: an MD job
# takes the cores its LAMMPS run uses (reference.dumps.md.omp_threads), so that two
# single-threaded replicas run at once on two cores.


rule reference:
    input:
        unpack(reference_inputs),
    output:
        fields=REF_FIELDS,
    log:
        res("logs/reference/{ref}.log" if JOINT else "logs/reference.log"),
    benchmark:
        res("benchmarks/reference/{ref}.tsv" if JOINT else "benchmarks/reference.tsv")
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        settings=reference_settings,
        snapshot_strains=config["objective"]["snapshot_strains"],
    script:
        "../../scripts/reference.py"


rule md:
    output:
        dump=f"{MD_DIR}/shear.dump.gz",
        lammps_log=f"{MD_DIR}/log.lammps",
    log:
        res("logs/md/{ref}.log" if JOINT else "logs/md.log"),
    benchmark:
        res("benchmarks/md/{ref}.tsv" if JOINT else "benchmarks/md.tsv")
    conda:
        ENV
    threads: lambda wildcards: reference_of(wildcards)["dumps"]["md"]["omp_threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        md=lambda wildcards: canonical(reference_of(wildcards)["dumps"]["md"]),
    script:
        "../../scripts/md.py"
