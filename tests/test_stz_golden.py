"""The batched STZ solver against the original C++ solver's golden outputs (tests/data/golden_stz).

Acceptance (issue 3), per golden run: stress–strain MAE < 0.02 GPa, peak within 2 %, strain field
at the paper's 9 snapshot strains within a mean Grassmann geodesic distance of 0.1 (rank 5, column
space) and 10 % relative Frobenius error, the shear band in the same row, T_eff within 2 % at the
last frame. A second test pins the much closer agreement actually reached (float64), so a
regression in the discretisation is caught long before the acceptance bounds.

The thermally activated ``linear`` law (issue 21) against the original's
``stz_dynamics_linear`` golden runs: stress MAE ≤ 0.01 GPa, strain fields at the snapshot
strains within 2 % relative Frobenius error and a rank-1 Grassmann geodesic distance ≤ 0.02,
T_eff within 2 %; and the closer agreement reached (float32, the workflow's dtype).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grassego.grassmann import frobenius_distance, grassmann_distance
from grassego.legacy import read_field_file
from grassego.objective import PAPER_SNAPSHOT_STRAINS
from grassego.stz import simulate_batch

RUNS = ("paper_validation_target", "paper_cuzr_optimum", "low_beta_soft")


def _load(directory, names) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for name in names:
        with np.load(directory / f"{name}.npz") as z:
            out[name] = {k: z[k] for k in z.files}
    return out


@pytest.fixture(scope="module")
def golden(golden_stz_dir) -> dict[str, dict[str, np.ndarray]]:
    return _load(golden_stz_dir, RUNS)


@pytest.fixture(scope="module", params=["fused", "torch"])
def solved(golden, cuzr_legacy_dir, request):
    """All three golden parameter sets in one float64 batch (the dtype the golden test uses;
    float32 agrees as closely, see the benchmark notes), with each CPU backend, from the text
    fields the original solver read."""
    pe0 = read_field_file(cuzr_legacy_dir / "pe.MD.0")
    pe_final = read_field_file(cuzr_legacy_dir / "pe.MD.100")
    params = {k: np.array([float(golden[n][k]) for n in RUNS]) for k in ("c0", "s_y", "beta", "E0")}
    return simulate_batch(params, pe0, pe_final, dtype=torch.float64, backend=request.param)


def _snapshots(strain: np.ndarray) -> list[int]:
    return [int(np.argmin(np.abs(strain - s))) for s in PAPER_SNAPSHOT_STRAINS]


def _band_row(exy: np.ndarray) -> int:
    """Row (y index) with the largest mean |E_xy| deviation from the grid mean."""
    return int(np.argmax(np.abs(exy - exy.mean()).mean(axis=1)))


@pytest.mark.parametrize("index,name", list(enumerate(RUNS)))
def test_matches_golden_acceptance(solved, golden, index, name):
    g = golden[name]
    assert solved.status[index] == 0
    np.testing.assert_allclose(solved.strain_all, g["strain"], atol=1e-12)
    tau, tau_g = solved.tau_mean[index], g["tau_mean_GPa"].astype(np.float64)
    assert np.abs(tau - tau_g).mean() < 0.02
    assert abs(tau.max() - tau_g.max()) / tau_g.max() < 0.02
    frames = _snapshots(g["strain"])
    ours = torch.as_tensor(solved.exy[index][frames], dtype=torch.float64)
    ref = torch.as_tensor(g["exy"][frames], dtype=torch.float64)
    geo = grassmann_distance(ref, ours, metric="geodesic", rank=5, space="column").distance
    assert float(geo.mean()) < 0.1
    rel = frobenius_distance(ref, ours, relative=True)
    assert float(rel.max()) < 0.10
    assert _band_row(solved.exy[index][-1]) == _band_row(g["exy"][-1])
    t_eff, t_g = solved.t_eff[index][-1], g["tem_K"][-1]
    assert np.max(np.abs(t_eff - t_g) / t_g) < 0.02


@pytest.mark.parametrize("index,name", list(enumerate(RUNS)))
def test_matches_golden_closely(solved, golden, index, name):
    """What the reproduction actually reaches: stresses to ~1e-5 GPa, fields to < 1 %."""
    g = golden[name]
    assert np.abs(solved.tau_mean[index] - g["tau_mean_GPa"]).max() < 1e-4
    frames = _snapshots(g["strain"])
    ours, ref = solved.exy[index][frames], g["exy"][frames]
    rel = np.linalg.norm(ours - ref, axis=(1, 2)) / np.linalg.norm(ref, axis=(1, 2))
    assert rel.max() < 0.01
    # frame 0 is exact (the energy-to-chi map); the last frame within 1 %
    np.testing.assert_allclose(solved.t_eff[index][0], g["tem_K"][0], rtol=1e-6)
    assert np.max(np.abs(solved.t_eff[index][-1] - g["tem_K"][-1]) / g["tem_K"][-1]) < 0.01


LINEAR_RUNS = ("linear_peak", "linear_subyield", "linear_kappa_rho")
LINEAR_CONSTANTS = ("delta_K", "theta_K", "omega_A3", "eps0", "kappa", "stz_rho")


@pytest.fixture(scope="module")
def linear_golden(golden_stz_dir) -> dict[str, dict[str, np.ndarray]]:
    out = _load(golden_stz_dir, LINEAR_RUNS)
    assert {str(g["dynamics"]) for g in out.values()} == {"linear"}
    return out


@pytest.fixture(scope="module", params=["fused", "torch"])
def linear_solved(linear_golden, cuzr_legacy_dir, request):
    """The linear-law golden sets in one float32 batch, each with its own thermal constants
    (per-run parameters), with each CPU backend."""
    pe0 = read_field_file(cuzr_legacy_dir / "pe.MD.0")
    pe_final = read_field_file(cuzr_legacy_dir / "pe.MD.100")
    params = {k: np.array([float(linear_golden[n][k]) for n in LINEAR_RUNS])
              for k in ("c0", "s_y", "beta", "E0") + LINEAR_CONSTANTS}
    return simulate_batch(params, pe0, pe_final, dtype=torch.float32, backend=request.param,
                          dynamics="linear")


def _linear_errors(solved, g, index) -> dict[str, float]:
    """Stress MAE [GPa], worst relative Frobenius error and rank-1 geodesic distance of the
    strain fields at the snapshot strains, worst relative T_eff error at the last frame."""
    frames = _snapshots(g["strain"])
    ours = torch.as_tensor(solved.exy[index][frames], dtype=torch.float64)
    ref = torch.as_tensor(g["exy"][frames], dtype=torch.float64)
    geo = grassmann_distance(ref, ours, metric="geodesic", rank=1, space="column").distance
    t_eff, t_g = solved.t_eff[index][-1], g["tem_K"][-1]
    return dict(mae=float(np.abs(solved.tau_mean[index] - g["tau_mean_GPa"]).mean()),
                frob=float(frobenius_distance(ref, ours, relative=True).max()),
                geodesic=float(geo.max()), t_eff=float(np.max(np.abs(t_eff - t_g) / t_g)))


@pytest.mark.parametrize("index,name", list(enumerate(LINEAR_RUNS)))
def test_linear_law_matches_the_original(linear_solved, linear_golden, index, name):
    g = linear_golden[name]
    assert linear_solved.status[index] == 0
    err = _linear_errors(linear_solved, g, index)
    assert err["mae"] <= 0.01 and err["frob"] <= 0.02 and err["geodesic"] <= 0.02, err
    assert err["t_eff"] < 0.02, err
    # closer than that (measured in float32 and float64 alike: MAE ≤ 7e-6 GPa, Frobenius and
    # geodesic ≤ 0.008, T_eff ≤ 0.8 %)
    assert err["mae"] < 1e-4 and err["frob"] < 0.01 and err["geodesic"] < 0.01, err
    assert err["t_eff"] < 0.01, err


def test_linear_golden_runs_show_what_they_are_for(linear_golden):
    """linear_peak peaks and drops; linear_subyield flows plastically below s_y (its whole curve
    stays below s_y, and its secant modulus at the peak is well under the elastic one); the
    κ sink of linear_kappa_rho is on."""
    def curve(name):
        g = linear_golden[name]
        return g["strain"], g["tau_mean_GPa"].astype(np.float64), float(g["s_y"])

    strain, tau, _ = curve("linear_peak")
    k = int(tau.argmax())
    assert 0 < strain[k] < 0.15 and tau[-1] < 0.8 * tau[k]
    strain, tau, s_y = curve("linear_subyield")
    k = int(tau.argmax())
    assert tau.max() < 0.85 * s_y
    assert tau[k] / strain[k] < 0.8 * tau[4] / strain[4]
    assert float(linear_golden["linear_kappa_rho"]["kappa"]) > 0
