"""Units are part of the reference: a reference in reduced LJ units needs ``solver.units: lj``
and LJ constants, a physical one must not meet LJ-unit settings; the MD systems' units and
settings are checked before LAMMPS starts."""

from __future__ import annotations

import copy
import re
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from conftest import ROOT
from grassego.calibration import Calibration
from grassego.config import ConfigError, check_config
from grassego.fields import read_reference, reference_units, write_reference
from grassego.init_config import SCHEMA
from grassego.md import SYSTEMS, ShearSettings, deck_variables, shear_settings
from grassego.objective import ObjectiveConfig

NAMES = ["c0", "s_y", "beta", "E0"]


def _config(name: str) -> dict:
    cfg = yaml.safe_load((ROOT / name).read_text())
    validate(cfg, str(SCHEMA))
    return cfg


@pytest.fixture
def lj_copy(tmp_path) -> Path:
    """The CuZr reference relabelled as LJ data (as grassego ingest --units lj labels it)."""
    ds = read_reference(ROOT / "resources/cuzr/reference.nc")
    ds.attrs["lammps_units"] = "lj"
    path = tmp_path / "lj.nc"
    write_reference(ds, path)
    return path


def test_reference_units_of_the_shipped_and_an_lj_reference(lj_copy):
    assert reference_units(read_reference(ROOT / "resources/cuzr/reference.nc")) == "physical"
    assert reference_units(read_reference(lj_copy)) == "lj"


def test_an_lj_reference_with_physical_units_fails_before_any_run(lj_copy):
    cfg = _config("config/config.yaml")
    cfg["reference"]["legacy"]["path"] = str(lj_copy)
    with pytest.raises(ConfigError) as err:
        check_config(cfg, ROOT)
    assert str(err.value) == (f"solver.units: physical, but {lj_copy} is in reduced Lennard-Jones "
                              "units (lengths in sigma, energies in epsilon); set solver.units: "
                              "lj and give solver.constants in the same units")
    with pytest.raises(ConfigError, match="solver.units: physical, but the reference"):
        Calibration(read_reference(lj_copy), NAMES, ObjectiveConfig())


def test_lj_units_need_the_dimensional_constants(lj_copy):
    cfg = _config("config/config.yaml")
    cfg["reference"]["legacy"]["path"] = str(lj_copy)
    cfg["solver"]["units"] = "lj"
    cfg["solver"]["constants"] = {"mu_GPa": 19.5}
    with pytest.raises(ConfigError, match=re.escape(
            "solver.constants: solver.units is lj, so give chi_len_A, strain_rate_per_s in "
            "reduced LJ units")):
        check_config(cfg, ROOT)


def test_lj_settings_on_physical_data_are_refused():
    """The LJ example's solver section copied onto the CuZr case: the units say it."""
    cfg = _config("config/config.yaml")
    cfg["solver"] = _config("config/examples/lj2d.yaml")["solver"]
    with pytest.raises(ConfigError) as err:
        check_config(cfg, ROOT)
    lines = str(err.value).splitlines()
    assert any(line.startswith("solver.units: lj, but ") and "physical units (Å, eV/atom, GPa)"
               in line for line in lines)
    assert any(line.startswith("solver.constants.lx_A: 58.42 Å, but the reference grid")
               for line in lines)


def test_md_units_and_steps_are_checked_before_lammps_runs():
    cfg = _config("config/examples/lj2d.yaml")
    cfg["reference"]["dumps"]["md"]["system"] = "cuzr3d"
    cfg["reference"]["dumps"]["md"]["erate"] = 0.03  # 0.5 / (0.03 * 0.002) steps: not whole
    with pytest.raises(ConfigError) as err:
        check_config(cfg, ROOT)
    assert str(err.value).splitlines() == [
        "reference.dumps.md: max_strain=0.5 is not a whole number of steps of "
        "erate*dt=6e-05",
        "reference.dumps.units: 'lj', but the MD system 'cuzr3d' (reference.dumps.md.system) "
        "writes LAMMPS 'metal' units"]


def test_md_settings_have_one_home():
    """The schema's md keys are the settings' fields with null defaults (the system's), and
    every system's defaults make a consistent run."""
    md = yaml.safe_load(SCHEMA.read_text())["properties"]["reference"]["properties"]["dumps"][
        "properties"]["md"]["properties"]
    names = [f.name for f in fields(ShearSettings)]
    assert set(md) == {"enabled", "system", "omp_threads", *names}
    assert all(md[n]["default"] is None for n in names)
    assert md["system"]["enum"] == list(SYSTEMS)
    for name in SYSTEMS:
        assert deck_variables(shear_settings(name))["n_shear"] > 0
    assert shear_settings("cuzr3d", erate=None, seed=5) == \
        ShearSettings(**{**vars(SYSTEMS["cuzr3d"].defaults), "seed": 5})
    with pytest.raises(ValueError, match="unknown MD setting"):
        shear_settings("ka2d", rate=0.1)


def test_the_lj_example_still_passes():
    check_config(copy.deepcopy(_config("config/examples/lj2d.yaml")), ROOT)


def test_ingest_settings_have_one_home():
    """The schema's reference.dumps defaults are IngestSettings' and the CLI's."""
    import argparse

    from grassego.commands import ingest as ingest_cli
    from grassego.ingest import IngestSettings

    dumps = yaml.safe_load(SCHEMA.read_text())["properties"]["reference"]["properties"]["dumps"][
        "properties"]
    defaults = IngestSettings()
    for f in fields(IngestSettings):
        expected = getattr(defaults, f.name)
        assert dumps[f.name]["default"] == (list(expected) if f.name == "grid" else expected)
    parser = argparse.ArgumentParser()
    ingest_cli.register(parser.add_subparsers())
    args = parser.parse_args(["ingest", "d.dump", "--out", "o.nc"])
    assert IngestSettings(**{f.name: getattr(args, f.name) for f in fields(IngestSettings)}) \
        == defaults
