"""``grassego md --out-dir DIR``: shear a small 2-D Kob–Andersen LJ glass with LAMMPS.

Melt, quench, hold, then simple shear at constant area (fix deform xy erate, remap v, SLLOD,
no box flip); writes ``shear.dump.gz`` (id type x y z c_pe every --dump-strain), ``log.lammps``
(thermo: step temp pe press pxy f_pxy_avg xy lx ly) and ``run.json``. Reduced LJ units. See
:mod:`grassego.md`; ingest the result with ``grassego ingest DIR/shear.dump.gz --log
DIR/log.lammps --units lj ...``.
"""

from __future__ import annotations

import argparse

from grassego.errors import GrassegoError
from grassego.md import run_shear_md


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("md", help="run the small LAMMPS 2-D LJ glass shear simulation",
                       description=__doc__)
    p.add_argument("--out-dir", required=True,
                   help="directory for the dump, log and run.json (its absolute path must not "
                        "contain whitespace or any of \"$%%'*\\`: LAMMPS would mangle it)")
    p.add_argument("--atoms", type=int, default=4096,
                   help="atom count, rounded to a square number (default %(default)s)")
    p.add_argument("--max-strain", type=float, default=0.5,
                   help="final shear strain (default %(default)s)")
    p.add_argument("--rate", type=float, default=1e-2,
                   help="engineering shear rate, 1/tau (default %(default)s)")
    p.add_argument("--dump-strain", type=float, default=0.005,
                   help="strain between dump frames (default %(default)s)")
    p.add_argument("--temperature", type=float, default=0.05,
                   help="glass and shear temperature, epsilon/k_B (default %(default)s)")
    for stage, default in (("melt", 50.0), ("quench", 500.0), ("hold", 25.0)):
        p.add_argument(f"--{stage}-time", type=float, default=default,
                       help=f"{stage} duration, tau (default %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default %(default)s)")
    p.add_argument("--threads", type=int, default=1,
                   help="OpenMP threads for LAMMPS (default %(default)s)")
    p.add_argument("--stress-atom", action="store_true",
                   help="also dump the per-atom xy stress c_stress[4]")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        result = run_shear_md(
            args.out_dir, n_atoms=args.atoms, max_strain=args.max_strain, erate=args.rate,
            dump_strain=args.dump_strain, t_shear=args.temperature, melt_time=args.melt_time,
            quench_time=args.quench_time, hold_time=args.hold_time, seed=args.seed,
            omp_threads=args.threads, stress_atom=args.stress_atom)
    except ValueError as exc:  # inconsistent parameters
        raise GrassegoError(str(exc)) from exc
    print(f"{result.dump}\n{result.log}\n{result.n_atoms} atoms, {result.n_frames} frames, "
          f"{result.wall_time_s:.1f} s")
    return 0
