"""The report step's computations: its settings, the reported parameter sets and their
fidelity, the reference's effective temperature, the band profiles, and the figures."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from grassego.ego import EGOResult
from grassego.fields import build_reference
from grassego.report import (FIGURES, ReportSettings, band_profiles, reference_teff,
                             write_figures)
from grassego.stz import ModelConstants
from grassego.summary import REFERENCE_LABEL, parameter_sets, set_fidelity
from grassego.units import PHYSICAL

NAMES = ["c0", "s_y", "beta", "E0"]
STRAINS = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])


def _band(ny: int, row: int, height: float) -> np.ndarray:
    """A (ny, 8) engineering strain field with a band of ``height`` on ``row``."""
    field = np.full((ny, 8), 0.05)
    field[row] = height
    return field


def _reference(t_eff: bool = False) -> xr.Dataset:
    rng = np.random.default_rng(2)
    pe = -3.36 + 1e-3 * rng.random((STRAINS.size, 8, 8))
    exy = np.stack([_band(8, 3, 0.05 + g) for g in STRAINS])
    coords = (np.arange(8) + 0.5) * 50.0  # a 400 Å cell
    extra = {"t_eff": 600.0 + 10 * rng.random(pe.shape)} if t_eff else None
    return build_reference(pe=pe, exy=exy, strain=STRAINS, x=coords, y=coords,
                           strain_ss=STRAINS, stress_strain=np.minimum(STRAINS * 20, 1.4),
                           shear_convention="engineering", extra=extra)


def _runs(rows: list[int]) -> xr.Dataset:
    """One run per band row, every frame; tensor strains (half the engineering ones)."""
    exy = np.stack([[_band(8, r, 0.05 + g) / 2 for g in STRAINS] for r in rows])
    n = len(rows)
    data = {"exy": (("run", "frame", "y", "x"), exy, {"shear_convention": "tensor"}),
            "t_eff": (("run", "frame", "y", "x"), np.full(exy.shape, 700.0)),
            "tau_mean": (("run", "strain_ss"), np.tile(np.minimum(STRAINS * 20, 1.3), (n, 1))),
            "status": (("run",), np.zeros(n, dtype=np.int8)),
            "delta": (("run",), np.linspace(0.1, 0.2, n))}
    for k, name in enumerate(NAMES):
        data[name] = (("run",), np.full(n, [0.2, 1.0, 8.0, -3.37][k]))
    coords = {"strain": ("frame", STRAINS), "strain_ss": ("strain_ss", STRAINS),
              "x": ("x", (np.arange(8) + 0.5) * 50.0), "y": ("y", (np.arange(8) + 0.5) * 50.0)}
    return xr.Dataset(data, coords=coords)


def _result(seed: int, best: list[float]) -> EGOResult:
    X = np.array([best, [v * 1.1 for v in best]])
    y = np.array([0.1 + seed / 10, 0.3])
    return EGOResult(x_best=X[0], y_best=float(y[0]), X=X, y=y, status=["ok", "ok"],
                     iteration=np.array([0, 1]), acquisition=np.full(2, np.nan),
                     tr_length=np.ones(2), wall_time=np.ones(2), names=NAMES, seed=seed,
                     stop_reason="max_iter")


def test_settings_from_the_report_section():
    s = ReportSettings.from_config({"compare": {"paper": {"c0": 0.164}},
                                    "field_strains": [0.1, 0.5]})
    assert s.field_strains == (0.1, 0.5) and s.compare == {"paper": {"c0": 0.164}}
    with pytest.raises(ValueError, match="field_strains"):
        ReportSettings(field_strains=())


def test_the_reported_sets_are_the_optima_then_the_comparisons_then_the_target():
    results = {1: _result(1, [0.3, 1.0, 7.0, -3.37]), 0: _result(0, [0.2, 0.9, 6.0, -3.38])}
    paper = dict(zip(NAMES, [0.164, 0.906, 6.882, -3.369]))
    target = dict(zip(NAMES, [0.55, 1.006, 8.277, -3.368]))
    sets = parameter_sets(results, NAMES, {"paper": paper}, target)
    assert list(sets) == ["seed 0", "seed 1", "paper", "target"]
    assert sets["seed 0"] == [0.2, 0.9, 6.0, -3.38] and sets["target"] == list(target.values())
    # a comparison set named "target" wins over the validation target
    own = parameter_sets(results, NAMES, {"target": paper}, target)
    assert list(own) == ["seed 0", "seed 1", "target"] and own["target"] == list(paper.values())
    with pytest.raises(ValueError, match=r"report.compare.half: no value for \['beta', 'E0'\]"):
        parameter_sets(results, NAMES, {"half": {"c0": 0.1, "s_y": 1.0}})


def test_fidelity_of_each_set_and_of_the_md_without_delta():
    fidelity = set_fidelity(_runs([3, 5]), _reference(), ["seed 0", "paper"], [0.5])
    assert list(fidelity) == ["seed 0", "paper", REFERENCE_LABEL]
    assert all("delta" not in f for f in fidelity.values())
    assert fidelity["seed 0"]["band_row@0.5"] == 3 and fidelity["paper"]["band_row@0.5"] == 5
    assert fidelity[REFERENCE_LABEL]["band_row@0.5"] == 3
    assert fidelity[REFERENCE_LABEL]["peak_stress"] == pytest.approx(1.4)


def test_the_reference_effective_temperature_is_its_pe_through_chi():
    ref, c = _reference(), ModelConstants()
    frames = [0, 5]
    by_hand = 1.0000012676 * 8.0 * (ref["pe"].values[frames] + 3.37) * 21000.0
    got = reference_teff(ref, frames, {"beta": 8.0, "E0": -3.37}, c)
    np.testing.assert_allclose(got, by_hand, rtol=1e-9)
    # a per-run T_Z and energy factor (fixed parameters) replace the constants'
    got = reference_teff(ref, frames, {"beta": 8.0, "E0": -3.37, "T_Z_K": 1e4,
                                       "chi_energy_factor": 1.0}, c)
    np.testing.assert_allclose(got, 8.0 * (ref["pe"].values[frames] + 3.37) * 1e4, rtol=1e-12)
    forward = _reference(t_eff=True)  # a forward reference has its own T_eff
    np.testing.assert_array_equal(reference_teff(forward, frames, {"beta": 8.0, "E0": -3.37}, c),
                                  forward["t_eff"].values[frames])


def test_band_profiles_of_the_md_the_best_seed_and_the_comparisons():
    ref_exy = np.stack([_band(8, 3, 0.5)] * 2)
    run_exy = np.stack([np.stack([_band(8, r, 0.5)] * 2) for r in (1, 2, 6)])
    profiles = band_profiles(ref_exy, run_exy, ["seed 0", "seed 1", "paper"], best="seed 1")
    assert list(profiles) == [REFERENCE_LABEL, "seed 1", "paper"]
    peaks = {label: p.argmax(axis=1).tolist() for label, p in profiles.items()}
    assert peaks == {REFERENCE_LABEL: [3, 3], "seed 1": [2, 2], "paper": [6, 6]}
    np.testing.assert_allclose(profiles["paper"][0], run_exy[2, 0].mean(axis=1))


def test_every_figure_is_written(tmp_path):
    results = {0: _result(0, [0.2, 0.9, 6.0, -3.38]), 1: _result(1, [0.3, 1.0, 7.0, -3.37])}
    deltas = {"seed 0": 0.1, "seed 1": 0.2, "paper": 0.15}
    paths = {name: tmp_path / f"{name}.png" for name in FIGURES}
    write_figures(paths, _reference(), _runs([3, 4, 5]), deltas, results, 1, [0.1, 0.5],
                  "seed 0", ModelConstants(), PHYSICAL)
    assert all(p.stat().st_size > 1000 for p in paths.values())
    with pytest.raises(ValueError, match=r"no output path for the figures \['band_profiles'\]"):
        write_figures({k: v for k, v in paths.items() if k != "band_profiles"}, _reference(),
                      _runs([3, 4, 5]), deltas, results, 1, [0.1], "seed 0", ModelConstants(),
                      PHYSICAL)
