"""``grassego ingest-legacy DIR OUT.nc``: the paper's text fields -> one reference NetCDF file."""

from __future__ import annotations

import argparse
import logging

from grassego.fields import write_reference
from grassego.legacy import LegacyLayout, read_legacy
from grassego.plausibility import add_accept_unusual, check_reference

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    d = LegacyLayout()
    p = sub.add_parser(
        "ingest-legacy",
        help="convert legacy text fields (pe.MD.N, Exy.MD.N, stress trace) to reference NetCDF",
        description=__doc__,
    )
    p.add_argument("directory", help="directory holding pe.MD.N, Exy.MD.N and the stress trace")
    p.add_argument("out", help="output NetCDF path (written atomically)")
    p.add_argument("--stress-file", default=d.stress_file)
    p.add_argument("--stress-column", type=int, default=d.stress_column,
                   help="0-based column of the shear stress (default %(default)s)")
    p.add_argument("--stress-scale", type=float, default=d.stress_scale,
                   help="factor to GPa incl. sign (default %(default)s: -pxy in bar)")
    p.add_argument("--max-strain", type=float, default=d.max_strain,
                   help="global shear strain of the last frame (default %(default)s)")
    p.add_argument("--box-length", type=float, default=d.box_length_A,
                   help="square cell edge in Å (default %(default)s)")
    p.add_argument("--width", type=float, default=d.coarse_graining_width_A,
                   help="coarse-graining width c used upstream, Å (recorded only)")
    add_accept_unusual(p)
    p.set_defaults(func=run, reads=("directory",), writes=("out",))


def run(args: argparse.Namespace) -> int:
    layout = LegacyLayout(
        stress_file=args.stress_file,
        stress_column=args.stress_column,
        stress_scale=args.stress_scale,
        max_strain=args.max_strain,
        box_length_A=args.box_length,
        coarse_graining_width_A=args.width,
    )
    ds = check_reference(read_legacy(args.directory, layout), args.directory,
                         accept_unusual=args.accept_unusual)
    write_reference(ds, args.out)
    log.info("wrote %s: %d frames of %d x %d, %d stress points", args.out, ds.sizes["frame"],
             ds.sizes["y"], ds.sizes["x"], ds.sizes["strain_ss"])
    return 0
