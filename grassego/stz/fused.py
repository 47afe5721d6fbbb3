"""Fused CPU kernels of the STZ solver (Numba): one quasi-static step per pass over cache-resident data.

The PyTorch path (:mod:`grassego.stz.step`) streams every intermediate field of the whole batch
through memory, ~1,200 tensor operations a step; on a CPU that is memory- and dispatch-bound. Here
the same discretisation is written as a handful of loops over the grid whose innermost loop runs
over a *lane* of ``LANES`` runs stored contiguously: arrays are ``(field, y, x, lane)``, a lane
vector is one SIMD register, and one chunk of runs (state 0.6 MB in float32, 1.7 MB with its work
arrays) stays in the core's L2/L3 cache for all 6,000 steps. Chunks are independent and run in
parallel (``numba.prange``). The plastic sub-steps iterate the lanes of a cell together, masked,
with a branch-free :func:`fexp` (a loop calling libm's exp stays scalar).

Every run's arithmetic is element-wise across lanes and no fast-math reassociation or FMA
contraction is enabled, so a run's result does not depend on which runs share its chunk, on the
number of threads or on the batch size (tested bitwise, scalar 1-lane code against 16-lane
vector code). Results agree with the PyTorch path to rounding; both are tested against the
original solver's golden outputs.

The projection solve packs the two real force components into one complex field, z = f_x + i f_y,
and uses an in-house radix-2 FFT (grid sizes must be powers of two; :func:`supported` says whether
a grid is), which needs one forward and one inverse complex 2-D transform per step.

Units are those of :mod:`grassego.stz.step` (stresses over s_y, the original's time unit).
"""

from __future__ import annotations

import llvmlite.binding as llvm
from llvmlite import ir
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic, overload

# The lane loops read a dozen stencil points of several arrays; LLVM's default limit of 8 runtime
# alias checks would leave them scalar. The checks are cheap next to a 16-lane body, and a
# vectorised loop computes exactly what the scalar one does (no fast-math flags are set).
llvm.set_option("", "-runtime-memory-check-threshold=1024")
llvm.set_option("", "-vectorize-memory-check-threshold=1024")

#: Most runs per chunk: 16 float32 = one AVX-512 register, two AVX2 registers.
LANES = 16


def lanes_for(n_runs: int) -> int:
    """Runs per chunk for a batch of ``n_runs``: 1, 2 or 4 for batches that small, else
    :data:`LANES`. (Measured, one core, float32, a full CuZr run: 1 lane 1.2 s, 2 lanes 1.7 s,
    4 lanes 2.6 s, 8 lanes 3.4 s, 16 lanes 2.9 s: narrow chunks run scalar code.)"""
    for lanes in (1, 2, 4):
        if n_runs <= lanes:
            return lanes
    return LANES


#: Rows of the per-run coefficient array (see :class:`grassego.stz.step.Coefficients`).
CO_NAMES = ("mu", "lam", "dt", "hx", "hy", "xf", "yf", "rate_pre", "chi_pre", "chi_inf",
            "adapt", "dfacx", "dfacy", "shear")
_MU, _LAM, _DT, _HX, _HY, _XF, _YF, _RATE, _CHIP, _CHINF, _ADAPT, _DFX, _DFY, _SHEAR = range(14)

#: Rows of the per-run coefficients of the thermally activated law (``thermal`` argument of
#: :func:`advance`; see :func:`grassego.stz.step.coefficient_values`).
THERMAL_NAMES = ("act", "barrier", "barrier_exp", "half_rho", "kappa_pre")
_ACT, _BAR, _BEXP, _HRHO, _KAPPA = range(5)

#: State fields, axis 0 of the state array: centre p, q, s, τ, χ; corner u, v; reference map ξ.
STATE_NAMES = ("p", "q", "s", "tau", "chi", "u", "v", "xi_x", "xi_y")
N_STATE = len(STATE_NAMES)

_JIT = dict(cache=True, error_model="numpy", nogil=True)


def supported(ny: int, nx: int) -> bool:
    """Whether the fused kernels handle an (ny, nx) grid (both powers of two, ≥ 4)."""
    return all(n >= 4 and n & (n - 1) == 0 for n in (ny, nx))


