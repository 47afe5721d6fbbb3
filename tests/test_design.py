"""Space-filling designs: bounds, stratification, reproducibility, batch splitting."""

from __future__ import annotations

import numpy as np
import pytest

from grassego.design import (DesignSettings, check_bounds, from_unit, initial_designs,
                             latin_hypercube, parameter_box, replicate_design, sobol,
                             split_batches, to_unit)

BOUNDS = np.array([[-5.0, 10.0], [0.0, 15.0], [1e-3, 2e-3]])


def _strata(x: np.ndarray, bounds: np.ndarray, n: int) -> np.ndarray:
    """Index of the 1/n-wide stratum each coordinate falls in, per axis."""
    return np.floor(to_unit(x, bounds) * n).astype(int)


def test_lhs_is_in_bounds_and_stratified_on_every_axis():
    n = 37
    x = latin_hypercube(n, BOUNDS, seed=3)
    assert x.shape == (n, 3) and x.dtype == np.float64
    assert np.all(x >= BOUNDS[:, 0]) and np.all(x <= BOUNDS[:, 1])
    for axis in _strata(x, BOUNDS, n).T:  # one point per stratum on each axis
        assert sorted(axis.tolist()) == list(range(n))


def test_sobol_is_balanced_for_powers_of_two_and_truncates_otherwise():
    x = sobol(64, BOUNDS, seed=1)
    assert x.shape == (64, 3)
    assert np.all(x >= BOUNDS[:, 0]) and np.all(x <= BOUNDS[:, 1])
    for axis in _strata(x, BOUNDS, 64).T:  # (0, m, s)-net: each 1-D projection is stratified
        assert sorted(axis.tolist()) == list(range(64))
    np.testing.assert_array_equal(sobol(50, BOUNDS, seed=1), x[:50])


@pytest.mark.parametrize("design", [latin_hypercube, sobol])
def test_designs_are_reproducible_per_seed(design):
    a, b, c = design(20, BOUNDS, 7), design(20, BOUNDS, 7), design(20, BOUNDS, 8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_unit_cube_maps_invert_each_other():
    x = latin_hypercube(10, BOUNDS, 0)
    np.testing.assert_allclose(from_unit(to_unit(x, BOUNDS), BOUNDS), x, rtol=1e-14)
    np.testing.assert_allclose(to_unit(BOUNDS.T, BOUNDS), [[0, 0, 0], [1, 1, 1]])


@pytest.mark.parametrize("bounds", [[[0, 1, 2]], [[1.0, 0.0]], [[0.0, np.inf]], np.zeros((0, 2))])
def test_bad_bounds_are_rejected(bounds):
    with pytest.raises(ValueError):
        check_bounds(bounds)


def test_split_batches_covers_all_indices_in_order_with_balanced_sizes():
    parts = split_batches(10, 3)
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert len(split_batches(2, 5)) == 2  # empty batches dropped
    assert split_batches(0, 3) == []
    with pytest.raises(ValueError):
        split_batches(5, 0)


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_replicates_are_independent_designs_each_reproducible_alone(method):
    a0, a1 = (replicate_design(method, 32, BOUNDS, 2021, r) for r in (0, 1))
    assert not np.allclose(a0, a1)
    np.testing.assert_array_equal(a1, replicate_design(method, 32, BOUNDS, 2021, 1))
    # a replicate is not the plain design of the seed (NumPy pads [seed, 0] to [seed])
    assert not np.allclose(a0, latin_hypercube(32, BOUNDS, 2021))
    for axis in _strata(a1, BOUNDS, 32).T:
        assert sorted(axis.tolist()) == list(range(32))
    with pytest.raises(ValueError, match="design method"):
        replicate_design("grid", 4, BOUNDS, 0, 0)


def test_initial_designs_stack_each_seeds_replicate_with_running_sample_numbers():
    parameters = {"c0": [0.05, 1.0], "E0": [-3.39, -3.355]}  # the config's order is kept
    settings = DesignSettings(method="sobol", n_samples=8, seed=5)
    table = initial_designs(settings, parameters, seeds=[3, 0])
    assert list(table.columns) == ["sample", "seed", "c0", "E0"]
    assert table["sample"].tolist() == list(range(16))
    assert table["seed"].tolist() == [3] * 8 + [0] * 8
    bounds = np.array([[0.05, 1.0], [-3.39, -3.355]])
    for seed, part in table.groupby("seed"):
        np.testing.assert_array_equal(part[["c0", "E0"]].to_numpy(),
                                      replicate_design("sobol", 8, bounds, 5, seed))
    names, box = parameter_box(parameters)
    assert names == ["c0", "E0"] and box.tolist() == bounds.tolist()


def test_design_settings_reject_what_the_schema_would():
    with pytest.raises(ValueError, match="design.method"):
        DesignSettings(method="grid")
    with pytest.raises(ValueError, match="n_samples >= 2"):
        DesignSettings(n_samples=1)
