"""The case's unit system: the one home of every unit label the product writes.

A case is in one of two systems (``solver.units``, which must be the reference's):

- ``physical``: what metal and real LAMMPS data are converted to at ingestion, and what the
  shipped CuZr reference is in: stresses in GPa, energies in eV (per atom for a coarse-grained
  PE), β in 1/eV, lengths in Å, temperatures in K, MD rates per second;
- ``lj``: reduced Lennard-Jones units, kept as LAMMPS writes them: energies in ε, β in 1/ε,
  lengths in σ, temperatures in ε/k_B (T_eff = χ·T_Z with T_Z given in ε/k_B), MD rates per τ,
  and stresses in ε/σ² for 2-D data (LAMMPS's 2-D pressure is energy per area) or ε/σ³ for 3-D
  data (the thickness-averaged stress of a slab, energy per volume).

:class:`Units` maps a quantity (:data:`QUANTITIES`) to its label in three spellings: the NetCDF
attributes (:meth:`Units.cf`; CF's ``units`` is ``"1"`` for a reduced quantity and the attribute
``lj_units`` names it), an ASCII name (:meth:`Units.name`, for JSON, CSV-side tables, YAML
comments and log lines) and a display label (:meth:`Units.label`, for figures and report
texts). :func:`case_units` reads the system of a reference or runs dataset. The solver's own
clock (``tau0_s``, ``strain_rate_per_s``, ``rho_kg_m3``, wall times) is in seconds in either
system: in LJ cases only products such as ``strain_rate_per_s · tau0_s`` carry meaning, so those
keep their SI names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

#: The solver's unit systems (``solver.units``).
UNIT_SYSTEMS = ("physical", "lj")

#: quantity → (physical NetCDF/ASCII name, physical display label, LJ ASCII name, LJ display
#: label); ``{d}`` / ``{d_sup}`` stand for the dimension of the MD (2 or 3).
_TABLE: Mapping[str, tuple[str, str, str, str]] = {
    "stress": ("GPa", "GPa", "epsilon/sigma^{d}", "ε/σ{d_sup}"),
    "energy": ("eV", "eV", "epsilon", "ε"),
    "energy_per_atom": ("eV/atom", "eV/atom", "epsilon per atom", "ε/atom"),
    "inverse_energy": ("1/eV", "1/eV", "1/epsilon", "1/ε"),
    "length": ("angstrom", "Å", "sigma", "σ"),
    "area": ("angstrom2", "Å²", "sigma^2", "σ²"),
    "volume": ("angstrom3", "Å³", "sigma^3", "σ³"),
    "temperature": ("K", "K", "epsilon/k_B", "ε/k_B"),
    "md_rate": ("1/s", "1/s", "1/tau", "1/τ"),
    "dimensionless": ("1", "", "1", ""),
    "time_s": ("s", "s", "s", "s"),
    "rate_s": ("1/s", "1/s", "1/s", "1/s"),
    "density_kg_m3": ("kg/m3", "kg/m³", "kg/m3", "kg/m³"),
}
QUANTITIES = tuple(_TABLE)
_SUPERSCRIPT = {2: "²", 3: "³"}

#: The quantity of every parameter and per-run model constant (the calibrated parameters and
#: the fields of :class:`grassego.stz.ModelConstants` that may vary per run).
PARAMETER_QUANTITIES: Mapping[str, str] = {
    "c0": "dimensionless", "s_y": "stress", "beta": "inverse_energy", "E0": "energy",
    "mu_GPa": "stress", "poisson": "dimensionless", "rho_kg_m3": "density_kg_m3",
    "tau0_s": "time_s", "ep": "dimensionless", "chi_len_A": "length", "T_Z_K": "temperature",
    "adapt_fac": "dimensionless", "strain_rate_per_s": "rate_s",
    "chi_energy_factor": "dimensionless", "delta_K": "temperature", "theta_K": "temperature",
    "omega_A3": "volume", "eps0": "dimensionless", "kappa": "dimensionless",
    "stz_rho": "dimensionless",
}

#: The quantity of each column of the summary (summary.csv, summary.json) that has a unit;
#: band keys (``band_row@0.5`` …) take the quantity of their stem.
SUMMARY_QUANTITIES: Mapping[str, str] = {
    "delta": "dimensionless", "peak_stress": "stress", "peak_strain": "dimensionless",
    "stress_drop_value": "stress", "flow_stress": "stress", "localisation": "dimensionless",
}
#: Band positions and widths are counted in grid rows in either system.
GRID_ROWS = "grid rows"


@dataclass(frozen=True)
class Units:
    """A unit system (``system``: one of :data:`UNIT_SYSTEMS`) and the dimension of its MD
    data (2 or 3; it sets the LJ stress unit)."""

    system: str = "physical"
    dimension: int = 2

    def __post_init__(self) -> None:
        if self.system not in UNIT_SYSTEMS:
            raise ValueError(f"unit system must be one of {UNIT_SYSTEMS}, got {self.system!r}")
        if self.dimension not in _SUPERSCRIPT:
            raise ValueError(f"dimension must be 2 or 3, got {self.dimension!r}")

    @classmethod
    def from_lammps(cls, style: str, dimension: int = 2) -> "Units":
        """The system data of a LAMMPS ``units`` style are stored in: ``lj`` stays reduced,
        ``metal`` and ``real`` are converted to physical units at ingestion."""
        return cls("lj" if style == "lj" else "physical", dimension)

    @property
    def reduced(self) -> bool:
        """True for reduced LJ units."""
        return self.system == "lj"

    def _entry(self, quantity: str) -> tuple[str, str]:
        if quantity not in _TABLE:
            raise KeyError(f"no unit for quantity {quantity!r}; known: {QUANTITIES}")
        row = _TABLE[quantity][2:] if self.reduced else _TABLE[quantity][:2]
        fill = {"d": self.dimension, "d_sup": _SUPERSCRIPT[self.dimension]}
        return row[0].format(**fill), row[1].format(**fill)

    def name(self, quantity: str) -> str:
        """ASCII name of the quantity's unit (``GPa``, ``1/eV``; ``epsilon/sigma^2``, …)."""
        return self._entry(quantity)[0]

    def label(self, quantity: str) -> str:
        """Display label of the quantity's unit (``GPa``, ``Å``; ``ε/σ²``, ``σ``, …); empty for
        a dimensionless quantity."""
        return self._entry(quantity)[1]

    def cf(self, quantity: str) -> dict[str, str]:
        """NetCDF attributes of a variable of this quantity: ``{"units": name}``, or for a
        quantity reduced in LJ units ``{"units": "1", "lj_units": name}`` (CF has no LJ units;
        the value is a bare number)."""
        name = self.name(quantity)
        physical, _, lj, _ = _TABLE[quantity]
        return {"units": "1", "lj_units": name} if self.reduced and lj != physical else {
            "units": name}

    def axis(self, text: str, quantity: str) -> str:
        """A figure axis or colour-bar label: ``text [label]`` (``text`` alone if the quantity
        is dimensionless)."""
        label = self.label(quantity)
        return f"{text} [{label}]" if label else text

    def parameter_quantity(self, name: str) -> str:
        """The quantity of a parameter or per-run model constant (dimensionless if unknown)."""
        return PARAMETER_QUANTITIES.get(name, "dimensionless")

    def parameter_labels(self, names: Sequence[str]) -> dict[str, str]:
        """Parameter → display label of its unit (empty for c0), for texts and figures."""
        return {n: self.label(self.parameter_quantity(n)) for n in names}

    def parameter_names(self, names: Sequence[str]) -> list[str]:
        """Each parameter's unit as an ASCII name (``1``, ``GPa``, ``1/eV``, ``eV``; …), for
        NetCDF coordinates and JSON."""
        return [self.name(self.parameter_quantity(n)) for n in names]

    def parameter_axis(self, name: str) -> str:
        """Axis label of a parameter: ``s_y [GPa]``, ``beta [1/ε]``, ``c0``."""
        return self.axis(name, self.parameter_quantity(name))

    def summary_units(self, columns: Sequence[str]) -> dict[str, str]:
        """Column → ASCII unit name of every column of a summary table with a physical unit:
        the parameters, Δ and the fidelity features (band keys by their stem)."""
        out = {}
        for column in map(str, columns):
            stem = column.split("@")[0]
            if stem in ("band_row", "band_fwhm"):
                out[column] = GRID_ROWS
            elif stem in SUMMARY_QUANTITIES:
                out[column] = self.name(SUMMARY_QUANTITIES[stem])
            elif column in PARAMETER_QUANTITIES:
                out[column] = self.name(PARAMETER_QUANTITIES[column])
        return out

    def summary_block(self, columns: Sequence[str]) -> dict[str, object]:
        """The ``units`` block of a summary: the ``system``, its ``dimension`` and each
        column's unit (:meth:`summary_units`)."""
        return {"system": self.system, "dimension": self.dimension,
                "columns": self.summary_units(columns)}

    def attrs(self) -> dict[str, object]:
        """Global NetCDF attributes naming the system: ``unit_system`` and ``dimension``."""
        return {"unit_system": self.system, "dimension": self.dimension}


#: The physical system (the shipped CuZr case's).
PHYSICAL = Units()


def case_units(ds) -> Units:
    """The unit system of a reference or runs dataset: LJ when it was ingested from LAMMPS
    ``lj`` data (global attribute ``lammps_units`` or ``unit_system``, or the ``lj_units`` of its
    ``x`` coordinate), else physical (metal and real data are converted at ingestion, legacy
    files are physical); its dimension from the ``dimension`` attribute (2 where none)."""
    lj = (ds.attrs.get("lammps_units") == "lj" or ds.attrs.get("unit_system") == "lj"
          or "lj_units" in ds["x"].attrs)
    return Units("lj" if lj else "physical", int(ds.attrs.get("dimension", 2)))