def typed_constants(dtype: np.dtype, lfac: float, ny: int, nx: int) -> np.ndarray:
    """Literal constants in the working dtype (Numba would otherwise promote float32 to float64).

    Index: 0 → 0, 1 → ¼, 2 → ½, 3 → 1, 4 → 2, 5 → ⅓, 6 → ⅔, 7 → 6, 8 → 1e-12 (the s̄ below
    which a cell counts as stress-free), 9 → 3, 10 → dy/(4 dx), 11 → 1/(nx ny).
    """
    return np.array([0.0, 0.25, 0.5, 1.0, 2.0, 1.0 / 3.0, 2.0 / 3.0, 6.0, 1e-12, 3.0, lfac,
                     1.0 / (nx * ny)], dtype=dtype)


def fft_tables(n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bit-reversal permutation and twiddles cos, sin(2πk/n), k < n/2, of a length-n radix-2 FFT."""
    bits = n.bit_length() - 1
    rev = np.array([int(format(i, f"0{bits}b")[::-1], 2) for i in range(n)], dtype=np.int64)
    k = np.arange(n // 2)
    return rev, np.cos(2 * np.pi * k / n).astype(dtype), np.sin(2 * np.pi * k / n).astype(dtype)


def fexp(x):
    """exp(x) for float32/float64 inside the kernels: branch-free, so lane loops vectorise
    (LLVM leaves loops calling libm's exp scalar). Cody–Waite reduction x = n ln 2 + r, a
    polynomial (float32) or Padé (float64) approximant of e^r (the Cephes coefficients), and
    2ⁿ assembled from its exponent bits; arguments are clamped to the normal range (so the
    result is never 0 or inf). Accuracy: within 2 ulp of ``np.exp`` (tested)."""
    return np.exp(x)


@intrinsic
def _int_bits_as_float(typingctx, bits, like):
    """Reinterpret the low 32/64 bits of an integer as a float32/float64 (the type of ``like``)."""
    if isinstance(like, types.Float) and isinstance(bits, types.Integer) and bits.bitwidth >= like.bitwidth:
        def codegen(context, builder, signature, args):
            low = builder.trunc(args[0], ir.IntType(like.bitwidth)) if bits.bitwidth > like.bitwidth else args[0]
            return builder.bitcast(low, context.get_value_type(like))
        return like(bits, like), codegen
    return None


@overload(fexp, inline="always", jit_options=_JIT)
def _fexp_impl(x):
    if x == types.float32:
        def exp32(x):
            x = min(max(x, np.float32(-87.33)), np.float32(88.3))
            n = np.floor(x * np.float32(1.44269504088896341) + np.float32(0.5))
            r = x - n * np.float32(0.693359375) - n * np.float32(-2.12194440e-4)
            p = (((((np.float32(1.9875691500e-4) * r + np.float32(1.3981999507e-3)) * r
                    + np.float32(8.3334519073e-3)) * r + np.float32(4.1665795894e-2)) * r
                  + np.float32(1.6666665459e-1)) * r + np.float32(5.0000001201e-1))
            e = p * (r * r) + r + np.float32(1.0)
            return e * _int_bits_as_float((np.int64(n) + 127) << 23, x)
        return exp32
    if x == types.float64:
        def exp64(x):
            x = min(max(x, -708.39), 709.0)
            n = np.floor(x * 1.4426950408889634073599 + 0.5)
            r = x - n * 6.93145751953125e-1 - n * 1.42860682030941723212e-6
            rr = r * r
            px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
                      + 9.99999999999999999910e-1)
            q = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
                  + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
            e = 1.0 + 2.0 * px / (q - px)
            return e * _int_bits_as_float((np.int64(n) + 1023) << 52, x)
        return exp64
    return None


@njit(inline="always", **_JIT)
def _thermal_rates(s, chi, th, r, K):
    """The thermally activated law (the original's ``stz_dynamics_linear``) at s̄, χ for lane r:
    f = τ0 D_pl = e^(−1/χ) C(s̄) (T(s̄) − M(s̄)) and the χ-sink rate e^(−1/χ)·``kappa_pre``;
    both zero below s̄ = 1e-12 (where the original skips the cell). With x = Ωε0 s̄/θ,
    e = e^(−x): T = tanh x = (1 − e²)/(1 + e²), ρ/(2 cosh x) = ρ e/(1 + e²),
    C = e^(−Δ/θ) cosh x = (e^(x − Δ/θ) + e·e^(−Δ/θ))/2, and M in the rationalised form
    2T/(p + √(p² − 4 s̄ T)), p = 1 + s̄T + ρ/(2 cosh x) (the original's
    (p − √(p² − 4 s̄ T))/(2 s̄) cancels catastrophically in float32 when ρ is large)."""
    zero, half, one, two, tiny = K[0], K[2], K[3], K[4], K[8]
    x = th[_ACT, r] * s
    e = fexp(-x)
    e2 = e * e
    t = (one - e2) / (one + e2)
    st = s * t
    p = one + st + th[_HRHO, r] * (two * e) / (one + e2)
    d = p * p - two * (two * st)
    m = two * t / (p + np.sqrt(d if d > zero else zero))
    c = half * (fexp(x - th[_BAR, r]) + e * th[_BEXP, r])
    bfac = fexp(-one / chi)
    active = s >= tiny
    return (bfac * c * (t - m) if active else zero), (bfac * th[_KAPPA, r] if active else zero)


@njit(inline="always", **_JIT)
def _substep(s, chi, left, rate_pre, chi_pre, chi_inf, adapt, K, th, r):
    """One adaptive plastic sub-step of one cell (branch-free): the STZ law at s̄, χ (athermal
    where ``th`` is None, else :func:`_thermal_rates` with the coefficients ``th[:, r]``), then a
    sub-step of the time ``left`` or, if that would lower s̄ by more than ``adapt``, of the time
    that lowers it by exactly ``adapt``. Returns (s̄, χ, time left)."""
    zero, one, two = K[0], K[3], K[4]
    if th is None:
        sc = s if s >= one else one
        f = (-two + sc + fexp(-sc) * (two + sc)) * (one - one / sc) * fexp(-one / chi)
        f = f if s >= one else zero
        k = chi_pre * f * sc
    else:
        f, sink = _thermal_rates(s, chi, th, r, K)
        k = chi_pre * f * s
    rate = rate_pre * f
    big = left * rate > adapt and rate - rate == zero
    adt = adapt / rate if big else left
    left = left - adt if big else zero
    if th is None:
        return s - adt * rate, chi + k * (chi_inf - chi) * adt, left
    return s - adt * rate, chi + (k * (chi_inf - chi) - sink * chi) * adt, left


@njit(**_JIT)
def _plastic(st, co, K, lt0, max_substeps, sb, dd, cl, stuck, th):
    """s̄ at the step start (``sb``), its drop in the local plastic relaxation (``dd``, zero where
    s̄ < 1e-12) and χ after the local plastic source (``cl``), adaptively sub-stepped per cell:
    the lanes of a cell iterate together, masked, until each has used up the step; lanes with a
    cell still unfinished after ``max_substeps`` sub-steps are flagged in ``stuck``. ``th``:
    None (athermal law) or the chunk's thermal-law coefficients (:data:`THERMAL_NAMES`, lanes)."""
    _, ny, nx, R = st.shape
    zero, half, three, tiny = K[0], K[2], K[9], K[8]
    left = np.empty(R, dtype=st.dtype)
    for j in range(ny):
        for i in range(nx):
            pending = 0
            for r in range(R):
                p, q, s, tau = st[0, j, i, r], st[1, j, i, r], st[2, j, i, r], st[3, j, i, r]
                t = p + q + s
                qp = q + (lt0 / three) * (-tau + half * lt0 * t)
                sp = s + lt0 * (tau - half * lt0 * t)
                taup = tau - lt0 * t
                sbar = np.sqrt(three * qp * qp + sp * sp + taup * taup)
                s1, c1, lr = _substep(sbar, st[4, j, i, r], co[_DT, r], co[_RATE, r],
                                      co[_CHIP, r], co[_CHINF, r], co[_ADAPT, r], K, th, r)
                sb[j, i, r] = sbar
                dd[j, i, r] = s1
                cl[j, i, r] = c1
                left[r] = lr
                pending += 1 if lr > zero else 0
            n = 1
            while pending > 0 and n < max_substeps:
                pending = 0
                for r in range(R):
                    s0, c0, l0 = dd[j, i, r], cl[j, i, r], left[r]
                    s1, c1, lr = _substep(s0, c0, l0, co[_RATE, r], co[_CHIP, r], co[_CHINF, r],
                                          co[_ADAPT, r], K, th, r)
                    go = l0 > zero
                    dd[j, i, r] = s1 if go else s0
                    cl[j, i, r] = c1 if go else c0
                    left[r] = lr if go else l0
                    pending += 1 if go and lr > zero else 0
                n += 1
            if pending > 0:
                for r in range(R):
                    if left[r] > zero:
                        stuck[r] = True
            for r in range(R):
                sbar = sb[j, i, r]
                dd[j, i, r] = sbar - dd[j, i, r] if sbar >= tiny else zero


@njit(inline="always", **_JIT)
def _eno2(fm2, fm1, f0, fp1, fp2, from_minus, h, K):
    """Second-order ENO upwind difference (times h·2·spacing) from the five-point stencil: the
    centred difference, corrected towards the upwind one-sided one where that has the smaller
    second difference. Branch-free (masks as 0/1 factors) so the lane loop vectorises."""
    zero, one, two = K[0], K[3], K[4]
    d2 = fp1 - two * f0 + fm1
    m = one if from_minus else zero
    other = (f0 - two * fm1 + fm2) * m + (fp2 - two * fp1 + f0) * (one - m)
    use = one if abs(d2) > abs(other) else zero
    return h * (fp1 - fm1 + (other - d2) * (two * m - one) * use)


@njit(inline="always", **_JIT)
def _eno2_x(st, f, j, i, r, xs, from_minus, h, K):
    """:func:`_eno2` of field ``f`` along x at centre/corner (j, i) of lane r; ``xs`` holds the
    periodic indices (i − 2, i − 1, i + 1, i + 2)."""
    im2, im, ip, ip2 = xs
    return _eno2(st[f, j, im2, r], st[f, j, im, r], st[f, j, i, r], st[f, j, ip, r],
                 st[f, j, ip2, r], from_minus, h, K)


@njit(inline="always", **_JIT)
def _eno2_y(st, f, j, i, r, ys, from_minus, h, K):
    """:func:`_eno2` of field ``f`` along y; ``ys`` = (j − 2, j − 1, j + 1, j + 2)."""
    jm2, jm, jp, jp2 = ys
    return _eno2(st[f, jm2, i, r], st[f, jm, i, r], st[f, j, i, r], st[f, jp, i, r],
                 st[f, jp2, i, r], from_minus, h, K)


@njit(**_JIT)
def _diffusion_fluxes(st, dd, K, lt0, xp, xm, ym, tr, td):
    """Face fluxes of the plastic-rate-mediated χ diffusion (x faces ``tr``, y faces ``td``)."""
    _, ny, nx, R = st.shape
    lf = K[10] * lt0
    for j in range(ny):
        jm = ym[j]
        for i in range(nx):
            ip, im = xp[i], xm[i]
            for r in range(R):
                chi, chir = st[4, j, i, r], st[4, j, ip, r]
                cx = chir - st[4, j, im, r]
                cxd = st[4, jm, ip, r] - st[4, jm, im, r]
                tr[j, i, r] = (dd[j, i, r] + dd[j, ip, r]) * (chir - chi)
                td[j, i, r] = (dd[j, i, r] + dd[jm, i, r]) * (chi - st[4, jm, i, r] - lf * (cx + cxd))


@njit(**_JIT)
def _explicit(st, co, K, lt0, sb, dd, cl, tr, td, xp, xm, xp2, xm2, yp, ym, yp2, ym2, out):
    """The explicit part of a step: ENO2 advection of the centre fields and of the reference map,
    the plastic relaxation, Truesdell terms and χ diffusion. Writes the intermediate centre fields
    and the advected reference map into ``out`` (fields 0–4 and 7–8)."""
    _, ny, nx, R = st.shape
    quarter, half, one, two, third = K[1], K[2], K[3], K[4], K[5]
    two3, six, tiny, three = K[6], K[7], K[8], K[9]
    lt2 = lt0 * lt0
    for j in range(ny):
        jp, jm = yp[j], ym[j]
        ys = (ym2[j], jm, jp, yp2[j])
        for i in range(nx):
            ip, im = xp[i], xm[i]
            xs = (xm2[i], im, ip, xp2[i])
            for r in range(R):
                hx, hy = co[_HX, r], co[_HY, r]
                # corner velocities around the centre: averages and dt-scaled gradients
                w, wr, wu, wru = st[5, j, i, r], st[5, j, ip, r], st[5, jp, i, r], st[5, jp, ip, r]
                uc = quarter * (w + wr + wu + wru)
                ux, uy = hx * (wru - w + wr - wu), hy * (wru - w + wu - wr)
                w, wr, wu, wru = st[6, j, i, r], st[6, j, ip, r], st[6, jp, i, r], st[6, jp, ip, r]
                vc = quarter * (w + wr + wu + wru)
                vx, vy = hx * (wru - w + wr - wu), hy * (wru - w + wu - wr)
                upos, vpos = uc > 0, vc > 0
                a0 = (uc * _eno2_x(st, 0, j, i, r, xs, upos, hx, K)
                      + vc * _eno2_y(st, 0, j, i, r, ys, vpos, hy, K))
                a1 = (uc * _eno2_x(st, 1, j, i, r, xs, upos, hx, K)
                      + vc * _eno2_y(st, 1, j, i, r, ys, vpos, hy, K))
                a2 = (uc * _eno2_x(st, 2, j, i, r, xs, upos, hx, K)
                      + vc * _eno2_y(st, 2, j, i, r, ys, vpos, hy, K))
                a3 = (uc * _eno2_x(st, 3, j, i, r, xs, upos, hx, K)
                      + vc * _eno2_y(st, 3, j, i, r, ys, vpos, hy, K))
                a4 = (uc * _eno2_x(st, 4, j, i, r, xs, upos, hx, K)
                      + vc * _eno2_y(st, 4, j, i, r, ys, vpos, hy, K))
                p, q, s, tau = st[0, j, i, r], st[1, j, i, r], st[2, j, i, r], st[3, j, i, r]
                old_p = p + (lt0 / three) * (-two * tau + lt0 * (p + q + s))
                sbar, ddev = sb[j, i, r], dd[j, i, r]
                dtmp = ddev / (sbar if sbar >= tiny else one)
                diff = ((one - lt0) * (co[_DFX, r] * (tr[j, i, r] - tr[j, im, r]))
                        + co[_DFY, r] * (td[jp, i, r] - td[j, i, r]))
                out[4, j, i, r] = cl[j, i, r] - a4 + diff
                div, shear, spin, vyux = ux + vy, uy + vx, vx - uy, vy - ux
                pq = p + q
                out[0, j, i, r] = (p - a0 - third * dtmp * (two * lt0 * tau - lt2 * (pq + s) - lt2 * old_p)
                                   - two3 * tau * shear - third * (p - two * q) * div + two3 * s * vyux)
                out[1, j, i, r] = (q - a1 - dtmp * (q - lt2 / six * old_p) - third * tau * shear
                                   + third * (p - two * q) * div + third * s * vyux)
                out[2, j, i, r] = s - a2 - dtmp * (s + half * lt2 * old_p) - tau * spin + pq * vyux
                out[3, j, i, r] = tau - a3 - dtmp * (tau - lt0 * old_p) - pq * shear + s * spin
                # reference map at the corner, advected by the corner velocity
                u, v, dt = st[5, j, i, r], st[6, j, i, r], co[_DT, r]
                upos, vpos = u > 0, v > 0
                rx0 = _eno2_x(st, 7, j, i, r, xs, upos, hx, K)
                ry0 = _eno2_y(st, 7, j, i, r, ys, vpos, hy, K)
                rx1 = _eno2_x(st, 8, j, i, r, xs, upos, hx, K)
                ry1 = _eno2_y(st, 8, j, i, r, ys, vpos, hy, K)
                out[7, j, i, r] = st[7, j, i, r] + (-u * (dt + rx0) - v * ry0)
                out[8, j, i, r] = st[8, j, i, r] + (-u * rx1 - v * (dt + ry1))


@njit(**_JIT)
def _force(out, co, K, lt1, xm, ym, zr, zi):
    """Right-hand side of the projection at the corners, packed as z = f_x' + i f_y with
    f' = [[1, λt], [0, 1]]·(−∇·σ/dt) of the intermediate stresses in ``out``."""
    _, ny, nx, R = out.shape
    for j in range(ny):
        jm = ym[j]
        for i in range(nx):
            im = xm[i]
            for r in range(R):
                a = out[0, j, i, r] + out[1, j, i, r]
                b = out[0, j, im, r] + out[1, j, im, r]
                c = out[0, jm, i, r] + out[1, jm, i, r]
                d = out[0, jm, im, r] + out[1, jm, im, r]
                sa, sb_, sc, sd = out[2, j, i, r], out[2, j, im, r], out[2, jm, i, r], out[2, jm, im, r]
                ta, tb, tc, td = out[3, j, i, r], out[3, j, im, r], out[3, jm, i, r], out[3, jm, im, r]
                xf, yf = co[_XF, r], co[_YF, r]
                ddx_m = ((a - sa) - (b - sb_)) + ((c - sc) - (d - sd))
                ddy_t = (ta - tc) + (tb - td)
                ddy_p = ((a + sa) - (c + sc)) + ((b + sb_) - (d + sd))
                ddx_t = (ta - tb) + (tc - td)
                fx = xf * ddx_m - yf * ddy_t
                fy = yf * ddy_p - xf * ddx_t
                zr[j, i, r] = fx + lt1 * fy
                zi[j, i, r] = fy


@njit(**_JIT)
def _fft_axis0(re, im, rev, cw, sw):
    """In-place radix-2 FFT along axis 0 of the complex (n, m) array re + i·im, every column at
    once (the inner loop runs over the contiguous axis 1); the twiddle of index k is
    cw[k] + i·sw[k] (sw = −sin for the forward transform, +sin for the inverse)."""
    n, m_cols = re.shape
    for a in range(n):
        b = rev[a]
        if b > a:
            for c in range(m_cols):
                t = re[a, c]
                re[a, c] = re[b, c]
                re[b, c] = t
                t = im[a, c]
                im[a, c] = im[b, c]
                im[b, c] = t
    half = 1
    while half < n:
        stride = n // (2 * half)
        for k in range(half):
            wr, wi = cw[k * stride], sw[k * stride]
            for a in range(k, n, 2 * half):
                b = a + half
                for c in range(m_cols):
                    br, bi = re[b, c], im[b, c]
                    tr = br * wr - bi * wi
                    ti = br * wi + bi * wr
                    ar, ai = re[a, c], im[a, c]
                    re[b, c] = ar - tr
                    im[b, c] = ai - ti
                    re[a, c] = ar + tr
                    im[a, c] = ai + ti
        half *= 2


@njit(**_JIT)
def _fft2(re, im, revx, cwx, swx, revy, cwy, swy):
    """In-place 2-D FFT of the complex field re + i·im (ny, nx, lanes): along x row by row, then
    along y with every (x, lane) column at once."""
    ny, nx, R = re.shape
    for j in range(ny):
        _fft_axis0(re[j], im[j], revx, cwx, swx)
    _fft_axis0(re.reshape(ny, nx * R), im.reshape(ny, nx * R), revy, cwy, swy)


@njit(**_JIT)
def _solve(zr, zi, wr, wi, co, K, sym, lt, yneg, xneg):
    """Apply Â(k)⁻¹ to the transformed right-hand side: z = FFT(f_x' + i f_y) in, w = FFT(u + i v)
    out. Â(k) is real and even in k, so f_x(k) = (z(k) + z̄(−k))/2, f_y(k) = (z(k) − z̄(−k))/2i
    and w = û + i v̂. ``sym`` (2, 4, 4, ny, nx): the symbol polynomials on the full grid (see
    :func:`grassego.stz.kernels.projection_symbols`); the zero mode gets zero velocity."""
    ny, nx, R = zr.shape
    half, one = K[2], K[3]
    lt2 = lt * lt
    lt3 = lt2 * lt
    pm = np.empty(4, dtype=zr.dtype)
    pl = np.empty(4, dtype=zr.dtype)
    for j in range(ny):
        jn = yneg[j]
        for i in range(nx):
            i_n = xneg[i]
            for e in range(4):
                pm[e] = sym[0, e, 0, j, i] + sym[0, e, 1, j, i] * lt + sym[0, e, 2, j, i] * lt2 + sym[0, e, 3, j, i] * lt3
                pl[e] = sym[1, e, 0, j, i] + sym[1, e, 1, j, i] * lt + sym[1, e, 2, j, i] * lt2 + sym[1, e, 3, j, i] * lt3
            for r in range(R):
                mu, lam = co[_MU, r], co[_LAM, r]
                a11 = mu * pm[0] + lam * pl[0]
                a12 = mu * pm[1] + lam * pl[1]
                a21 = mu * pm[2] + lam * pl[2]
                a22 = mu * pm[3] + lam * pl[3]
                det = a11 * a22 - a12 * a21
                inv = one / det if det != 0 else K[0]
                zr0, zi0, zr1, zi1 = zr[j, i, r], zi[j, i, r], zr[jn, i_n, r], zi[jn, i_n, r]
                fxr, fxi = half * (zr0 + zr1), half * (zi0 - zi1)
                fyr, fyi = half * (zi0 + zi1), half * (zr1 - zr0)
                i11, i12, i21, i22 = a22 * inv, -a12 * inv, -a21 * inv, a11 * inv
                ur, ui = i11 * fxr + i12 * fyr, i11 * fxi + i12 * fyi
                vr, vi = i21 * fxr + i22 * fyr, i21 * fxi + i22 * fyi
                wr[j, i, r] = ur - vi
                wi[j, i, r] = ui + vr


@njit(**_JIT)
def _update(out, wr, wi, co, K, lt, xp, yp):
    """Store the projection velocity (the inverse transform ``wr + i·wi`` times 1/(nx ny)) and add
    its elastic stress increment plus the imposed shear to the intermediate centre fields."""
    _, ny, nx, R = out.shape
    half, one, third, two3, six, scale = K[2], K[3], K[5], K[6], K[7], K[11]
    for j in range(ny):
        for i in range(nx):
            for r in range(R):
                out[5, j, i, r] = wr[j, i, r] * scale
                out[6, j, i, r] = wi[j, i, r] * scale
    l2 = lt * lt
    for j in range(ny):
        jp = yp[j]
        for i in range(nx):
            ip = xp[i]
            for r in range(R):
                hx, hy = co[_HX, r], co[_HY, r]
                w, wr_, wu, wru = out[5, j, i, r], out[5, j, ip, r], out[5, jp, i, r], out[5, jp, ip, r]
                ux, uy = hx * (wru - w + wr_ - wu), hy * (wru - w + wu - wr_)
                w, wr_, wu, wru = out[6, j, i, r], out[6, j, ip, r], out[6, jp, i, r], out[6, jp, ip, r]
                vx, vy = hx * (wru - w + wr_ - wu), hy * (wru - w + wu - wr_)
                mu, lam, sh = co[_MU, r], co[_LAM, r], co[_SHEAR, r]
                div = vy + ux
                out[0, j, i, r] += (two3 * lt * sh + two3 * lt * mu * uy
                                    - (lam + third * lam * l2 + two3 * mu) * div
                                    - two3 * mu * l2 * ux + two3 * mu * lt * vx)
                out[1, j, i, r] += (third * lt * sh + third * lt * mu * uy
                                    - (lam * l2 / six + third * mu) * div
                                    - third * l2 * mu * ux + third * lt * mu * vx)
                out[2, j, i, r] += (-lt * sh + lt * mu * (vx - uy) + (half * lam * l2 - mu) * vy
                                    + (half * lam * l2 + mu + l2 * mu) * ux)
                out[3, j, i, r] += sh + mu * uy - lt * (lam + mu) * div + mu * (one + l2) * vx


@njit(**_JIT)
def _summarise(st, summary):
    """Per lane: grid-mean τ (accumulated in float64), whether the centre fields and the
    reference map are all finite (1/0), and the largest |p|, |q|, |s|, |τ|; into ``summary``
    (3, lanes) float64."""
    _, ny, nx, R = st.shape
    for r in range(R):
        summary[0, r] = 0.0
        summary[1, r] = 1.0
        summary[2, r] = 0.0
    for j in range(ny):
        for i in range(nx):
            for r in range(R):
                summary[0, r] += np.float64(st[3, j, i, r])
    for f in (0, 1, 2, 3, 4, 7, 8):
        for j in range(ny):
            for i in range(nx):
                for r in range(R):
                    v = np.float64(st[f, j, i, r])
                    if not np.isfinite(v):
                        summary[1, r] = 0.0
                    elif f < 4 and abs(v) > summary[2, r]:
                        summary[2, r] = abs(v)
    for r in range(R):
        summary[0, r] /= ny * nx


@njit(**_JIT)
def _advance_chunk(st, co, K, sym, lts, step0, n_steps, max_substeps, stuck, tables, th):
    """Advance one chunk ``st`` (fields, ny, nx, lanes) by ``n_steps`` quasi-static steps starting
    at global step ``step0`` (λt of step n is ``lts[n]``); the result is left in ``st``. ``th``:
    as :func:`_plastic` takes it."""
    (xp, xm, xp2, xm2, yp, ym, yp2, ym2, xneg, yneg,
     revx, cwx, swfx, swix, revy, cwy, swfy, swiy) = tables
    _, ny, nx, R = st.shape
    cell = (ny, nx, R)
    sb, dd, cl = np.empty(cell, st.dtype), np.empty(cell, st.dtype), np.empty(cell, st.dtype)
    tr, td = np.empty(cell, st.dtype), np.empty(cell, st.dtype)
    zr, zi = np.empty(cell, st.dtype), np.empty(cell, st.dtype)
    wr, wi = np.empty(cell, st.dtype), np.empty(cell, st.dtype)
    cur, nxt = st, np.empty_like(st)
    for n in range(step0, step0 + n_steps):
        lt0, lt1 = lts[n], lts[n + 1]
        _plastic(cur, co, K, lt0, max_substeps, sb, dd, cl, stuck, th)
        _diffusion_fluxes(cur, dd, K, lt0, xp, xm, ym, tr, td)
        _explicit(cur, co, K, lt0, sb, dd, cl, tr, td, xp, xm, xp2, xm2, yp, ym, yp2, ym2, nxt)
        _force(nxt, co, K, lt1, xm, ym, zr, zi)
        _fft2(zr, zi, revx, cwx, swfx, revy, cwy, swfy)
        _solve(zr, zi, wr, wi, co, K, sym, lt1, yneg, xneg)
        _fft2(wr, wi, revx, cwx, swix, revy, cwy, swiy)
        _update(nxt, wr, wi, co, K, lt1, xp, yp)
        cur, nxt = nxt, cur
    if n_steps % 2 == 1:
        st[:] = cur


@njit(parallel=True, **_JIT)
def advance(state, coef, K, sym, lts, step0, n_steps, max_substeps, stuck, tables, summary,
            thermal):
    """Advance every chunk of ``state`` (chunks, fields, ny, nx, lanes) by ``n_steps`` steps, the
    chunks in parallel. ``coef`` (chunks, len(CO_NAMES), lanes); ``stuck`` (chunks, lanes) bool
    is set for lanes whose plastic sub-stepping exceeded ``max_substeps``; ``summary`` (chunks,
    3, lanes) receives :func:`_summarise` of the new state. ``thermal``: None for the athermal
    law, else the thermal law's coefficients (chunks, len(THERMAL_NAMES), lanes); Numba compiles
    each case separately (the None branch is pruned), so the athermal code is as before."""
    for c in prange(state.shape[0]):
        if thermal is None:
            _advance_chunk(state[c], coef[c], K, sym, lts, step0, n_steps, max_substeps,
                           stuck[c], tables, None)
        else:
            _advance_chunk(state[c], coef[c], K, sym, lts, step0, n_steps, max_substeps,
                           stuck[c], tables, thermal[c])
        _summarise(state[c], summary[c])
