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

Which rows. A log of a whole input deck holds several runs (melt, quench, equilibration, shear;
a shear may be split into several ``run`` commands), often with different thermo columns and
sometimes with ``reset_timestep`` between them. :func:`select_rows` takes the runs that hold the
columns needed, joins those that continue one another (a run starting at the step the previous
one ended on) and picks the chain of runs whose steps cover the dump frames' timesteps. LAMMPS
prints the boundary step in both runs, the second time recomputed at the new run's set-up (after
``fix deform`` has moved the box at the end of that step, so pressures differ slightly); the row
of the run ending there is used, as an unbroken run would have printed it.
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
#: LAMMPS's default timestep of a units style (ps, fs, τ), and its time unit in seconds (lj:
#: 1, the rate stays per τ).
DEFAULT_TIMESTEP: dict[str, float] = {"metal": 0.001, "real": 1.0, "lj": 0.005}
TIME_UNIT_S: dict[str, float] = {"metal": 1e-12, "real": 1e-15, "lj": 1.0}


@dataclass
class ThermoRun:
    """One thermo table: column name -> values, plus where it sits in the log."""

    names: tuple[str, ...]
    columns: dict[str, np.ndarray]
    header_line: int  #: 1-based line number of the header in the log
    completed: bool  #: a ``Loop time`` line closed the table
    skipped: list[int] = field(default_factory=list)  #: 1-based lines inside it that were skipped
    #: the timestep of the run: the last numeric ``timestep`` command before its header (None:
    #: no such command, LAMMPS's default of the units style applies)
    timestep: float | None = None

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

    @property
    def steps(self) -> np.ndarray:
        """The timesteps of the rows (the first column, ``Step``)."""
        return self.columns[self.names[0]]


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
    timestep: float | None = None

    def close(completed: bool) -> None:
        if names is not None and rows:
            data = np.asarray(rows, dtype=np.float64)
            runs.append(ThermoRun(names, {n: data[:, k] for k, n in enumerate(names)},
                                  header_line, completed, skipped, timestep))
        elif names is not None:
            empty.append(header_line)

    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if names is None:
            if len(tokens) >= 2 and tokens[0] == "timestep":  # the echo after substitution
                value = _numbers(tokens[1:2])
                timestep = value[0] if value else timestep
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


def unflip_tilt(xy: np.ndarray, lx: np.ndarray) -> np.ndarray:
    """Undo LAMMPS box flips in a tilt series: a jump of xy by ±lx between consecutive entries
    (``fix deform ... flip yes``) is the same lattice, so it is removed to keep xy continuous.
    Entries where lx is NaN (not known) are left as they are."""
    jumps = np.zeros_like(xy)
    with np.errstate(invalid="ignore"):
        jumps[1:] = np.where(np.isfinite(lx[1:]), np.rint(np.diff(xy) / lx[1:]), 0.0)
    return xy - np.cumsum(jumps) * np.where(np.isfinite(lx), lx, 0.0)


def _continues(prev: ThermoRun, run: ThermoRun) -> bool:
    """Whether ``run`` picks up where ``prev`` stopped: LAMMPS prints a row at the step a run
    starts, so a run following another repeats the other's last step; a ``reset_timestep``
    between them (or a run cut short) breaks this."""
    return run.steps[0] == prev.steps[-1]


def join_runs(runs: list[ThermoRun], names: tuple[str, ...]) -> list[list[ThermoRun]]:
    """The runs holding every column of ``names``, in log order, as chains of consecutive runs
    each continuing the one before (:func:`_continues`); a run without one of the columns ends
    a chain."""
    chains: list[list[ThermoRun]] = []
    for k, run in enumerate(runs):
        if not all(run.has(name) for name in names):
            continue
        if k and chains and chains[-1][-1] is runs[k - 1] and _continues(runs[k - 1], run):
            chains[-1].append(run)
        else:
            chains.append([run])
    return chains


