"""Read thermo tables from a LAMMPS log file, and the global shear stress–strain curve from them.

A log holds one thermo table per ``run``/``minimize``: a header line whose first word is ``Step``
(one-line thermo styles: ``one``, ``custom``; not ``multi`` or ``yaml``), numeric rows, and a
closing ``Loop time of ...`` line. Anything else interleaved with the rows (``WARNING: ...``
lines, fix messages) is skipped; a run cut short (no ``Loop time``, e.g. a crashed job) keeps
the complete rows it has. Column names are matched case-insensitively (LAMMPS prints ``Pxy`` for
the thermo keyword ``pxy``, ``Xy`` for ``xy``; computed names such as ``f_pxy_avg`` or
``c_p[4]`` keep their case).

Shear stress. The LAMMPS pressure tensor is the negative of the stress, so the shear stress of a
positive shear is τ = −pxy. Units (LAMMPS ``units`` style): metal pressures are in bar
(τ[GPa] = −pxy · 1e-4), real in atm (−pxy · 1.01325e-4), lj stays reduced (τ = −pxy, ε/σ³ in
3-D, ε/σ² in 2-D).

Shear strain. γ = (xy − xy₀) / ly from the thermo columns ``xy`` and ``ly``, with xy₀ the tilt
of the first row used (see :func:`stress_strain`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grassego.errors import InputError

#: Factor from the LAMMPS pressure unit of a units style to the unit stored (GPa, or reduced).
PRESSURE_TO_GPA: dict[str, float] = {"metal": 1e-4, "real": 1.01325e-4, "lj": 1.0}


@dataclass
class ThermoRun:
    """One thermo table: column name -> values, plus where it sits in the log."""

    names: tuple[str, ...]
    columns: dict[str, np.ndarray]
    header_line: int  #: 1-based line number of the header in the log
    completed: bool  #: a ``Loop time`` line closed the table
    skipped: list[int] = field(default_factory=list)  #: 1-based lines inside it that were skipped

    def column(self, name: str, path: str | os.PathLike = "<log>") -> np.ndarray:
        """Values of column ``name`` (case-insensitive); InputError naming ``path`` if absent."""
        hits = [n for n in self.names if n.lower() == name.lower()]
        if len(hits) != 1:
            problem = "no" if not hits else "an ambiguous"
            raise InputError(path, f"{problem} thermo column {name!r} in the run whose header is "
                                   f"at this line (columns: {' '.join(self.names)})",
                             line=self.header_line)
        return self.columns[hits[0]]

    def has(self, name: str) -> bool:
        return any(n.lower() == name.lower() for n in self.names)


def _numbers(tokens: list[str]) -> list[float] | None:
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return None


def read_log(path: str | os.PathLike) -> list[ThermoRun]:
    """All thermo tables with rows of a LAMMPS log, in order. InputError if the file has none:
    naming the line of the first header if there are headers without rows."""
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise InputError(path, f"cannot read the log ({exc.strerror or exc})") from exc
    runs: list[ThermoRun] = []
    empty: list[int] = []  # header lines of tables without a row
    names: tuple[str, ...] | None = None
    rows: list[list[float]] = []
    header_line, skipped = 0, []

    def close(completed: bool) -> None:
        if names is not None and rows:
            data = np.asarray(rows, dtype=np.float64)
            runs.append(ThermoRun(names, {n: data[:, k] for k, n in enumerate(names)},
                                  header_line, completed, skipped))
        elif names is not None:
            empty.append(header_line)

    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if names is None:
            if tokens and tokens[0] == "Step" and len(tokens) > 1:
                names, rows, header_line, skipped = tuple(tokens), [], number, []
            continue
        if line.startswith("Loop time of"):
            close(True)
            names = None
            continue
        values = _numbers(tokens) if len(tokens) == len(names) else None
        if values is None:
            if tokens and tokens[0] == "Step":  # a new header without a Loop line: run aborted
                close(False)
                names, rows, header_line, skipped = tuple(tokens), [], number, []
            elif tokens:
                skipped.append(number)
            continue
        rows.append(values)
    close(False)
    if not runs and empty:
        more = f" (and {len(empty) - 1} more like it)" if len(empty) > 1 else ""
        raise InputError(path, f"the run at this line has a thermo header but no rows{more}: "
                               f"it stopped before its first thermo output, or no line below "
                               f"the header is numeric with one value per column",
                         line=empty[0])
    if not runs:
        raise InputError(path, "no thermo table found (a header line starting with 'Step'; "
                               "only one-line thermo styles are supported)")
    return runs


def _last_segment(runs: list[ThermoRun]) -> list[ThermoRun]:
    """The runs after the last timestep reset (a run starting below the previous run's end)."""
    start = 0
    for k in range(1, len(runs)):
        if runs[k].columns[runs[k].names[0]][0] < runs[k - 1].columns[runs[k - 1].names[0]][-1]:
            start = k
    return runs[start:]


def unflip_tilt(xy: np.ndarray, lx: np.ndarray) -> np.ndarray:
    """Undo LAMMPS box flips in a tilt series: a jump of xy by ±lx between consecutive entries
    (``fix deform ... flip yes``) is the same lattice, so it is removed to keep xy continuous.
    Entries where lx is NaN (not known) are left as they are."""
    jumps = np.zeros_like(xy)
    with np.errstate(invalid="ignore"):
        jumps[1:] = np.where(np.isfinite(lx[1:]), np.rint(np.diff(xy) / lx[1:]), 0.0)
    return xy - np.cumsum(jumps) * np.where(np.isfinite(lx), lx, 0.0)


def stress_strain(
    path: str | os.PathLike,
    *,
    stress_column: str = "pxy",
    units: str = "metal",
    start_step: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Global (strain γ, shear stress τ) from a LAMMPS log.

    Rows used: those of the runs after the last ``reset_timestep`` (the shear stage of a
    melt–quench–shear log), from ``start_step`` on when given (the timestep of the first dump
    frame), with rows repeated at run boundaries dropped. γ = (xy − xy₀)/ly with xy₀ the tilt of
    the first row used, box flips undone when the log has ``lx`` (:func:`unflip_tilt`); rows where the tilt does not advance past the previous row are dropped,
    so γ is strictly increasing. τ = −stress_column × :data:`PRESSURE_TO_GPA`[units] (GPa for
    metal and real units, reduced for lj). Raises InputError naming the log for a missing column,
    too few rows or a non-increasing strain.
    """
    if units not in PRESSURE_TO_GPA:
        raise ValueError(f"units must be one of {sorted(PRESSURE_TO_GPA)}, got {units!r}")
    runs = _last_segment(read_log(path))
    wanted = ("step", "xy", "ly", stress_column)
    picked: dict[str, list[np.ndarray]] = {name: [] for name in wanted + ("lx",)}
    for run in runs:
        for name in wanted:
            if not run.has(name):
                hint = " (add xy and ly to thermo_style)" if name in ("xy", "ly") else ""
                raise InputError(path, f"no thermo column {name!r}{hint} in the run whose header "
                                       f"is at this line (columns: {' '.join(run.names)})",
                                 line=run.header_line)
        for name in picked:
            picked[name].append(run.column(name, path) if run.has(name)
                                else np.full(run.columns[run.names[0]].size, np.nan))
    step, xy, ly_, p, lx = (np.concatenate(picked[name]) for name in wanted + ("lx",))
    keep = np.ones(step.size, dtype=bool)
    keep[:-1] = step[1:] != step[:-1]  # a run repeats the last row of the one before
    if start_step is not None:
        keep &= step >= start_step
    xy, ly_, p, lx = xy[keep], ly_[keep], p[keep], lx[keep]
    if xy.size < 2:
        raise InputError(path, f"fewer than 2 thermo rows from step {start_step or 0} on in the "
                               "last segment of the log")
    xy = unflip_tilt(xy, lx)
    gamma = (xy - xy[0]) / ly_
    advancing = gamma > np.maximum.accumulate(np.concatenate([[-math.inf], gamma[:-1]]))
    gamma, p = gamma[advancing], p[advancing]
    if gamma.size < 2:
        raise InputError(path, "the box tilt xy does not increase: no shear in the last runs")
    return gamma, -p * PRESSURE_TO_GPA[units]
