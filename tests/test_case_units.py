"""Every unit label the product writes is the case's (grassego.units): physical (GPa, eV, 1/eV,
Å, K) for the CuZr case as before, reduced LJ (ε/σ², ε, 1/ε, σ, ε/k_B) for an LJ case, end to
end through the workflow (tests/case_labels.py lists what is checked)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from case_labels import check_case_labels, physical_labels
from conftest import ROOT
from grassego.fields import build_reference, read_reference, write_reference
from grassego.stz.constants import ModelConstants
from grassego.units import PHYSICAL, QUANTITIES, Units, case_units

LJ2D, LJ3D = Units("lj", 2), Units("lj", 3)


def test_physical_labels_read_as_before():
    """The metal labels are the fixed table the product wrote before the units module."""
    assert [PHYSICAL.name(q) for q in ("stress", "energy", "energy_per_atom", "inverse_energy",
                                       "length", "area", "temperature", "md_rate")] == [
        "GPa", "eV", "eV/atom", "1/eV", "angstrom", "angstrom2", "K", "1/s"]
    assert PHYSICAL.parameter_names(["c0", "s_y", "beta", "E0", "mu_GPa", "chi_len_A", "T_Z_K"]) \
        == ["1", "GPa", "1/eV", "eV", "GPa", "angstrom", "K"]
    assert PHYSICAL.axis("shear stress τ", "stress") == "shear stress τ [GPa]"
    assert PHYSICAL.axis("T_eff", "temperature") == "T_eff [K]"
    assert PHYSICAL.cf("stress") == {"units": "GPa"}


def test_lj_labels_follow_the_dimension():
    assert LJ2D.label("stress") == "ε/σ²" and LJ3D.label("stress") == "ε/σ³"
    assert LJ2D.cf("stress") == {"units": "1", "lj_units": "epsilon/sigma^2"}
    assert LJ3D.name("stress") == "epsilon/sigma^3"
    assert LJ2D.parameter_labels(["c0", "s_y", "beta", "E0"]) == {
        "c0": "", "s_y": "ε/σ²", "beta": "1/ε", "E0": "ε"}
    assert LJ2D.axis("x", "length") == "x [σ]"
    assert LJ2D.axis("T_eff", "temperature") == "T_eff [ε/k_B]"
    assert LJ2D.cf("dimensionless") == {"units": "1"} and LJ2D.cf("time_s") == {"units": "s"}
    assert LJ2D.summary_units(["set", "s_y", "delta", "flow_stress", "band_fwhm@0.5"]) == {
        "s_y": "epsilon/sigma^2", "delta": "1", "flow_stress": "epsilon/sigma^2",
        "band_fwhm@0.5": "grid rows"}
    # no LJ label names a physical unit (the solver's own clock aside: seconds in both)
    for units in (LJ2D, LJ3D):
        words = [f(q) for q in QUANTITIES for f in (units.name, units.label)]
        assert not physical_labels({"table": words})
    with pytest.raises(ValueError, match="dimension must be 2 or 3"):
        Units("lj", 1)


def test_every_per_run_constant_has_a_unit():
    """A constant the solver takes per run (and a config may calibrate) has a quantity, so its
    label follows the case's units instead of falling back to dimensionless."""
    from grassego.stz.constants import PER_RUN_FIELDS
    from grassego.units import PARAMETER_QUANTITIES

    assert set(PER_RUN_FIELDS) <= set(PARAMETER_QUANTITIES)
    lj = Units("lj", 3)
    assert lj.parameter_labels(["theta_K", "omega_A3"]) == {"theta_K": "ε/k_B", "omega_A3": "σ³"}


def test_case_units_of_references():
    assert case_units(read_reference(ROOT / "resources/cuzr/reference.nc")) == PHYSICAL
    ds = _lj_reference(read_reference(ROOT / "resources/cuzr/reference.nc"))
    assert case_units(ds) == LJ2D
    assert ds["stress_strain"].attrs == {"long_name": "global shear stress", "units": "1",
                                         "lj_units": "epsilon/sigma^2"}
    ds.attrs["dimension"] = 3
    assert case_units(ds) == LJ3D


def _lj_reference(cuzr, cells: int | None = None):
    """The CuZr reference's values (on its first ``cells`` × ``cells`` grid cells, default all)
    as a 2-D LJ reference, labelled as `grassego ingest --units lj` labels one
    (grassego.fields.build_reference with the LJ units)."""
    part = cuzr.isel(x=slice(cells), y=slice(cells))
    return build_reference(
        pe=part["pe"].values, exy=part["exy"].values, strain=part["strain"].values,
        x=part["x"].values, y=part["y"].values, strain_ss=part["strain_ss"].values,
        stress_strain=part["stress_strain"].values,
        shear_convention=part["exy"].attrs["shear_convention"], units=LJ2D,
        attrs={"title": "CuZr values relabelled as a 2-D LJ reference (test case)"})


@pytest.mark.slow
def test_lj_case_end_to_end_writes_only_lj_units(tmp_path: Path):
    """The .test case on an LJ-labelled 16 × 16 crop of its reference (`solver.units: lj`, the
    dimensional constants at the CuZr defaults' values; a quarter of the grid, so the runs are
    four times faster than the .test case's): no output of the results directory names GPa,
    eV, Å or K, and each output names the LJ unit where the metal case names its own
    (tests/test_workflow.py checks that one)."""
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    reference = tmp_path / "lj_reference.nc"
    write_reference(_lj_reference(read_reference(ROOT / "resources/cuzr/reference.nc"), 16),
                    reference)
    c = ModelConstants()
    cfg["reference"]["legacy"]["path"] = str(reference)
    cfg["solver"] = {"units": "lj", "constants": {"mu_GPa": c.mu_GPa, "chi_len_A": c.chi_len_A,
                                                  "strain_rate_per_s": c.strain_rate_per_s}}
    (tmp_path / "lj.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path),
           "--cores", "2", "--configfile", str(tmp_path / "lj.yaml")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-6000:]
    results = tmp_path / "results"
    check_case_labels(results, LJ2D)
    summary = json.loads((results / "summary" / "summary.json").read_text())
    assert summary["units"]["columns"]["s_y"] == "epsilon/sigma^2"
    shutil.rmtree(tmp_path / ".snakemake", ignore_errors=True)
