"""CUDA kernel of the STZ solver (numba-cuda): one thread block per run, the run resident in
shared memory for a whole output frame.

The torch backend streams ~1,200 small tensor operations a step through the GPU; here one
launch advances every run of a batch by one frame. A block holds its run's nine state fields
(centre p, q, s, τ, χ; corner u, v; reference map ξ) and two work fields in shared memory,
each thread owning ``cells_per_thread`` cells (cell c = thread + k·threads, c = j·nx + i), and
steps them with the discretisation of the fused CPU backend (:mod:`grassego.stz.fused`): the
same plastic sub-stepping, ENO2 advection, Truesdell terms, χ diffusion, projection force,
radix-2 FFT (same twiddle tables and butterflies) and closed-form solve of the projection
system, each written with the fused backend's operations in its order, its exp included
(:func:`_fexp32`). Compiled without multiply-add contraction (:func:`grassego.stz.cuda_batch.
exact_arithmetic`) and with IEEE division and square root (numba-cuda's default), every
operation rounds as on the CPU, so a run is bitwise the run of the fused backend (tested in
numba-cuda's simulator; the GPU run of ``benchmarks/bench_cuda.py`` compares). Values that
other threads read in the same phase are staged in registers and written after a barrier. At
the end of the launch the block records the frame's grid-mean τ (summed in float64 in the
fused backend's order), the kept fields, and the run's status with the rules of
:func:`grassego.stz.fused_batch.run_fused`; later launches skip a failed run.

Shared memory per block: :data:`N_SHARED_FIELDS` · ny · nx values of the working dtype (44 KiB
for the 32 × 32 grid in float32). Grid sides must be powers of two.

Units are those of :mod:`grassego.stz.step` (stresses over s_y, the original's time unit).
Under ``NUMBA_ENABLE_CUDASIM=1`` the same code runs in numba-cuda's simulator on the CPU (the
tests). Every literal is typed, or taken from the constants array, in the working dtype: on the
GPU a bare Python float literal would turn float32 arithmetic into float64.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numba
from numba import cuda
from numba.core import config

#: Shared-memory fields per block: the nine state fields (:data:`grassego.stz.fused.STATE_NAMES`
#: order), then the s̄ drop of the plastic step, which becomes the real part of the FFT work
#: array, and its imaginary part.
N_SHARED_FIELDS = 11
_U, _V, _XI, _XI_Y, _ZR, _ZI = 5, 6, 7, 8, 9, 10
#: Status codes the kernel writes (0: running, or finished fine).
DIVERGED, NON_FINITE = 1, 2
#: Rows of the constants array: :func:`grassego.stz.fused.typed_constants` (0–11), then 2 dx,
#: 2 dy [Å].
N_CONSTANTS = 14


@cuda.jit(device=True)
def _fexp32(x):
    """:func:`grassego.stz.fused.fexp` for float32, operation for operation (the same clamp,
    reduction and Cephes polynomial; 2ⁿ by ldexp, exact), so it rounds identically; NaN gives
    NaN, as there."""
    if x != x:
        return x
    f = numba.float32
    x = min(max(x, f(-87.33)), f(88.3))
    ni = math.floor(x * f(1.44269504088896341) + f(0.5))
    n = f(ni)
    r = x - n * f(0.693359375) - n * f(-2.12194440e-4)
    p = (((((f(1.9875691500e-4) * r + f(1.3981999507e-3)) * r
            + f(8.3334519073e-3)) * r + f(4.1665795894e-2)) * r
          + f(1.6666665459e-1)) * r + f(5.0000001201e-1))
    e = p * (r * r) + r + f(1.0)
    return e * math.ldexp(f(1.0), ni)


@cuda.jit(device=True)
def _fexp64(x):
    """:func:`grassego.stz.fused.fexp` for float64, operation for operation (Cephes Padé)."""
    if x != x:
        return x
    f = numba.float64
    x = min(max(x, f(-708.39)), f(709.0))
    ni = math.floor(x * f(1.4426950408889634073599) + f(0.5))
    n = f(ni)
    r = x - n * f(6.93145751953125e-1) - n * f(1.42860682030941723212e-6)
    rr = r * r
    px = r * ((f(1.26177193074810590878e-4) * rr + f(3.02994407707441961300e-2)) * rr
              + f(9.99999999999999999910e-1))
    q = (((f(3.00198505138664455042e-6) * rr + f(2.52448340349684104192e-3)) * rr
          + f(2.27265548208155028766e-1)) * rr + f(2.00000000000000000009e0))
    e = f(1.0) + f(2.0) * px / (q - px)
    return e * math.ldexp(f(1.0), ni)


@cuda.jit(device=True)
def _eno2(sm, im2, im1, i0, ip1, ip2, from_minus, h, zero, one, two):
    """:func:`grassego.stz.fused._eno2` of the shared-memory values at five stencil indices."""
    fm2, fm1, f0, fp1, fp2 = sm[im2], sm[im1], sm[i0], sm[ip1], sm[ip2]
    d2 = fp1 - two * f0 + fm1
    m = one if from_minus else zero
    other = (f0 - two * fm1 + fm2) * m + (fp2 - two * fp1 + f0) * (one - m)
    use = one if abs(d2) > abs(other) else zero
    return h * (fp1 - fm1 + (other - d2) * (two * m - one) * use)


@cuda.jit(device=True)
def _flux_x(sm, chi0, dd0, j, i, nx, mx):
    """x-face flux of the χ diffusion at centre (j, i): ``tr`` of
    :func:`grassego.stz.fused._diffusion_fluxes`; ``chi0``, ``dd0``: offsets of χ and of the
    plastic drop in ``sm``."""
    c, cr = j * nx + i, j * nx + ((i + 1) & mx)
    return (sm[dd0 + c] + sm[dd0 + cr]) * (sm[chi0 + cr] - sm[chi0 + c])


@cuda.jit(device=True)
def _flux_y(sm, chi0, dd0, j, i, nx, mx, my, lf):
    """y-face flux of the χ diffusion at centre (j, i): ``td`` of
    :func:`grassego.stz.fused._diffusion_fluxes`; ``lf`` = dy/(4 dx)·λt."""
    row, rowm = j * nx, ((j - 1) & my) * nx
    ip, im = (i + 1) & mx, (i - 1) & mx
    cx = sm[chi0 + row + ip] - sm[chi0 + row + im]
    cxd = sm[chi0 + rowm + ip] - sm[chi0 + rowm + im]
    return ((sm[dd0 + row + i] + sm[dd0 + rowm + i])
            * (sm[chi0 + row + i] - sm[chi0 + rowm + i] - lf * (cx + cxd)))


@cuda.jit(device=True)
def _butterfly(sm, a, b, dz, wr, wi):
    """In-place radix-2 butterfly of the complex values at a and b (real parts at ``sm[a]``,
    ``sm[b]``, imaginary parts ``dz`` further on), twiddle wr + i·wi; the arithmetic of
    :func:`grassego.stz.fused._fft_axis0`."""
    br, bi = sm[b], sm[dz + b]
    tr = br * wr - bi * wi
    ti = br * wi + bi * wr
    ar, ai = sm[a], sm[dz + a]
    sm[b] = ar - tr
    sm[dz + b] = ai - ti
    sm[a] = ar + tr
    sm[dz + a] = ai + ti


@cuda.jit(device=True)
def _fft2(sm, zr0, zi0, twx, twy, row, lnx, lny, tid, nthreads):
    """In-place 2-D FFT of the work fields (complex, ny × nx), input already in bit-reversed
    order along both axes: radix-2 stages along x, then along y, a barrier after each stage.
    ``twx``/``twy`` (3, n/2): cos, −sin, +sin of 2πk/n; ``row`` 1 for the forward transform,
    2 for the inverse."""
    nx, ny = 1 << lnx, 1 << lny
    nb = (nx * ny) >> 1
    half, lh = 1, 0
    while half < nx:
        for b in range(tid, nb, nthreads):
            j, t = b >> (lnx - 1), b & ((nx >> 1) - 1)
            k = t & (half - 1)
            a = zr0 + j * nx + ((t >> lh) << (lh + 1)) + k
            w = k << (lnx - 1 - lh)
            _butterfly(sm, a, a + half, zi0 - zr0, twx[0, w], twx[row, w])
        cuda.syncthreads()
        half, lh = half << 1, lh + 1
    half, lh = 1, 0
    while half < ny:
        for b in range(tid, nb, nthreads):
            i, t = b & (nx - 1), b >> lnx
            k = t & (half - 1)
            a = zr0 + (((t >> lh) << (lh + 1)) + k) * nx + i
            w = k << (lny - 1 - lh)
            _butterfly(sm, a, a + half * nx, zi0 - zr0, twy[0, w], twy[row, w])
        cuda.syncthreads()
        half, lh = half << 1, lh + 1


@cuda.jit(device=True)
def _log2(n):
    """log2 of a power of two."""
    k = 0
    while (1 << k) < n:
        k += 1
    return k


@lru_cache(maxsize=None)
def frame_kernel(dtype_name: str, cells_per_thread: int, threads: int, min_blocks: int,
                 dynamics: str):
    """The kernel for the working dtype (``float32``/``float64``), cells per thread and STZ law
    (``dynamics``, :data:`grassego.stz.constants.DYNAMICS`), compiled for blocks of ``threads``
    threads with registers limited so that ``min_blocks`` blocks fit on one multiprocessor
    (CUDA launch bounds; ignored by the simulator). Launch as
    ``kernel[n_runs, threads, 0, shared_bytes](...)`` with threads · cells_per_thread = ny · nx;
    arguments:

    - ``state`` (N, 9, ny, nx) dtype: the runs' state, read at the start and written back at
      the end (unless the run failed)
    - ``coef`` (N, 19) dtype: per-run coefficients, :data:`grassego.stz.fused.CO_NAMES` then
      :data:`grassego.stz.fused.THERMAL_NAMES` order
    - ``consts`` (:data:`N_CONSTANTS`,) dtype; ``sym`` (2, 4, 4, ny, nx) dtype: the projection
      symbol's polynomial coefficients (:func:`grassego.stz.kernels.projection_symbols`, full)
    - ``lts`` (n_steps + 1,) dtype: λt after each step; ``revx`` (nx,), ``revy`` (ny,) int32:
      bit-reversal permutations; ``twx`` (3, nx/2), ``twy`` (3, ny/2) dtype: cos, −sin, +sin
    - ``step0``, ``n_steps``: the steps to take (0 records the initial state);
      ``max_substeps``; ``diverge`` float64 (1,): |stress|/s_y that counts as diverged
    - ``frame``, ``slot``: the frame index the launch ends on, and its index among the kept
      frames (−1: not kept)
    - ``per_run`` (N, 2) float64: s_y [GPa], T_Z [K]
    - out: ``status`` (N,) int8 (0 ok, :data:`DIVERGED`, :data:`NON_FINITE`); ``tau_mean``
      (N, frames + 1) float64 [GPa]; ``exy``, ``t_eff`` (N, kept, ny, nx) float32
    """
    real = {"float32": numba.float32, "float64": numba.float64}[dtype_name]
    fexp = {"float32": _fexp32, "float64": _fexp64}[dtype_name]
    cpt = int(cells_per_thread)
    bounds = {} if config.ENABLE_CUDASIM else {"launch_bounds": (int(threads), int(min_blocks))}
    thermal = {"athermal": False, "linear": True}[dynamics]

    @cuda.jit(device=True)
    def thermal_rates(s, chi, th, zero, half, one, two, tiny):
        """:func:`grassego.stz.fused._thermal_rates`; ``th``: the run's act, barrier,
        barrier_exp, half_rho, kappa_pre."""
        act, bar, bexp, hrho, kap = th
        x = act * s
        e = fexp(-x)
        e2 = e * e
        t = (one - e2) / (one + e2)
        st = s * t
        p = one + st + hrho * (two * e) / (one + e2)
        d = p * p - two * (two * st)
        m = two * t / (p + math.sqrt(d if d > zero else zero))
        c = half * (fexp(x - bar) + e * bexp)
        bfac = fexp(-one / chi)
        active = s >= tiny
        return (bfac * c * (t - m) if active else zero), (bfac * kap if active else zero)

    @cuda.jit(device=True)
    def substep(s, chi, left, rate_pre, chi_pre, chi_inf, adapt, th, zero, half, one, two,
                tiny):
        """:func:`grassego.stz.fused._substep`: one adaptive plastic sub-step of one cell.
        Returns (s̄, χ, time left)."""
        if thermal:
            f, sink = thermal_rates(s, chi, th, zero, half, one, two, tiny)
            k = chi_pre * f * s
        else:
            sc = s if s >= one else one
            f = (-two + sc + fexp(-sc) * (two + sc)) * (one - one / sc) * fexp(-one / chi)
            f = f if s >= one else zero
            k = chi_pre * f * sc
        rate = rate_pre * f
        big = left * rate > adapt and rate - rate == zero
        adt = adapt / rate if big else left
        left = left - adt if big else zero
        if thermal:
            return s - adt * rate, chi + (k * (chi_inf - chi) - sink * chi) * adt, left
        return s - adt * rate, chi + k * (chi_inf - chi) * adt, left

    @cuda.jit(**bounds)
    def advance_frame(state, coef, consts, sym, lts, revx, revy, twx, twy, step0, n_steps,
                      max_substeps, diverge, frame, slot, per_run, status, tau_mean, exy, t_eff):
        r = cuda.blockIdx.x
        if status[r] != 0:
            return
        tid = cuda.threadIdx.x
        nthreads = cuda.blockDim.x
        ny, nx = state.shape[2], state.shape[3]
        nc = ny * nx
        lnx, lny = _log2(nx), _log2(ny)
        mx, my = nx - 1, ny - 1
        sm = cuda.shared.array(0, real)
        staged = cuda.local.array((7, cpt), real)
        sbar_c = cuda.local.array(cpt, real)
        chi_c = cuda.local.array(cpt, real)
        adv = cuda.local.array(5, real)
        zero, quarter, half, one, two = consts[0], consts[1], consts[2], consts[3], consts[4]
        third, two3, six, tiny, three = consts[5], consts[6], consts[7], consts[8], consts[9]
        lfac, scale, twodx, twody = consts[10], consts[11], consts[12], consts[13]
        mu, lam, dt, hx, hy = coef[r, 0], coef[r, 1], coef[r, 2], coef[r, 3], coef[r, 4]
        xf, yf, rate_pre, chi_pre, chi_inf = coef[r, 5], coef[r, 6], coef[r, 7], coef[r, 8], coef[r, 9]
        adapt, dfx, dfy, sh = coef[r, 10], coef[r, 11], coef[r, 12], coef[r, 13]
        th = (coef[r, 14], coef[r, 15], coef[r, 16], coef[r, 17], coef[r, 18])
        P, Q, S, TAU, CHI = 0, nc, 2 * nc, 3 * nc, 4 * nc
        U, V, XX, XY, ZR, ZI = _U * nc, _V * nc, _XI * nc, _XI_Y * nc, _ZR * nc, _ZI * nc

        for f in range(9):
            for k in range(cpt):
                c = tid + k * nthreads
                sm[f * nc + c] = state[r, f, c >> lnx, c & mx]
        stuck = 0
        cuda.syncthreads()

        for n in range(step0, step0 + n_steps):
            lt0, lt1 = lts[n], lts[n + 1]
            # --- local plastic relaxation and χ source, adaptively sub-stepped per cell
            for k in range(cpt):
                c = tid + k * nthreads
                p, q, s, tau = sm[P + c], sm[Q + c], sm[S + c], sm[TAU + c]
                t = p + q + s
                qp = q + (lt0 / three) * (-tau + half * lt0 * t)
                sp = s + lt0 * (tau - half * lt0 * t)
                taup = tau - lt0 * t
                sbar = math.sqrt(three * qp * qp + sp * sp + taup * taup)
                s1, c1, left = substep(sbar, sm[CHI + c], dt, rate_pre, chi_pre, chi_inf, adapt,
                                       th, zero, half, one, two, tiny)
                m = 1
                while left > zero and m < max_substeps:
                    s1, c1, left = substep(s1, c1, left, rate_pre, chi_pre, chi_inf, adapt,
                                           th, zero, half, one, two, tiny)
                    m += 1
                if left > zero:
                    stuck = 1
                sbar_c[k] = sbar
                chi_c[k] = c1
                sm[ZR + c] = sbar - s1 if sbar >= tiny else zero
            cuda.syncthreads()
            # --- explicit step: advection, plastic relaxation, Truesdell terms, χ diffusion
            lt2 = lt0 * lt0
            lf = lfac * lt0
            for k in range(cpt):
                c = tid + k * nthreads
                j, i = c >> lnx, c & mx
                jp, jm, jp2, jm2 = (j + 1) & my, (j - 1) & my, (j + 2) & my, (j - 2) & my
                ip, im, ip2, im2 = (i + 1) & mx, (i - 1) & mx, (i + 2) & mx, (i - 2) & mx
                row, rowp = j * nx, jp * nx
                w, wr, wu, wru = sm[U + c], sm[U + row + ip], sm[U + rowp + i], sm[U + rowp + ip]
                uc = quarter * (w + wr + wu + wru)
                ux, uy = hx * (wru - w + wr - wu), hy * (wru - w + wu - wr)
                w, wr, wu, wru = sm[V + c], sm[V + row + ip], sm[V + rowp + i], sm[V + rowp + ip]
                vc = quarter * (w + wr + wu + wru)
                vx, vy = hx * (wru - w + wr - wu), hy * (wru - w + wu - wr)
                upos, vpos = uc > zero, vc > zero
                xm2, xm1, xp1, xp2 = row + im2, row + im, row + ip, row + ip2
                ym2, ym1, yp1, yp2 = jm2 * nx + i, jm * nx + i, rowp + i, jp2 * nx + i
                for f in range(5):
                    o = f * nc
                    adv[f] = (uc * _eno2(sm, o + xm2, o + xm1, o + c, o + xp1, o + xp2, upos, hx,
                                         zero, one, two)
                              + vc * _eno2(sm, o + ym2, o + ym1, o + c, o + yp1, o + yp2, vpos, hy,
                                           zero, one, two))
                p, q, s, tau = sm[P + c], sm[Q + c], sm[S + c], sm[TAU + c]
                old_p = p + (lt0 / three) * (-two * tau + lt0 * (p + q + s))
                sbar, ddev = sbar_c[k], sm[ZR + c]
                dtmp = ddev / (sbar if sbar >= tiny else one)
                diff = ((one - lt0) * (dfx * (_flux_x(sm, CHI, ZR, j, i, nx, mx)
                                              - _flux_x(sm, CHI, ZR, j, im, nx, mx)))
                        + dfy * (_flux_y(sm, CHI, ZR, jp, i, nx, mx, my, lf)
                                 - _flux_y(sm, CHI, ZR, j, i, nx, mx, my, lf)))
                staged[4, k] = chi_c[k] - adv[4] + diff
                div, shr, spin, vyux = ux + vy, uy + vx, vx - uy, vy - ux
                pq = p + q
                staged[0, k] = (p - adv[0] - third * dtmp * (two * lt0 * tau - lt2 * (pq + s) - lt2 * old_p)
                                - two3 * tau * shr - third * (p - two * q) * div + two3 * s * vyux)
                staged[1, k] = (q - adv[1] - dtmp * (q - lt2 / six * old_p) - third * tau * shr
                                + third * (p - two * q) * div + third * s * vyux)
                staged[2, k] = s - adv[2] - dtmp * (s + half * lt2 * old_p) - tau * spin + pq * vyux
                staged[3, k] = tau - adv[3] - dtmp * (tau - lt0 * old_p) - pq * shr + s * spin
                # reference map at the corner, advected by the corner velocity
                u, v = sm[U + c], sm[V + c]
                upos, vpos = u > zero, v > zero
                rx0 = _eno2(sm, XX + xm2, XX + xm1, XX + c, XX + xp1, XX + xp2, upos, hx, zero, one, two)
                ry0 = _eno2(sm, XX + ym2, XX + ym1, XX + c, XX + yp1, XX + yp2, vpos, hy, zero, one, two)
                rx1 = _eno2(sm, XY + xm2, XY + xm1, XY + c, XY + xp1, XY + xp2, upos, hx, zero, one, two)
                ry1 = _eno2(sm, XY + ym2, XY + ym1, XY + c, XY + yp1, XY + yp2, vpos, hy, zero, one, two)
                staged[5, k] = sm[XX + c] + (-u * (dt + rx0) - v * ry0)
                staged[6, k] = sm[XY + c] + (-u * rx1 - v * (dt + ry1))
            cuda.syncthreads()
            for k in range(cpt):
                c = tid + k * nthreads
                for f in range(5):
                    sm[f * nc + c] = staged[f, k]
                sm[XX + c] = staged[5, k]
                sm[XY + c] = staged[6, k]
            cuda.syncthreads()
            # --- projection right-hand side z = f_x' + i f_y, stored bit-reversed for the FFT
            for k in range(cpt):
                c = tid + k * nthreads
                j, i = c >> lnx, c & mx
                row, rowm, im = j * nx, ((j - 1) & my) * nx, (i - 1) & mx
                a = sm[P + c] + sm[Q + c]
                b = sm[P + row + im] + sm[Q + row + im]
                cc = sm[P + rowm + i] + sm[Q + rowm + i]
                d = sm[P + rowm + im] + sm[Q + rowm + im]
                sa, sb, sc, sd = sm[S + c], sm[S + row + im], sm[S + rowm + i], sm[S + rowm + im]
                ta, tb, tc, td = sm[TAU + c], sm[TAU + row + im], sm[TAU + rowm + i], sm[TAU + rowm + im]
                ddx_m = ((a - sa) - (b - sb)) + ((cc - sc) - (d - sd))
                ddy_t = (ta - tc) + (tb - td)
                ddy_p = ((a + sa) - (cc + sc)) + ((b + sb) - (d + sd))
                ddx_t = (ta - tb) + (tc - td)
                fx = xf * ddx_m - yf * ddy_t
                fy = yf * ddy_p - xf * ddx_t
                o = revy[j] * nx + revx[i]
                sm[ZR + o] = fx + lt1 * fy
                sm[ZI + o] = fy
            cuda.syncthreads()
            _fft2(sm, ZR, ZI, twx, twy, 1, lnx, lny, tid, nthreads)
            # --- apply the inverse symbol per wavenumber; the result is stored bit-reversed
            l2 = lt1 * lt1
            l3 = l2 * lt1
            for k in range(cpt):
                c = tid + k * nthreads
                j, i = c >> lnx, c & mx
                a11 = (mu * (sym[0, 0, 0, j, i] + sym[0, 0, 1, j, i] * lt1 + sym[0, 0, 2, j, i] * l2 + sym[0, 0, 3, j, i] * l3)
                       + lam * (sym[1, 0, 0, j, i] + sym[1, 0, 1, j, i] * lt1 + sym[1, 0, 2, j, i] * l2 + sym[1, 0, 3, j, i] * l3))
                a12 = (mu * (sym[0, 1, 0, j, i] + sym[0, 1, 1, j, i] * lt1 + sym[0, 1, 2, j, i] * l2 + sym[0, 1, 3, j, i] * l3)
                       + lam * (sym[1, 1, 0, j, i] + sym[1, 1, 1, j, i] * lt1 + sym[1, 1, 2, j, i] * l2 + sym[1, 1, 3, j, i] * l3))
                a21 = (mu * (sym[0, 2, 0, j, i] + sym[0, 2, 1, j, i] * lt1 + sym[0, 2, 2, j, i] * l2 + sym[0, 2, 3, j, i] * l3)
                       + lam * (sym[1, 2, 0, j, i] + sym[1, 2, 1, j, i] * lt1 + sym[1, 2, 2, j, i] * l2 + sym[1, 2, 3, j, i] * l3))
                a22 = (mu * (sym[0, 3, 0, j, i] + sym[0, 3, 1, j, i] * lt1 + sym[0, 3, 2, j, i] * l2 + sym[0, 3, 3, j, i] * l3)
                       + lam * (sym[1, 3, 0, j, i] + sym[1, 3, 1, j, i] * lt1 + sym[1, 3, 2, j, i] * l2 + sym[1, 3, 3, j, i] * l3))
                det = a11 * a22 - a12 * a21
                inv = one / det if det != zero else zero
                neg = ((-j) & my) * nx + ((-i) & mx)
                zr0, zi0, zr1, zi1 = sm[ZR + c], sm[ZI + c], sm[ZR + neg], sm[ZI + neg]
                fxr, fxi = half * (zr0 + zr1), half * (zi0 - zi1)
                fyr, fyi = half * (zi0 + zi1), half * (zr1 - zr0)
                i11, i12, i21, i22 = a22 * inv, -a12 * inv, -a21 * inv, a11 * inv
                ur, ui = i11 * fxr + i12 * fyr, i11 * fxi + i12 * fyi
                vr, vi = i21 * fxr + i22 * fyr, i21 * fxi + i22 * fyi
                staged[0, k] = ur - vi
                staged[1, k] = ui + vr
            cuda.syncthreads()
            for k in range(cpt):
                c = tid + k * nthreads
                o = revy[c >> lnx] * nx + revx[c & mx]
                sm[ZR + o] = staged[0, k]
                sm[ZI + o] = staged[1, k]
            cuda.syncthreads()
            _fft2(sm, ZR, ZI, twx, twy, 2, lnx, lny, tid, nthreads)
            # --- projection velocity, then its elastic stress increment and the imposed shear
            for k in range(cpt):
                c = tid + k * nthreads
                sm[U + c] = sm[ZR + c] * scale
                sm[V + c] = sm[ZI + c] * scale
            cuda.syncthreads()
            for k in range(cpt):
                c = tid + k * nthreads
                j, i = c >> lnx, c & mx
                row, rowp, ip = j * nx, ((j + 1) & my) * nx, (i + 1) & mx
                w, wr, wu, wru = sm[U + c], sm[U + row + ip], sm[U + rowp + i], sm[U + rowp + ip]
                ux, uy = hx * (wru - w + wr - wu), hy * (wru - w + wu - wr)
                w, wr, wu, wru = sm[V + c], sm[V + row + ip], sm[V + rowp + i], sm[V + rowp + ip]
                vx, vy = hx * (wru - w + wr - wu), hy * (wru - w + wu - wr)
                div = vy + ux
                sm[P + c] += (two3 * lt1 * sh + two3 * lt1 * mu * uy
                              - (lam + third * lam * l2 + two3 * mu) * div
                              - two3 * mu * l2 * ux + two3 * mu * lt1 * vx)
                sm[Q + c] += (third * lt1 * sh + third * lt1 * mu * uy
                              - (lam * l2 / six + third * mu) * div
                              - third * l2 * mu * ux + third * lt1 * mu * vx)
                sm[S + c] += (-lt1 * sh + lt1 * mu * (vx - uy) + (half * lam * l2 - mu) * vy
                              + (half * lam * l2 + mu + l2 * mu) * ux)
                sm[TAU + c] += sh + mu * uy - lt1 * (lam + mu) * div + mu * (one + l2) * vx
            # (no barrier: the next step's plastic phase touches only the thread's own cells)
        cuda.syncthreads()

        # --- the frame's record: failure checks, grid-mean τ, kept fields
        bad, huge = 0, 0
        for k in range(cpt):
            c = tid + k * nthreads
            for f in range(9):
                if f != _U and f != _V:
                    v = sm[f * nc + c]
                    if not math.isfinite(v):
                        bad = 1
                    elif f < 4 and abs(numba.float64(v)) > diverge[0]:
                        huge = 1
        bad = cuda.syncthreads_or(bad)
        huge = cuda.syncthreads_or(huge)
        stuck = cuda.syncthreads_or(stuck)
        if tid == 0:  # summed in the fused backend's order, so it rounds the same
            total = numba.float64(0.0)
            for c in range(nc):
                total += numba.float64(sm[TAU + c])
            tau_mean[r, frame] = total / nc * per_run[r, 0]
            if bad:
                status[r] = NON_FINITE
            elif huge or stuck:
                status[r] = DIVERGED
        if bad or huge or stuck:
            return
        if slot >= 0:
            lt = lts[step0 + n_steps]
            for k in range(cpt):
                c = tid + k * nthreads
                j, i = c >> lnx, c & mx
                row, ip, im = j * nx, (i + 1) & mx, (i - 1) & mx
                up, dn = ((j + 1) & my) * nx + i, ((j - 1) & my) * nx + i
                xx = one + (sm[XX + row + ip] - sm[XX + row + im]) / twodx
                xy = (sm[XX + up] - sm[XX + dn]) / twody
                yx = (sm[XY + row + ip] - sm[XY + row + im]) / twodx
                yy = one + (sm[XY + up] - sm[XY + dn]) / twody
                jinv = one / (xx * yy - xy * yx)
                f21, f22 = -yx * jinv, xx * jinv
                f11 = yy * jinv + lt * f21
                f12 = -xy * jinv + lt * f22
                exy[r, slot, j, i] = half * (f11 * f12 + f21 * f22)
                t_eff[r, slot, j, i] = numba.float64(sm[CHI + c]) * per_run[r, 1]
        for f in range(9):
            for k in range(cpt):
                c = tid + k * nthreads
                state[r, f, c >> lnx, c & mx] = sm[f * nc + c]

    return advance_frame
