"""GP surrogates: predictions against eqs. (14)-(15) written out in NumPy (with the surrogate's own
input and output transforms), learning a function and its noise, an irrelevant input, the log
transform, determinism, bad data, and the feasibility classifier on a known boundary."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grassego.design import latin_hypercube, to_unit
from grassego.surrogate import FeasibilityModel, GPConfig, fit_surrogate

BOUNDS = np.array([[-2.0, 3.0], [10.0, 20.0]])


def _f(x: np.ndarray) -> np.ndarray:
    """A positive test objective (Δ-like): smooth, ~0.1 to ~1.5."""
    u = to_unit(x, BOUNDS)
    return 0.8 + 0.4 * np.sin(5.0 * u[:, 0]) + 0.3 * np.cos(4.0 * u[:, 1])


def _matern52(a: np.ndarray, b: np.ndarray, ls: np.ndarray) -> np.ndarray:
    r = np.sqrt((((a[:, None, :] - b[None, :, :]) / ls) ** 2).sum(-1))
    return (1 + np.sqrt(5) * r + 5.0 / 3.0 * r**2) * np.exp(-np.sqrt(5) * r)


@pytest.fixture(scope="module")
def fitted():
    x = latin_hypercube(40, BOUNDS, seed=0)
    return x, _f(x), fit_surrogate(x, _f(x), BOUNDS, GPConfig(y_transform="log"), seed=0)


def test_prediction_matches_equations_14_15_in_numpy(fitted):
    x, delta, sur = fitted
    xt = latin_hypercube(300, BOUNDS, seed=5)
    mean, std = sur.predict(xt)
    # the surrogate's transforms: unit cube in, g = -log Δ standardised out
    u, ut = to_unit(x, BOUNDS), to_unit(xt, BOUNDS)
    g = -np.log(delta)
    m, s = g.mean(), g.std(ddof=1)
    z = (g - m) / s
    model = sur.model
    c = float(model.mean_module.constant.detach())
    noise = float(model.likelihood.noise.detach())
    k = _matern52(u, u, sur.lengthscale) + noise * np.eye(len(u))
    ks = _matern52(u, ut, sur.lengthscale)
    z_mean = c + ks.T @ np.linalg.solve(k, z - c)
    z_var = 1.0 - np.einsum("ij,ij->j", ks, np.linalg.solve(k, ks))
    np.testing.assert_allclose(mean, -(z_mean * s + m), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(std, np.sqrt(np.maximum(z_var, 0)) * s, rtol=1e-5, atol=1e-8)


def test_surrogate_learns_the_function_in_log_space(fitted):
    _, _, sur = fitted
    xt = latin_hypercube(200, BOUNDS, seed=3)
    mean, std = sur.predict(xt)
    h = np.log(_f(xt))
    assert np.sqrt(np.mean((mean - h) ** 2)) < 0.05 * (h.max() - h.min())
    assert np.mean(np.abs(mean - h) < 3 * std + 1e-3) > 0.9  # calibrated uncertainty
    assert sur.target(np.array([np.e])) == pytest.approx([-1.0])


def test_learned_noise_matches_the_true_noise_and_an_unused_input_is_flat():
    rng = np.random.default_rng(1)
    bounds = np.array([[0.0, 1.0]] * 3)
    x = latin_hypercube(120, bounds, seed=2)
    h = np.sin(4 * x[:, 0]) + x[:, 1] ** 2  # x[:, 2] has no effect
    delta = h + 2.0 + rng.normal(0.0, 0.05, x.shape[0])
    sur = fit_surrogate(x, delta, bounds, GPConfig(y_transform="none"), seed=0)
    assert sur.noise_std == pytest.approx(0.05, rel=0.35)
    ls = sur.lengthscale
    assert ls[2] > 3 * max(ls[0], ls[1])


def test_fits_are_deterministic_and_the_rbf_kernel_is_honoured(fitted):
    x, delta, sur = fitted
    again = fit_surrogate(x, delta, BOUNDS, GPConfig(y_transform="log"), seed=0)
    xt = latin_hypercube(50, BOUNDS, seed=9)
    np.testing.assert_array_equal(sur.predict(xt)[0], again.predict(xt)[0])
    rbf = fit_surrogate(x, delta, BOUNDS, GPConfig(kernel="rbf"), seed=0)
    assert type(rbf.model.covar_module).__name__ == "RBFKernel"
    assert type(sur.model.covar_module).__name__ == "MaternKernel"


def test_bad_data_is_rejected():
    x = latin_hypercube(5, BOUNDS, seed=0)
    with pytest.raises(ValueError, match="finite"):
        fit_surrogate(x, np.array([1.0, np.nan, 1.0, 2.0, 1.0]), BOUNDS)
    with pytest.raises(ValueError, match="n >= 2"):
        fit_surrogate(x[:1], np.array([1.0]), BOUNDS)
    with pytest.raises(ValueError, match="kernel"):
        GPConfig(kernel="periodic")
    with pytest.raises(ValueError, match="y_transform"):
        GPConfig(y_transform="sqrt")


def test_feasibility_classifier_finds_a_known_boundary():
    u = latin_hypercube(150, np.array([[0.0, 1.0]] * 2), seed=4)
    ok = u[:, 0] + 0.5 * u[:, 1] < 0.9  # runs fail beyond a straight line
    model = FeasibilityModel(torch.as_tensor(u), ok, seed=0)
    inside = torch.tensor([[0.1, 0.1], [0.3, 0.5], [0.2, 0.9]], dtype=torch.float64)
    outside = torch.tensor([[0.9, 0.5], [0.8, 0.9], [0.95, 0.1]], dtype=torch.float64)
    assert torch.all(model.prob(inside) > 0.9)
    assert torch.all(model.prob(outside) < 0.1)
    probe = torch.tensor([[0.6, 0.6]], dtype=torch.float64, requires_grad=True)
    model.log_prob(probe).sum().backward()  # differentiable: it can weight an acquisition
    assert probe.grad[0, 0] < 0 and torch.all(torch.isfinite(probe.grad))


def test_feasibility_latent_posterior_matches_botorch():
    u = latin_hypercube(60, np.array([[0.0, 1.0]] * 3), seed=6)
    model = FeasibilityModel(torch.as_tensor(u), u[:, 0] < 0.5, seed=0)
    probe = torch.as_tensor(latin_hypercube(40, np.array([[0.0, 1.0]] * 3), seed=7))
    with torch.no_grad():
        post = model.model.posterior(probe)
        mean, var = model.latent(probe)
    np.testing.assert_allclose(mean.numpy(), post.mean.numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(var.numpy(), post.variance.numpy(), rtol=1e-6, atol=1e-9)


def test_fitted_models_are_frozen_so_acquisition_gradients_reach_only_the_inputs(fitted):
    _, _, sur = fitted
    feas = FeasibilityModel(torch.as_tensor(latin_hypercube(30, np.array([[0.0, 1.0]] * 2),
                                                           seed=8)), np.arange(30) % 3 > 0)
    params = [p for model in (sur.model, feas.model) for p in model.parameters()]
    before = [None if p.grad is None else p.grad.clone() for p in params]  # the fit's last
    probe = torch.tensor([[0.4, 0.6]], dtype=torch.float64, requires_grad=True)
    (sur.model.posterior(probe).mean.sum() + feas.log_prob(probe).sum()).backward()
    assert probe.grad is not None and torch.all(probe.grad != 0)
    assert not any(p.requires_grad for p in params)
    assert all((p.grad is None and b is None) or torch.equal(p.grad, b)
               for p, b in zip(params, before))


def test_the_classifier_is_the_same_whatever_blas_threads_the_caller_runs():
    """Without the fit's own one-thread BLAS, the classifier fitted under two OpenBLAS threads
    differed in the last bits from the one fitted under one (on a 2-core machine; a 1-core
    machine cannot tell them apart)."""
    from threadpoolctl import threadpool_limits

    u = latin_hypercube(200, np.array([[0.0, 1.0]] * 4), seed=3)
    fits = []
    for n in (1, 2):
        with threadpool_limits(limits=n, user_api="blas"):
            model = FeasibilityModel(torch.as_tensor(u), u[:, 0] + 0.5 * u[:, 1] < 0.9, seed=0)
        fits.append(model.model.covar_module.lengthscale.detach().numpy().tobytes())
    assert fits[0] == fits[1]
