"""GP surrogate: predictions against eqs. (14)-(15) written out in NumPy and against GPyTorch's own
posterior, hyper-parameter recovery, noise floor, warm start, the variance bound, conditioning."""

from __future__ import annotations

import gpytorch
import numpy as np
import pytest
import torch

from grassego.design import latin_hypercube, to_unit
from grassego.surrogate import (GPConfig, fit_gp, hyperparameters_from_json,
                                hyperparameters_to_json, threads_for)

BOUNDS = np.array([[-2.0, 3.0], [10.0, 20.0]])


def _f(x: np.ndarray) -> np.ndarray:
    u = to_unit(x, BOUNDS)
    return np.sin(6.0 * u[:, 0]) + 0.5 * np.cos(4.0 * u[:, 1]) + 100.0  # offset tests standardising


def _matern52(a: np.ndarray, b: np.ndarray, ls: np.ndarray, var: float) -> np.ndarray:
    r = np.sqrt((((a[:, None, :] - b[None, :, :]) / ls) ** 2).sum(-1))
    return var * (1 + np.sqrt(5) * r + 5.0 / 3.0 * r**2) * np.exp(-np.sqrt(5) * r)


@pytest.fixture(scope="module")
def fitted():
    x = latin_hypercube(40, BOUNDS, seed=0)
    return x, _f(x), fit_gp(x, _f(x), BOUNDS, GPConfig(restarts=2), seed=0)


def test_prediction_matches_equations_14_15_in_numpy(fitted):
    x, y, gp = fitted
    xt = latin_hypercube(300, BOUNDS, seed=5)
    mean, std = gp.predict(xt)
    u, ut = to_unit(x, BOUNDS), to_unit(xt, BOUNDS)
    z = (y - y.mean()) / y.std()
    k = _matern52(u, u, gp.lengthscale, gp.outputscale) + gp.noise * np.eye(len(u))
    ks = _matern52(ut, u, gp.lengthscale, gp.outputscale)
    mean_ref = gp.const + ks @ np.linalg.solve(k, z - gp.const)
    var_ref = gp.outputscale - np.einsum("ij,ji->i", ks, np.linalg.solve(k, ks.T))
    np.testing.assert_allclose(mean, mean_ref * y.std() + y.mean(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(std, np.sqrt(var_ref) * y.std(), rtol=1e-6, atol=1e-9)


def test_prediction_matches_gpytorch_posterior(fitted):
    _, y, gp = fitted
    ut = torch.as_tensor(to_unit(latin_hypercube(200, BOUNDS, seed=6), BOUNDS))
    with torch.no_grad(), gpytorch.settings.max_cholesky_size(10**6), \
            gpytorch.settings.fast_pred_var(False):
        post = gp.model(ut)
    mean, var = gp.predict_unit_chunked(ut)
    np.testing.assert_allclose(mean.numpy(), post.mean.numpy(), atol=1e-9)
    np.testing.assert_allclose(var.numpy(), post.variance.numpy(), rtol=1e-6, atol=1e-12)


def test_surrogate_learns_the_function_and_the_noise_floor_holds(fitted):
    _, y, gp = fitted
    xt = latin_hypercube(500, BOUNDS, seed=9)
    mean, std = gp.predict(xt)
    rmse = np.sqrt(np.mean((mean - _f(xt)) ** 2))
    assert rmse < 0.05 * y.std()
    assert np.mean(np.abs(mean - _f(xt)) < 3 * std) > 0.9  # calibrated uncertainties
    assert GPConfig().noise_floor <= gp.noise < 1e-3  # noiseless data: noise goes to the floor


def test_learned_noise_matches_the_true_noise():
    rng = np.random.default_rng(1)
    x = latin_hypercube(300, BOUNDS, seed=1)
    y = _f(x) + 0.1 * rng.standard_normal(300)
    gp = fit_gp(x, y, BOUNDS, GPConfig(restarts=1), seed=1)
    assert gp.noise * gp.y_scale**2 == pytest.approx(0.1**2, rel=0.3)


def test_rbf_kernel_and_fixed_noise_are_honoured():
    x = latin_hypercube(25, BOUNDS, seed=2)
    gp = fit_gp(x, _f(x), BOUNDS, GPConfig(kernel="rbf", fixed_noise=1e-8, restarts=1))
    assert isinstance(gp.model.covar_module.base_kernel, gpytorch.kernels.RBFKernel)
    assert gp.noise == pytest.approx(1e-8, rel=1e-6)
    mean, std = gp.predict(x)  # interpolates the data
    np.testing.assert_allclose(mean, _f(x), atol=1e-3)
    assert np.all(std < 1e-3 * gp.y_scale)


def test_warm_start_reproduces_the_cold_fit_and_is_deterministic(fitted):
    x, y, gp = fitted
    warm = fit_gp(x, y, BOUNDS, warm_start=hyperparameters_from_json(
        hyperparameters_to_json(gp.hyperparameters())))
    assert warm.neg_mll == pytest.approx(gp.neg_mll, abs=1e-6)
    again = fit_gp(x, y, BOUNDS, GPConfig(restarts=2), seed=0)
    assert again.hyperparameters() == gp.hyperparameters()


def test_screen_gives_exact_mean_and_an_upper_bound_on_the_variance(fitted):
    _, _, gp = fitted
    u = torch.rand(3000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    mean_s, var_ub = gp.screen(u)
    mean, var = gp.predict_unit_chunked(u)
    np.testing.assert_allclose(mean_s.numpy(), mean.numpy(), atol=1e-10)
    assert torch.all(var_ub >= var - 1e-12)
    assert float(var_ub.min()) < 0.5 * gp.outputscale  # the bound is informative near data


def test_conditioning_on_a_believed_value_keeps_the_mean_and_shrinks_the_variance(fitted):
    _, _, gp = fitted
    x_new = np.array([[0.3, 14.0]])
    m0, s0 = gp.predict(x_new)
    gp2 = gp.condition_on(x_new, m0)
    m1, s1 = gp2.predict(x_new)
    assert m1[0] == pytest.approx(m0[0], abs=1e-8)
    assert s1[0] < s0[0]
    assert s1[0] <= np.sqrt(gp.noise) * gp.y_scale  # var after a noisy observation <= noise var
    assert gp2.hyperparameters() == gp.hyperparameters()


def test_bad_data_is_rejected():
    x = latin_hypercube(5, BOUNDS, seed=0)
    y = _f(x)
    y[2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        fit_gp(x, y, BOUNDS)
    with pytest.raises(ValueError):
        fit_gp(x[:, :1], _f(x), BOUNDS)
    with pytest.raises(ValueError):
        GPConfig(kernel="linear")


def test_threads_for_restores_the_thread_count():
    before = torch.get_num_threads()
    with threads_for(10):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
