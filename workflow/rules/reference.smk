# The reference fields file, from (a) shipped/legacy coarse-grained fields, (b) LAMMPS dumps
# coarse-grained with OVITO, or (c) a forward continuum run at target parameters (validation).


rule reference:
    input:
        unpack(reference_inputs),
    output:
        fields=res("reference/fields.nc"),
    log:
        res("logs/reference.log"),
    benchmark:
        res("benchmarks/reference.tsv")
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        settings=reference_settings(),
        snapshot_strains=config["objective"]["snapshot_strains"],
    script:
        "../../scripts/reference.py"


rule md:
    output:
        dump=res("md/shear.dump.gz"),
        lammps_log=res("md/log.lammps"),
    log:
        res("logs/md.log"),
    benchmark:
        res("benchmarks/md.tsv")
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        md=canonical(REF["dumps"]["md"]),
    script:
        "../../scripts/md.py"
