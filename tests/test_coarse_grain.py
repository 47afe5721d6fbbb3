"""Gaussian coarse-graining on a periodic, sheared (Lees–Edwards) cell (paper eqs. 36–37)."""

from __future__ import annotations

import numpy as np
import pytest

from grassego.coarse_grain import (PlaneCell, coarse_grain, grid_centres,
                                   sparse_grid_message)

WIDTH, CUTOFF, GRID = 2.0, 6.0, (9, 7)


def _atoms(n: int, cell: PlaneCell, seed: int = 0) -> np.ndarray:
    """Random positions inside the tilted cell (fractional coordinates -> Cartesian)."""
    s = np.random.default_rng(seed).random((n, 2))
    x = cell.x0 + s[:, 0] * cell.lx + s[:, 1] * cell.xy
    y = cell.y0 + s[:, 1] * cell.ly
    return np.c_[x, y, np.zeros(n)]


def _brute_force(pos, values, cell, width, cutoff, grid):
    """Independent reference: every lattice image k·a + m·b, |k|, |m| ≤ 2, explicit weights."""
    xg, yg = grid_centres(cell, grid)
    gx, gy = np.meshgrid(xg + cell.x0, yg + cell.y0)
    points = np.c_[gx.ravel(), gy.ravel()]
    best = np.full((points.shape[0], pos.shape[0]), np.inf)
    for k in range(-2, 3):
        for m in range(-2, 3):
            image = pos[:, :2] + [k * cell.lx + m * cell.xy, m * cell.ly]
            d2 = ((points[:, None, :] - image[None, :, :]) ** 2).sum(-1)
            best = np.minimum(best, d2)
    g = np.exp(-best / (2 * width**2)) / (np.sqrt(2 * np.pi) * width)  # eq. 37
    g[best > cutoff**2] = 0.0
    weights = g / g.sum(axis=1, keepdims=True)  # eq. 36 normalisation
    return weights, (weights @ values).reshape(grid[1], grid[0], -1), (g > 0).sum(1)


@pytest.mark.parametrize("tilt", [0.0, 0.37, 0.8, -0.45])  # xy / lx, beyond 1/2 without a flip
def test_matches_brute_force_in_tilted_cell(tilt):
    cell = PlaneCell(lx=20.0, ly=16.0, xy=tilt * 20.0, x0=-3.0, y0=5.0)
    pos = _atoms(900, cell)
    values = np.random.default_rng(1).normal(size=(900, 2))
    weights, expected, counts = _brute_force(pos, values, cell, WIDTH, CUTOFF, GRID)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    got = coarse_grain(pos, values, cell, width=WIDTH, cutoff=CUTOFF, grid=GRID)
    np.testing.assert_allclose(np.moveaxis(got.values, 0, -1), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got.counts.ravel(), counts)


def test_positions_outside_the_cell_are_wrapped():
    cell = PlaneCell(lx=20.0, ly=16.0, xy=5.0)
    pos = _atoms(600, cell)
    values = np.random.default_rng(2).normal(size=600)
    shifted = pos + np.c_[np.array([2, -1, 0])[np.arange(600) % 3] * cell.lx
                          + np.array([1, 0, -2])[np.arange(600) % 3] * cell.xy,
                          np.array([1, 0, -2])[np.arange(600) % 3] * cell.ly, np.zeros(600)]
    a = coarse_grain(pos, values, cell, width=WIDTH, cutoff=CUTOFF, grid=GRID).values
    b = coarse_grain(shifted, values, cell, width=WIDTH, cutoff=CUTOFF, grid=GRID).values
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_uniform_field_is_reproduced_exactly():
    cell = PlaneCell(lx=30.0, ly=24.0, xy=11.0)
    pos = _atoms(2000, cell, seed=3)
    got = coarse_grain(pos, np.full(2000, -3.37), cell, width=WIDTH, cutoff=CUTOFF, grid=GRID)
    assert got.values.shape == (1, GRID[1], GRID[0])
    np.testing.assert_array_equal(got.values, -3.37)


def test_weights_sum_to_one_partition_of_unity():
    """Indicator fields of a random split of the atoms coarse-grain to fractions adding to 1."""
    cell = PlaneCell(lx=30.0, ly=24.0, xy=-7.0)
    pos = _atoms(1500, cell, seed=4)
    group = np.random.default_rng(5).random(1500) < 0.3
    parts = np.c_[group, ~group, np.ones(1500)].astype(float)
    got = coarse_grain(pos, parts, cell, width=WIDTH, cutoff=CUTOFF, grid=GRID).values
    np.testing.assert_allclose(got[0] + got[1], 1.0, atol=1e-6)
    np.testing.assert_allclose(got[2], 1.0, atol=1e-6)
    assert np.all(got[:2] > 0) and np.all(got[:2] < 1)


