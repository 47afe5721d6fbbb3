"""One home per setting: every default of a config section is its settings class's; the schema
states the same value, and neither the settings' users nor the command line repeat it."""

from __future__ import annotations

import inspect
from dataclasses import fields, replace
from typing import Any, Mapping

import pytest
import yaml

from grassego import ego
from grassego.calibration import Calibration, SolverSettings
from grassego.cli import build_parser
from grassego.commands.distance import objective_settings
from grassego.commands.simulate import workflow_settings
from grassego.config import validate_schema
from grassego.design import DesignSettings, initial_designs, replicate_design
from grassego.ego import EGOLoop, EGOSettings
from grassego.fields import read_reference
from grassego.init_config import SCHEMA
from grassego.objective import ObjectiveConfig
from grassego.report import ReportSettings
from grassego.settings import reject_unknown_keys
from grassego.surrogate import GPConfig

#: Config section → the classes whose fields are its keys (ego: the loop, the optimiser, and
#: the surrogate's ``kernel`` and ``y_transform``).
SECTIONS = {"design": (DesignSettings,), "objective": (ObjectiveConfig,),
            "solver": (SolverSettings,), "ego": (EGOLoop, EGOSettings, GPConfig),
            "report": (ReportSettings,)}
#: EGOSettings fields the config does not expose (the surrogate, tuning of the acquisition's
#: optimisation, the progress log).
INTERNAL = {"gp", "design", "mc_samples", "raw_samples", "num_restarts", "improvement_tol",
            "log_every"}


def _plain(value: Any) -> Any:
    """A default as YAML writes it: tuples as lists, mappings as dicts."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _schema_section(section: str) -> dict[str, Any]:
    return yaml.safe_load(SCHEMA.read_text())["properties"][section]["properties"]


def _class_defaults(section: str) -> dict[str, Any]:
    """Config key → default, from the section's classes; a key in two classes is an error."""
    out: dict[str, Any] = {}
    for cls in SECTIONS[section]:
        instance = cls()
        for f in fields(cls):
            if cls is EGOSettings and f.name in INTERNAL:
                continue
            assert f.name not in out, f"ego.{f.name} has two homes"
            out[f.name] = _plain(getattr(instance, f.name))
    return out


@pytest.mark.parametrize("section", SECTIONS)
def test_every_key_has_one_class_and_the_schema_states_its_default(section):
    schema = _schema_section(section)
    defaults = _class_defaults(section)
    assert set(defaults) == set(schema), f"{section}: class keys and schema keys differ"
    for key, spec in schema.items():
        assert "default" in spec, f"{section}.{key}: the schema states no default"
        assert spec["default"] == defaults[key], f"{section}.{key}"


def test_the_schema_filled_config_builds_the_default_settings():
    config: dict = {}
    validate_schema(config, SCHEMA)
    assert DesignSettings.from_config(config["design"]) == DesignSettings()
    assert ObjectiveConfig.from_config(config["objective"]) == ObjectiveConfig()
    assert SolverSettings.from_config(config["solver"]) == SolverSettings()
    assert EGOLoop.from_config(config["ego"]) == EGOLoop()
    assert EGOSettings.from_config(config["ego"]) == EGOSettings()
    assert ReportSettings.from_config(config["report"]) == ReportSettings()


#: An option of ``grassego distance`` per objective key, with a value other than the default.
DISTANCE_OPTIONS = {"snapshot_strains": ["--snapshots", "0.1", "0.2"],
                    "weights": ["--weights", "1", "1"], "metric": ["--metric", "chordal"],
                    "rank": ["--rank", "5"], "space": ["--space", "row"],
                    "unequal": ["--unequal", "min"], "variant": ["--variant", "paper"],
                    "overshoot_window": ["--overshoot-window", "0.1", "0.2"],
                    "band_shift_widths": ["--band-shift-widths", "2"]}
#: An option of ``grassego simulate`` per solver key, with a value other than the default (the
#: units: tests/test_simulate_cli.py, on an LJ reference).
SIMULATE_OPTIONS = {"device": ["--device", "cpu"], "dtype": ["--dtype", "float64"],
                    "backend": ["--backend", "torch"], "dynamics": ["--dynamics", "linear"],
                    "constants": ["--constant", "max_strain=0.1"]}


