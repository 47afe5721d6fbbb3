"""Batched finite-difference kernels of the quasi-static STZ solver (PyTorch, any device).

Discretisation (that of the original code, SURGroup/STZ ``simple_shear``, rewritten vectorised):
a periodic reference grid with velocities ``(u, v)`` and the reference map on cell *corners*
``(i, j)`` and stresses ``(p, q, s, τ)`` and χ on cell *centres* ``(i + ½, j + ½)``. Arrays are
``(..., y, x)``; the centre ``[j, i]`` lies up-right of the corner ``[j, i]``. Stresses are the
transformed-frame components of the simple-shear coordinate change x = T(t) X, T = [[1, λt], [0, 1]];
``lt`` below is λt, the current global shear strain.

Every function acts on a leading batch of runs; per-run coefficients are tensors of shape
``(N, 1, 1)`` (or ``(N, 1, 1, 1)`` where a channel dim is present) that broadcast.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def shift_x(f: Tensor, k: int) -> Tensor:
    """Periodic shift along x: ``shift_x(f, 1)[..., i] = f[..., i - 1]``."""
    return torch.roll(f, shifts=k, dims=-1)


def shift_y(f: Tensor, k: int) -> Tensor:
    """Periodic shift along y: ``shift_y(f, 1)[..., j, :] = f[..., j - 1, :]``."""
    return torch.roll(f, shifts=k, dims=-2)


def corner_to_centre(w: Tensor, hx: Tensor, hy: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Average and scaled gradients at cell centres of a corner field ``w``.

    Returns ``(mean of the 4 corners, hx·(2·dx ∂x w), hy·(2·dy ∂y w))``; with hx = dt/(2 dx) and
    hy = dt/(2 dy) the gradients are dt·∂w.
    """
    r = shift_x(w, -1)
    u = shift_y(w, -1)
    ru = shift_y(r, -1)
    return 0.25 * (w + r + u + ru), hx * (ru - w + r - u), hy * (ru - w + u - r)


def eno2(f: Tensor, upwind_from_minus: Tensor, h: Tensor, dim: int) -> Tensor:
    """Second-order ENO one-sided derivative along ``dim`` (-1: x, -2: y), times ``2·h·spacing``.

    Where ``upwind_from_minus`` (the advecting velocity is > 0) the stencil leans to i − 2 … i + 1,
    elsewhere to i − 1 … i + 2; of the centred difference and the fully one-sided one, the one with
    the smaller second difference is taken (the original's ``eno2``). Written as the centred
    difference plus a correction, with masks as multipliers (no ``where``) so it fuses well.
    """
    fp = torch.roll(f, -1, dims=dim)
    fm = torch.roll(f, 1, dims=dim)
    d2 = fp - 2.0 * f + fm
    m = upwind_from_minus.to(f.dtype)
    other = torch.roll(d2, 1, dims=dim) * m + torch.roll(d2, -1, dims=dim) * (1.0 - m)
    corr = (other - d2) * (2.0 * m - 1.0) * (d2.abs() > other.abs()).to(f.dtype)
    return h * (fp - fm + corr)


def physical_pressure(p: Tensor, q: Tensor, s: Tensor, tau: Tensor, lt: float | Tensor) -> Tensor:
    """Pressure of the physical frame from the transformed stresses."""
    return p + (lt / 3.0) * (-2.0 * tau + lt * (p + q + s))


def deviatoric_magnitude(p: Tensor, q: Tensor, s: Tensor, tau: Tensor, lt: float | Tensor) -> Tensor:
    """s̄ = sqrt(3 q² + s² + τ²) of the physical-frame stresses (units of s_y)."""
    t = p + q + s
    qp = q + (lt / 3.0) * (-tau + 0.5 * lt * t)
    sp = s + lt * (tau - 0.5 * lt * t)
    taup = tau - lt * t
    return torch.sqrt(3.0 * qp * qp + sp * sp + taup * taup)


def plastic_rates(sbar: Tensor, chi: Tensor, rate_pre: Tensor, chi_pre: Tensor
                  ) -> tuple[Tensor, Tensor]:
    """Athermal STZ law (paper eqs. 32–33) at s̄, χ.

    ``rate_pre`` = 2 μ t_scale ε0/τ0 and ``chi_pre`` = 2 t_scale ε0/(τ0 c0). Returns
    ``(r, k)``: r = 2 μ t_scale D_pl, the rate of decrease of s̄ per time unit, and k, the rate
    coefficient of χ̇ = k (χ∞ − χ) (k = t_scale · 2 D_pl s̄ / c0). Both vanish for s̄ < 1.
    """
    s = torch.clamp(sbar, min=1.0)
    f = (-2.0 + s + torch.exp(-s) * (2.0 + s)) * (1.0 - 1.0 / s) * torch.exp(-1.0 / chi)
    f = torch.where(sbar >= 1.0, f, torch.zeros_like(f))
    return rate_pre * f, chi_pre * f * s


