"""``grassego md --out-dir DIR [--system ka2d|cuzr3d]``: shear a small glass with LAMMPS.

Melt, quench, hold, then simple shear at constant area/volume (fix deform xy erate, remap v,
SLLOD, no box flip); writes ``shear.dump.gz`` (id type x y z c_pe every --dump-strain),
``log.lammps`` (the shear run's thermo: step temp pe press pxy f_pxy_avg xy lx ly) and
``run.json``. ``ka2d``: 2-D Kob–Andersen LJ glass, reduced LJ units; ``cuzr3d``: 3-D Cu50Zr50
EAM glass slab, metal units (K, ps). The options are the keys of the workflow's
``reference.dumps.md`` section; their defaults are those of the chosen system
(:data:`grassego.md.SYSTEMS`). Ingest the result with ``grassego ingest DIR/shear.dump.gz --log
DIR/log.lammps --units lj|metal ...``.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from grassego.errors import GrassegoError
from grassego.md import SYSTEMS, ShearSettings, run_shear_md

_TYPES = {"int": int, "float": float}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("md", help="run a small LAMMPS glass shear simulation (2-D LJ or 3-D CuZr)",
                       description=__doc__)
    p.add_argument("--out-dir", required=True,
                   help="directory for the dump, log and run.json (its absolute path must not "
                        "contain whitespace or any of \"$%%'*\\`: LAMMPS would mangle it)")
    p.add_argument("--system", choices=sorted(SYSTEMS), default="ka2d",
                   help="which glass (default %(default)s)")
    for field in fields(ShearSettings):
        defaults = ", ".join(f"{name} {getattr(s.defaults, field.name):g}"
                             for name, s in SYSTEMS.items())
        p.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name,
                       type=_TYPES[field.type], default=None,
                       help=f"default: {defaults} (see grassego.md.ShearSettings)")
    p.add_argument("--omp-threads", type=int, default=1,
                   help="OpenMP threads for LAMMPS (default %(default)s)")
    p.add_argument("--stress-atom", action="store_true",
                   help="also dump the per-atom xy stress c_stress[4]")
    # no input files to protect; its output is a directory (run_shear_md checks it)
    p.set_defaults(func=run, reads=(), writes=())


def run(args: argparse.Namespace) -> int:
    settings = {f.name: getattr(args, f.name) for f in fields(ShearSettings)}
    try:
        result = run_shear_md(args.out_dir, system=args.system, omp_threads=args.omp_threads,
                              stress_atom=args.stress_atom, **settings)
    except ValueError as exc:  # inconsistent parameters
        raise GrassegoError(str(exc)) from exc
    print(f"{result.dump}\n{result.log}\n{result.n_atoms} atoms, {result.n_frames} frames, "
          f"{result.wall_time_s:.1f} s")
    return 0
