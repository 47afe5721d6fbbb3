"""``grassego distance [--config FILE] A.nc B.nc``: Grassmann (and stress) distances between
two field files.

``A`` is the reference; ``B`` is a reference-style file or a runs file (one result per run).
The settings of Δ are the workflow config's ``objective`` section
(:class:`~grassego.objective.ObjectiveConfig`): its defaults, or with ``--config FILE`` that
workflow config's (the schema's defaults filled in), so that the total is the workflow's Δ for
the same run; each option given replaces the config's value.
"""

from __future__ import annotations

import argparse
import json
import math

from grassego.config import command_settings, read_workflow_config
from grassego.errors import InputError
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
    p.add_argument("--config", metavar="FILE",
                   help="workflow config whose objective section sets every option not given "
                        "(default: the workflow's defaults, shown below)")
    p.add_argument("--metric", choices=(*METRICS, "frobenius"), help=f"default {d.metric}")
    p.add_argument("--rank", help=f"rank rule: N, fixed:N, rtol:TOL or energy:FRACTION (default "
                                  f"{d.rank}); or a comma list, one per snapshot")
    p.add_argument("--space", choices=SPACES, help=f"default {d.space}")
    p.add_argument("--unequal", choices=UNEQUAL,
                   help=f"unequal-rank policy (default {d.unequal}; 'infinite' = eq. 8)")
    p.add_argument("--snapshots", type=float, nargs="+", metavar="STRAIN",
                   help="global strains of the compared snapshots (default: the paper's "
                        f"{' '.join(map(str, d.snapshot_strains))})")
    p.add_argument("--weights", type=float, nargs=2, metavar=("W1", "W2"),
                   help="weights of the field and stress distances (default "
                        f"{' '.join(map(str, d.weights))})")
    p.add_argument("--variant", choices=tuple(VARIANTS),
                   help=f"objective variant (default {d.variant}; see README)")
    p.add_argument("--overshoot-window", type=float, nargs=2, metavar=("LO", "HI"),
                   help="global-strain window whose stress errors the overshoot and aligned "
                        f"variants weight (default {' '.join(map(str, d.overshoot_window))})")
    p.add_argument("--band-shift-widths", type=float, metavar="W",
                   help="largest shift of the run's fields along y that the aligned variant "
                        f"tries, in coarse-graining widths (default {d.band_shift_widths})")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_accept_unusual(p)
    p.set_defaults(func=run, reads=("a", "b", "config"), writes=())


def _clean(x):
    """``x`` (a JSON-able value) with every NaN as None (JSON's null: a failed run's distances)."""
    if isinstance(x, float):
        return None if math.isnan(x) else x
    if isinstance(x, list):
        return [_clean(v) for v in x]
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    return x


def objective_settings(args: argparse.Namespace) -> ObjectiveConfig:
    """The workflow's objective settings (``--config``'s, else the defaults) with the options
    given in place of their values."""
    rank = args.rank.split(",") if args.rank is not None and "," in args.rank else args.rank
    given = {"metric": args.metric, "rank": rank, "space": args.space, "unequal": args.unequal,
             "snapshot_strains": args.snapshots, "weights": args.weights,
             "variant": args.variant, "overshoot_window": args.overshoot_window,
             "band_shift_widths": args.band_shift_widths}
    config = read_workflow_config(args.config, "distance --config") if args.config else {}
    return command_settings(ObjectiveConfig.from_config, config, "objective", given, args.config,
                            {"snapshot_strains": "--snapshots"})


def run(args: argparse.Namespace) -> int:
    cfg = objective_settings(args)
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
