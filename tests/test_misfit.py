"""The misfit diagnosis (grassego.misfit) on synthetic stress-strain curves of known shape: the
regimes of the MD's curve, the residual per regime, the peak errors and the sentence."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from conftest import CUZR_REFERENCE
from grassego.misfit import REGIMES, diagnosis, md_regimes, misfit, sentence

STRAIN = np.round(np.linspace(0.0, 0.5, 501), 6)
MU = 27.0


def _sharp(strain, peak_strain=0.088, peak=1.54, flow=0.94, drop=0.03):
    """Elastic (slope MU) to 0.9 of the peak, a short rounded top at ``peak_strain``, a linear
    drop over ``drop`` to ``flow``, flat after [GPa]."""
    g = np.asarray(strain, dtype=np.float64)
    knee = 0.9 * peak / MU
    top = peak - 0.1 * peak * ((peak_strain - g) / (peak_strain - knee)) ** 2
    tau = np.where(g <= knee, MU * g, top)
    fall = peak + (flow - peak) * (g - peak_strain) / drop
    return np.where(g <= peak_strain, tau, np.maximum(fall, flow))


def _rounded(strain, peak_strain=0.19, peak=1.92, flow=1.5):
    """A rounded rise A tanh(MU γ / A) to the peak at ``peak_strain``, then a drop to ``flow``
    over 0.06 and flat: the glass that flows below its peak."""
    g = np.asarray(strain, dtype=np.float64)
    a = peak / np.tanh(MU * peak_strain / peak)
    rise = a * np.tanh(MU * g / a)
    fall = peak + (flow - peak) * (g - peak_strain) / 0.06
    return np.where(g <= peak_strain, rise, np.maximum(fall, flow))


def test_regimes_of_a_sharp_and_a_rounded_curve():
    sharp = md_regimes(STRAIN, _sharp(STRAIN))
    assert sharp.mu == pytest.approx(MU, rel=1e-6)
    assert sharp.peak == 0.088 and sharp.peak_stress == pytest.approx(1.54)
    # secant tau/gamma < 0.9 MU only on the rounded top (from the knee at 0.9 x the peak)
    assert 0.9 * 1.54 / MU < sharp.elastic_end < 0.088
    assert sharp.flow_level == pytest.approx(0.94)
    # 90 % of the drop done: 0.9 x 0.6 GPa of the linear 0.6 GPa over 0.03
    assert sharp.drop_end == pytest.approx(0.088 + 0.9 * 0.03, abs=1.5e-3)
    rounded = md_regimes(STRAIN, _rounded(STRAIN))
    # A tanh(x)/x < 0.9 at x = 0.57: gamma = 0.57 A / MU = 0.041 (A = 1.94 GPa); the fitted
    # slope, lowered by the curvature inside the fit's window, moves it a little later
    assert 0.57 * 1.94 / MU < rounded.elastic_end < 0.05
    assert rounded.peak == 0.19
    limits = rounded.limits()
    assert list(limits) == list(REGIMES) and limits["pre_peak"] == [rounded.elastic_end, 0.19]
    assert limits["flow"][1] == 0.5


def test_the_cuzr_md_regimes():
    ref = xr.open_dataset(CUZR_REFERENCE)
    r = md_regimes(ref["strain_ss"].values, ref["stress_strain"].values.astype(np.float64))
    assert (r.elastic_end, r.peak, r.drop_end) == (0.058, 0.088, 0.105)
    assert r.flow_level == pytest.approx(0.944, abs=1e-3)


@pytest.mark.parametrize("shift, word", [(1.25, "(+25 %)"), (0.75, "(-25 %)")])
def test_a_model_that_peaks_late_or_early(shift, word):
    md = _sharp(STRAIN)
    model = _sharp(STRAIN, peak_strain=0.088 * shift)
    regimes = md_regimes(STRAIN, md)
    fit = misfit(regimes, STRAIN, md, STRAIN, model)
    assert fit["peak_strain_error"] == pytest.approx(shift - 1, abs=0.02)
    assert fit["peak_stress_error"] == pytest.approx(0.0, abs=1e-3)  # peaks between grid points
    res = {k: v["mean_abs"] for k, v in fit["residual"].items()}
    assert res["flow"] < 0.25 * res["overshoot_drop"]
    assert res["elastic"] < 0.05 * res["overshoot_drop"]
    text = sentence(regimes, fit)
    assert text.startswith("The largest misfit is the overshoot and drop")
    assert word in text and "solver.dynamics" not in text


def test_an_elastic_model_against_a_rounded_rise_names_the_pre_peak_regime():
    """The issue's glass: the MD rises round to 1.92 GPa at 0.19; the athermal model stays
    elastic to its peak (1.90 GPa at 0.10, then drops)."""
    md = _rounded(STRAIN)
    model = _sharp(STRAIN, peak_strain=0.10, peak=1.90, flow=1.5, drop=0.06)
    out = diagnosis(STRAIN, md, {"seed 0": (STRAIN, model), "seed 1": (STRAIN, md)}, "seed 0")
    assert out["largest"] == "pre_peak" and out["of"] == "seed 0"
    assert out["sentence"].endswith("the MD flows below its peak; the athermal model cannot: "
                                    "try `solver.dynamics: linear`.")
    assert "the model peaks at γ = 0.1, the MD at 0.19 (-47 %)" in out["sentence"]
    assert out["per_set"]["seed 1"]["residual"]["pre_peak"]["mean_abs"] == 0.0
    thermal = diagnosis(STRAIN, md, {"seed 0": (STRAIN, model)}, "seed 0", dynamics="linear")
    assert "solver.dynamics" not in thermal["sentence"]
    assert "even with the linear dynamics" in thermal["sentence"]


def test_summary_opens_with_the_agreement_the_bounds_and_the_misfit():
    from grassego.report import diagnosis_html
    from grassego.summary import headline, summary_json

    md = _rounded(STRAIN)
    model = _sharp(STRAIN, peak_strain=0.10, peak=1.90, flow=1.5, drop=0.06)
    out = diagnosis(STRAIN, md, {"seed 0": (STRAIN, model),
                                 "seed 1": (STRAIN, np.full_like(STRAIN, np.nan))}, "seed 0")
    assert out["per_set"]["seed 1"] is None and out["largest"] == "pre_peak"
    uq = {"seeds_agree": False, "seed_agreement": "the seeds do not agree — …",
          "parameters_at_bound": ["beta"], "verdicts": {}}
    summary = {**headline(uq, out), "per_seed": []}
    assert list(summary)[:4] == ["seeds_agree", "seed_agreement", "parameters_at_bound",
                                 "misfit"]
    assert '"flow": [\n        0.245,\n        0.5\n' in summary_json(summary)
    page = diagnosis_html(summary)
    assert page.index("the seeds do not agree") < page.index("Parameters at a bound: beta") \
        < page.index("try `solver.dynamics: linear`") < page.index("<table>")
    assert "run failed" in page
    off = headline(None, out)
    assert off["seeds_agree"] is None and "uncertainty.enabled" in off["seed_agreement"]
    bad = diagnosis(STRAIN[:3], md[:3], {"seed 0": (STRAIN, model)}, "seed 0", source="r.nc")
    assert bad["sentence"].startswith("no diagnosis: r.nc: only")