def _rows(chain: list[ThermoRun], names: tuple[str, ...], steps: tuple[int, int] | None
          ) -> dict[str, np.ndarray]:
    """Columns ``names`` (and ``lx``, NaN where a run lacks it, and ``dt``, each row's run's
    timestep, NaN where not set) of a chain, keyed by the names as given plus ``step``: the repeated first row of each continuing run dropped, and only the
    rows with ``steps[0] <= step <= steps[1]`` when ``steps`` is given."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ("step", "lx", "dt") + names}
    for k, run in enumerate(chain):
        rows = slice(1 if k else 0, None)
        parts["step"].append(run.steps[rows])
        parts["dt"].append(np.full(run.steps[rows].size,
                                   np.nan if run.timestep is None else run.timestep))
        parts["lx"].append(run.column("lx")[rows] if run.has("lx")
                           else np.full(run.steps[rows].size, np.nan))
        for name in names:
            parts[name].append(run.column(name)[rows])
    table = {name: np.concatenate(values) for name, values in parts.items()}
    if steps is not None:
        keep = (table["step"] >= steps[0]) & (table["step"] <= steps[1])
        table = {name: values[keep] for name, values in table.items()}
    return table


def _covers(chain: list[ThermoRun], steps: tuple[int, int] | None) -> bool:
    """Whether the chain's steps reach from ``steps[0]`` or before to ``steps[1]`` or after."""
    return steps is None or (chain[0].steps[0] <= steps[0] and chain[-1].steps[-1] >= steps[1])


def _tilt_grows(rows: dict[str, np.ndarray]) -> bool:
    """Whether the (unflipped) tilt xy ends above where it starts in ``rows``."""
    xy = unflip_tilt(rows["xy"], rows["lx"])
    return xy.size > 1 and xy[-1] > xy[0]


def _span(runs: list[ThermoRun]) -> str:
    """'steps A-B (line L)' or 'steps A-B (lines L1-L2)' of runs in log order."""
    lines = (f"line {runs[0].header_line}" if len(runs) == 1
             else f"lines {runs[0].header_line}-{runs[-1].header_line}")
    return f"steps {runs[0].steps[0]:.0f}-{runs[-1].steps[-1]:.0f} ({lines})"


def _runs_found(runs: list[ThermoRun], names: tuple[str, ...], most: int = 8) -> str:
    """One clause per run (header line, step range, columns, those of ``names`` it lacks), at
    most ``most`` of them."""
    parts = []
    for run in runs[:most]:
        missing = [name for name in names if not run.has(name)]
        lacks = f", lacks {' '.join(missing)}" if missing else ""
        parts.append(f"line {run.header_line}: steps {run.steps[0]:.0f}-{run.steps[-1]:.0f}, "
                     f"columns {' '.join(run.names)}{lacks}")
    more = f"; and {len(runs) - most} more" if len(runs) > most else ""
    return "; ".join(parts) + more


