"""``grassego simulate``: run the batched STZ solver for the parameter sets of a CSV file.

The initial effective temperature comes from the reference file's first ``pe`` frame
(χ = β (E − E0)), χ∞ from its last (χ∞ = β (max E_final − E0)). ``PARAMS.csv`` has a header with
at least ``c0, s_y, beta, E0`` (any per-run model constant of ``grassego.stz.PER_RUN_FIELDS`` may be
added as a column) and one row per run. The output follows the runs contract of
:mod:`grassego.fields`.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import torch

from grassego.config import cell_problems, reference_cell
from grassego.errors import InputError
from grassego.fields import RUN_STATUS, read_reference, write_runs
from grassego.objective import PAPER_SNAPSHOT_STRAINS, nearest_frames
from grassego.stz import (
    PER_RUN_FIELDS,
    REQUIRED_PARAMS,
    ModelConstants,
    simulate_batch,
    to_runs_dataset,
)
from grassego.stz.progress import RunProgress
from grassego.stz.solver import choose_backend, gpu_visible
from grassego.tables import read_table

log = logging.getLogger("grassego.simulate")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="run the STZ continuum solver for a batch of parameter sets",
                       description=__doc__)
    p.add_argument("--reference", required=True, help="reference fields NetCDF (pe on frame, y, x)")
    p.add_argument("--params", required=True, help="CSV: header c0,s_y,beta,E0[,...], one row per run")
    p.add_argument("--out", required=True, help="runs NetCDF to write (atomically)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    p.add_argument("--frames", default="snapshots", choices=("all", "snapshots"),
                   help="keep the fields of every frame, or of the snapshot strains only "
                        "(default %(default)s)")
    p.add_argument("--snapshot-strains", type=float, nargs="+", default=list(PAPER_SNAPSHOT_STRAINS),
                   metavar="STRAIN", help="global strains of the kept snapshots (nearest frames)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="runs solved together (default: all at once)")
    p.add_argument("--backend", default="auto", choices=("auto", "fused", "cuda", "torch"),
                   help="fused: Numba CPU kernels (fastest on a CPU; grid sides powers of two); "
                        "cuda: numba-cuda GPU kernel (with --device cuda or auto); "
                        "torch: PyTorch tensors (CPU or CUDA); auto: fused or cuda where possible")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=False,
                   help="torch backend: fuse the step kernels with torch.compile (one-off compile)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (default: all cores for fused, torch's choice for torch)")
    p.add_argument("--constant", action="append", default=[], metavar="NAME=VALUE",
                   help="override a ModelConstants field for the whole batch (repeatable), "
                        "e.g. --constant max_strain=0.1 --constant n_frames=20")
    p.set_defaults(func=run)


def parse_constants(items: list[str], reference=None) -> ModelConstants:
    """ModelConstants with ``NAME=VALUE`` overrides, the cell (``lx_A``, ``ly_A``) taken from
    ``reference``'s grid unless overridden; raise :class:`InputError` if bad or if an override
    contradicts the reference's cell."""
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
    if reference is not None:
        problems = cell_problems(reference, kwargs, "--reference")
        if problems:
            raise InputError("--constant", "; ".join(problems))
        kwargs = reference_cell(reference) | kwargs
    try:
        return ModelConstants(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InputError("--constant", str(exc)) from exc


def read_params(path: str | Path) -> dict[str, np.ndarray]:
    """Read the parameter CSV strictly (:func:`grassego.tables.read_table`); raise
    :class:`InputError` naming the file (and line) if bad.

    Empty cells and non-finite numbers are kept as NaN: those runs get the rejected status.
    """
    df = read_table(path, required=REQUIRED_PARAMS, allowed=PER_RUN_FIELDS)
    if df.empty:
        raise InputError(path, "no parameter rows")
    return {name: df[name].to_numpy(dtype=np.float64) for name in df.columns}


def _device(name: str) -> str:
    if name == "auto":
        return "cuda" if gpu_visible() else "cpu"
    if name == "cuda" and not gpu_visible():
        raise InputError("--device", "CUDA was requested but neither torch nor numba-cuda sees a GPU")
    return name


def run(args: argparse.Namespace) -> int:
    ref = read_reference(args.reference)
    params = read_params(args.params)
    constants = parse_constants(args.constant, ref)
    if args.threads is not None:
        if args.threads < 1:
            raise InputError("--threads", f"must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    pe = np.asarray(ref["pe"].values, dtype=np.float64)
    if pe.shape[0] < 2:
        raise InputError(args.reference, "pe needs at least two frames (initial and final)")
    keep = None
    if args.frames == "snapshots":
        keep = nearest_frames(np.asarray(constants.frame_strains()), args.snapshot_strains,
                              "--snapshot-strains").tolist()
    n_runs = len(next(iter(params.values())))
    if args.batch_size is not None and args.batch_size < 1:
        raise InputError("--batch-size", f"must be >= 1, got {args.batch_size}")
    t0 = time.perf_counter()
    device = _device(args.device)
    try:
        choose_backend(args.backend, torch.device(device), pe.shape[1:], getattr(torch, args.dtype))
    except ValueError as exc:
        raise InputError("--backend", f"{args.backend}: {exc}") from None
    log.info("simulating %d run(s) on %s (%s, backend %s)", n_runs, args.device, args.dtype,
             args.backend)
    progress = RunProgress(log)
    try:
        res = simulate_batch(params, pe[0], pe[-1], keep_frames=keep, device=device,
                             dtype=getattr(torch, args.dtype), constants=constants,
                             progress=progress.frame, chunk_done=progress.chunk,
                             batch_size=args.batch_size, compile=args.compile,
                             backend=args.backend, threads=args.threads)
    except ValueError as exc:
        raise InputError(args.reference, str(exc)) from exc
    ds = to_runs_dataset(res, x=ref["x"].values, y=ref["y"].values, constants=constants,
                         attrs={"reference": str(args.reference), "params_file": str(args.params)})
    write_runs(ds, args.out)
    counts = {k: int(np.sum(res.status == v)) for k, v in RUN_STATUS.items()}
    log.info("wrote %s in %.1f s: %s", args.out, time.perf_counter() - t0, counts)
    return 0
