"""The one energy-to-χ map, χ = factor · β (E − E0), and the solvers that start from it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grassego.stz import ModelConstants, chi_from_energy, simulate_batch


def test_the_map_by_hand():
    assert chi_from_energy(-3.36, 8.0, -3.37, 1.0) == pytest.approx(0.08, rel=1e-12)
    assert chi_from_energy(-3.36, 8.0, -3.37, 1.5) == pytest.approx(0.12, rel=1e-12)
    assert chi_from_energy(-3.38, 8.0, -3.37, 1.0) < 0  # E below E0: no disorder to start from


def test_numpy_and_torch_broadcast_alike():
    rng = np.random.default_rng(4)
    energy = -3.37 + 0.01 * rng.random((4, 4))
    beta, e0 = np.array([5.0, 9.0])[:, None, None], np.array([-3.39, -3.38])[:, None, None]
    factor = np.full_like(beta, ModelConstants().chi_energy_factor)
    with_numpy = chi_from_energy(energy, beta, e0, factor)
    with_torch = chi_from_energy(*(torch.as_tensor(a) for a in (energy, beta, e0, factor)))
    assert with_numpy.shape == (2, 4, 4)
    np.testing.assert_array_equal(with_torch.numpy(), with_numpy)


@pytest.mark.parametrize("backend", ["fused", "torch"])
def test_both_solvers_start_from_the_map(backend):
    """Frame 0's effective temperature is χ(E) · T_Z, bitwise, whichever driver runs."""
    rng = np.random.default_rng(5)
    pe = -3.36 + 2e-3 * rng.random((8, 8))
    c = ModelConstants(max_strain=0.005, n_frames=1, steps_per_frame=1)
    params = {"c0": [0.3, 0.4], "s_y": [0.9, 1.0], "beta": [6.0, 9.0], "E0": [-3.37, -3.375]}
    res = simulate_batch(params, pe, pe, keep_frames=[0], constants=c, backend=backend)
    beta, e0 = (np.array(params[k])[:, None, None] for k in ("beta", "E0"))
    expected = chi_from_energy(pe, beta, e0, c.chi_energy_factor) * c.T_Z_K
    np.testing.assert_array_equal(res.t_eff[:, 0], expected.astype(np.float32))
