"""Config validation: the JSON schema (types, defaults) and the cross-field checks."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from conftest import ROOT
from grassego import init_config
from grassego.config import ConfigError, check_config

SCHEMA = str(init_config.SCHEMA)


def _load(name: str = "config/config.yaml") -> dict:
    cfg = yaml.safe_load((ROOT / name).read_text())
    validate(cfg, SCHEMA)
    return cfg


@pytest.mark.parametrize("name", ["config/config.yaml", "config/examples/paper_validation.yaml",
                                  "config/examples/paper_cuzr.yaml", "config/examples/lj2d.yaml",
                                  "config/examples/cuzr3d.yaml"])
def test_shipped_configs_are_valid(name):
    cfg = _load(name)
    check_config(cfg, ROOT)


def test_schema_fills_defaults():
    cfg = {"parameters": {"c0": [0.05, 1.0], "s_y": [0.8, 1.15], "beta": [2, 15],
                          "E0": [-3.39, -3.355]}}
    validate(cfg, SCHEMA)
    assert cfg["ego"]["max_iter"] == 80 and cfg["design"]["method"] == "lhs"
    assert cfg["objective"]["weights"] == [0.25, 0.75]
    assert cfg["reference"]["source"] == "legacy"
    check_config(cfg, ROOT)


def test_schema_rejects_wrong_type():
    cfg = _load()
    cfg["design"]["n_samples"] = "many"
    with pytest.raises(Exception, match="n_samples|many"):
        validate(cfg, SCHEMA)


def _drop_c0_and_fix(value):
    def mutate(c):
        c["parameters"].pop("c0")
        c["report"]["compare"]["paper_optimum"].pop("c0")
        c.setdefault("fixed", {})["c0"] = value
    return mutate


@pytest.mark.parametrize("mutate,needle", [
    (lambda c: c["parameters"].__setitem__("c0", [1.0, 0.05]), "parameters.c0: bounds"),
    (lambda c: c["parameters"].__setitem__("gamma_dot", [1, 2]), "parameters.gamma_dot: unknown"),
    (lambda c: c["parameters"].__setitem__("lx_A", [300, 500]), "parameters.lx_A: shared"),
    (lambda c: c["parameters"].pop("beta"), "parameters.beta: required"),
    (lambda c: c["parameters"].__setitem__("s_y", [-0.5, 1.0]), "parameters.s_y: the lower bound"),
    (_drop_c0_and_fix(-0.1), "fixed.c0: must be > 0"),
    (lambda c: c.setdefault("fixed", {}).__setitem__("c0", 0.2), "fixed.c0: a parameter cannot"),
    (lambda c: c["objective"].__setitem__("snapshot_strains", [0.1, 0.9]),
     "objective.snapshot_strains: 0.9 lies beyond the model's final strain"),
    (lambda c: (c["objective"].__setitem__("snapshot_strains", [0.1, 0.9]),
                c["solver"]["constants"].__setitem__("max_strain", 1.0)),
     "objective.snapshot_strains: 0.9 lies outside the reference data"),
    (lambda c: c["objective"].__setitem__("rank", [5, 5]), "objective.rank: [5, 5] is not"),
    (lambda c: c["objective"].__setitem__("rank", "rtol:e"), "objective.rank: 'rtol:e' is not"),
    (lambda c: c["objective"].__setitem__("rank", "energy:5"), "objective.rank: 'energy:5'"),
    (lambda c: c["objective"].__setitem__("rank", [5] * 8 + ["energy:2"]),
     "objective.rank: [5, 5, 5, 5, 5, 5, 5, 5, 'energy:2'] is not"),
    (lambda c: c["objective"].__setitem__("weights", [0, 0]), "objective.weights: need"),
    (lambda c: c["solver"]["constants"].__setitem__("gamma", 2), "solver.constants.gamma: unknown"),
    (lambda c: c["solver"]["constants"].__setitem__("n_frames", 0), "solver.constants.n_frames"),
    (lambda c: c["solver"]["constants"].__setitem__("theta_K", -5.0),
     "solver.constants.theta_K: must be finite and > 0"),
    (lambda c: c["solver"]["constants"].__setitem__("kappa", -1.0),
     "solver.constants.kappa: must be finite and >= 0"),
    (lambda c: c["solver"]["constants"].__setitem__("max_strain", 0.3),
     "objective.snapshot_strains: 0.35 lies beyond"),
    (lambda c: c["solver"]["constants"].__setitem__("lx_A", 200), "solver.constants.lx_A: 200 Å, "
     "but the reference grid (32 cells of 12.5 Å along x"),
    (lambda c: c["report"]["compare"]["paper_optimum"].pop("beta"),
     "report.compare.paper_optimum: no value for the calibrated parameter(s) ['beta']"),
    (lambda c: c["report"].__setitem__("field_strains", [0.1, 0.7]),
     "report.field_strains: 0.7 lies beyond"),
    (lambda c: c["parameters"].__setitem__("E0", [-3.30, -3.25]), "parameters.E0: no parameter "
     "set in the box can start"),
    (lambda c: c["solver"].update(backend="cuda", device="cpu"),
     "solver.backend: cuda runs on a GPU; set solver.device to cuda or auto"),
    (lambda c: c["solver"].update(backend="fused", device="cuda"),
     "solver.backend: fused runs on the CPU"),
    (lambda c: c["uncertainty"].__setitem__("sobol_samples", 1000),
     "uncertainty.sobol_samples: must be a power of two"),
])
def test_cross_field_errors_name_the_key(mutate, needle):
    cfg = copy.deepcopy(_load())
    mutate(cfg)
    validate(cfg, SCHEMA)
    with pytest.raises(ConfigError, match=re.escape(needle)):
        check_config(cfg, ROOT)


def test_every_problem_is_one_line():
    cfg = copy.deepcopy(_load())
    cfg["objective"]["weights"] = [0, 0]
    cfg["parameters"]["s_y"] = [0.0, 1.0]
    cfg["report"]["compare"]["paper_optimum"]["E0"] = None
    cfg["report"]["compare"]["paper_optimum"].pop("E0")
    with pytest.raises(ConfigError) as err:
        check_config(cfg, ROOT)
    lines = str(err.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "parameters.s_y", "objective.weights", "report.compare.paper_optimum"]


def test_forward_target_keys_are_checked():
    cfg = copy.deepcopy(_load("config/examples/paper_validation.yaml"))
    cfg["reference"]["forward"]["target"]["c_0"] = 0.3
    with pytest.raises(ConfigError, match=re.escape("reference.forward.target.c_0: not a "
                                                    "calibrated parameter")):
        check_config(cfg, ROOT)


def test_a_forward_target_that_cannot_start_says_why():
    cfg = copy.deepcopy(_load("config/examples/paper_validation.yaml"))
    cfg["reference"]["forward"]["target"]["E0"] = -3.30  # above the CuZr PE (-3.36 at least)
    cfg["parameters"]["E0"] = [-3.39, -3.29]  # a target inside the box
    with pytest.raises(ConfigError, match=r"reference\.forward\.target: the target run cannot "
                                          r"start on .*: chi = beta \(E - E0\) <= 0 where the "
                                          r"initial PE is lowest \(-3\.36"):
        check_config(cfg, ROOT)


def test_a_damaged_reference_is_named(tmp_path):
    cfg = copy.deepcopy(_load())
    ref = ROOT / cfg["reference"]["legacy"]["path"]
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(ref.read_bytes()[: ref.stat().st_size // 2])
    cfg["reference"]["legacy"]["path"] = str(truncated)
    with pytest.raises(ConfigError, match=re.escape(f"reference.legacy.path: {truncated}")):
        check_config(cfg, ROOT)


def test_the_cell_comes_from_the_reference_and_an_override_must_agree(tmp_path):
    from grassego.calibration import Calibration, SolverSettings
    from grassego.fields import read_reference, write_reference
    from grassego.objective import ObjectiveConfig

    cfg = copy.deepcopy(_load())
    # a 16 x 16 crop of the 400 A CuZr fields spans 200 A x 200 A
    crop = read_reference(ROOT / cfg["reference"]["legacy"]["path"]).isel(x=slice(0, 16),
                                                                          y=slice(0, 16))
    write_reference(crop, tmp_path / "crop.nc")
    cfg["reference"]["legacy"]["path"] = str(tmp_path / "crop.nc")
    check_config(cfg, ROOT)  # no cell given: the solver takes the reference's
    calib = Calibration(crop, ["c0", "s_y", "beta", "E0"], ObjectiveConfig())
    assert (calib.model_constants.lx_A, calib.model_constants.ly_A) == (200.0, 200.0)
    cfg["solver"]["constants"]["lx_A"] = 400.0
    with pytest.raises(ConfigError, match=r"solver\.constants\.lx_A: 400 Å, but the reference "
                                          r"grid \(16 cells of 12\.5 Å along x in .*crop\.nc\) "
                                          r"spans 200 Å"):
        check_config(cfg, ROOT)
    with pytest.raises(ConfigError, match="lx_A: 400 Å, but"):
        Calibration(crop, ["c0", "s_y", "beta", "E0"], ObjectiveConfig(),
                    solver=SolverSettings(constants={"lx_A": 400}))


def test_fixed_parameter_may_replace_a_calibrated_one():
    cfg = _load()
    cfg["parameters"].pop("E0")
    cfg["fixed"] = {"E0": -3.369}
    check_config(cfg, ROOT)


def test_schema_defaults_of_the_uncertainty_step_are_the_package_defaults():
    """One home per default: the schema's ``uncertainty`` block against UncertaintySettings."""
    from dataclasses import fields

    from grassego.uncertainty.settings import UncertaintySettings

    schema = yaml.safe_load(Path(SCHEMA).read_text())["properties"]["uncertainty"]["properties"]
    settings = UncertaintySettings()
    assert set(schema) == {f.name for f in fields(UncertaintySettings)} | {"enabled"}
    for f in fields(UncertaintySettings):
        assert schema[f.name]["default"] == getattr(settings, f.name), f.name


