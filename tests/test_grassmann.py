"""Grassmann projection and distances against analytic subspaces (paper §2.1, eqs. 2-8)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grassego.grassmann import (METRICS, RankRule, frobenius_distance, grassmann_distance,
                                principal_angles, project)

N = 32


def _orthonormal(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64, generator=g))
    return q


def _pair_with_angles(angles: list[float], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two rank-p field matrices whose column spaces meet at the given principal angles."""
    q = _orthonormal(N, seed)
    p = len(angles)
    th = torch.tensor(angles, dtype=torch.float64)
    ua = q[:, :p]
    ub = q[:, :p] * torch.cos(th) + q[:, p:2 * p] * torch.sin(th)
    g = torch.Generator().manual_seed(seed + 1)
    sa = torch.diag(torch.linspace(5, 1, p, dtype=torch.float64))
    sb = torch.diag(torch.linspace(3, 2, p, dtype=torch.float64))
    va = torch.linalg.qr(torch.randn(N, p, dtype=torch.float64, generator=g))[0]
    vb = torch.linalg.qr(torch.randn(N, p, dtype=torch.float64, generator=g))[0]
    return ua @ sa @ va.T, ub @ sb @ vb.T


ANGLES = [0.05, 0.4, 0.9, 1.3]


def test_principal_angles_recovered():
    a, b = _pair_with_angles(ANGLES)
    pa, pb = project(a, 4), project(b, 4)
    theta, r, missing = principal_angles(pa, pb)
    assert int(r) == 4 and int(missing) == 0
    np.testing.assert_allclose(theta[:4].numpy(), ANGLES, atol=1e-12)


@pytest.mark.parametrize("metric,expected", [
    ("geodesic", math.sqrt(sum(t * t for t in ANGLES))),
    ("chordal", math.sqrt(sum(math.sin(t) ** 2 for t in ANGLES))),
    ("procrustes", 2 * math.sqrt(sum(math.sin(t / 2) ** 2 for t in ANGLES))),
    ("binet_cauchy", math.sqrt(1 - math.prod(math.cos(t) ** 2 for t in ANGLES))),
    ("asimov", max(ANGLES)),
])
def test_metric_formulas(metric, expected):
    a, b = _pair_with_angles(ANGLES)
    d = grassmann_distance(a, b, metric=metric, rank=4).distance.item()
    assert d == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("metric", METRICS)
def test_invariances_and_symmetry(metric):
    a, b = _pair_with_angles(ANGLES, seed=3)
    d = grassmann_distance(a, b, metric=metric, rank=4).distance.item()
    assert grassmann_distance(b, a, metric=metric, rank=4).distance.item() == pytest.approx(d, abs=1e-12)
    assert grassmann_distance(7.5 * a, 0.01 * b, metric=metric, rank=4).distance.item() == pytest.approx(d, abs=1e-12)
    # flipping the sign of singular vectors (here: of the whole field) changes nothing
    assert grassmann_distance(-a, b, metric=metric, rank=4).distance.item() == pytest.approx(d, abs=1e-12)


def test_identical_subspaces_are_at_zero_distance():
    g = torch.Generator().manual_seed(5)
    f = torch.randn(20, N, N, dtype=torch.float64, generator=g)
    for rank in (1, 5, 12, "energy:0.9", "rtol:0.1"):
        d = grassmann_distance(f, 3.0 * f, rank=rank).distance
        assert d.abs().max().item() < 1e-7
    # float32 input is promoted: still ~0
    d32 = grassmann_distance(f.float(), f.float(), rank=5).distance
    assert d32.abs().max().item() < 1e-7


def test_tiny_angles_are_resolved_not_swamped_by_arccos():
    """A principal angle of 1e-6 must come out as 1e-6 (arccos alone would give ~1e-8..1e-4 noise)."""
    a, b = _pair_with_angles([1e-6, 2e-6])
    d = grassmann_distance(a, b, rank=2).distance.item()
    assert d == pytest.approx(math.sqrt(1e-12 + 4e-12), rel=1e-4)


