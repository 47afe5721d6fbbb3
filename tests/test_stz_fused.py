"""The fused CPU backend (grassego.stz.fused): its exp, its independence of batching and threads,
agreement with the PyTorch path, and the grids it accepts.

Runs use a 16 × 16 subsample of the CuZr energy field to γ = 0.1 (through the stress peak).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from numba import njit

from grassego.stz import ModelConstants, simulate_batch
from grassego.stz.fused import fexp, lanes_for, supported

C = ModelConstants(max_strain=0.1, n_frames=20)
GOOD = {"c0": 0.55, "s_y": 1.006, "beta": 8.277, "E0": -3.368}
#: The thermally activated law with every one of its terms on: a rounded rise (θ = 300 K), the
#: M function with a small ρ, the κ sink.
LINEAR = dict(dynamics="linear", constants=ModelConstants(max_strain=0.1, n_frames=20,
                                                          theta_K=300.0, delta_K=1500.0,
                                                          kappa=5000.0, stz_rho=1.0))
LAWS = {"athermal": dict(constants=C), "linear": LINEAR}


@pytest.fixture(scope="module")
def fields(cuzr_fields_16) -> tuple[np.ndarray, np.ndarray]:
    return cuzr_fields_16


@njit
def _fexp_all(x, out):
    for i in range(x.size):
        out[i] = fexp(x[i])


@pytest.mark.parametrize("dtype,lo,hi", [(np.float32, -87.0, 88.0), (np.float64, -708.0, 709.0)])
def test_fexp_within_two_ulp_of_numpy(dtype, lo, hi):
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(lo, hi, 200_001), rng.uniform(-60, 0, 100_000),
                        [-1.0, 0.0, 1e-30, -1e-30, 1.0]]).astype(dtype)
    ours = np.empty_like(x)
    _fexp_all(x, ours)
    ref = np.exp(x.astype(np.float64))
    ulp = np.spacing(ref.astype(dtype)).astype(np.float64)
    assert np.max(np.abs(ours.astype(np.float64) - ref) / ulp) <= 2.0
    assert ours.dtype == dtype


def test_fexp_clamps_instead_of_overflowing():
    x = np.array([-1e4, -np.inf, 1e4], dtype=np.float32)
    out = np.empty_like(x)
    _fexp_all(x, out)
    assert np.all(np.isfinite(out)) and out[0] > 0 and out[1] > 0


@pytest.mark.parametrize("law", list(LAWS))
def test_a_run_is_bitwise_the_same_in_any_batch_and_thread_count(fields, law):
    """The fused backend computes each run lane by lane with identical operations: alone (1
    lane), in a 4-lane chunk, in the second 16-lane chunk of a 20-run batch, on 1 or 2 threads;
    with either STZ law."""
    others = [{**GOOD, "beta": GOOD["beta"] * (0.9 + 0.01 * k)} for k in range(19)]

    def batch(runs, threads=1):
        cols = {k: [r[k] for r in runs] for k in GOOD}
        return simulate_batch(cols, *fields, backend="fused", threads=threads, **LAWS[law])

    alone = batch([GOOD])
    assert alone.status[0] == 0
    for res, i in [(batch(others[:2] + [GOOD] + others[2:3]), 2),
                   (batch(others[:17] + [GOOD] + others[17:]), 17),
                   (batch(others[:17] + [GOOD] + others[17:], threads=2), 17)]:
        assert np.array_equal(res.tau_mean[i], alone.tau_mean[0])
        assert np.array_equal(res.exy[i], alone.exy[0])
        assert np.array_equal(res.t_eff[i], alone.t_eff[0])


@pytest.mark.parametrize("law", list(LAWS))
@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-9), (torch.float32, 1e-4)])
def test_fused_agrees_with_torch(fields, dtype, rtol, law):
    cols = {k: [v, v * 1.1 if k != "E0" else v] for k, v in GOOD.items()}
    fused = simulate_batch(cols, *fields, dtype=dtype, backend="fused", **LAWS[law])
    ref = simulate_batch(cols, *fields, dtype=dtype, backend="torch", **LAWS[law])
    assert list(fused.status) == list(ref.status) == [0, 0]
    np.testing.assert_allclose(fused.tau_mean, ref.tau_mean, rtol=rtol, atol=1e-12)
    scale = np.abs(ref.exy).max()
    assert np.abs(fused.exy - ref.exy).max() < rtol * 10 * scale
    np.testing.assert_allclose(fused.t_eff, ref.t_eff, rtol=rtol)


def test_too_many_substeps_marks_the_run_diverged(fields):
    tight = ModelConstants(max_strain=0.1, n_frames=20, max_substeps=1)
    res = simulate_batch({k: [v] for k, v in GOOD.items()}, *fields, constants=tight, backend="fused")
    assert res.status[0] != 0 and np.all(np.isnan(res.tau_mean[0]))


def test_grids_and_backend_choice(fields):
    assert supported(32, 32) and supported(16, 64) and not supported(12, 16) and not supported(2, 2)
    assert [lanes_for(n) for n in (1, 2, 3, 5, 400)] == [1, 2, 4, 16, 16]
    pe0, pe_final = fields[0][:12, :12], fields[1][:12, :12]
    auto = simulate_batch({k: [v] for k, v in GOOD.items()}, pe0, pe_final, constants=C)
    torch_path = simulate_batch({k: [v] for k, v in GOOD.items()}, pe0, pe_final, constants=C,
                                backend="torch")
    assert np.array_equal(auto.tau_mean, torch_path.tau_mean)  # auto fell back to torch
    with pytest.raises(ValueError, match="power-of-two"):
        simulate_batch({k: [v] for k, v in GOOD.items()}, pe0, pe_final, constants=C, backend="fused")
    with pytest.raises(ValueError, match="backend must be one of"):
        simulate_batch({k: [v] for k, v in GOOD.items()}, *fields, constants=C, backend="gpu")