@pytest.mark.parametrize("results,needle", [
    ("", "results: '' would put the outputs at the filesystem root"),
    ("/", "results: '/' would put the outputs at the filesystem root"),
    ("results/{seed}", r"results: 'results/\{seed\}' contains a brace"),
    ("FILE", r"results: .*notes\.txt is a file, not a directory"),
    ("FILE/results", r"results: .*results lies under .*notes\.txt, a file"),
    ("LOCKED/results", r"results: cannot create .*results \(.*locked is not writable\)"),
    ("LOCKED", r"results: cannot write to .*locked$"),
])
def test_results_path_is_checked_before_anything_runs(tmp_path, monkeypatch, results, needle):
    (tmp_path / "notes.txt").write_text("a file, not a directory")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    if os.access(locked, os.W_OK):  # root may write anywhere: answer as for an ordinary user
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != locked and
                            real_access(p, mode))
    cfg = _load()
    cfg["results"] = results.replace("FILE", str(tmp_path / "notes.txt")).replace("LOCKED",
                                                                                 str(locked))
    with pytest.raises(ConfigError, match=needle):
        check_config(cfg, ROOT)
    cfg["results"] = str(tmp_path / "new" / "results")
    check_config(cfg, ROOT)


def test_the_stz_law_is_a_setting_and_its_constants_can_be_calibrated():
    """solver.dynamics: a wrong name is one error naming the key; under the linear law a thermal
    constant may be calibrated (bounds under parameters) or fixed, and bad bounds are named."""
    from grassego.config import validate_schema

    cfg = copy.deepcopy(_load())
    cfg["solver"]["dynamics"] = "thermal"
    with pytest.raises(ConfigError, match=r"^solver\.dynamics: 'thermal' is not one of"):
        validate_schema(cfg, SCHEMA)
    cfg["solver"]["dynamics"] = "linear"
    cfg["parameters"]["theta_K"] = [50.0, 400.0]
    cfg["report"]["compare"]["paper_optimum"]["theta_K"] = 100.0
    cfg.setdefault("fixed", {})["delta_K"] = 1500.0
    check_config(cfg, ROOT)
    cfg["parameters"]["theta_K"] = [0.0, 400.0]
    with pytest.raises(ConfigError, match=re.escape("parameters.theta_K: the lower bound 0.0")):
        check_config(cfg, ROOT)
