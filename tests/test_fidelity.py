"""Physical fidelity features on analytic profiles and curves, and on the shipped MD data."""

from __future__ import annotations

import numpy as np
import pytest

from grassego.fidelity import band_features, dataset_fidelity, stress_features
from grassego.fields import read_reference


def test_band_of_a_gaussian_profile_on_a_periodic_grid():
    rows = np.arange(32)
    sigma = 2.0
    centre = 30  # the band wraps around the periodic boundary
    d = (rows - centre + 16) % 32 - 16
    p = 0.1 + np.exp(-0.5 * (d / sigma) ** 2)
    f = band_features(p)
    assert f["band_row"] == centre
    # FWHM of a Gaussian: 2 sqrt(2 ln 2) sigma (half height between min and max: the offset of
    # 0.1 cancels); linear interpolation between rows costs a few per cent
    assert f["band_fwhm"] == pytest.approx(2 * np.sqrt(2 * np.log(2)) * sigma, rel=0.03)
    assert f["localisation"] == pytest.approx(p.max() / p.mean())


def test_homogeneous_flow_has_no_band():
    f = band_features(np.full(32, 0.25))
    assert f["localisation"] == pytest.approx(1.0) and f["band_fwhm"] == 32


def test_stress_features_of_a_piecewise_curve():
    g = np.linspace(0, 0.5, 501)
    tau = np.where(g < 0.08, 20 * g, np.maximum(1.6 - 10 * (g - 0.08), 0.9))
    f = stress_features(g, tau)
    assert f["peak_stress"] == pytest.approx(1.6) and f["peak_strain"] == pytest.approx(0.08)
    assert f["stress_drop_value"] == pytest.approx(1.2, abs=1e-9)  # 1.6 - 10 * 0.04
    assert f["flow_stress"] == pytest.approx(0.9)
    assert np.isnan(stress_features(g, np.full_like(g, np.nan))["peak_stress"])


def test_md_reference_has_the_band_and_the_drop(cuzr_reference_path):
    f = dataset_fidelity(read_reference(cuzr_reference_path), [0.2, 0.5], "reference")[0]
    assert f["peak_stress"] == pytest.approx(1.541, abs=1e-3)
    assert f["peak_strain"] == pytest.approx(0.088, abs=1e-3)
    assert f["stress_drop_value"] == pytest.approx(0.972, abs=2e-3)
    assert f["localisation@0.5"] == pytest.approx(2.91, abs=0.01)
    assert f["band_row@0.5"] == 17 and 9 <= f["band_fwhm@0.5"] <= 10
