"""One quasi-static step of the STZ solver, as pure tensor functions (compilable).

A step from λt = lt0 to lt1 is :func:`plastic_start` (s̄ and the first plastic sub-step of every
cell), :func:`grassego.stz.kernels.finish_substeps` (the remaining sub-steps of the few cells that
need them; data-dependent, so eager), :func:`advection_terms` and :func:`explicit_update`
(advection, Truesdell terms, χ diffusion), then the projection: :func:`projection_force`, the FFT solve
(:func:`grassego.stz.kernels.solve_projection`) and :func:`projection_update`. The functions other
than the sub-step loop contain no data-dependent control flow, so ``torch.compile`` can fuse each.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from grassego.stz import kernels as K
from grassego.stz.constants import BOLTZMANN_J_PER_K, DYNAMICS, ModelConstants

Tensor = torch.Tensor


class Coefficients(NamedTuple):
    """Per-run coefficients in solver units, each (N, 1, 1); ``hx``, ``hy`` are (N, 1, 1, 1).

    ``mu``, ``lam``: shear modulus and Lamé λ over s_y; ``dt``: time step; ``hx = dt/(2 dx)``,
    ``hy = dt/(2 dy)``; ``xf = 1/(2 dx dt)``, ``yf = 1/(2 dy dt)``; ``rate_pre = 2 μ t_scale ε0/τ0``;
    ``chi_pre = 2 t_scale ε0/(τ0 c0)`` (ε0 → 1 for the thermal law, whose rate has no ε0);
    ``chi_inf``: χ∞; ``adapt``: adapt_fac; ``dfacx = l_χ²/(4 μ dx²)``, ``dfacy`` likewise with
    dy; ``shear = μ λ dt`` (the imposed shear-stress increment of a step). The thermal law's
    (unused by the athermal one): ``act = Ωε0/θ`` (Ωε0 = Ω ε0 s_y/(k_B T_Z)), ``barrier = Δ/θ``,
    ``barrier_exp = e^(−Δ/θ)``, ``half_rho = ρ/2``, ``kappa_pre = t_scale κ e^(−Δ/θ) ρ/(τ0 c0)``.
    """

    mu: Tensor
    lam: Tensor
    dt: Tensor
    hx: Tensor
    hy: Tensor
    xf: Tensor
    yf: Tensor
    rate_pre: Tensor
    chi_pre: Tensor
    chi_inf: Tensor
    adapt: Tensor
    dfacx: Tensor
    dfacy: Tensor
    shear: Tensor
    act: Tensor
    barrier: Tensor
    barrier_exp: Tensor
    half_rho: Tensor
    kappa_pre: Tensor

    def thermal(self) -> tuple[Tensor, ...]:
        """The thermal law's coefficients, in :func:`grassego.stz.kernels.thermal_rates` order."""
        return self.act, self.barrier, self.barrier_exp, self.half_rho, self.kappa_pre