def test_unequal_rank_adds_orthogonal_directions():
    a, b = _pair_with_angles([0.2, 0.5])
    # extend b with a third direction orthogonal to span(a) and span(b), in rows and columns
    q = _orthonormal(N)
    w = torch.linalg.svd(b)[2][5]  # a right-null vector of b
    b3 = b + 0.5 * torch.outer(q[:, 10], w)
    pa, pb = project(a, "rtol:1e-8"), project(b3, "rtol:1e-8")
    assert (int(pa.rank), int(pb.rank)) == (2, 3)
    d_inf = grassmann_distance(a, b3, rank="rtol:1e-8", unequal="infinite").distance.item()
    expected = math.sqrt(0.2**2 + 0.5**2 + 1 * math.pi**2 / 4)
    assert d_inf == pytest.approx(expected, abs=1e-10)
    # the 'min' policy ignores the extra direction; 'max' compares 3-D subspaces of both
    d_min = grassmann_distance(a, b3, rank="rtol:1e-8", unequal="min").distance.item()
    assert d_min == pytest.approx(math.sqrt(0.2**2 + 0.5**2), abs=1e-10)
    d_max = grassmann_distance(a, b3, rank="rtol:1e-8", unequal="max").distance.item()
    assert d_max > d_min


def test_batched_equals_loop_and_broadcasts():
    g = torch.Generator().manual_seed(9)
    ref = torch.randn(3, N, N, dtype=torch.float64, generator=g)
    runs = torch.randn(6, 3, N, N, dtype=torch.float64, generator=g)
    batched = grassmann_distance(ref, runs, rank=5).distance
    assert batched.shape == (6, 3)
    for i in range(6):
        for s in range(3):
            one = grassmann_distance(ref[s], runs[i, s], rank=5).distance.item()
            assert batched[i, s].item() == pytest.approx(one, abs=1e-12)


def test_row_space_and_both():
    a, b = _pair_with_angles(ANGLES)
    col = grassmann_distance(a, b, rank=4, space="column").distance.item()
    row_t = grassmann_distance(a.T, b.T, rank=4, space="column").distance.item()
    row = grassmann_distance(a, b, rank=4, space="row").distance.item()
    assert row == pytest.approx(row_t, abs=1e-12)
    both = grassmann_distance(a, b, rank=4, space="both").distance.item()
    assert both == pytest.approx(math.hypot(col, row), abs=1e-12)


def test_rank_rules():
    s = torch.tensor([10.0, 5.0, 1.0, 0.1, 0.01], dtype=torch.float64)
    assert int(RankRule.parse(3).ranks(s)) == 3
    assert int(RankRule.parse("rtol:0.05").ranks(s)) == 3
    assert int(RankRule.parse("energy:0.99").ranks(s)) == 2  # (100+25)/126.01 = 0.992
    assert int(RankRule.parse({"kind": "energy", "value": 1.0}).ranks(s)) == 5
    assert int(RankRule.parse(50).ranks(s)) == 5  # clipped to the matrix size
    with pytest.raises(ValueError):
        RankRule("rtol", 2.0)
    with pytest.raises(ValueError):
        RankRule("fixed", 0)


def _wavy_band(y0: float, width: float = 3.0, amplitude: float = 2.0, gamma: float = 0.25):
    y = np.arange(N)[:, None] + 0.5
    x = np.arange(N)[None, :] + 0.5
    centre = y0 + amplitude * np.sin(2 * np.pi * x / N)
    d = (y - centre + N / 2) % N - N / 2
    profile = np.exp(-d**2 / (2 * width**2))
    return 0.8 * gamma * profile / profile.mean() + 0.2 * gamma


