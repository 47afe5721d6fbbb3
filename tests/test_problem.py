"""The calibration problem built once from the workflow's config sections (grassego.problem):
what the rule scripts, the benchmarks and these tests start from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from conftest import ROOT
from grassego.calibration import ego_state_path
from grassego.config import calibration_sections, validate_schema
from grassego.ego import EGOSettings, MeanChiSpace, SearchSpace
from grassego.fields import read_reference
from grassego.init_config import SCHEMA
from grassego.problem import Problem
from grassego.threads import torch_threads


@pytest.fixture(scope="module")
def config() -> dict:
    """The test case's config with the schema's defaults, as the workflow sees it."""
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    validate_schema(cfg, SCHEMA)
    return cfg


@pytest.fixture(scope="module")
def reference(cuzr_reference_path):
    return read_reference(cuzr_reference_path)


def _problem(reference, config, ego, threads=1) -> Problem:
    with torch_threads(torch.get_num_threads()):  # from_config sets the job's thread count
        return Problem.from_config(reference, calibration_sections(config),
                                   ego, threads=threads)


def test_the_problem_has_the_configs_parameters_space_and_settings(reference, config):
    ego = {k: v for k, v in config["ego"].items() if k != "seeds"}
    problem = _problem(reference, config, ego)
    assert problem.names == ("c0", "s_y", "beta", "E0")
    np.testing.assert_array_equal(problem.bounds, [config["parameters"][n]
                                                   for n in problem.names])
    assert problem.units == ("1", "GPa", "1/eV", "eV")
    assert problem.settings == EGOSettings.from_config(ego)
    assert isinstance(problem.space, MeanChiSpace)
    assert problem.space.e_mean == float(np.asarray(reference["pe"].values[0], np.float64).mean())
    assert problem.objective == problem.calibration.evaluate and problem.fixed == {}
    # the uncertainty step reads only the surrogate keys: the same coordinates and GP
    surrogate = _problem(reference, config, {k: config["ego"][k] for k in
                                             ("search_space", "kernel", "y_transform")})
    assert surrogate.settings.gp == problem.settings.gp
    np.testing.assert_array_equal(surrogate.space.search_bounds, problem.space.search_bounds)
    boxed = _problem(reference, config, {**ego, "search_space": "box"})
    assert type(boxed.space) is SearchSpace


def test_the_problem_reads_a_seeds_training_rows_and_names_its_history(reference, config,
                                                                        tmp_path):
    ego = {k: v for k, v in config["ego"].items() if k != "seeds"}
    problem = _problem(reference, config, ego)
    training = pd.DataFrame({"sample": [0, 1, 2], "seed": [0, 1, 0], "c0": [0.1, 0.2, 0.3],
                             "s_y": [0.9, 1.0, 1.1], "beta": [6.0, 7.0, 8.0],
                             "E0": [-3.37, -3.38, -3.36], "delta": [0.2, 0.3, np.nan],
                             "status": ["ok", "ok", "diverged"]})
    training.to_csv(tmp_path / "training.csv", index=False)
    rows = problem.read_training(tmp_path / "training.csv", 0)
    assert rows["sample"].tolist() == [0, 2]
    start = problem.initial_runs(rows)
    np.testing.assert_array_equal(start.X, training.iloc[[0, 2]][list(problem.names)])
    assert start.status == ["ok", "diverged"] and np.isnan(start.y[1])
    result = tmp_path / "ego" / "seed_0" / "result.nc"
    assert problem.state_path(result, rows, 0) == ego_state_path(
        result, reference, rows, calibration_sections(config), ego, 0)


def test_the_problem_sets_the_jobs_thread_count(reference, config):
    with torch_threads(2):
        Problem.from_config(reference, calibration_sections(config), threads=1)
        assert torch.get_num_threads() == 1