def select_rows(path: str | os.PathLike, stress_column: str,
                steps: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """The thermo rows of a log with the columns xy, ly and ``stress_column`` over ``steps``
    (first and last timestep of the dumps; None: all rows of the chain picked), as arrays keyed
    ``step``, ``xy``, ``ly``, ``stress_column``, ``lx`` (NaN where a run lacks it) and ``dt``
    (the run's timestep; NaN where the log sets none).

    Every run of the log is read; runs with all the columns are joined where one continues the
    other (:func:`join_runs`, boundary row once), and of the chains covering ``steps`` the last
    one in which the tilt ``xy`` grows over them is used (the shear stage comes last in a
    melt–quench–shear deck; a ``reset_timestep`` before it may leave earlier stages covering
    the same steps), else the last one. Raises InputError naming the log and listing its runs
    (header line, steps, columns, those missing) when no run has the columns or none covers
    ``steps``.
    """
    names = ("xy", "ly", stress_column)
    runs = read_log(path)
    chains = join_runs(runs, names)
    wanted = ", ".join(names)
    if not chains:
        hint = (" (the shear run's thermo_style needs xy and ly)"
                if not any(run.has("xy") and run.has("ly") for run in runs) else "")
        raise InputError(path, f"no run has all the thermo columns {wanted}{hint}; runs found: "
                               f"{_runs_found(runs, names)}")
    covering = [_rows(chain, names, steps) for chain in chains if _covers(chain, steps)]
    if not covering:
        spans = "; ".join(_span(chain) for chain in chains)
        raise InputError(path, f"no run with the thermo columns {wanted} covers the dump "
                               f"timesteps {steps[0]}-{steps[1]}: runs with them (joined where "
                               f"one continues another) span {spans}; runs found: "
                               f"{_runs_found(runs, names)}")
    sheared = [rows for rows in covering if _tilt_grows(rows)]
    return (sheared or covering)[-1]


def _gamma(rows: dict[str, np.ndarray]) -> np.ndarray:
    """Engineering shear strain (xy − xy₀)/ly of ``rows``, box flips undone."""
    xy = unflip_tilt(rows["xy"], rows["lx"])
    return (xy - xy[0]) / rows["ly"]


def stress_strain(
    path: str | os.PathLike,
    *,
    stress_column: str = "pxy",
    units: str = "metal",
    steps: tuple[int, int] | None = None,
    rows: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Global (strain γ, shear stress τ) from a LAMMPS log.

    Rows: ``rows`` if given, else those of :func:`select_rows` over ``steps`` (the timesteps of
    the first and last dump frame). γ = (xy − xy₀)/ly with xy₀ the tilt of the first row used,
    box flips undone when the log has ``lx`` (:func:`unflip_tilt`); rows where the tilt does not
    advance past the previous row are dropped, so γ is strictly increasing.
    τ = −stress_column × :data:`PRESSURE_TO_GPA`[units] (GPa for metal and real units, reduced
    for lj). Raises InputError naming the log for missing columns or steps, too few rows or a
    non-increasing strain.
    """
    if units not in PRESSURE_TO_GPA:
        raise ValueError(f"units must be one of {sorted(PRESSURE_TO_GPA)}, got {units!r}")
    rows = select_rows(path, stress_column, steps) if rows is None else rows
    where = (f"the dump timesteps {steps[0]}-{steps[1]}" if steps is not None
             else "the runs used")
    if rows["step"].size < 2:
        raise InputError(path, f"fewer than 2 thermo rows in {where}")
    gamma = _gamma(rows)
    advancing = gamma > np.maximum.accumulate(np.concatenate([[-math.inf], gamma[:-1]]))
    gamma, p = gamma[advancing], rows[stress_column][advancing]
    if gamma.size < 2:
        raise InputError(path, f"the box tilt xy does not increase in {where}: no shear")
    return gamma, -p * PRESSURE_TO_GPA[units]


def shear_rate(path: str | os.PathLike, *, stress_column: str = "pxy", units: str = "metal",
               steps: tuple[int, int] | None = None,
               rows: dict[str, np.ndarray] | None = None) -> tuple[float, float]:
    """(mean engineering shear rate, timestep) of the rows :func:`stress_strain` uses (``rows``
    if given): Δγ over the rows' time, with the runs' ``timestep`` (LAMMPS's default of
    ``units`` where the log sets none). The rate is per second for metal and real units, per τ
    for lj; the timestep is in the units style's time unit. InputError as
    :func:`stress_strain`."""
    rows = select_rows(path, stress_column, steps) if rows is None else rows
    dt = np.where(np.isnan(rows["dt"]), DEFAULT_TIMESTEP[units], rows["dt"])
    gamma = _gamma(rows)
    elapsed = float(np.sum(np.diff(rows["step"]) * dt[1:])) * TIME_UNIT_S[units]
    if rows["step"].size < 2 or elapsed <= 0:
        raise InputError(path, "fewer than 2 thermo rows over the dump timesteps")
    return float(gamma[-1] - gamma[0]) / elapsed, float(dt[-1])
