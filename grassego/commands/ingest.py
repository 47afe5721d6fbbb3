"""``grassego ingest DUMP... --out OUT.nc``: LAMMPS dumps (+ log) -> reference NetCDF via OVITO.

Reads the dump series with OVITO, computes the per-atom xy strain since the first frame (OVITO's
atomic-strain modifier, Green–Lagrange tensor component), Gaussian-averages it and the per-atom
potential energy onto a grid, takes the stress–strain curve from the LAMMPS log (the run(s)
covering the dumps' timesteps; or a per-atom stress column) and writes the reference-fields file
atomically. See :mod:`grassego.ingest`.
"""

from __future__ import annotations

import argparse

from grassego.errors import GrassegoError
from grassego.ingest import IngestSettings, ingest_dumps
from grassego.plausibility import add_accept_unusual

_DEFAULT = IngestSettings()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="coarse-grain LAMMPS dumps into a reference NetCDF file",
                       description=__doc__)
    p.add_argument("dumps", nargs="+", metavar="DUMP",
                   help="dump files or quoted glob patterns ('dump.*.gz'), or one multi-frame "
                        "file; the first frame is the strain reference")
    p.add_argument("--log", dest="log_file", metavar="LOG.lammps",
                   help="LAMMPS log with the thermo stress column (else --stress-column is a "
                        "per-atom column of the dump)")
    p.add_argument("--out", required=True, metavar="OUT.nc", help="output NetCDF path")
    p.add_argument("--pe-column", default=_DEFAULT.pe_column,
                   help="per-atom potential-energy column (default %(default)s)")
    p.add_argument("--width", type=float, default=_DEFAULT.width,
                   help="Gaussian width c, dump length unit (Å for metal; default %(default)s)")
    p.add_argument("--cutoff", type=float, default=_DEFAULT.cutoff,
                   help="Gaussian cut-off r_cut, dump length unit (default %(default)s)")
    p.add_argument("--grid", type=int, nargs=2, default=_DEFAULT.grid, metavar=("NX", "NY"),
                   help="grid points in x and y (default %(default)s)")
    p.add_argument("--strain-cutoff", type=float, default=_DEFAULT.strain_cutoff,
                   help="neighbour cut-off of OVITO's atomic-strain modifier, dump length unit "
                        "(default: the first minimum of g(r) of the first frame)")
    p.add_argument("--stress-column", default=_DEFAULT.stress_column,
                   help="thermo column of the log (pxy, f_...) or, without --log, per-atom "
                        "stress column of the dump (c_stress[4]); shear stress = -pxy "
                        "(default %(default)s)")
    p.add_argument("--units", default=_DEFAULT.units, choices=("metal", "real", "lj"),
                   help="LAMMPS units style: metal bar -> GPa, lj stays reduced "
                        "(default %(default)s)")
    p.add_argument("--d2min", action="store_true", help="also store the non-affine D²min field")
    add_accept_unusual(p)
    p.set_defaults(func=run, reads=("dumps", "log_file"), writes=("out",))


def run(args: argparse.Namespace) -> int:
    try:
        ingest_dumps(args.dumps, args.out, log_file=args.log_file, pe_column=args.pe_column,
                     width=args.width, cutoff=args.cutoff, grid=tuple(args.grid),
                     strain_cutoff=args.strain_cutoff, stress_column=args.stress_column,
                     units=args.units, d2min=args.d2min, accept_unusual=args.accept_unusual)
    except ValueError as exc:  # inconsistent options (e.g. cut-off above half the cell)
        if isinstance(exc, GrassegoError):
            raise
        raise GrassegoError(str(exc)) from exc
    return 0