def coefficient_values(run: dict[str, np.ndarray], dx: float, dy: float, c: ModelConstants,
                       dynamics: str) -> dict[str, np.ndarray]:
    """Per-run coefficients (name → (N,) float64) in the original driver's unit system; names
    and meaning as the fields of :class:`Coefficients`; ``run``: per-run inputs as in
    :class:`grassego.stz.params.RunInputs` ``per_run``; dx, dy [Å]; ``dynamics``: one of
    :data:`grassego.stz.constants.DYNAMICS`."""
    if dynamics not in DYNAMICS:
        raise ValueError(f"dynamics must be one of {DYNAMICS}, got {dynamics!r}")
    s_y = run["s_y"]
    mu = run["mu_GPa"] / s_y
    bulk = 2.0 * mu * (1.0 + run["poisson"]) / (3.0 * (1.0 - 2.0 * run["poisson"]))
    t_scale = c.length_unit_m / np.sqrt(run["mu_GPa"] / run["rho_kg_m3"])
    dt = c.max_strain / (run["strain_rate_per_s"] * t_scale) / c.n_steps
    ep_tau = (run["ep"] if dynamics == "athermal" else 1.0) / run["tau0_s"]
    theta = run["theta_K"] / run["T_Z_K"]
    omega_eps0 = (run["omega_A3"] * 1e-30 * run["eps0"] * s_y * 1e9
                  / (run["T_Z_K"] * BOLTZMANN_J_PER_K))
    barrier = run["delta_K"] / run["T_Z_K"] / theta
    values = dict(
        mu=mu, lam=bulk - 2.0 * mu / 3.0, dt=dt, hx=0.5 * dt / dx, hy=0.5 * dt / dy,
        xf=0.5 / (dt * dx), yf=0.5 / (dt * dy),
        rate_pre=2.0 * t_scale * mu * ep_tau, chi_pre=2.0 * t_scale * ep_tau / run["c0"],
        chi_inf=run["chi_inf"], adapt=run["adapt_fac"],
        dfacx=0.25 * run["chi_len_A"] ** 2 / mu / dx**2,
        dfacy=0.25 * run["chi_len_A"] ** 2 / mu / dy**2,
        shear=mu * c.max_strain / c.n_steps,
        act=omega_eps0 / theta, barrier=barrier, barrier_exp=np.exp(-barrier),
        half_rho=0.5 * run["stz_rho"],
        kappa_pre=t_scale * run["kappa"] * np.exp(-barrier) * run["stz_rho"]
        / (run["tau0_s"] * run["c0"]),
    )
    return {k: np.array(np.broadcast_to(v, mu.shape), dtype=np.float64) for k, v in values.items()}


