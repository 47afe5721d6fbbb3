"""LAMMPS dumps (+ log) -> the reference-fields NetCDF file, through OVITO.

Per frame, streamed (memory does not grow with the number of frames):

1. OVITO reads the frame (text dumps, multi-frame or one file per frame, gzipped or not;
   columns ``id``, positions ``x y z`` / ``xu yu zu`` / ``xs ys zs``, the potential-energy
   column ``pe_column`` and, optionally, a per-atom stress column).
2. The cell is made continuous: a LAMMPS box flip (tilt jump by ±lx) is undone, since the flipped
   cell is the same lattice; a dump whose atoms all share one z is marked 2-D.
3. OVITO's ``AtomicStrainModifier`` (Falk–Langer, reference frame 0, neighbour cut-off
   ``strain_cutoff``, by default the first minimum of g(r) of frame 0 (:mod:`grassego.structure`),
   no affine mapping, so the result is the total strain since frame 0) gives
   the Green–Lagrange strain tensor E = ½(FᵀF − I); ``exy`` is its xy component, the **tensor**
   convention (E_xy = γ/2 + O(γ²) under simple shear γ), stored as ``shear_convention="tensor"``;
   optionally the non-affine D²min.
4. :func:`grassego.coarse_grain.coarse_grain` averages pe, E_xy (and D²min) onto the grid.
   A 3-D dump is reduced to the 2-D grid by a thickness average: the Gaussian weight of an
   atom depends on its in-plane (x, y) distance to the grid point only, so every grid point
   averages a column through the whole slab (the shear plane is x-y; the model is 2-D).

With a log, the reference also records the MD's mean shear rate over the dumps
(``md_shear_rate`` per second, per τ for lj units, from the thermo tilt and the log's
``timestep``), which ``grassego init-config`` gives the continuum model.
The reference records the MD cell of frame 0 (``cell_lx``, ``cell_ly``, ``cell_xy``, and
``cell_lz`` for 3-D dumps) and its ``length_unit``; the continuum model takes its cell from the
grid (:func:`grassego.fields.reference_cell`) and its unit system must match
(``solver.units``, :func:`grassego.solver_settings.units_problems`).

The global strain of frame k is γ_k = (xy_k − xy_0)/ly_k from the (unflipped) cell tilt, i.e. the
engineering shear strain of the box relative to frame 0. The stress–strain curve comes from the
LAMMPS log (:func:`grassego.lammps_log.stress_strain`: τ = −pxy with γ = Δxy/ly from the thermo
``xy`` and ``ly`` columns of the run(s) covering the dumps, rows from the first to the last dump
timestep; the log is checked before the frames are read) or, without a log, from a
per-atom stress column (``compute stress/atom``, pressure·volume units): τ_k = Σ s_xy / V at the
frame strains, V the cell volume (area in 2-D). Stresses are in GPa and ``pe`` in eV/atom for
metal and real units (kcal/mol converted); for lj units both stay reduced (ε/atom, lengths in σ,
stresses in ε/σ² from 2-D and ε/σ³ from 3-D data; the attributes say so, :mod:`grassego.units`).

:func:`read_dumps` returns the reference dataset and writes nothing; :func:`ingest_dumps` (the
``grassego ingest`` command) writes it atomically, so only after all frames succeeded. Every
problem with the input raises :class:`~grassego.errors.InputError` naming the file (dump files
themselves: :mod:`grassego.lammps_dump`). A series needs at least
:data:`grassego.lammps_dump.MIN_FRAMES` frames, and every per-atom value used must be finite.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import xarray as xr

from grassego import __version__
from grassego.coarse_grain import PlaneCell, coarse_grain, grid_centres, sparse_grid_message
from grassego.errors import InputError
from grassego.fields import build_reference, write_reference
from grassego.lammps_dump import column_map, scan_series
from grassego.lammps_log import PRESSURE_TO_GPA, select_rows, shear_rate, stress_strain
from grassego.structure import neighbour_cutoff, rdf_first_minimum
from grassego.units import Units

log = logging.getLogger(__name__)

#: Factor from the LAMMPS energy unit of a units style to the unit stored (eV, or reduced ε).
ENERGY_TO_EV: dict[str, float] = {"metal": 1.0, "real": 0.0433641043, "lj": 1.0}


@dataclass(frozen=True)
class IngestSettings:
    """How dumps are coarse-grained (the ``reference.dumps`` keys of the workflow config and the
    options of ``grassego ingest``; these defaults are the only ones, the schema's agree).

    pe_column: per-atom potential-energy column of the dump.
    width, cutoff: Gaussian width c and cut-off r_cut, in the dump's length unit (Å for metal).
    grid: (nx, ny) grid points. strain_cutoff: OVITO atomic-strain neighbour cut-off, dump
        length unit; None: the first minimum of g(r) of frame 0 (:mod:`grassego.structure`).
    stress_column: thermo column of the log (``pxy``, ``f_...``) or, without a log, per-atom
        stress column of the dump (``c_stress[4]``); τ = −stress.
    units: LAMMPS units style of the data (metal, real or lj). d2min: also store D²min.
    """

    pe_column: str = "c_pe"
    width: float = 5.0
    cutoff: float = 15.0
    grid: tuple[int, int] = (32, 32)
    strain_cutoff: float | None = None
    stress_column: str = "pxy"
    units: str = "metal"
    d2min: bool = False

    def __post_init__(self) -> None:
        if self.units not in PRESSURE_TO_GPA:
            raise ValueError(f"units must be one of {sorted(PRESSURE_TO_GPA)}, "
                             f"got {self.units!r}")
        object.__setattr__(self, "grid", tuple(int(n) for n in self.grid))
        if len(self.grid) != 2 or min(self.grid) < 2:
            raise ValueError(f"grid: need two grid sizes (nx, ny) of at least 2, got "
                             f"{list(self.grid)}")
        for name in ("width", "cutoff"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)}")

    @classmethod
    def from_config(cls, dumps: Mapping[str, Any]) -> "IngestSettings":
        """From a validated ``reference.dumps`` section (its other keys are ignored)."""
        return cls(**{f.name: dumps[f.name] for f in fields(cls)})

# ----------------------------------------------------------------------------------------------
# OVITO pipeline
# ----------------------------------------------------------------------------------------------
class _ContinuousCell:
    """OVITO pipeline function: undo box flips (tilt continuity) and flag 2-D dumps.

    Frames must be evaluated in order (frame 0 any time), which :func:`read_dumps` does.
    """

    def __init__(self) -> None:
        self.tilt: dict[int, float] = {}

    def __call__(self, frame: int, data) -> None:
        cell = data.cell_
        z = np.asarray(data.particles.positions[:, 2])
        if z.size and np.ptp(z) == 0.0:
            cell.is2D = True
        xy, lx = float(cell[0, 1]), float(cell[0, 0])
        if frame > 0:
            if frame - 1 not in self.tilt:
                raise RuntimeError("frames must be evaluated in order")
            xy += round((self.tilt[frame - 1] - xy) / lx) * lx
            cell[0, 1] = xy
        self.tilt[frame] = xy


def _pipeline(files: list[Path], mapping: list[str | None]):
    """OVITO pipeline reading the dump frames with a continuous cell (:class:`_ContinuousCell`)."""
    from ovito.io import import_file

    source = [str(f) for f in files] if len(files) > 1 else str(files[0])
    pipeline = import_file(source, columns=mapping)
    pipeline.modifiers.append(_ContinuousCell())
    return pipeline


def _strain_modifier(strain_cutoff: float, d2min: bool, unwrapped: bool):
    """OVITO's atomic strain since frame 0 with neighbour cut-off ``strain_cutoff``."""
    from ovito.modifiers import AtomicStrainModifier

    return AtomicStrainModifier(
        cutoff=strain_cutoff, reference_frame=0, output_strain_tensors=True,
        output_nonaffine_squared_displacements=d2min,
        affine_mapping=AtomicStrainModifier.AffineMapping.Off,
        assume_unwrapped_coordinates=unwrapped, select_invalid_particles=True)


def _compute(pipeline, k: int, path: Path, n0: int):
    """Frame ``k`` through ``pipeline``; InputError naming its file ``path`` if OVITO fails."""
    try:
        return pipeline.compute(k)
    except Exception as exc:  # OVITO raises RuntimeError with its parser/modifier message
        raise InputError(path, f"frame {k}: {_frame_problem(pipeline, k, n0, exc)}") from exc


def _strain_cutoff(data0, path: Path, strain_cutoff: float | None) -> tuple[float, str]:
    """(strain cut-off, how it was chosen), in the dump's length unit: ``strain_cutoff`` when
    given, else the first minimum of g(r) of frame 0 ``data0``
    (:func:`grassego.structure.rdf_first_minimum`); InputError naming ``path`` if g(r) has none."""
    if strain_cutoff is not None:
        return strain_cutoff, "given (--strain-cutoff / strain_cutoff)"
    try:
        rdf = rdf_first_minimum(data0)
    except ValueError as exc:
        raise InputError(path, f"frame 0: no strain cut-off from the structure ({exc}); give "
                               f"one with --strain-cutoff / strain_cutoff") from exc
    log.info("%s: strain cut-off %.4g from the first minimum of g(r) (first peak at %.4g)",
             path, rdf.r_min, rdf.r_peak)
    return rdf.r_min, (f"first minimum of the radial distribution function g(r) of frame 0 "
                       f"after its first peak at {rdf.r_peak:.4g} (g = {rdf.g_peak:.3g}), "
                       f"where g = {rdf.g_min:.3g}")


def _round_up(value: float) -> float:
    """The smallest number above ``value`` with three significant digits."""
    step = 10.0 ** (math.floor(math.log10(value)) - 2)
    return (math.floor(value / step) + 1) * step


def _too_few_neighbours(data0, invalid: int, strain_cutoff: float, given: bool) -> str:
    """The problem of ``invalid`` atoms without enough strain neighbours, with a cut-off that
    works: every atom of frame 0 ``data0`` then has as many neighbours as the dimension (the
    fewest the strain needs); for a ``given`` cut-off also the g(r) minimum, if there is one."""
    dims = 2 if data0.cell.is2D else 3
    need = neighbour_cutoff(data0, dims)
    origin = "" if given else " (the first minimum of g(r) of frame 0)"
    rdf = ""
    if given:
        try:
            rdf = (f"; the first minimum of g(r) of frame 0 is at "
                   f"{rdf_first_minimum(data0).r_min:.4g}")
        except ValueError:  # no minimum: the neighbour count alone says what works
            pass
    return (f"{invalid} atoms have too few neighbours within the strain cut-off "
            f"{strain_cutoff:.4g}{origin}; every atom of frame 0 has {dims} neighbours (the "
            f"fewest the {dims}-D strain needs) within {need:.4g}{rdf}: use a strain cut-off of "
            f"{_round_up(need):.3g} or more (--strain-cutoff / strain_cutoff)")


# ----------------------------------------------------------------------------------------------
# ingestion
# ----------------------------------------------------------------------------------------------
def ingest_dumps(dumps: Sequence[str | os.PathLike], out: str | os.PathLike, *,
                 log_file: str | os.PathLike | None = None, accept_unusual: bool | None = None,
                 **settings) -> xr.Dataset:
    """:func:`read_dumps` with :class:`IngestSettings` ``settings``, written atomically to the
    reference NetCDF file ``out``; returns the dataset. With ``accept_unusual`` True or False
    (``grassego ingest`` passes its flag) the dataset is first checked for plausibility
    (:func:`grassego.plausibility.check_reference`); None skips the check (synthetic data)."""
    from grassego.plausibility import check_reference

    ds = read_dumps(dumps, log_file=log_file, settings=IngestSettings(**settings))
    if accept_unusual is not None:
        check_reference(ds, f"{dumps[0]}{' ...' if len(dumps) > 1 else ''}",
                        accept_unusual=accept_unusual)
    write_reference(ds, out)
    log.info("wrote %s: %d frames of %d x %d, %d stress points", out, ds.sizes["frame"],
             ds.sizes["x"], ds.sizes["y"], ds.sizes["strain_ss"])
    return ds


def read_dumps(dumps: Sequence[str | os.PathLike], *, log_file: str | os.PathLike | None = None,
               settings: IngestSettings = IngestSettings(), min_atoms: int = 10) -> xr.Dataset:
    """Coarse-grain a LAMMPS dump series into a reference dataset (module doc); nothing is
    written.

    dumps: files or glob patterns (one multi-frame file, or one file per frame, ``.gz`` allowed);
        frame 0 is the strain reference. log_file: LAMMPS log for the stress–strain curve, whose
        ``settings.stress_column`` is a thermo column, read from the run(s) covering the dumps'
        timesteps (:func:`grassego.lammps_log.select_rows`); without a log, the stress column
        must be a per-atom stress column of the dump.
    min_atoms: warn when a grid point has fewer atoms within r_cut (grid too fine).
    """
    s = settings
    series = scan_series(dumps)
    files, frame_file = series.files, series.frame_file
    # the log first: its problems show before the frames are processed
    log_curve, rate = (_log_stress(log_file, s.stress_column, s.units, series.steps)
                       if log_file is not None else (None, {}))
    per_atom_stress = s.stress_column if log_file is None else None
    mapping = column_map(series.columns, files[0], s.pe_column, per_atom_stress)
    unwrapped = any(c in series.columns for c in ("xu", "yu", "zu"))
    pipeline = _pipeline(files, mapping)
    n_frames = pipeline.source.num_frames
    if n_frames != len(frame_file):
        bad = frame_file[min(n_frames, len(frame_file) - 1)]
        raise InputError(bad, f"OVITO read {n_frames} of the {len(frame_file)} frames; frame "
                              f"{n_frames} is malformed")
    data0 = _compute(pipeline, 0, files[0], 0)
    strain_cutoff, cutoff_source = _strain_cutoff(data0, files[0], s.strain_cutoff)
    pipeline.modifiers.append(_strain_modifier(strain_cutoff, s.d2min, unwrapped))
    frame = _FrameReader(pipeline, data0, s, strain_cutoff, per_atom_stress)
    names = ["pe", "exy"] + (["d2min"] if s.d2min else [])
    fields_ = np.empty((len(names), n_frames, s.grid[1], s.grid[0]), dtype=np.float32)
    cells, frame_stress = [], np.empty(n_frames)
    for k in range(n_frames):
        fields_[:, k], cell, frame_stress[k] = frame(k, frame_file[k], min_atoms)
        cells.append(cell)
        log.debug("frame %d/%d done", k + 1, n_frames)
    cell0 = cells[0]
    strain = np.array([(c.xy - cell0.xy) / c.ly for c in cells])
    bad = np.flatnonzero(np.diff(strain) <= 0)
    if bad.size:
        k = int(bad[0]) + 1
        raise InputError(frame_file[k], f"the box tilt does not increase: global strain of "
                                        f"frame {k} is {strain[k]:.6g} after {strain[k - 1]:.6g}")
    strain_ss, stress, stress_source = log_curve or _atom_stress(s.stress_column, s.units, strain,
                                                                 frame_stress)
    dims = 2 if data0.cell.is2D else 3
    return _dataset(fields_, names, strain, cell0, s.grid, strain_ss, stress, s.units, attrs={
        "title": "Coarse-grained MD reference fields (LAMMPS dumps via OVITO)",
        "source": "; ".join(str(f) for f in files),
        "source_log": str(log_file) if log_file is not None else "",
        "lammps_units": s.units,
        "pe_column": s.pe_column,
        "stress_source": stress_source,
        "strain_convention": (
            "exy: xy component of the Green-Lagrange strain tensor from OVITO's atomic-strain "
            "modifier relative to frame 0 (tensor convention, ~ gamma/2 in simple shear); "
            "strain: engineering shear gamma = (xy - xy_0)/ly of the box tilt"),
        "coarse_graining_width": s.width,
        "coarse_graining_cutoff": s.cutoff,
        "strain_cutoff": strain_cutoff,
        "strain_cutoff_units": Units.from_lammps(s.units).name("length"),
        "strain_cutoff_source": cutoff_source,
        "grid": f"{s.grid[0]} x {s.grid[1]}",
        "dimension": dims,
        **_cell_attrs(cell0, float(data0.cell[2, 2]) if dims == 3 else None, s.units),
        **rate,
        "software": f"grassego {__version__}; ovito {_ovito_version()}; "
                    f"lammps {_lammps_version(log_file)}",
        "history": f"grassego {__version__} ingest",
    })


class _FrameReader:
    """One frame through the pipeline: checks, per-atom values, coarse-graining.

    Called with frames in order (:class:`_ContinuousCell` needs it); returns the frame's fields
    (k, ny, nx), its :class:`PlaneCell` and, with a per-atom stress column, Σ s_xy / V (NaN
    otherwise)."""

    def __init__(self, pipeline, data0, settings: IngestSettings, strain_cutoff: float,
                 per_atom_stress: str | None) -> None:
        self.pipeline, self.data0, self.s = pipeline, data0, settings
        self.strain_cutoff, self.per_atom_stress = strain_cutoff, per_atom_stress
        self.n0 = data0.particles.count
        self.dims = 2 if data0.cell.is2D else 3
        self.labels = [f"per-atom potential energy (column {settings.pe_column!r})",
                       "atomic strain (OVITO)", "D2min (OVITO)"]

    def __call__(self, k: int, path: Path, min_atoms: int
                 ) -> tuple[np.ndarray, PlaneCell, float]:
        s, data = self.s, _compute(self.pipeline, k, path, self.n0)
        n = data.particles.count
        if n != self.n0:
            raise InputError(path, f"frame {k} has {n} atoms, frame 0 has {self.n0}")
        invalid = int(data.attributes.get("AtomicStrain.invalid_particle_count", 0))
        if invalid:
            raise InputError(path, f"frame {k}: " + _too_few_neighbours(
                self.data0, invalid, self.strain_cutoff, s.strain_cutoff is not None))
        try:
            cell = PlaneCell.from_matrix(np.asarray(data.cell[...]))
        except ValueError as exc:
            raise InputError(path, f"frame {k}: {exc}") from exc
        per_atom = [np.asarray(data.particles["pe"]) * ENERGY_TO_EV[s.units],
                    np.asarray(data.particles["Strain Tensor"])[:, 3]]
        if s.d2min:
            per_atom.append(np.asarray(data.particles["Nonaffine Squared Displacement"]))
        step = int(data.attributes.get("Timestep", k))
        _check_finite(zip(self.labels, per_atom), path, k, step)
        stress = math.nan
        if self.per_atom_stress:
            sxy = np.asarray(data.particles["sxy"])
            _check_finite([(f"per-atom stress (column {self.per_atom_stress!r})", sxy)], path,
                          k, step)
            volume = cell.lx * cell.ly * (1.0 if self.dims == 2 else float(data.cell[2, 2]))
            stress = float(np.sum(sxy)) / volume
        try:
            result = coarse_grain(np.asarray(data.particles.positions),
                                  np.stack(per_atom, axis=1), cell, width=s.width,
                                  cutoff=s.cutoff, grid=s.grid, count=k == 0)
        except ValueError as exc:  # the cut-off does not fit this cell
            raise InputError(path, f"frame {k}: {exc}") from exc
        if k == 0:
            message = sparse_grid_message(result.counts, n, cell, s.grid, min_atoms)
            if message:
                warnings.warn(f"{path}: {message}", stacklevel=3)
                log.warning("%s: %s", path, message)
        if not np.all(np.isfinite(result.values)):
            raise InputError(path, f"frame {k}: grid points with no atom within the cut-off "
                                   f"{s.cutoff}; use a coarser grid or a larger cut-off")
        return result.values, cell, stress


def _cell_attrs(cell: PlaneCell, thickness: float | None, units: str) -> dict:
    """The MD cell of frame 0 as NetCDF attributes: in-plane edges and tilt, the thickness a
    3-D slab's fields are averaged over (module doc), and the length unit."""
    attrs = {"cell_lx": cell.lx, "cell_ly": cell.ly, "cell_xy": cell.xy,
             "length_unit": Units.from_lammps(units).name("length")}
    if thickness is not None:
        attrs["cell_lz"] = thickness
        attrs["thickness_average"] = (
            "3-D dump: each grid point averages the atoms of the whole thickness cell_lz, "
            "weighted by their in-plane (x, y) distance only")
    return attrs


def _check_finite(per_atom: Iterable[tuple[str, np.ndarray]], path: Path, k: int,
                  step: int) -> None:
    """InputError naming the file, frame ``k`` and ``step`` if any per-atom value of the
    ``(what, values)`` pairs is NaN or infinite (it would make every grid point within the
    cut-off of the atom NaN)."""
    for what, values in per_atom:
        bad = int(np.count_nonzero(~np.isfinite(values)))
        if bad:
            raise InputError(path, f"frame {k} (timestep {step}): {bad} of {values.size} atoms "
                                   f"have a non-finite {what}")


def _log_stress(log_file: str | os.PathLike, stress_column: str, units: str,
                steps: tuple[int, int]) -> tuple[tuple[np.ndarray, np.ndarray, str], dict]:
    """((strain_ss, τ, description), rate attributes) from the log's thermo rows over the dump
    timesteps ``steps`` (first, last), read once: τ in GPa (metal, real) or reduced (lj); the
    MD's mean shear rate (:func:`grassego.lammps_log.shear_rate`) per second, or per τ."""
    rows = select_rows(log_file, stress_column, steps)
    strain_ss, stress = stress_strain(log_file, stress_column=stress_column, units=units,
                                      steps=steps, rows=rows)
    rate, dt = shear_rate(log_file, units=units, rows=rows)
    description = (f"{Path(log_file).name}: thermo column {stress_column}, "
                   f"tau = -{stress_column} x {PRESSURE_TO_GPA[units]:g}, "
                   f"strain = Δxy/ly, steps {steps[0]}-{steps[1]}")
    return ((strain_ss, stress, description),
            {"md_shear_rate": rate,
             "md_shear_rate_units": Units.from_lammps(units).name("md_rate"),
             "md_timestep": dt})


def _atom_stress(stress_column: str, units: str, strain: np.ndarray, frame_stress: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, str]:
    """(strain, τ, description) from the per-atom stress sums Σ s_xy / V of each frame."""
    factor = PRESSURE_TO_GPA[units]
    return strain, frame_stress * factor, (f"per-atom column {stress_column}: tau = sum(s_xy)/V"
                                           f" x {factor:g} at the dump frames")


def _frame_problem(pipeline, k: int, n0: int, exc: Exception) -> str:
    """A readable reason why OVITO failed on frame ``k`` (atom count first)."""
    try:
        n = pipeline.source.compute(k).particles.count
    except Exception:  # the frame itself does not parse: OVITO's message says why
        return f"cannot be read ({exc})"
    if k > 0 and n != n0:
        return f"has {n} atoms, frame 0 has {n0}"
    return str(exc)


def _dataset(fields: np.ndarray, names: list[str], strain: np.ndarray, cell: PlaneCell,
             grid: tuple[int, int], strain_ss: np.ndarray, stress: np.ndarray, units: str,
             attrs: dict) -> xr.Dataset:
    x, y = grid_centres(cell, grid)
    values = dict(zip(names, fields))
    ds = build_reference(pe=values["pe"], exy=values["exy"], strain=strain, x=x, y=y,
                         strain_ss=strain_ss, stress_strain=stress.astype(np.float32),
                         shear_convention="tensor", attrs=attrs,
                         extra={n: v for n, v in values.items() if n not in ("pe", "exy")},
                         units=Units.from_lammps(units, attrs["dimension"]))
    ds["exy"].attrs["long_name"] = "local xy Green-Lagrange strain since frame 0 (OVITO)"
    ds["stress_strain"].attrs["long_name"] = "global shear stress -pxy"
    return ds


def _ovito_version() -> str:
    import ovito

    return ovito.version_string


def _lammps_version(log_file: str | os.PathLike | None) -> str:
    """The LAMMPS version line of the log (``LAMMPS (22 Jul 2025 - Update 4)``), if any."""
    if log_file is not None:
        with open(log_file, errors="replace") as fh:
            for line in fh:
                if line.startswith("LAMMPS ("):
                    return line.strip()[len("LAMMPS "):]
    return "unknown"
