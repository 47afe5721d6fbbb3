"""The EGO evaluation history: an in-memory table mirrored to a NetCDF4 file after every change.

Format (``format`` attribute ``grassego-ego-history-2``): dims ``evaluation`` (rows in
evaluation order), ``param`` (coordinate: parameter names), ``side`` (lower, upper); variables
``X(evaluation, param)`` (parameter units; the optional coordinate ``param_units(param)`` names
them), ``y(evaluation)`` (Δ, NaN if failed or pending),
``status(evaluation)`` (``ok``, ``pending``, or the objective's failure status),
``iteration(evaluation)`` (0 = initial design), ``acquisition(evaluation)`` (log of the
acquisition value when the row was proposed, NaN for the design), ``tr_length(evaluation)``
(trust-region edge in the unit cube when proposed), ``wall_time(evaluation)`` [s] (duration of
the objective call that evaluated the row), ``bounds(param, side)``; attributes ``seed`` and
``stop_reason`` ("" while running, else "threshold", "max_iter" or "stalled").

Every write goes to a temporary file (flushed to disk) that is renamed into place, after the
previous file is renamed to the backup ``<name>.bak`` beside it: at every instant one complete
file exists, the backup at most one write behind (after a kill between the two renames, only
the backup). :meth:`History.resume` reads the file, or the backup if the file is missing or
damaged: the damaged file is moved aside (``<name>.damaged-<time>``), never overwritten, and
the lost write is redone by the resumed run (it re-evaluates rows that were pending in the
backup, or proposes again the batch a seeded run proposes anyway). When a run stops, its file is
also copied to ``<name>.finished`` (:meth:`History.keep_finished`): the evaluations the
workflow's result file holds, outside the rule's declared outputs (Snakemake deletes those
before rerunning the job), so that a rerun recovers them when both the file and its backup are
damaged. Delete the three files to start afresh.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import xarray as xr

from grassego.atomic import atomic_path
from grassego.errors import InputError

log = logging.getLogger(__name__)

HISTORY_FORMAT = "grassego-ego-history-2"
_FLOAT_ROWS = ("y", "acquisition", "tr_length", "wall_time")


class History:
    """The growing table of evaluations (see the module doc for the columns)."""

    def __init__(self, bounds: np.ndarray, names: list[str], seed: int, path: Path | None,
                 units: Sequence[str] | None = None):
        d = bounds.shape[0]
        self.bounds, self.names, self.seed, self.path = bounds, names, seed, path
        #: each parameter's unit (ASCII name, :meth:`grassego.units.Units.name`), if known
        self.units = None if units is None else [str(u) for u in units]
        self.X = np.empty((0, d))
        self.y = np.empty(0)
        self.status: list[str] = []
        self.iteration = np.empty(0, dtype=np.int64)
        self.acquisition = np.empty(0)
        self.tr_length = np.empty(0)
        self.wall_time = np.empty(0)
        self.stop_reason = ""

    def add(self, x: np.ndarray, iteration: int, acquisition: np.ndarray | None = None,
            tr_length: float = np.nan, y: np.ndarray | None = None,
            status: Sequence[str] | None = None) -> None:
        """Append ``x`` (q, d); without ``y`` the rows are pending."""
        q = x.shape[0]
        self.X = np.vstack([self.X, x])
        self.y = np.concatenate([self.y, np.full(q, np.nan) if y is None else y])
        self.status += ["pending"] * q if status is None else list(status)
        self.iteration = np.concatenate([self.iteration, np.full(q, iteration, dtype=np.int64)])
        self.acquisition = np.concatenate(
            [self.acquisition, np.full(q, np.nan) if acquisition is None else acquisition])
        self.tr_length = np.concatenate([self.tr_length, np.full(q, tr_length)])
        self.wall_time = np.concatenate([self.wall_time, np.full(q, np.nan)])

    def pending(self) -> np.ndarray:
        return np.flatnonzero(np.array(self.status) == "pending")

    def done(self) -> np.ndarray:
        return np.flatnonzero(np.array(self.status) != "pending")

    def ok(self) -> np.ndarray:
        """Boolean mask of rows evaluated with a finite Δ."""
        return (np.array(self.status) == "ok") & np.isfinite(self.y)

    def to_dataset(self) -> xr.Dataset:
        return xr.Dataset(
            {
                "X": (("evaluation", "param"), self.X, {"long_name": "evaluated parameter set",
                                                       "units": "parameter units"}),
                "y": ("evaluation", self.y, {"long_name": "objective value (Delta)",
                                             "comment": "NaN for failed or pending evaluations"}),
                "status": ("evaluation", np.array(self.status, dtype=object),
                           {"comment": "ok | pending | status reported by the objective"}),
                "iteration": ("evaluation", self.iteration.astype(np.int32),
                              {"comment": "0 = initial design, t >= 1 = EGO iteration"}),
                "acquisition": ("evaluation", self.acquisition,
                                {"long_name": "log acquisition value at proposal"}),
                "tr_length": ("evaluation", self.tr_length,
                              {"long_name": "trust-region edge at proposal", "units": "1",
                               "comment": "unit cube, geometric mean over parameters"}),
                "wall_time": ("evaluation", self.wall_time,
                              {"units": "s", "comment": "duration of the objective call"}),
                "bounds": (("param", "side"), self.bounds),
            },
            coords={"evaluation": np.arange(self.y.size), "param": self.names,
                    "side": ["lower", "upper"],
                    **({} if self.units is None else {"param_units": ("param", self.units)})},
            attrs={"format": HISTORY_FORMAT, "seed": int(self.seed),
                   "stop_reason": self.stop_reason},
        )

    def write(self) -> None:
        """Replace the file atomically, the previous one becoming the backup (no-op without a
        path)."""
        if self.path is None:
            return
        enc = {v: {"zlib": True, "complevel": 4} for v in ("X", "iteration", *_FLOAT_ROWS)}
        with atomic_path(self.path, suffix=".nc.tmp") as tmp:
            self.to_dataset().to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=enc)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            if self.path.exists():
                os.replace(self.path, backup_path(self.path))

    @classmethod
    def load(cls, path: Path) -> "History":
        ds = read_history(path)
        h = cls(ds["bounds"].values.astype(np.float64), [str(n) for n in ds["param"].values],
                int(ds.attrs["seed"]), path)
        h.X = ds["X"].values.astype(np.float64).reshape(-1, h.bounds.shape[0])
        h.status = [str(s) for s in ds["status"].values]
        h.iteration = ds["iteration"].values.astype(np.int64)
        for name in _FLOAT_ROWS:
            setattr(h, name, ds[name].values.astype(np.float64))
        h.stop_reason = str(ds.attrs.get("stop_reason", ""))
        if "param_units" in ds.coords:
            h.units = [str(u) for u in ds["param_units"].values]
        return h

    def keep_finished(self) -> None:
        """Copy the file, as the run stopped, to :func:`finished_path` (no-op without a path):
        the evaluations the workflow's result file holds, kept where Snakemake never deletes
        them, so that a rerun can recover them when both the file and its backup are
        damaged."""
        if self.path is None:
            return
        with atomic_path(finished_path(self.path), suffix=".nc.tmp") as tmp:
            shutil.copyfile(self.path, tmp)

    @classmethod
    def resume(cls, path: Path) -> "History | None":
        """The history saved at ``path``, or None if neither it nor a copy of it exists.

        If ``path`` is missing or damaged, the history is restored from the backup, or, if that
        cannot be read either, from the copy kept when the run last finished
        (:meth:`keep_finished`), and rewritten to ``path`` (the damaged files moved aside),
        with one warning saying what was restored and what was lost. Raises
        :class:`InputError` naming the files, and leaves them as they are, if no copy can be
        read.
        """
        backup, finished = backup_path(path), finished_path(path)
        if not any(p.exists() for p in (path, backup, finished)):
            return None
        if path.exists():
            try:
                return cls.load(path)
            except InputError as exc:
                damage = f"damaged ({exc.problem})"
        else:
            damage = "missing (a write was interrupted)"
        try:
            h, source = cls.load(backup), backup
        except InputError as exc:
            if not finished.exists():
                raise InputError(path, f"{damage}; its backup {backup} cannot be used either "
                                       f"({exc.problem}); both files are left as they "
                                       "are") from exc
            try:
                h, source = cls.load(finished), finished
            except InputError as exc2:
                raise InputError(path, f"{damage}; neither its backup {backup} "
                                       f"({exc.problem}) nor the copy {finished} kept when the "
                                       f"run last finished ({exc2.problem}) can be used; the "
                                       "files are left as they are") from exc2
        kept = [_move_aside(p) for p in ((path, backup) if source == finished else (path,))
                if p.exists()]
        n_pending = h.pending().size
        if source == finished:
            lost = (f"{backup.name} is unusable too; this is the copy kept when the run last "
                    f"finished ({h.stop_reason}), the evaluations of its result file; later "
                    "evaluations, if any, are lost and will be redone")
        elif n_pending:
            lost = (f"the last write (evaluations of up to these {n_pending} pending rows) is "
                    "lost; they will be re-evaluated")
        else:
            lost = ("the last write (the next batch's proposal or the stop reason) is lost; no "
                    "evaluation is lost and the same batch will be proposed again")
        kept_note = "".join(f"; the damaged file is kept as {k.name}" for k in kept)
        log.warning("%s is %s; restored %d rows (%d evaluated, %d pending) from %s; %s%s", path,
                    damage, h.y.size, h.y.size - n_pending, n_pending, source.name, lost,
                    kept_note)
        h.path = path
        h.write()
        return h


def backup_path(path: Path) -> Path:
    """The backup beside a history file: the previous complete version (``<name>.bak``)."""
    return path.with_name(path.name + ".bak")


def finished_path(path: Path) -> Path:
    """The copy of a history file kept when its run last finished (``<name>.finished``)."""
    return path.with_name(path.name + ".finished")


def _move_aside(path: Path) -> Path:
    """Rename a damaged file to :func:`_aside_name` (never overwritten); return the new name."""
    aside = _aside_name(path)
    os.replace(path, aside)
    return aside


def _aside_name(path: Path) -> Path:
    """A new name beside ``path`` for a damaged file: ``<name>.damaged-<local time>[-n]``."""
    stem = f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}"
    aside, n = path.with_name(stem), 1
    while aside.exists():
        aside, n = path.with_name(f"{stem}-{n}"), n + 1
    return aside


def read_history(path: str | os.PathLike) -> xr.Dataset:
    """Read and check an EGO history file (format in the module doc)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            ds = ds.load()
    except (OSError, ValueError) as exc:
        raise InputError(path, f"not a readable NetCDF file ({exc})") from exc
    if ds.attrs.get("format") != HISTORY_FORMAT:
        raise InputError(path, f"not an EGO history file of this version (format attribute is "
                               f"{ds.attrs.get('format')!r}, expected {HISTORY_FORMAT!r})")
    missing = [v for v in ("X", "status", "iteration", "bounds", *_FLOAT_ROWS) if v not in ds]
    if missing or "seed" not in ds.attrs:
        raise InputError(path, f"EGO history lacks {missing or ['seed attribute']}")
    return ds
