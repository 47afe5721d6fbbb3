"""Analytic checks of the STZ solver: linear elasticity, homogeneous 0-D law, time-step convergence.

Short runs (γ up to 0.1–0.2) keep the time step of the paper's runs (same γ per step); the
analytic cases use a small grid (the physics is uniform), the convergence case a 16 × 16
subsample of the CuZr field, to keep the tests fast.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from grassego.stz import ModelConstants, simulate_batch

GRID = (8, 8)


def _short(max_strain: float, **kw) -> ModelConstants:
    """Constants with the default γ per step over a shorter run."""
    return ModelConstants(max_strain=max_strain, n_frames=round(max_strain / 0.005), **kw)


def test_elastic_limit_is_exact():
    """χ tiny: no plasticity, so mean τ = μ γ exactly, E_xy = γ/2 and T_eff unchanged."""
    rng = np.random.default_rng(1)
    pe = -3.36 + 1e-3 * rng.standard_normal(GRID)
    c = _short(0.03, min_final_teff_K=0.0)
    params = {"c0": [0.3], "s_y": [0.9], "beta": [1e-3], "E0": [-3.40]}
    res = simulate_batch(params, pe, pe, constants=c)
    assert res.status[0] == 0
    np.testing.assert_allclose(res.tau_mean[0], c.mu_GPa * res.strain_all, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.exy[0], np.broadcast_to(res.strain[:, None, None] / 2,
                                                           res.exy[0].shape), atol=1e-7)
    chi0 = c.chi_energy_factor * 1e-3 * (pe + 3.40) * c.T_Z_K
    np.testing.assert_allclose(res.t_eff[0], np.broadcast_to(chi0, res.t_eff[0].shape), rtol=1e-6)


def _zero_d(params: dict[str, float], chi_inf: float, chi0: float, c: ModelConstants,
            strains: np.ndarray) -> np.ndarray:
    """Homogeneous simple shear, hypo-elastic with the Truesdell rate and the athermal STZ law,
    integrated independently (physical stresses over s_y). Returns the transformed-frame mean
    shear stress the solver reports, σ_xy − γ σ_yy, in GPa at the given strains."""
    s_y = params["s_y"]
    mu = c.mu_GPa / s_y
    t_scale = c.length_unit_m / np.sqrt(c.mu_GPa / c.rho_kg_m3)
    lam = c.strain_rate_per_s * t_scale

    def rhs(t, y):
        sxx, syy, szz, sxy, chi = y
        tr = (sxx + syy + szz) / 3.0
        dev = np.array([sxx - tr, syy - tr, szz - tr, sxy])
        sbar = np.sqrt(0.5 * (dev[0] ** 2 + dev[1] ** 2 + dev[2] ** 2) + dev[3] ** 2)
        rate = 0.0
        if sbar >= 1.0:
            f = (-2.0 + sbar + np.exp(-sbar) * (2.0 + sbar)) * (1.0 - 1.0 / sbar)
            rate = t_scale * c.ep / c.tau0_s * f * np.exp(-1.0 / chi)
        plastic = 2.0 * mu * rate * dev / max(sbar, 1e-300)
        return [2.0 * lam * sxy - plastic[0], -plastic[1], -plastic[2],
                lam * syy + mu * lam - plastic[3],
                2.0 * rate * sbar / params["c0"] * (chi_inf - chi)]

    t_end = strains[-1] / lam
    sol = solve_ivp(rhs, (0.0, t_end), [0, 0, 0, 0, chi0], t_eval=strains / lam, method="LSODA",
                    rtol=1e-10, atol=1e-12, max_step=t_end / 4000)
    sxy, syy = sol.y[3], sol.y[1]
    return (sxy - strains * syy) * s_y


def test_homogeneous_chi_follows_zero_d_law_and_converges():
    """Uniform χ: no spurious band (fields stay uniform), and the mean stress converges to the
    0-D ODE of the same law (through yield, the peak and softening) at first order in dt."""
    params = {"c0": 0.3, "s_y": 1.0, "beta": 8.0, "E0": -3.368}
    pe0 = np.full((4, 4), -3.360)
    pe_final = np.full((4, 4), -3.352)
    chi_inf = params["beta"] * (pe_final.max() - params["E0"])
    errors = {}
    for steps in (15, 30, 60):
        c = ModelConstants(max_strain=0.12, n_frames=24, steps_per_frame=steps)
        res = simulate_batch({k: [v] for k, v in params.items()}, pe0, pe_final, constants=c)
        assert res.status[0] == 0
        chi0 = c.chi_energy_factor * params["beta"] * (pe0[0, 0] - params["E0"])
        ref = _zero_d(params, chi_inf, chi0, c, res.strain_all)
        errors[steps] = np.abs(res.tau_mean[0] - ref).max()
    exy, t_eff = res.exy[0].astype(np.float64), res.t_eff[0].astype(np.float64)
    assert np.all(np.ptp(exy, axis=(1, 2)) <= 1e-6 * np.abs(exy).max(axis=(1, 2)) + 1e-12)
    assert np.all(np.ptp(t_eff, axis=(1, 2)) <= 1e-6 * t_eff.max(axis=(1, 2)))
    tau = res.tau_mean[0]
    assert tau.max() > 1.5 and tau[-1] < 0.95 * tau.max()  # the run yields and softens
    assert errors[60] < 4e-3  # GPa, on a peak of ~1.84 GPa
    assert errors[15] > 1.6 * errors[30] > 1.6 * 1.6 * errors[60]  # first order in dt


def test_converges_when_time_step_is_halved(cuzr_fields_16):
    """Heterogeneous χ from the CuZr field: the stress curve converges as dt is halved."""
    pe0, pe_final = cuzr_fields_16
    params = {"c0": [0.55], "s_y": [1.006], "beta": [8.277], "E0": [-3.368]}
    curves = {}
    for steps in (30, 60, 120):
        c = ModelConstants(max_strain=0.1, n_frames=20, steps_per_frame=steps)
        curves[steps] = simulate_batch(params, pe0, pe_final, constants=c, keep_frames=[]).tau_mean[0]
    coarse = np.abs(curves[30] - curves[120]).max()
    fine = np.abs(curves[60] - curves[120]).max()
    assert fine < 0.6 * coarse
    assert fine < 0.05