@pytest.mark.parametrize("tilt", [0.0, 6.0])
def test_corner_atom_reaches_grid_points_across_the_boundaries(tilt):
    cell = PlaneCell(lx=20.0, ly=20.0, xy=tilt)
    grid = (10, 10)
    background = _atoms(2000, cell, seed=6)
    pos = np.vstack([background, [[0.2, 0.3, 0.0]]])  # near the lower-left corner
    values = np.r_[np.zeros(2000), 1.0]
    got = coarse_grain(pos, values, cell, width=WIDTH, cutoff=CUTOFF, grid=grid).values[0]
    touched = got > 1e-6  # float32 sums: exact zeros come back as ~1e-8
    _, expected, _ = _brute_force(pos, values[:, None], cell, WIDTH, CUTOFF, grid)
    np.testing.assert_array_equal(touched, expected[..., 0] > 0)
    assert touched[0, 0] and touched[0, -1]  # bottom row, across the x boundary
    # across the y boundary the image sits at x + xy: the top row is reached near x = xy
    top = np.flatnonzero(touched[-1])
    xg, _ = grid_centres(cell, grid)
    dx = (xg[top] - (0.2 + tilt) + 10.0) % 20.0 - 10.0
    assert top.size and np.all(np.abs(dx) <= CUTOFF)
    assert touched[-1, -1] == (abs((xg[-1] - 0.2 - tilt + 10) % 20 - 10) < CUTOFF - 1)


@pytest.mark.parametrize("shift", [0, 3])  # Lees–Edwards tilt xy in lattice spacings
def test_the_grid_mean_is_the_atom_mean_on_a_lattice_commensurate_with_the_grid(shift):
    """One atom per grid cell, all offset alike from the cell centres: every grid point sees the
    same neighbourhood (the periodic images included, the tilt a whole number of spacings), so
    every atom carries the same total weight and the grid mean of any field equals its atom
    mean (eq. 36's normalisation)."""
    n, side = 16, 40.0
    spacing = side / n
    cell = PlaneCell(lx=side, ly=side, xy=shift * spacing)
    i, j = np.meshgrid(np.arange(n), np.arange(n))
    pos = np.c_[(i.ravel() + 0.3) * spacing, (j.ravel() + 0.8) * spacing, np.zeros(n * n)]
    values = np.random.default_rng(7).normal(size=n * n)
    got = coarse_grain(pos, values, cell, width=WIDTH, cutoff=CUTOFF, grid=(n, n)).values[0]
    assert got.mean() == pytest.approx(values.mean(), abs=1e-5 * values.std())
    assert got.std() < 0.5 * values.std()  # the window did average: not a copy of the atoms


def test_sparse_grid_message():
    cell = PlaneCell(lx=20.0, ly=20.0)
    pos = _atoms(100, cell, seed=8)  # mean spacing 2
    fine = coarse_grain(pos, np.ones(100), cell, width=0.5, cutoff=1.0, grid=(16, 16))
    message = sparse_grid_message(fine.counts, 100, cell, (16, 16))
    assert "fewer than 10 atoms" in message and "below the mean atom spacing" in message
    coarse = coarse_grain(pos, np.ones(100), cell, width=2.0, cutoff=6.0, grid=(4, 4))
    assert sparse_grid_message(coarse.counts, 100, cell, (4, 4)) is None


def test_empty_grid_points_are_nan_and_bad_arguments_raise():
    cell = PlaneCell(lx=20.0, ly=20.0)
    pos = np.array([[1.0, 1.0, 0.0], [2.0, 1.5, 0.0]])
    got = coarse_grain(pos, np.ones(2), cell, width=1.0, cutoff=3.0, grid=(4, 4))
    assert np.isnan(got.values[0, 2, 2]) and got.values[0, 0, 0] == 1.0
    with pytest.raises(ValueError, match="cutoff"):
        coarse_grain(pos, np.ones(2), cell, width=1.0, cutoff=10.0, grid=(4, 4))
    with pytest.raises(ValueError, match="xy tilt"):
        PlaneCell.from_matrix(np.array([[10, 0, 1, 0], [0, 10, 0, 0], [0, 0, 5, 0.0]]))
    assert PlaneCell.from_matrix(np.array([[10, 3, 0, 1], [0, 9, 0, 2], [0, 0, 5, 0.0]])) == \
        PlaneCell(lx=10.0, ly=9.0, xy=3.0, x0=1.0, y0=2.0)
