"""``grassego simulate``: run the batched STZ solver for the parameter sets of a CSV file.

The initial effective temperature comes from the reference file's first ``pe`` frame
(χ = β (E − E0)), χ∞ from its last (χ∞ = β (max E_final − E0)). ``PARAMS.csv`` has a header with
at least ``c0, s_y, beta, E0`` (any per-run model constant of ``grassego.stz.PER_RUN_FIELDS`` may
be added as a column) and one row per run. The runs go through
:class:`grassego.calibration.Calibration`, as the workflow's do: the torch path single-threaded
on the CPU, and runs that never yielded marked ``elastic``. The solver settings
(:class:`~grassego.solver_settings.SolverSettings`) and the snapshot strains are the workflow
config's: the defaults, or with ``--config FILE`` that workflow config's (with its ``fixed``
values for the parameters the CSV leaves out); each option given replaces the config's value,
each ``--constant`` the config's value of that constant. The output follows the runs contract
of :mod:`grassego.fields`.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Mapping

import numpy as np
import xarray as xr

from grassego.calibration import Calibration
from grassego.config import command_settings, read_workflow_config
from grassego.errors import GrassegoError, InputError
from grassego.fields import read_reference, write_runs
from grassego.objective import ObjectiveConfig
from grassego.solver_settings import (DEVICES, DTYPES, SolverSettings, cell_problems,
                                      units_problems)
from grassego.status import RUN_STATUS
from grassego.stz import PER_RUN_FIELDS, REQUIRED_PARAMS, ModelConstants
from grassego.stz.constants import DYNAMICS
from grassego.stz.progress import RunProgress
from grassego.stz.solver import BACKENDS
from grassego.tables import read_table
from grassego.units import UNIT_SYSTEMS

log = logging.getLogger("grassego.simulate")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="run the STZ continuum solver for a batch of parameter sets",
                       description=__doc__)
    p.add_argument("--reference", required=True, help="reference fields NetCDF (pe on frame, y, x)")
    p.add_argument("--params", required=True, help="CSV: header c0,s_y,beta,E0[,...], one row per run")
    p.add_argument("--out", required=True, help="runs NetCDF to write (atomically)")
    d = SolverSettings  # the defaults of the workflow's solver section
    p.add_argument("--config", metavar="FILE",
                   help="workflow config whose solver section, snapshot strains and fixed "
                        "values set what the options below do not (default: the workflow's "
                        "defaults, shown below)")
    p.add_argument("--device", choices=DEVICES,
                   help=f"default {d.device}: cuda when torch sees a GPU, else cpu")
    p.add_argument("--dtype", choices=DTYPES, help=f"default {d.dtype}")
    p.add_argument("--units", choices=UNIT_SYSTEMS,
                   help=f"unit system of the reference and the constants (default {d.units}; "
                        "lj: reduced Lennard-Jones units, give the constants in them)")
    p.add_argument("--frames", default="snapshots", choices=("all", "snapshots"),
                   help="keep the fields of every frame, or of the snapshot strains only "
                        "(default %(default)s)")
    p.add_argument("--snapshot-strains", type=float, nargs="+", metavar="STRAIN",
                   help="global strains of the kept snapshots (nearest frames; default: the "
                        f"paper's {' '.join(map(str, ObjectiveConfig.snapshot_strains))})")
    p.add_argument("--batch-size", type=int, default=None,
                   help="runs solved together (default: all at once)")
    p.add_argument("--backend", choices=BACKENDS,
                   help="fused: Numba CPU kernels (fastest on a CPU; grid sides powers of two); "
                        "cuda: numba-cuda GPU kernel (with --device cuda or auto); "
                        f"torch: PyTorch tensors (CPU or CUDA); {d.backend} (default): fused or "
                        "cuda where possible")
    p.add_argument("--dynamics", choices=DYNAMICS,
                   help=f"STZ plastic law: {d.dynamics} (the paper's, default) or linear (the "
                        "original solver's thermally activated law; its constants via --constant)")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=False,
                   help="torch backend: fuse the step kernels with torch.compile (one-off compile)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads of the fused backend (default: all cores); the torch "
                        "backend runs single-threaded on the CPU, so that its results do not "
                        "depend on the thread count")
    p.add_argument("--constant", action="append", default=[], metavar="NAME=VALUE",
                   help="override a ModelConstants field for the whole batch (repeatable; "
                        "in place of that constant of --config's solver.constants), e.g. "
                        "--constant max_strain=0.1 --constant n_frames=20")
    p.set_defaults(func=run, reads=("reference", "params", "config"), writes=("out",))


def parse_constants(items: list[str], reference=None) -> dict[str, float | int]:
    """The ``NAME=VALUE`` overrides of :class:`ModelConstants` fields; raise
    :class:`InputError` if one is malformed or out of range, or if a cell size (``lx_A``,
    ``ly_A``) contradicts ``reference``'s grid (without one, the solver takes the grid's)."""
    names = ModelConstants.names()
    kwargs: dict[str, float | int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in names:
            raise InputError("--constant", f"{item!r}: expected NAME=VALUE with NAME one of {list(names)}")
        try:
            number = float(value)
        except ValueError:
            raise InputError("--constant", f"{item!r}: {value!r} is not a number") from None
        is_int = name in ("n_frames", "steps_per_frame", "max_substeps")
        kwargs[name] = int(number) if is_int and number.is_integer() else number
    try:
        ModelConstants(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InputError("--constant", str(exc)) from exc
    if reference is not None:
        problems = cell_problems(reference, kwargs, "--reference")
        if problems:
            raise InputError("--constant", "; ".join(problems))
    return kwargs


def read_params(path: str | Path, fixed: Mapping[str, float] = {}) -> dict[str, np.ndarray]:
    """Read the parameter CSV strictly (:func:`grassego.tables.read_table`): every parameter
    a run needs is a column unless ``fixed`` gives its value; raise :class:`InputError` naming
    the file (and line) if bad.

    Empty cells and non-finite numbers are kept as NaN: those runs get the rejected status.
    """
    df = read_table(path, required=[n for n in REQUIRED_PARAMS if n not in fixed],
                    allowed=PER_RUN_FIELDS)
    if df.empty:
        raise InputError(path, "no parameter rows")
    return {name: df[name].to_numpy(dtype=np.float64) for name in df.columns}


#: How :func:`grassego.solver_settings.units_problems` names this command's options.
OPTION_NAMES = {"units": "--units", "set_units": "pass --units {}", "constants": "--constant"}


def workflow_settings(args: argparse.Namespace, reference: xr.Dataset
                      ) -> tuple[SolverSettings, ObjectiveConfig, dict[str, float]]:
    """The workflow's solver and objective settings and fixed values (``--config``'s, else the
    defaults and none) with the options given in place of their values; raises
    :class:`GrassegoError` where the unit system is not ``reference``'s."""
    config = read_workflow_config(args.config, "simulate --config") if args.config else {}
    constants = {**config.get("solver", {}).get("constants", {}),
                 **parse_constants(args.constant, reference)}
    solver = command_settings(SolverSettings.from_config, config, "solver", {
        "device": args.device, "dtype": args.dtype, "backend": args.backend,
        "units": args.units, "dynamics": args.dynamics, "constants": constants}, args.config)
    problems = units_problems(reference, solver.units, solver.constants, args.reference,
                              OPTION_NAMES)
    if problems:
        raise GrassegoError("; ".join(problems))
    objective = command_settings(ObjectiveConfig.from_config, config, "objective",
                                 {"snapshot_strains": args.snapshot_strains}, args.config)
    return solver, objective, dict(config.get("fixed", {}))