def test_figure3_shifted_bands_closer_than_band_and_homogeneous():
    """Paper Fig. 3: two banded fields are closer on the Grassmannian than a banded and a
    homogeneous one, while the Euclidean distance says the opposite."""
    band_a, band_b = _wavy_band(12.0), _wavy_band(18.0)
    rng = np.random.default_rng(0)
    homogeneous = 0.25 + 1e-3 * rng.standard_normal((N, N))
    g_bands = grassmann_distance(band_a, band_b, rank=5).distance.item()
    g_homog = grassmann_distance(band_a, homogeneous, rank=5).distance.item()
    e_bands = frobenius_distance(band_a, band_b).item()
    e_homog = frobenius_distance(band_a, homogeneous).item()
    assert g_bands < 0.8 * g_homog
    assert e_bands > 1.2 * e_homog


#: Each metric at p principal angles of π/2 (module doc): the largest it gives for rank p.
ORTHOGONAL = {
    "geodesic": lambda p: math.pi / 2 * math.sqrt(p),
    "chordal": math.sqrt,
    "procrustes": lambda p: math.sqrt(2 * p),
    "binet_cauchy": lambda p: 1.0,
    "asimov": lambda p: math.pi / 2,
}


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("unequal", ["max", "min", "infinite"])
@pytest.mark.parametrize("rank", [3, "energy:0.99", "rtol:1e-3"])
def test_zero_field_is_orthogonal_to_everything_but_zero(metric, unequal, rank):
    a, _ = _pair_with_angles(ANGLES)  # rank 4
    zero = torch.zeros(N, N, dtype=torch.float64)
    p = int(project(a, rank).rank)
    kw = dict(metric=metric, rank=rank, unequal=unequal)
    for x, y in ((a, zero), (zero, a)):
        res = grassmann_distance(x, y, **kw)
        assert res.distance.item() == pytest.approx(ORTHOGONAL[metric](p), abs=1e-12)
    res = grassmann_distance(zero, 0.0 * a, **kw)
    assert res.distance.item() == 0.0 and int(res.rank_a) == int(res.rank_b) == 0


def test_metric_maxima_equal_the_formulas_at_right_angles():
    a, b = _pair_with_angles([math.pi / 2] * 3)
    for metric, at_right_angles in ORTHOGONAL.items():
        d = grassmann_distance(a, b, metric=metric, rank=3).distance.item()
        assert d == pytest.approx(at_right_angles(3), abs=1e-12)


def test_uniform_field_is_rank_one_spanned_by_the_uniform_vector():
    uniform = torch.full((N, N), 0.3, dtype=torch.float64)
    for rank in (5, "energy:0.99", "rtol:1e-12", "energy:1"):
        pts = project(uniform, rank)
        assert int(pts.rank) == int(pts.available) == 1
        ones = torch.ones(N, dtype=torch.float64) / math.sqrt(N)
        assert abs(pts.basis[:, 0] @ ones).item() == pytest.approx(1.0, abs=1e-14)
        assert grassmann_distance(uniform, -7.0 * uniform, rank=rank).distance.item() < 1e-7
    # a rank-1 field whose column direction meets the uniform vector at angle θ
    q = _orthonormal(N, seed=4)
    ones = torch.ones(N, dtype=torch.float64) / math.sqrt(N)
    w = q[:, 0] - (q[:, 0] @ ones) * ones
    w = w / w.norm()
    theta = 0.7
    u = math.cos(theta) * ones + math.sin(theta) * w
    b = torch.outer(u, q[:, 1])
    assert grassmann_distance(uniform, b, rank=1).distance.item() == pytest.approx(theta, abs=1e-12)
    # against a rank-4 field, 'max' counts its 3 absent directions as orthogonal
    a, _ = _pair_with_angles(ANGLES)
    d_max = grassmann_distance(uniform, a, rank=4, unequal="max").distance.item()
    d_inf = grassmann_distance(uniform, a, rank=4, unequal="infinite").distance.item()
    theta1 = math.acos((project(a, 4).basis[:, :4].T @ ones).norm().item())  # to span(a)
    assert d_max == pytest.approx(d_inf, abs=1e-12)
    assert d_max == pytest.approx(math.sqrt(theta1**2 + 3 * math.pi**2 / 4), abs=1e-12)