def _exp(x: Tensor) -> Tensor:
    """exp with the argument clamped to the dtype's normal range, as
    :func:`grassego.stz.fused.fexp` clamps it (never 0 or inf)."""
    lo, hi = (-87.33, 88.3) if x.dtype == torch.float32 else (-708.39, 709.0)
    return torch.exp(torch.clamp(x, lo, hi))


def thermal_rates(sbar: Tensor, chi: Tensor, rate_pre: Tensor, chi_pre: Tensor, act: Tensor,
                  barrier: Tensor, barrier_exp: Tensor, half_rho: Tensor, kappa_pre: Tensor
                  ) -> tuple[Tensor, Tensor, Tensor]:
    """Thermally activated STZ law (the original solver's ``stz_dynamics_linear``) at s̄, χ.

    D_pl = e^(−1/χ) C(s̄) (T(s̄) − M(s̄)) / τ0 with C = e^(−Δ/θ) cosh(Ωε0 s̄/θ),
    T = tanh(Ωε0 s̄/θ) and M the smaller root of s̄M² − p M + T = 0, p = 1 + s̄T + ρ/(2 cosh),
    written as in :func:`grassego.stz.fused._thermal_rates` (operation for operation, but for
    libm's exp). ``rate_pre`` = 2 μ t_scale/τ0, ``chi_pre`` = 2 t_scale/(τ0 c0), the rest as
    :class:`grassego.stz.step.Coefficients` defines them. Returns ``(r, k, k_sink)``: r and k as
    :func:`plastic_rates` returns them, and k_sink, the rate of the κ sink χ̇ = −k_sink χ. All
    vanish below s̄ = 1e-12 (where the original leaves a cell alone).
    """
    x = act * sbar
    e = _exp(-x)
    e2 = e * e
    t = (1.0 - e2) / (1.0 + e2)
    st = sbar * t
    p = 1.0 + st + half_rho * (2.0 * e) / (1.0 + e2)
    m = 2.0 * t / (p + torch.sqrt(torch.clamp(p * p - 2.0 * (2.0 * st), min=0.0)))
    c = 0.5 * (_exp(x - barrier) + e * barrier_exp)
    bfac = _exp(-1.0 / chi)
    active = sbar >= 1e-12
    f = torch.where(active, bfac * c * (t - m), torch.zeros_like(sbar))
    sink = torch.where(active, bfac * kappa_pre, torch.zeros_like(sbar))
    return rate_pre * f, chi_pre * f * sbar, sink