def run(args: argparse.Namespace) -> int:
    ref = read_reference(args.reference)
    if ref.sizes["frame"] < 2:
        raise InputError(args.reference, "pe needs at least two frames (initial and final)")
    for option, value in (("--threads", args.threads), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise InputError(option, f"must be >= 1, got {value}")
    solver, objective, fixed = workflow_settings(args, ref)
    params = read_params(args.params, fixed)
    calib = Calibration(ref, list(params), objective=objective, solver=solver,
                        threads=args.threads,
                        fixed={k: v for k, v in fixed.items() if k not in params})
    keep = calib.snapshot_frames() if args.frames == "snapshots" else None
    n_runs = len(next(iter(params.values())))
    log.info("simulating %d run(s) on %s (%s, backend %s, %s units)", n_runs, calib.device,
             solver.dtype, solver.backend, solver.units)
    t0 = time.perf_counter()
    progress = RunProgress(log)
    try:
        runs = calib.runs(calib.parameter_table(np.column_stack(list(params.values()))), keep,
                          progress=progress.frame, chunk_done=progress.chunk,
                          batch_size=args.batch_size, compile=args.compile)
    except ValueError as exc:
        raise InputError(args.reference, str(exc)) from exc
    runs.attrs.update(reference=str(args.reference), params_file=str(args.params))
    write_runs(runs, args.out)
    status = runs["status"].values
    counts = {k: int(np.sum(status == v)) for k, v in RUN_STATUS.items()}
    log.info("wrote %s in %.1f s: %s", args.out, time.perf_counter() - t0, counts)
    return 0
