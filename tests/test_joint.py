"""A joint calibration on several references (grassego.joint, grassego.references): the joint
Δ is the weighted mean of each reference's, the same in the simulate fan-out (merged training
tables) and in the EGO loop (the problem's objective); its history is keyed by its references;
a config names its references one way, and each reference's settings are checked under its own
key before any job."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, replica
from grassego.calibration import ego_state_path, training_table
from grassego.config import (calibration_sections, check_config, references_form_problems,
                             validate_schema)
from grassego.errors import ConfigError
from grassego.fields import read_reference
from grassego.init_config import SCHEMA
from grassego.joint import joint_scores, joint_training_table
from grassego.problem import Problem
from grassego.references import calibration_weights, holdout_entries

#: Three CuZr parameter sets (c0, s_y, beta, E0): near the paper's optimum, elsewhere, one
#: that cannot start (χ ≤ 0 somewhere: E0 above the lowest energies at β high).
X = np.array([[0.164, 0.906, 6.882, -3.369], [0.6, 1.05, 9.0, -3.372],
              [0.3, 1.0, 14.0, -3.356]])


@pytest.fixture(scope="module")
def config() -> dict:
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    validate_schema(cfg, SCHEMA)
    return cfg


@pytest.fixture(scope="module")
def references(cuzr_reference_path):
    a = read_reference(cuzr_reference_path)
    return {"a": a, "b": replica(a, 9, 1.04)}


def _joint_sections(config, weights):
    return {**calibration_sections(config), "weights": weights}


def test_joint_scores_are_the_weighted_mean_and_the_worst_status():
    delta, status = joint_scores([np.array([0.1, 0.2, np.nan]), np.array([0.3, np.nan, 0.5])],
                                 [["ok", "diverged", "ok"], ["ok", "elastic", "rejected_input"]],
                                 [1.0, 3.0])
    np.testing.assert_allclose(delta[0], (0.1 + 3 * 0.3) / 4, rtol=0, atol=1e-17)
    assert np.isnan(delta[1:]).all()
    assert status == ["ok", "diverged", "rejected_input"]
    one, _ = joint_scores([np.array([0.1, 0.2])], [["ok", "ok"]], [3.0])
    assert one.tolist() == [0.1, 0.2]  # one reference: its Δ unchanged, whatever its weight


def test_the_joint_delta_is_the_same_in_the_fan_out_and_in_the_ego_loop(references, config):
    """The simulate jobs score each reference alone and collect merges them; the EGO job's
    objective scores a set on every reference at once: the same Δ to the last bit, neither
    reference's own, and the weighted mean of both."""
    weights = {"a": 1.0, "b": 3.0}
    sections = _joint_sections(config, weights)
    joint = Problem.from_config([references["a"], references["b"]], sections)
    assert list(joint.calibrations) == ["a", "b"] and joint.weights == [1.0, 3.0]
    delta, status = joint.objective(X)

    single = {n: Problem.from_config(ds, calibration_sections(config))
              for n, ds in references.items()}
    tables = {}
    for name, problem in single.items():
        runs = problem.calibration.runs_dataset(problem.calibration.parameter_table(X))
        runs = runs.assign_coords(sample=("run", np.arange(len(X))))
        samples = {"sample": np.arange(len(X)), "seed": np.zeros(len(X), int)}
        tables[name] = training_table([runs], pd.DataFrame(samples), problem.names)
    merged = joint_training_table(tables, weights)
    np.testing.assert_array_equal(merged["delta"].to_numpy(), delta)
    assert merged["status"].tolist() == status == ["ok", "ok", "rejected_input"]
    d_a, d_b = merged["delta@a"].to_numpy(), merged["delta@b"].to_numpy()
    assert np.all(np.abs(d_a[:2] - d_b[:2]) > 1e-4)  # the replica is another reference
    np.testing.assert_allclose(delta[:2], (d_a[:2] + 3 * d_b[:2]) / 4, rtol=1e-15)
    np.testing.assert_array_equal(single["a"].objective(X)[0][:2], d_a[:2])


