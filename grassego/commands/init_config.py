"""``grassego init-config REF.nc --out config/my_case.yaml``: a workflow config from the data.

Derives from the reference NetCDF file the shear modulus (elastic slope of its stress–strain
curve), the bounds of s_y (around its stress peak), of β and E0 (from its first PE frame and the
model's STZ rate) and the snapshot and report strains (among its frames), and writes them with a
comment on each value saying where it came from; every other key keeps the schema's default. The
file is checked as the workflow checks it (schema, cross-field and data checks, from the current
directory) before it is written. The rules are in :mod:`grassego.init_config`.
"""

from __future__ import annotations

import argparse
import logging

from grassego.init_config import UNITS, init_config
from grassego.plausibility import add_accept_unusual

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init-config", help="write a workflow config derived from a reference file",
                       description=__doc__)
    p.add_argument("reference", metavar="REF.nc",
                   help="reference NetCDF file; written into the config as given, so give it "
                        "relative to where the workflow will run")
    p.add_argument("--out", required=True, metavar="CONFIG.yaml",
                   help="config file to write (its stem names the results directory)")
    p.add_argument("--force", action="store_true", help="replace an existing config file")
    add_accept_unusual(p)
    p.set_defaults(func=run, reads=("reference",), writes=("out",))


def run(args: argparse.Namespace) -> int:
    config = init_config(args.reference, args.out, force=args.force,
                         accept_unusual=args.accept_unusual)
    params = config["parameters"]
    stress, beta, energy = (UNITS.name(q) for q in ("stress", "inverse_energy", "energy"))
    log.info("wrote %s: mu %g %s, s_y %s %s, beta %s %s, E0 %s %s", args.out,
             config["solver"]["constants"]["mu_GPa"], stress, params["s_y"], stress,
             params["beta"], beta, params["E0"], energy)
    return 0