def plastic_start(stag: Tensor, co: Coefficients, lt0: Tensor, thermal: bool
                  ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """s̄ at the start of the step and the first plastic sub-step of every cell.

    ``stag`` (N, 5, y, x) holds p, q, s, τ, χ; ``thermal``: the thermal law, else the athermal
    one. Returns ``(s̄, s̄₁, χ₁, time left, unfinished)``.
    """
    p, q, s, tau, chi = stag.unbind(1)
    sbar = K.deviatoric_magnitude(p, q, s, tau, lt0)
    left = co.dt.expand_as(sbar)
    return (sbar,) + K.plastic_substep(sbar, chi, left, co.rate_pre, co.chi_pre, co.chi_inf,
                                       co.adapt, co.thermal() if thermal else None)


def advection_terms(stag: Tensor, vel: Tensor, xi: Tensor, co: Coefficients
                    ) -> tuple[Tensor, Tensor, Tensor]:
    """ENO2 upwind advection of the centre fields and of the reference map.

    ``vel`` (N, 2, y, x): corner velocity (u, v); ``xi`` (N, 2, y, x): reference-map displacement.
    Returns dt·(v·∇) of the centre fields (N, 5, y, x), the advected ξ, and dt·∇v at the centres
    (N, 4, y, x: ux, vx, uy, vy) for the Truesdell terms.
    """
    avg, gx, gy = K.corner_to_centre(vel, co.hx, co.hy)
    uc, vc = avg[:, 0:1], avg[:, 1:2]
    adv = uc * K.eno2(stag, uc > 0, co.hx, -1) + vc * K.eno2(stag, vc > 0, co.hy, -2)
    u, v = vel[:, 0], vel[:, 1]
    rx = K.eno2(xi, (u > 0).unsqueeze(1), co.hx, -1)
    ry = K.eno2(xi, (v > 0).unsqueeze(1), co.hy, -2)
    xi = xi + torch.stack((-u * (co.dt + rx[:, 0]) - v * ry[:, 0],
                           -u * rx[:, 1] - v * (co.dt + ry[:, 1])), dim=1)
    return adv, xi, torch.cat((gx, gy), dim=1)


def explicit_update(stag: Tensor, grad: Tensor, adv: Tensor, sbar: Tensor, s_new: Tensor,
                    chi_loc: Tensor, co: Coefficients, lt0: Tensor, lfac: float) -> Tensor:
    """The explicit part of a step (the original's ``advection_step``), given the advection
    terms and velocity gradients from :func:`advection_terms`, s̄ before and after the local
    plastic relaxation and χ after the local plastic source (``chi_loc``). Returns the
    intermediate centre fields (N, 5, y, x)."""
    third = 1.0 / 3.0
    ux, vx, uy, vy = grad.unbind(1)
    p, q, s, tau, chi = stag.unbind(1)
    old_p = K.physical_pressure(p, q, s, tau, lt0)
    active = sbar >= 1e-12
    ddev = torch.where(active, sbar - s_new, torch.zeros_like(sbar))
    dtmp = ddev / torch.where(active, sbar, torch.ones_like(sbar))
    chi_new = chi_loc - adv[:, 4] + K.chi_diffusion(chi, ddev, lt0, co.dfacx, co.dfacy, lfac)
    lt2 = lt0 * lt0
    div, shear, spin, vyux = ux + vy, uy + vx, vx - uy, vy - ux
    pq = p + q
    p_new = (p - adv[:, 0] - third * dtmp * (2.0 * lt0 * tau - lt2 * (pq + s) - lt2 * old_p)
             - 2.0 * third * tau * shear - third * (p - 2.0 * q) * div + 2.0 * third * s * vyux)
    q_new = (q - adv[:, 1] - dtmp * (q - lt2 / 6.0 * old_p) - third * tau * shear
             + third * (p - 2.0 * q) * div + third * s * vyux)
    s_new_ = s - adv[:, 2] - dtmp * (s + 0.5 * lt2 * old_p) - tau * spin + pq * vyux
    tau_new = tau - adv[:, 3] - dtmp * (tau - lt0 * old_p) - pq * shear + s * spin
    return torch.stack((p_new, q_new, s_new_, tau_new, chi_new), dim=1)


def projection_force(stag: Tensor, co: Coefficients, lt1: Tensor) -> Tensor:
    """Right-hand side (N, 2, y, x) of the projection system at the corners:
    [[1, λt], [0, 1]]·(−∇·σ / dt) of the intermediate stresses."""
    p, q, s, tau, _ = stag.unbind(1)
    fx, fy = K.net_force(p, q, s, tau, co.xf, co.yf)
    return torch.stack((fx + lt1 * fy, fy), dim=1)


def projection_update(stag: Tensor, vel: Tensor, co: Coefficients, lt1: Tensor) -> Tensor:
    """Add the elastic stress increment of the projection velocity ``vel`` and the imposed shear
    (the original's ``projection_step`` update) to the intermediate centre fields."""
    third = 1.0 / 3.0
    p, q, s, tau, chi = stag.unbind(1)
    _, gx, gy = K.corner_to_centre(vel, co.hx, co.hy)
    ux, vx, uy, vy = gx[:, 0], gx[:, 1], gy[:, 0], gy[:, 1]
    mu, lam, lt, l2 = co.mu, co.lam, lt1, lt1 * lt1
    div = vy + ux
    p = p + (2.0 * third * lt * co.shear + 2.0 * third * lt * mu * uy
             - (lam + third * lam * l2 + 2.0 * third * mu) * div
             - 2.0 * third * mu * l2 * ux + 2.0 * third * mu * lt * vx)
    q = q + (third * lt * co.shear + third * lt * mu * uy - (lam * l2 / 6.0 + third * mu) * div
             - third * l2 * mu * ux + third * lt * mu * vx)
    s = s + (-lt * co.shear + lt * mu * (vx - uy) + (0.5 * lam * l2 - mu) * vy
             + (0.5 * lam * l2 + mu + l2 * mu) * ux)
    tau = tau + (co.shear + mu * uy - lt * (lam + mu) * div + mu * (1.0 + l2) * vx)
    return torch.stack((p, q, s, tau, chi), dim=1)