def test_a_joint_history_is_keyed_by_its_references_and_weights(references, config, tmp_path):
    training = pd.DataFrame({"c0": [0.1], "s_y": [0.9], "beta": [5.0], "E0": [-3.37],
                             "delta": [0.2], "status": ["ok"]})

    def path(refs, weights):
        sections = _joint_sections(config, weights) if weights else calibration_sections(config)
        return ego_state_path(tmp_path / "result.nc", refs, training, sections, {}, 0)

    a, b = references["a"], references["b"]
    paths = [path(a, None), path([a, b], {"a": 1.0, "b": 1.0}),
             path([b, a], {"b": 1.0, "a": 1.0}), path([a, b], {"a": 1.0, "b": 2.0}),
             path([a], {"a": 1.0})]
    assert len(set(paths)) == len(paths)
    assert path([a, b], {"a": 1.0, "b": 1.0}) == paths[1]  # and it is a name, not a draw


def _references_config(entries: dict, **sections) -> dict:
    cfg = {"results": "results", "references": entries, **sections}
    problems = references_form_problems(cfg)
    if problems:
        raise ConfigError("\n".join(problems))
    validate_schema(cfg, SCHEMA)
    return cfg


LEGACY = {"source": "legacy", "legacy": {"path": "resources/cuzr/reference.nc"}}


def test_a_references_config_names_roles_and_weights():
    cfg = _references_config({"one": LEGACY, "two": {**LEGACY, "weight": 2.0},
                              "out": {**LEGACY, "role": "holdout"}})
    check_config(cfg, ROOT)
    assert calibration_weights(cfg) == {"one": 1.0, "two": 2.0}
    assert [e.key for e in holdout_entries(cfg)] == ["references.out"]
    assert calibration_sections(cfg)["weights"] == {"one": 1.0, "two": 2.0}
    single = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    validate_schema(single, SCHEMA)
    assert calibration_weights(single) is None and "weights" not in calibration_sections(single)


@pytest.mark.parametrize("entries, sections, message", [
    ({"a": LEGACY}, {"reference": LEGACY},
     "references: give either 'reference' (one) or 'references' (several, named), not both"),
    ({"a": {**LEGACY, "role": "holdout"}}, {},
     "references: no reference has role 'calibrate'"),
    ({"a": LEGACY, "b": {"source": "legacy", "legacy": {"path": "nowhere.nc"}}}, {},
     "references.b.legacy.path: 'nowhere.nc': no such file or directory"),
    ({"a": LEGACY, "b": {"source": "dumps", "role": "holdout",
                         "dumps": {"md": {"enabled": True, "system": "ka2d"}}}}, {},
     "references.b.dumps.units: 'metal', but"),
    ({"a": LEGACY, "b": {"source": "dumps", "dumps": {"files": ["none*.dump"]}}}, {},
     "references.b.dumps.files: 'none*.dump' is no file and matches none as a pattern"),
    ({"a": LEGACY, "b": {"source": "dumps", "dumps": {"files": ["x"], "grid": [2, 1]}}}, {},
     "references.b.dumps.grid"),
    ({"a": {**LEGACY, "weight": 0}}, {}, "references.a.weight: 0 is less than or equal"),
    ({"a b": LEGACY}, {}, "references: 'a b' does not match"),
    ({"a": {**LEGACY, "forward": {"target": {"c0": 0.5}}, "source": "forward"}}, {},
     "references.a.forward.target.s_y: a target value is needed"),
])
def test_each_references_problem_names_its_key(entries, sections, message):
    with pytest.raises(ConfigError) as err:
        check_config(_references_config(entries, **sections), ROOT)
    assert message in str(err.value)


def test_md_runs_of_several_references_write_to_their_own_directories(tmp_path: Path):
    """The MD output directory of a named reference (results/md/<name>) is the one checked."""
    md = {"source": "dumps", "dumps": {"units": "lj", "md": {"enabled": True}}}
    cfg = _references_config({"a": LEGACY, "b": md}, results=str(tmp_path / "r"))
    check_config(cfg, ROOT)
    bad = _references_config({"a": LEGACY, "b": md}, results=str(tmp_path / "r r"))
    with pytest.raises(ConfigError, match=r"results: the MD run \(references\.b\.dumps\.md\."
                                          r"enabled\) writes to .*r r/md/b"):
        check_config(bad, ROOT)
