"""The NetCDF data contracts: build, validate, read and write field files.

Two kinds of file, both CF-style with units on every variable. Units below are the physical
system's; a case in reduced LJ units has the LJ units of :mod:`grassego.units` (``units: "1"``
and an ``lj_units`` attribute naming ε, σ, ε/σ², ε/k_B, ...):

**Reference fields** (coarse-grained MD, or a forward continuum run used as a target)
    dims ``(frame, y, x)`` and ``strain_ss``
    - ``pe(frame, y, x)``: coarse-grained potential energy per atom [eV/atom]
    - ``exy(frame, y, x)``: local xy shear strain [1]; attribute ``shear_convention`` says
      ``"engineering"`` (γ_xy = 2 E_xy, ≈ γ under homogeneous simple shear) or ``"tensor"``
      (the Green–Lagrange tensor component E_xy, ≈ γ/2)
    - optional ``chi(frame, y, x)`` or ``t_eff(frame, y, x)`` [K]
    - ``strain(frame)``: global shear strain γ of each frame [1] (strictly increasing)
    - ``x(x)``, ``y(y)``: cell-centre coordinates [Å]
    - ``stress_strain(strain_ss)``: global shear stress [GPa] on its own strain coordinate
    - attributes: source, licence/attribution, coarse-graining width and cut-off [Å], grid,
      software versions.

**Runs** (a batch of continuum runs)
    dims ``(run, frame, y, x)`` and ``strain_ss``
    - ``exy(run, frame, y, x)`` with ``shear_convention``; ``t_eff(run, frame, y, x)`` [K]
    - ``tau_mean(run, strain_ss)``: grid-mean shear stress [GPa] at every solver frame
    - ``status(run)``: int8 flag (see :data:`grassego.status.RUN_STATUS`), ``wall_time(run)`` [s]
    - one variable per calibration parameter on ``run`` (``c0``, ``s_y``, ``beta``, ``E0``, ...)
    - optionally the distances ``d_field(run)``, ``d_stress(run)``, ``delta(run)``,
      ``d_snapshot(run, snapshot)``.

A runs file keeps the precision its runs were computed and scored in (:func:`encoding_for`).
Every write goes to a temporary file that is renamed into place (see :mod:`grassego.atomic`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import xarray as xr

from grassego.atomic import atomic_path
from grassego.errors import InputError
from grassego.status import RUN_STATUS
from grassego.units import PHYSICAL, Units, case_units

SHEAR_CONVENTIONS = ("engineering", "tensor")

#: Variables stored as float32 and compressed (but not a runs dataset's: :func:`encoding_for`);
#: coordinates stay float64.
_COMPRESS = {"zlib": True, "complevel": 4, "shuffle": True}
_FLOAT32_VARS = ("pe", "exy", "chi", "t_eff", "stress_strain", "tau_mean", "d2min")


# ----------------------------------------------------------------------------------------------
# conventions
# ----------------------------------------------------------------------------------------------
def engineering_shear(exy: xr.DataArray) -> xr.DataArray:
    """Return ``exy`` as an engineering shear strain (γ_xy = 2 E_xy), whatever it is stored as."""
    convention = exy.attrs.get("shear_convention")
    if convention not in SHEAR_CONVENTIONS:
        raise ValueError(
            f"exy has shear_convention={convention!r}; expected one of {SHEAR_CONVENTIONS}"
        )
    if convention == "engineering":
        return exy
    out = 2.0 * exy
    out.attrs = {**exy.attrs, "shear_convention": "engineering"}
    return out


# ----------------------------------------------------------------------------------------------
# reference fields
# ----------------------------------------------------------------------------------------------
def build_reference(
    *,
    pe: np.ndarray,
    exy: np.ndarray,
    strain: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    strain_ss: np.ndarray,
    stress_strain: np.ndarray,
    shear_convention: str,
    attrs: Mapping[str, object] | None = None,
    extra: Mapping[str, np.ndarray] | None = None,
    units: Units = PHYSICAL,
) -> xr.Dataset:
    """Assemble a reference-fields dataset (see the module docstring) from plain arrays.

    ``pe`` and ``exy`` are ``(frame, y, x)``; ``extra`` may add other ``(frame, y, x)`` fields
    (``chi``, ``t_eff`` [K], ``d2min`` [Å²]). ``units``: the unit system of the values; every
    variable's unit attributes are its (:meth:`grassego.units.Units.cf`), and an LJ dataset
    also says so in its ``lammps_units`` and ``dimension`` attributes. The dataset is validated
    before it is returned.
    """
    if shear_convention not in SHEAR_CONVENTIONS:
        raise ValueError(f"shear_convention must be one of {SHEAR_CONVENTIONS}")
    dims = ("frame", "y", "x")
    data_vars: dict[str, tuple] = {
        "pe": (dims, np.asarray(pe), {"long_name": "coarse-grained potential energy per atom",
                                      **units.cf("energy_per_atom")}),
        "exy": (dims, np.asarray(exy), {"long_name": "local xy shear strain", "units": "1",
                                        "shear_convention": shear_convention}),
        "stress_strain": (("strain_ss",), np.asarray(stress_strain),
                          {"long_name": "global shear stress", **units.cf("stress")}),
    }
    extra_attrs = {
        "chi": {"long_name": "dimensionless effective temperature", "units": "1"},
        "t_eff": {"long_name": "effective temperature", **units.cf("temperature")},
        "d2min": {"long_name": "non-affine squared displacement D2min", **units.cf("area")},
    }
    for name, values in (extra or {}).items():
        data_vars[name] = (dims, np.asarray(values), extra_attrs.get(name, {}))
    n_frames = np.asarray(pe).shape[0]
    coords = {
        "frame": ("frame", np.arange(n_frames, dtype=np.int32)),
        "strain": ("frame", np.asarray(strain, dtype=np.float64),
                   {"long_name": "global shear strain of the frame", "units": "1"}),
        **cell_centres(x, y, units),
        "strain_ss": ("strain_ss", np.asarray(strain_ss, dtype=np.float64),
                      {"long_name": "global shear strain of the stress-strain curve",
                       "units": "1"}),
    }
    system = {"lammps_units": "lj", "dimension": units.dimension} if units.reduced else {}
    ds = xr.Dataset(data_vars, coords=coords, attrs={"Conventions": "CF-1.10",
                                                     "grassego_kind": "reference",
                                                     **system, **dict(attrs or {})})
    validate_reference(ds, "<in memory>")
    return ds


def cell_centres(x: np.ndarray, y: np.ndarray, units: Units) -> dict[str, tuple]:
    """The ``x`` and ``y`` cell-centre coordinates of a reference or runs dataset, in the
    length unit of ``units``."""
    return {axis: (axis, np.asarray(values, dtype=np.float64),
                   {"long_name": f"cell-centre {axis}", **units.cf("length")})
            for axis, values in (("x", x), ("y", y))}


#: Attributes that state a reference's coarse-graining width c (the Gaussian window's): in Å
#: (legacy imports) or in the unit of its ``x``/``y`` coordinates (``grassego ingest``: the
#: dump's length unit, Å or σ).
CG_WIDTH_ATTRS = ("coarse_graining_width_A", "coarse_graining_width")


def coarse_graining_rows(ds: xr.Dataset) -> float | None:
    """The reference's coarse-graining width c in grid rows along y: c over the mean spacing of
    its ``y`` coordinate (both in one length unit); None where it states no width
    (:data:`CG_WIDTH_ATTRS`)."""
    width = next((ds.attrs[k] for k in CG_WIDTH_ATTRS if k in ds.attrs), None)
    if width is None:
        return None
    y = np.asarray(ds["y"].values, dtype=np.float64)
    return float(width) / float(np.mean(np.diff(y)))


def reference_units(ds: xr.Dataset) -> str:
    """The unit system of a reference (:func:`grassego.units.case_units`): ``"lj"`` or
    ``"physical"`` (Å, eV/atom, GPa: metal and real data are converted at ingestion, legacy
    files are so)."""
    return case_units(ds).system


def reference_cell(reference: xr.Dataset) -> dict[str, float]:
    """The periodic cell the reference's grid spans, as solver constants ``lx_A``, ``ly_A``
    [Å]: cells × spacing of the ``x``/``y`` cell-centre coordinates."""
    cell = {}
    for axis in ("x", "y"):
        coord = np.asarray(reference[axis].values, dtype=np.float64)
        cell[f"l{axis}_A"] = coord.size * float(np.mean(np.diff(coord)))
    return cell


def validate_reference(ds: xr.Dataset, source: str | os.PathLike) -> xr.Dataset:
    """Check a reference dataset against the contract; raise :class:`InputError` naming ``source``."""
    for name in ("pe", "exy", "stress_strain"):
        if name not in ds:
            raise InputError(source, f"missing variable {name!r}")
    for name in ("pe", "exy"):
        if ds[name].dims != ("frame", "y", "x"):
            raise InputError(source, f"{name} has dims {ds[name].dims}, expected (frame, y, x)")
    if ds["stress_strain"].dims != ("strain_ss",):
        raise InputError(source, "stress_strain must be on the single dim 'strain_ss'")
    if "strain" not in ds.coords or ds["strain"].dims != ("frame",):
        raise InputError(source, "missing coordinate 'strain' on dim 'frame'")
    if ds.sizes["frame"] < 1 or ds.sizes["x"] < 2 or ds.sizes["y"] < 2:
        raise InputError(source, f"too few frames or grid points: {dict(ds.sizes)}")
    if ds["exy"].attrs.get("shear_convention") not in SHEAR_CONVENTIONS:
        raise InputError(source, "exy lacks a valid 'shear_convention' attribute")
    for name in ("pe", "exy", "stress_strain", "strain", "strain_ss"):
        values = np.asarray(ds[name].values, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            bad = np.argwhere(~np.isfinite(values))[0].tolist()
            raise InputError(source, f"{name} has a non-finite value at index {bad}")
    for name in ("strain", "strain_ss"):
        values = np.asarray(ds[name].values)
        if values.size > 1 and not np.all(np.diff(values) > 0):
            raise InputError(source, f"coordinate {name!r} is not strictly increasing")
    return ds


def read_reference(path: str | os.PathLike) -> xr.Dataset:
    """Open a reference-fields file, load it into memory and validate it."""
    ds = load_netcdf(path)
    return validate_reference(ds, path)


def read_references(paths: str | os.PathLike | Sequence[str | os.PathLike]
                    ) -> xr.Dataset | list[xr.Dataset]:
    """:func:`read_reference` of one file, or of each of several (a joint calibration's)."""
    if isinstance(paths, (str, os.PathLike)):
        return read_reference(paths)
    return [read_reference(p) for p in paths]


# ----------------------------------------------------------------------------------------------
# runs
# ----------------------------------------------------------------------------------------------
def validate_runs(ds: xr.Dataset, source: str | os.PathLike) -> xr.Dataset:
    """Check a runs dataset against the contract (NaNs allowed where a run failed)."""
    for name in ("exy", "tau_mean", "status", "wall_time"):
        if name not in ds:
            raise InputError(source, f"missing variable {name!r}")
    if ds["exy"].dims != ("run", "frame", "y", "x"):
        raise InputError(source, f"exy has dims {ds['exy'].dims}, expected (run, frame, y, x)")
    if ds["tau_mean"].dims != ("run", "strain_ss"):
        raise InputError(source, "tau_mean must have dims (run, strain_ss)")
    if "strain" not in ds.coords:
        raise InputError(source, "missing coordinate 'strain' on dim 'frame'")
    if ds["exy"].attrs.get("shear_convention") not in SHEAR_CONVENTIONS:
        raise InputError(source, "exy lacks a valid 'shear_convention' attribute")
    return ds


def status_attrs() -> dict[str, object]:
    """CF flag attributes for the ``status`` variable."""
    return {
        "long_name": "run status",
        "flag_values": np.array(list(RUN_STATUS.values()), dtype=np.int8),
        "flag_meanings": " ".join(RUN_STATUS),
    }


def read_runs(path: str | os.PathLike) -> xr.Dataset:
    """Open a runs file, load it into memory and validate it."""
    return validate_runs(load_netcdf(path), path)


# ----------------------------------------------------------------------------------------------
# I/O
# ----------------------------------------------------------------------------------------------
def load_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """The NetCDF file at ``path`` loaded into memory (not validated); :class:`InputError`
    naming the file, on one line, if it is missing, a directory, empty or unreadable."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a directory; a NetCDF file is expected here (legacy text "
                               "fields: convert them with grassego ingest-legacy DIR OUT.nc)")
    if not path.is_file():
        raise InputError(path, "no such file")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file (0 bytes): not a NetCDF file")
    try:
        with xr.open_dataset(path) as ds:
            return ds.load()
    except (OSError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise InputError(path, f"not a readable NetCDF file ({reason})") from exc


def encoding_for(ds: xr.Dataset) -> dict[str, dict]:
    """Per-variable NetCDF encoding: float32 + zlib for the big fields, except in a runs
    dataset (``grassego_kind`` ``runs``), which keeps the precision its runs were computed and
    scored in (float32 fields of a float32 solver, float64 grid-mean stresses), so that Δ
    computed from the file is the Δ the runs got, to the last bit."""
    enc: dict[str, dict] = {}
    runs = ds.attrs.get("grassego_kind") == "runs"
    for name, var in ds.data_vars.items():
        if not runs and (name in _FLOAT32_VARS or (var.dtype.kind == "f" and var.ndim >= 3)):
            enc[name] = {"dtype": "float32", **_COMPRESS}
        elif var.dtype.kind in "fiu" and var.ndim >= 1:
            enc[name] = dict(_COMPRESS)
    return enc


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` atomically (NetCDF4, float32 fields, compressed)."""
    path = Path(path)
    with atomic_path(path, suffix=".nc.tmp") as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=encoding_for(ds))
    return path


def write_reference(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Validate and atomically write a reference-fields dataset."""
    validate_reference(ds, path)
    return write_netcdf(ds, path)


def write_runs(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Validate and atomically write a runs dataset."""
    validate_runs(ds, path)
    return write_netcdf(ds, path)
