"""The workflow config's ``solver`` section (:class:`SolverSettings`) and its rules against a
reference: the solver's cell is the reference grid's (:func:`cell_problems`), its unit system
the reference's (:func:`units_problems`). :class:`grassego.calibration.Calibration` applies
them to every run; :func:`grassego.config.check_config` checks them before any job."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import xarray as xr

from grassego.errors import ConfigError
from grassego.fields import reference_cell, reference_units
from grassego.settings import settings_from
from grassego.units import case_units

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class SolverSettings:
    """The workflow config's ``solver`` section (its defaults are the only ones): ``device``
    (``auto`` = ``cuda`` when torch sees a GPU, else ``cpu``), ``dtype`` of the solver state,
    ``backend`` (:data:`grassego.stz.solver.BACKENDS`), ``units`` the unit system of the
    reference and the constants (:data:`grassego.units.UNIT_SYSTEMS`; must be the
    reference's), ``dynamics`` the STZ plastic law (:data:`grassego.stz.constants.DYNAMICS`:
    the paper's ``athermal`` or the original solver's thermally activated ``linear``),
    ``constants``: overrides of :class:`grassego.stz.ModelConstants` fields for every run."""

    device: str = "auto"
    dtype: str = "float32"
    backend: str = "auto"
    units: str = "physical"
    dynamics: str = "athermal"
    constants: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from grassego.stz.constants import DYNAMICS
        from grassego.stz.solver import BACKENDS
        from grassego.units import UNIT_SYSTEMS

        for name, allowed in (("device", DEVICES), ("dtype", DTYPES), ("backend", BACKENDS),
                              ("units", UNIT_SYSTEMS), ("dynamics", DYNAMICS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"solver.{name} must be one of {allowed}, got "
                                 f"{getattr(self, name)!r}")

    @classmethod
    def from_config(cls, solver: Mapping[str, Any]) -> "SolverSettings":
        """From the workflow config's ``solver`` section (unknown keys are an error)."""
        return settings_from(cls, solver, "solver")


def resolve_device(name: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible (to torch or numba-cuda), else ``cpu``; raises
    :class:`grassego.errors.ConfigError` for ``cuda`` without a visible GPU."""
    from grassego.stz.solver import gpu_visible

    if name == "auto":
        return "cuda" if gpu_visible() else "cpu"
    if name == "cuda" and not gpu_visible():
        raise ConfigError("solver.device: cuda, but neither torch nor numba-cuda sees a CUDA GPU")
    return name


#: Relative mismatch tolerated between the reference grid's extent and the solver's cell.
CELL_RTOL = 0.01


def cell_problems(reference: xr.Dataset, constants: Mapping[str, Any], source: str) -> list[str]:
    """Explicit cell constants (``lx_A``, ``ly_A`` [Å] in ``constants``) that contradict the
    cell of the reference's grid (:func:`grassego.fields.reference_cell`) by more than :data:`CELL_RTOL`.
    Without them the solver takes the reference's cell."""
    cell, length = reference_cell(reference), case_units(reference).label("length")
    out = []
    for key, extent in cell.items():
        if key not in constants:
            continue
        given, n = float(constants[key]), reference[key[1]].size
        if abs(extent - given) > CELL_RTOL * given:
            out.append(f"solver.constants.{key}: {given:g} {length}, but the reference grid ({n} "
                       f"cells of {extent / n:g} {length} along {key[1]} in {source}) spans "
                       f"{extent:g} {length}; "
                       "leave it out to take the reference's cell")
    return out


#: Dimensional model constants whose defaults are CuZr's physical values: an LJ-unit
#: calibration must give each of them in reduced units.
LJ_REQUIRED_CONSTANTS = ("mu_GPa", "chi_len_A", "strain_rate_per_s")


#: How :func:`units_problems` names the setting of the unit system (``units``), the advice to
#: change it (``set_units``, formatted with the reference's system) and the constants
#: (``constants``): the workflow config's keys. A command names its options instead.
CONFIG_NAMES = {"units": "solver.units", "set_units": "set solver.units: {}",
                "constants": "solver.constants"}


def units_problems(reference: xr.Dataset, units: str, constants: Mapping[str, Any], source: str,
                   names: Mapping[str, str] = CONFIG_NAMES) -> list[str]:
    """``solver.units`` against the reference's unit system
    (:func:`grassego.fields.reference_units`), and, for LJ units, the dimensional constants
    that have no meaningful default (:data:`LJ_REQUIRED_CONSTANTS`); the settings named as
    ``names`` says (:data:`CONFIG_NAMES`)."""
    found = reference_units(reference)
    if found != units:
        what = {"lj": "reduced Lennard-Jones units (lengths in sigma, energies in epsilon)",
                "physical": "physical units (Å, eV/atom, GPa)"}
        return [f"{names['units']}: {units}, but {source} is in {what[found]}; "
                f"{names['set_units'].format(found)} and give {names['constants']} in the same "
                "units"]
    missing = [k for k in LJ_REQUIRED_CONSTANTS if k not in constants] if units == "lj" else []
    if missing:
        return [f"{names['constants']}: {names['units']} is lj, so give {', '.join(missing)} in "
                "reduced LJ units (their defaults are CuZr's values in GPa, Å and 1/s)"]
    return []