def plastic_substep(s: Tensor, chi: Tensor, left: Tensor, rate_pre: Tensor, chi_pre: Tensor,
                    chi_inf: Tensor, adapt_fac: Tensor, thermal: tuple[Tensor, ...] | None
                    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One adaptive plastic sub-step of every cell (the original's scheme, explicit Euler).

    The law is the athermal one (``thermal`` None) or :func:`thermal_rates` with the
    coefficients ``thermal``. The sub-step is the time ``left`` of the step or, when that would
    lower s̄ by more than ``adapt_fac``, the time that lowers it by exactly ``adapt_fac``.
    Returns ``(s̄, χ, time left, unfinished)``; a finished cell has ``left = 0`` and stays
    unchanged by further calls.
    """
    if thermal is None:
        r, k = plastic_rates(s, chi, rate_pre, chi_pre)
    else:
        r, k, sink = thermal_rates(s, chi, rate_pre, chi_pre, *thermal)
    big = (left * r > adapt_fac) & torch.isfinite(r)
    adt = torch.where(big, adapt_fac / r, left)
    left = torch.where(big, left - adt, torch.zeros_like(left))
    if thermal is None:
        return s - adt * r, chi + k * (chi_inf - chi) * adt, left, big
    return s - adt * r, chi + (k * (chi_inf - chi) - sink * chi) * adt, left, big


def finish_substeps(s: Tensor, chi: Tensor, left: Tensor, big: Tensor, rate_pre: Tensor,
                    chi_pre: Tensor, chi_inf: Tensor, adapt_fac: Tensor, max_substeps: int,
                    thermal: tuple[Tensor, ...] | None, check_every: int = 8
                    ) -> tuple[Tensor, Tensor, Tensor | None]:
    """Continue :func:`plastic_substep` on the unfinished cells until every cell is done.

    Works on the compacted list of unfinished cells (re-compacted as cells finish), checking
    for completion every ``check_every`` sub-steps. Inputs (and ``thermal``'s coefficients)
    broadcast to the cell shape ``(N, y, x)``. Returns ``(s̄, χ, stuck)``, ``stuck`` marking
    cells still unfinished after ``max_substeps`` sub-steps (None when there are none).
    """
    shape = s.shape
    idx = torch.nonzero(big.reshape(-1)).squeeze(1)
    if idx.numel() == 0:
        return s, chi, None
    s_flat, c_flat = s.reshape(-1).clone(), chi.reshape(-1).clone()
    laws = () if thermal is None else thermal
    cols = [t.expand(shape).reshape(-1)[idx] for t in (s, chi, left, rate_pre, chi_pre,
                                                      chi_inf, adapt_fac, *laws)]
    sa, ca, la, pa, kpa, cia, ada, *th = cols
    done = 1
    stuck = None
    while True:
        for _ in range(check_every):
            sa, ca, la, big_a = plastic_substep(sa, ca, la, pa, kpa, cia, ada,
                                                tuple(th) if th else None)
        done += check_every
        if not bool(big_a.any()):
            break
        if done >= max_substeps:
            stuck = torch.zeros(shape, dtype=torch.bool, device=s.device)
            stuck.reshape(-1)[idx[big_a]] = True
            break
        keep = torch.nonzero(big_a).squeeze(1)
        if keep.numel() < big_a.numel() // 2:  # re-compact once most cells are finished
            s_flat[idx], c_flat[idx] = sa, ca
            idx = idx[keep]
            sa, ca, la, pa, kpa, cia, ada, *th = (t[keep] for t in (sa, ca, la, pa, kpa, cia, ada,
                                                                     *th))
    s_flat[idx], c_flat[idx] = sa, ca
    return s_flat.reshape(shape), c_flat.reshape(shape), stuck


def chi_diffusion(chi: Tensor, ddev: Tensor, lt: float | Tensor, dfacx: Tensor, dfacy: Tensor,
                  lfac: float) -> Tensor:
    """Plastic-rate-mediated χ diffusion increment over one step (the original's discretisation).

    ``ddev`` is the drop of s̄ in the step (∝ dt·D_pl), ``dfacx = l_χ²/(4 μ dx²)``, ``dfacy``
    likewise with dy, ``lfac = dy/(4 dx)``; the transformed y-gradient carries the −λt ∂X term.
    """
    lf = lfac * lt
    cx = shift_x(chi, -1) - shift_x(chi, 1)
    tr = (ddev + shift_x(ddev, -1)) * (shift_x(chi, -1) - chi)
    td = (ddev + shift_y(ddev, 1)) * (chi - shift_y(chi, 1) - lf * (cx + shift_y(cx, 1)))
    diffx = dfacx * (tr - shift_x(tr, 1))
    diffy = dfacy * (shift_y(td, -1) - td)
    return (1.0 - lt) * diffx + diffy


def net_force(p: Tensor, q: Tensor, s: Tensor, tau: Tensor, xf: Tensor, yf: Tensor
              ) -> tuple[Tensor, Tensor]:
    """Force at each corner from the four surrounding centres: −(∇·σ) with ∂x, ∂y scaled by
    ``xf = 1/(2 dx dt)`` and ``yf = 1/(2 dy dt)``."""
    def ddx(f):
        g = f - shift_x(f, 1)
        return g + shift_y(g, 1)

    def ddy(f):
        g = f - shift_y(f, 1)
        return g + shift_x(g, 1)

    pq = p + q
    fx = xf * ddx(pq - s) - yf * ddy(tau)
    fy = yf * ddy(pq + s) - xf * ddx(tau)
    return fx, fy


def projection_symbols(ny: int, nx: int, dx: float, dy: float, dtype: torch.dtype,
                       device: torch.device, full: bool = False) -> Tensor:
    """Polynomial coefficients of the projection operator's Fourier symbol, (2, 4, 4, ny, nx//2+1)
    (``full``: on the whole (ny, nx) wavenumber grid, for a complex FFT).

    The system assembled by the original (per corner: 2 × 2 blocks ``regc`` at the centre,
    ``regh`` for the x neighbours, ``regv`` for the y neighbours, ``regd`` for the diagonal ones
    with signs + − − +) has constant coefficients on the grid, so its symbol is
    Â(k) = −a·H − b·V − c·D with a = 2(1 − cos kx)/dx², b = 2(1 − cos ky)/dy²,
    c = 4 sin kx sin ky/(dx dy). Each entry of Â is μ·P_μ(λt) + λ_L·P_λ(λt) with cubic
    polynomials in λt: ``sym[m, i, k]`` is the coefficient of (λt)^k of entry i (11, 12, 21, 22)
    of P_μ (m = 0) or P_λ (m = 1).
    """
    freq = torch.fft.fftfreq if full else torch.fft.rfftfreq
    kx = 2.0 * torch.pi * freq(nx, dtype=torch.float64)
    ky = 2.0 * torch.pi * torch.fft.fftfreq(ny, dtype=torch.float64)
    kyy, kxx = torch.meshgrid(ky, kx, indexing="ij")
    a = 2.0 * (1.0 - torch.cos(kxx)) / dx**2
    b = 2.0 * (1.0 - torch.cos(kyy)) / dy**2
    c = 4.0 * torch.sin(kxx) * torch.sin(kyy) / (dx * dy)
    z = torch.zeros_like(a)
    mu = [[-2.0 * a - b, 0.5 * c, -a, z],            # a11: −a(2 + λt²) − b + ½cλt
          [-0.25 * c, -a - b, 0.5 * c, -a],          # a12: −a λt(1 + λt²) − bλt − ¼c(1 − 2λt²)
          [-0.25 * c, a, z, z],                      # a21: aλt − ¼c
          [-a - 2.0 * b, 0.75 * c, -a, z]]           # a22: −a(1 + λt²) − 2b + ¾cλt
    lam = [[-a, z, z, z],                            # a11: −a
           [-0.25 * c, z, z, z],                     # a12: −¼c
           [-0.25 * c, a, z, z],                     # a21: aλt − ¼c
           [-b, 0.25 * c, z, z]]                     # a22: −b + ¼cλt
    sym = torch.stack([torch.stack([torch.stack(e) for e in m]) for m in (mu, lam)])
    return sym.to(device=device, dtype=dtype)


def solve_projection(rhs: Tensor, mu: Tensor, lam: Tensor, lt: Tensor, sym: Tensor) -> Tensor:
    """Exact FFT solve of the projection step's linear system on the periodic corner grid.

    ``rhs`` (N, 2, y, x) is the original's [[1, λt], [0, 1]]·f at the corners; ``mu``, ``lam``
    (N, 1, 1) the shear modulus and Lamé λ over s_y; ``sym`` from :func:`projection_symbols`.
    Â(k) is inverted in closed form per wavenumber (the original uses multigrid); the zero mode
    (a rigid translation, Â = 0) gets zero velocity. Returns the corner velocity (N, 2, y, x).
    """
    powers = torch.stack((torch.ones_like(lt), lt, lt * lt, lt * lt * lt))
    poly = torch.einsum("mikyx,k->miyx", sym, powers)                  # (2, 4, y, kx)
    a11, a12, a21, a22 = (mu.unsqueeze(1) * poly[0] + lam.unsqueeze(1) * poly[1]).unbind(1)
    det = a11 * a22 - a12 * a21
    inv = 1.0 / torch.where(det == 0, torch.ones_like(det), det)
    inv = torch.where(det == 0, torch.zeros_like(inv), inv)
    g = torch.view_as_real(torch.fft.rfft2(rhs))
    gx, gy = g[:, 0], g[:, 1]
    i11, i12, i21, i22 = (t.unsqueeze(-1) for t in (a22 * inv, -a12 * inv, -a21 * inv, a11 * inv))
    z = torch.stack((i11 * gx + i12 * gy, i21 * gx + i22 * gy), dim=1)
    return torch.fft.irfft2(torch.view_as_complex(z.contiguous()), s=rhs.shape[-2:])


def green_lagrange_exy(xi_x: Tensor, xi_y: Tensor, lt: float | Tensor, dx: float, dy: float) -> Tensor:
    """E_xy of the Green–Lagrange strain ½(FᵀF − I) at the corners, F = T(t)·(∇X)⁻¹.

    The reference map is X = X_grid + ξ; its gradient uses centred differences.
    """
    xx = 1.0 + (shift_x(xi_x, -1) - shift_x(xi_x, 1)) / (2.0 * dx)
    xy = (shift_y(xi_x, -1) - shift_y(xi_x, 1)) / (2.0 * dy)
    yx = (shift_x(xi_y, -1) - shift_x(xi_y, 1)) / (2.0 * dx)
    yy = 1.0 + (shift_y(xi_y, -1) - shift_y(xi_y, 1)) / (2.0 * dy)
    jinv = 1.0 / (xx * yy - xy * yx)
    f21, f22 = -yx * jinv, xx * jinv
    f11 = yy * jinv + lt * f21
    f12 = -xy * jinv + lt * f22
    return 0.5 * (f11 * f12 + f21 * f22)
