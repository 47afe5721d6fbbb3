"""``grassego distance A.nc B.nc``: Grassmann (and stress) distances between two field files.

``A`` is the reference; ``B`` is a reference-style file or a runs file (one result per run).
"""

from __future__ import annotations

import argparse
import json
import math

from grassego.errors import InputError, option_error
from grassego.fields import load_netcdf
from grassego.grassmann import METRICS, SPACES, UNEQUAL
from grassego.objective import VARIANTS, ObjectiveConfig, evaluate
from grassego.plausibility import add_accept_unusual, check_reference, snapshot_problems
from grassego.units import case_units


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("distance", help="distances between the strain fields of two NetCDF files",
                       description=__doc__)
    p.add_argument("a", help="reference fields file")
    p.add_argument("b", help="reference-style or runs file to compare")
    d = ObjectiveConfig  # the defaults of the workflow's objective section
    p.add_argument("--metric", default=d.metric, choices=(*METRICS, "frobenius"))
    p.add_argument("--rank", default=d.rank,
                   help="rank rule: N, fixed:N, rtol:TOL or energy:FRACTION (default %(default)s); "
                        "or a comma list, one per snapshot")
    p.add_argument("--space", default=d.space, choices=SPACES)
    p.add_argument("--unequal", default=d.unequal, choices=UNEQUAL,
                   help="unequal-rank policy (default %(default)s; 'infinite' = eq. 8)")
    p.add_argument("--snapshots", type=float, nargs="+", default=list(d.snapshot_strains),
                   metavar="STRAIN", help="global strains of the compared snapshots")
    p.add_argument("--weights", type=float, nargs=2, default=list(d.weights),
                   metavar=("W1", "W2"))
    p.add_argument("--variant", default=d.variant, choices=tuple(VARIANTS),
                   help="objective variant (default %(default)s; see README)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_accept_unusual(p)
    p.set_defaults(func=run, reads=("a", "b"), writes=())


def _clean(x):
    if isinstance(x, float):
        return None if math.isnan(x) else x
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def run(args: argparse.Namespace) -> int:
    rank = args.rank.split(",") if "," in args.rank else args.rank
    try:
        cfg = ObjectiveConfig(snapshot_strains=tuple(args.snapshots),
                              weights=tuple(args.weights), metric=args.metric, rank=rank,
                              space=args.space, unequal=args.unequal, variant=args.variant)
    except ValueError as exc:  # "rank: ...", "weights: ...": the option's name
        raise option_error(exc, {"snapshot_strains": "--snapshots"}) from None
    a, b = load_netcdf(args.a), load_netcdf(args.b)
    for path, ds in ((args.a, a), (args.b, b)):
        if "exy" not in ds or "strain" not in ds.coords:
            raise InputError(path, "needs an 'exy' field and a 'strain' coordinate")
    if "run" in a["exy"].dims:
        raise InputError(args.a, f"holds {a.sizes['run']} runs; the first file is the "
                                 "reference: give a reference fields file (runs go second)")
    check_reference(a, args.a, cfg.snapshot_strains, accept_unusual=args.accept_unusual)
    compared = snapshot_problems(b["strain"].values, cfg.snapshot_strains)
    if compared:
        raise InputError(args.b, "; ".join(compared))
    if (a.sizes["y"], a.sizes["x"]) != (b.sizes["y"], b.sizes["x"]):
        raise InputError(args.b, f"its grid {b.sizes['x']} x {b.sizes['y']} differs from the "
                                 f"reference's {a.sizes['x']} x {a.sizes['y']} ({args.a})")
    try:
        res = evaluate(a, b, cfg, ref_source=args.a, run_source=args.b)
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(args.b, f"cannot be compared with {args.a}: {exc}") from exc
    single = res.sizes["run"] == 1
    pick = (lambda v: v[0]) if single else (lambda v: v)
    out = {
        "a": args.a,
        "b": args.b,
        "metric": cfg.metric,
        "variant": cfg.variant,
        "strains": list(cfg.snapshot_strains),
        "ranks_a": res["rank_reference"].values.tolist(),
        "per_snapshot": pick(res["d_snapshot"].values.tolist()),
        "d_field": pick(res["d_field"].values.tolist()),
    }
    has_stress = bool(res["d_stress"].notnull().any())
    if has_stress:
        out["d_stress"] = pick(res["d_stress"].values.tolist())
        out["total"] = pick(res["delta"].values.tolist())
        out["weights"] = list(cfg.weights)
    if args.json:
        print(json.dumps(_clean(out)))
        return 0
    per = res["d_snapshot"].values
    print(f"{cfg.metric} distance, {args.a} vs {args.b}")
    print("strain   " + "  ".join(f"run{r:<5d}" for r in range(per.shape[0])))
    for s, strain in enumerate(cfg.snapshot_strains):
        print(f"{strain:<8g} " + "  ".join(f"{per[r, s]:8.5f}" for r in range(per.shape[0])))
    print("d_field  " + "  ".join(f"{v:8.5f}" for v in res["d_field"].values))
    if has_stress:
        print("d_stress " + "  ".join(f"{v:8.5f}" for v in res["d_stress"].values)
              + f"  {case_units(a).name('stress')}")
        print("total    " + "  ".join(f"{v:8.5f}" for v in res["delta"].values))
    return 0
