# The reference fields file, from (a) shipped/legacy coarse-grained fields, (b) LAMMPS dumps
# coarse-grained with OVITO, or (c) a forward continuum run at target parameters (validation).

REF = config["reference"]


def reference_inputs(wildcards):
    if REF["source"] == "legacy":
        return {"source": REF["legacy"]["path"]}
    if REF["source"] == "forward":
        return {"source": REF["forward"]["base"]}
    if REF["dumps"]["md"]["enabled"]:
        return {"dump": res("md/shear.dump.gz"), "lammps_log": res("md/log.lammps")}
    return {}


rule reference:
    input:
        unpack(reference_inputs),
    output:
        fields=res("reference/fields.nc"),
    params:
        reference=canonical(REF),
        snapshot_strains=config["objective"]["snapshot_strains"],
        solver=SOLVER_SETTINGS,
    log:
        res("logs/reference.log"),
    benchmark:
        res("benchmarks/reference.tsv")
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../../scripts/reference.py"


rule md:
    output:
        dump=res("md/shear.dump.gz"),
        lammps_log=res("md/log.lammps"),
    params:
        md=canonical(REF["dumps"]["md"]),
    log:
        res("logs/md.log"),
    benchmark:
        res("benchmarks/md.tsv")
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
    script:
        "../../scripts/md.py"
