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
backup, or proposes again the batch a seeded run proposes anyway). Delete both files to start
afresh.
"""

from __future__ import annotations

import logging
import os
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

    @classmethod
    def resume(cls, path: Path) -> "History | None":
        """The history saved at ``path``, or None if neither it nor its backup exists.

        If ``path`` is missing or damaged, the history is restored from the backup and rewritten
        to ``path`` (the damaged file moved aside), with one warning saying what was restored
        and what was lost. Raises :class:`InputError` naming both files, and leaves them as they
        are, if the backup cannot be read either.
        """
        backup = backup_path(path)
        if not path.exists() and not backup.exists():
            return None
        if path.exists():
            try:
                return cls.load(path)
            except InputError as exc:
                damage = f"damaged ({exc.problem})"
        else:
            damage = "missing (a write was interrupted)"
        try:
            h = cls.load(backup)
        except InputError as exc:
            raise InputError(path, f"{damage}; its backup {backup} cannot be used either "
                                   f"({exc.problem}); both files are left as they are") from exc
        kept = ""
        if path.exists():
            aside = _aside_name(path)
            os.replace(path, aside)
            kept = f"; the damaged file is kept as {aside.name}"
        n_pending = h.pending().size
        lost = (f"the last write (evaluations of up to these {n_pending} pending rows) is lost; "
                "they will be re-evaluated" if n_pending else
                "the last write (the next batch's proposal or the stop reason) is lost; no "
                "evaluation is lost and the same batch will be proposed again")
        log.warning("%s is %s; restored %d rows (%d evaluated, %d pending) from %s; %s%s", path,
                    damage, h.y.size, h.y.size - n_pending, n_pending, backup.name, lost, kept)
        h.path = path
        h.write()
        return h


def backup_path(path: Path) -> Path:
    """The backup beside a history file: the previous complete version (``<name>.bak``)."""
    return path.with_name(path.name + ".bak")


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