def test_the_command_line_takes_its_defaults_from_the_settings(cuzr_reference_path):
    """Without options or ``--config`` the commands build the settings classes' defaults; no
    option states a default of its own (None: not given), and every key has an option that
    sets it alone."""
    parser = build_parser()
    ref = read_reference(cuzr_reference_path)
    simulate = ["simulate", "--reference", "r.nc", "--params", "p.csv", "--out", "o.nc"]
    plain = {"simulate": parser.parse_args(simulate),
             "distance": parser.parse_args(["distance", "a.nc", "b.nc"])}
    assert workflow_settings(plain["simulate"], ref) == (SolverSettings(), ObjectiveConfig(), {})
    assert objective_settings(plain["distance"]) == ObjectiveConfig()
    given = {name: {k for k, v in vars(args).items() if v not in (None, False, [])}
             for name, args in plain.items()}  # the options that are not the settings'
    assert given["simulate"] == {"command", "func", "reads", "writes", "reference", "params",
                                 "out", "frames"}
    assert given["distance"] == {"command", "func", "reads", "writes", "a", "b"}
    assert set(DISTANCE_OPTIONS) == {f.name for f in fields(ObjectiveConfig)}
    assert set(SIMULATE_OPTIONS) | {"units"} == {f.name for f in fields(SolverSettings)}
    for key, options in DISTANCE_OPTIONS.items():
        settings = objective_settings(parser.parse_args(["distance", "a.nc", "b.nc", *options]))
        assert getattr(settings, key) != getattr(ObjectiveConfig(), key), key
        assert replace(settings, **{key: getattr(ObjectiveConfig(), key)}) == ObjectiveConfig()
    for key, options in SIMULATE_OPTIONS.items():
        settings, _, _ = workflow_settings(parser.parse_args([*simulate, *options]), ref)
        assert getattr(settings, key) != getattr(SolverSettings(), key), key
        assert replace(settings, **{key: getattr(SolverSettings(), key)}) == SolverSettings()


@pytest.mark.parametrize("function,section", [
    (ego.minimize, "ego"), (Calibration, "solver"), (Calibration, "objective"),
    (Calibration.from_config, "solver"), (replicate_design, "design"),
    (initial_designs, "design")])
def test_users_of_the_settings_do_not_repeat_a_default(function, section):
    """A parameter named like a key of the section it serves has no default, or the class's."""
    defaults = _class_defaults(section)
    for name, parameter in inspect.signature(function).parameters.items():
        if name in defaults and parameter.default is not inspect.Parameter.empty:
            assert _plain(parameter.default) == defaults[name], \
                f"{function.__qualname__}({name}=...) repeats {section}.{name}'s default"


@pytest.mark.parametrize("cls,section", [(DesignSettings, "design"), (SolverSettings, "solver"),
                                         (ReportSettings, "report"),
                                         (ObjectiveConfig, "objective")])
def test_an_unknown_key_is_named(cls, section):
    with pytest.raises(ValueError, match=rf"unknown {section} settings: \['colour'\]"):
        cls.from_config({"colour": "red"})


def test_reject_unknown_keys_lists_them_sorted():
    with pytest.raises(ValueError, match=r"unknown EGO settings: \['a', 'b'\]"):
        reject_unknown_keys(EGOLoop, {"b": 1, "seeds": [0], "a": 2}, "EGO")
    reject_unknown_keys(EGOLoop, {"seeds": [0], "max_iter": 3}, "EGO")


def test_the_ego_section_splits_into_loop_and_optimiser():
    section = {"seeds": [3, 1], "max_iter": 7, "batch_size": 2, "threshold": 0.1,
               "kernel": "rbf", "failure_tol": 5}
    assert EGOLoop.from_config(section) == EGOLoop(seeds=(3, 1), max_iter=7, batch_size=2,
                                                    threshold=0.1)
    settings = EGOSettings.from_config(section)
    assert settings.gp.kernel == "rbf" and settings.failure_tol == 5
    with pytest.raises(ValueError, match="seeds must be distinct"):
        EGOLoop(seeds=(1, 1))
