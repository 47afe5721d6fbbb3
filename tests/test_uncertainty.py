"""The uncertainty analysis against known answers: Sobol' estimators on functions with analytic
indices, the noise estimate on a function of known roughness, the verdict rules, and the whole
pipeline on a synthetic 4-D objective in which one parameter is identified, two trade off along
a line and one has no effect."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grassego.ego import EGOResult, SearchSpace
from grassego.uncertainty import FIGURES, io, noise, plots
from grassego.uncertainty.analysis import analyze
from grassego.uncertainty.settings import UncertaintySettings
from grassego.uncertainty.sobol import sobol_indices
from grassego.uncertainty.verdict import interval_text, verdicts
from grassego.units import PHYSICAL


# ---- Sobol' indices ---------------------------------------------------------------------------
def _ishigami(u: np.ndarray) -> np.ndarray:
    x = -math.pi + 2 * math.pi * u
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function():
    """Analytic indices (a = 7, b = 0.1): S = (0.3139, 0.4424, 0), S_T = (0.5576, 0.4424,
    0.2437); each inside its 95 % interval and within 0.03."""
    s = sobol_indices(_ishigami, 3, n=8192, seed=1)
    first, total = np.array([0.3139, 0.4424, 0.0]), np.array([0.5576, 0.4424, 0.2437])
    np.testing.assert_allclose(s.first, first, atol=0.03)
    np.testing.assert_allclose(s.total, total, atol=0.03)
    assert np.all((s.first_interval[:, 0] <= first) & (first <= s.first_interval[:, 1]))
    assert np.all((s.total_interval[:, 0] <= total) & (total <= s.total_interval[:, 1]))
    assert np.all(s.total_interval[:, 1] - s.total_interval[:, 0] < 0.1)


def test_sobol_indices_of_a_linear_model():
    """y = sum c_i u_i: S_i = S_T,i = c_i^2 / sum c^2, an absent input 0."""
    c = np.array([3.0, 1.0, 0.0, 2.0])
    s = sobol_indices(lambda u: u @ c, 4, n=4096, seed=0)
    np.testing.assert_allclose(s.first, c**2 / np.sum(c**2), atol=0.02)
    np.testing.assert_allclose(s.total, c**2 / np.sum(c**2), atol=0.02)
    assert s.total[2] == pytest.approx(0.0, abs=1e-12)  # f(A) = f(A_B^i) exactly


def test_sobol_refuses_a_constant_function():
    with pytest.raises(ValueError, match="constant"):
        sobol_indices(lambda u: np.ones(len(u)), 2, n=64)


# ---- the pooled GP -----------------------------------------------------------------------------
def test_pooled_gp_is_botorchs_posterior_when_fitted_on_every_point():
    """Fitted on all points, its own posterior equals BoTorch's; its gradient the finite
    differences of its mean."""
    from grassego.surrogate import fit_surrogate
    from grassego.uncertainty.model import PooledGP

    rng = np.random.default_rng(3)
    bounds = np.array([[0.0, 2.0], [-1.0, 1.0], [5.0, 6.0]])
    x = bounds[:, 0] + rng.uniform(size=(40, 3)) * (bounds[:, 1] - bounds[:, 0])
    delta = 0.1 + (x[:, 0] - 0.5) ** 2 + 0.3 * x[:, 1] ** 2 + 0.05 * x[:, 2]
    gp, ref = PooledGP(x, delta, bounds, fit_points=40), fit_surrogate(x, delta, bounds)
    xt = bounds[:, 0] + rng.uniform(size=(7, 3)) * (bounds[:, 1] - bounds[:, 0])
    for ours, theirs in zip(gp.predict(xt), ref.predict(xt)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gp.mean(xt), ref.predict(xt)[0], rtol=1e-7)
    assert gp.noise_std == pytest.approx(ref.noise_std)
    _, grad = gp.mean_and_grad(xt)
    step = 1e-6 * (bounds[:, 1] - bounds[:, 0])
    fd = np.stack([(gp.mean(xt + np.eye(3)[k] * step) - gp.mean(xt - np.eye(3)[k] * step))
                   / (2 * step[k]) for k in range(3)], axis=1)
    np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-6)


def test_fit_subset_keeps_the_best_half_and_samples_the_rest():
    from grassego.uncertainty.model import fit_subset

    delta = np.arange(100.0)[::-1]  # the lowest values at the end
    idx = fit_subset(delta, 20, seed=0)
    assert idx.size == 20 and np.all(np.diff(idx) > 0)
    assert set(range(90, 100)) <= set(idx.tolist())  # the 10 lowest
    assert np.array_equal(fit_subset(delta, 200, seed=0), np.arange(100))


# ---- noise ------------------------------------------------------------------------------------
def test_near_replicates_stay_within_their_box_and_the_bounds():
    bounds = np.array([[0.0, 1.0], [10.0, 20.0]])
    x = np.array([0.9995, 15.0])
    pts = noise.near_replicates(x, bounds, 200, 0.002, np.random.default_rng(0))
    assert pts.shape == (200, 2)
    assert np.all(pts[:, 0] <= 1.0) and np.all(pts[:, 0] >= 0.9995 - 0.002)
    assert np.all(np.abs(pts[:, 1] - 15.0) <= 0.02 + 1e-12) and np.ptp(pts[:, 1]) > 0.03


def test_noise_estimate_ignores_failed_runs():
    e = noise.estimate(0.9, np.array([1.0, 2.0, np.nan, 4.0]), np.array([True, True, False, True]))
    assert (e.n, e.n_ok, e.low, e.high) == (4, 3, 1.0, 4.0)
    assert e.std == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert e.log_std == pytest.approx(np.std(np.log([1, 2, 4]), ddof=1))
    assert math.isnan(noise.estimate(1.0, np.array([1.0]), np.array([True])).std)
    assert noise.pooled_std([3.0, 4.0, float("nan")]) == pytest.approx(math.sqrt(12.5))


# ---- verdict rules ----------------------------------------------------------------------------
def test_verdict_rules():
    names = ["a", "b", "c", "e", "f"]
    bounds = np.array([[0.0, 1.0]] * 5)
    intervals = np.array([[0.4, 0.5], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.2, 0.9]])
    total = np.array([0.3, 0.5, 0.5, 0.01, 0.2])
    rho = np.eye(5)
    rho[1, 2] = rho[2, 1] = -0.97
    v = verdicts(names, {"a": "GPa"}, intervals, bounds, total, np.stack([total, total], 1), rho,
                 [None, "both", "both", "both", None], identified_fraction=0.25,
                 insensitive_total=0.05, tradeoff_rho=0.8)
    assert [v[n].status for n in names] == ["identified", "traded_off", "traded_off",
                                            "insensitive", "not_identified"]
    assert v["a"].text.startswith("identified: 0.40 to 0.50 GPa, 10 % of its range")
    assert v["b"].partner == "c" and "traded off with c (Spearman ρ = -0.97" in v["b"].text
    assert "insensitive" in v["e"].text and "0.010" in v["e"].text
    assert interval_text(-3.3735, -3.3718, "eV") == "-3.3735 to -3.3718 eV"


# ---- the whole pipeline on a function with a known answer -------------------------------------
NAMES = ["a", "b", "c", "e"]
BOUNDS = np.array([[0.0, 2.0], [-1.0, 1.0], [0.0, 4.0], [10.0, 20.0]])
ROUGHNESS = 0.005  # relative, uniform: std of ln(delta) at small scales = 0.005 / sqrt(3)


def _unit(x):
    return (x - BOUNDS[:, 0]) / (BOUNDS[:, 1] - BOUNDS[:, 0])


def synthetic_delta(x: np.ndarray) -> np.ndarray:
    """0.1 (1 + 4 (u_a − 0.3)² + 4 (u_b + u_c − 1)²), times a deterministic roughness of
    ± ROUGHNESS: u_a is identified, u_b and u_c trade off along u_b + u_c = 1, e does nothing."""
    u = _unit(np.atleast_2d(x))
    smooth = 0.1 * (1 + 4 * (u[:, 0] - 0.3) ** 2 + 4 * (u[:, 1] + u[:, 2] - 1) ** 2)
    phase = np.sin(x @ np.array([12.9898, 78.233, 37.719, 4.581]) * 1e3) * 43758.5453
    return smooth * (1 + ROUGHNESS * (2 * (phase - np.floor(phase)) - 1))


def _history(seed: int) -> EGOResult:
    """An EGO-like history: a random design and points along the valley."""
    rng = np.random.default_rng(seed)
    design = rng.uniform(size=(60, 4))
    valley = np.column_stack([0.3 + 0.05 * rng.standard_normal(80), rng.uniform(size=80),
                              np.zeros(80), rng.uniform(size=80)])
    valley[:, 2] = 1 - valley[:, 1] + 0.03 * rng.standard_normal(80)
    X = BOUNDS[:, 0] + np.clip(np.vstack([design, valley]), 0, 1) * (BOUNDS[:, 1] - BOUNDS[:, 0])
    y = synthetic_delta(X)
    i = int(np.argmin(y))
    n = len(y)
    return EGOResult(x_best=X[i], y_best=float(y[i]), X=X, y=y, status=["ok"] * n,
                     iteration=np.zeros(n, dtype=int), acquisition=np.full(n, np.nan),
                     tr_length=np.full(n, np.nan), wall_time=np.zeros(n), names=NAMES,
                     seed=seed, stop_reason="max_iter")


def _objective(x):
    return synthetic_delta(x), ["ok"] * len(x)


FAST = UncertaintySettings(noise_evaluations=24, check_evaluations=16, profile_checks=3,
                           profile_points=15, sobol_samples=2048, bootstrap=100,
                           candidates=4096)
TARGET = {"a": 0.6, "b": 0.0, "c": 2.0, "e": 15.0}


@pytest.fixture(scope="module")
def synthetic():
    return analyze([_history(0), _history(1)], _objective, SearchSpace(BOUNDS),
                   settings=FAST, target=TARGET)


def test_synthetic_noise_is_the_known_roughness(synthetic):
    n = synthetic.summary["noise"]
    assert n["method"] == "near-replicates"
    assert n["std_log_delta"] == pytest.approx(ROUGHNESS / math.sqrt(3), rel=0.35)
    assert synthetic.summary["evaluations"] == FAST.real_evaluations(2, 4)


def test_synthetic_sobol_indices_are_the_analytic_ones(synthetic):
    """Of 1 + 4 g(u_a) + 4 h(u_b + u_c) (the constant factor and the roughness aside):
    S_a = S_T,a = 0.327; S_b = S_c = 0.096, S_T,b = S_T,c = 0.577 (their interaction);
    S_T,e = 0."""
    s = synthetic.summary["sobol"]
    first = {n: s["first_order"][n]["value"] for n in NAMES}
    total = {n: s["total"][n]["value"] for n in NAMES}
    assert first["a"] == pytest.approx(0.327, abs=0.05)
    assert total["a"] == pytest.approx(0.327, abs=0.05)
    for n in ("b", "c"):
        assert first[n] == pytest.approx(0.096, abs=0.05)
        assert total[n] == pytest.approx(0.577, abs=0.06)
    assert abs(total["e"]) < 0.02 and s["total"]["e"]["high"] < 0.05


def test_synthetic_intervals_and_verdicts(synthetic):
    near, verdict = synthetic.summary["near_optimal"], synthetic.summary["verdicts"]
    iv = {n: near["intervals"][n] for n in NAMES}
    # a: 0.3 of the unit range, margin 2 sigma of ln delta -> |u_a - 0.3| <= ~0.04
    assert iv["a"]["low"] < 0.6 < iv["a"]["high"] and iv["a"]["fraction_of_range"] < 0.15
    for n in ("b", "c", "e"):
        assert iv[n]["fraction_of_range"] > 0.85, n
    assert near["spearman"]["b"]["c"] < -0.9
    assert abs(near["spearman"]["a"]["e"]) < 0.3
    assert {n: verdict[n]["status"] for n in NAMES} == {
        "a": "identified", "b": "traded_off", "c": "traded_off", "e": "insensitive"}
    assert "traded off with c" in verdict["b"]["text"]
    assert "traded off with b" in verdict["c"]["text"]
    assert "insensitive" in verdict["e"]["text"]
    assert synthetic.summary["target_inside"] == {n: True for n in NAMES}
    checks = near["checks"]
    assert checks["inside_within_noise"] >= 0.8 * checks["evaluations"]
    assert all(all(s["inside_interval"]) for s in synthetic.summary["seeds"].values())
    assert synthetic.summary["caveats"] == []
    assert synthetic.summary["seeds_agree"] is True and synthetic.summary[
        "parameters_at_bound"] == []


def test_synthetic_profiles_rise_where_identified_and_stay_flat_where_traded(synthetic):
    """The re-optimised profile of b is flat (c compensates) while its slice at the optimum
    rises; a's profile rises on both sides of its interval."""
    data = synthetic.data
    threshold = data.attrs["delta_threshold"]
    b = NAMES.index("b")
    assert np.all(data["profile_delta"].values[b] <= threshold * 1.01)
    assert np.max(data["slice_delta"].values[b]) > 1.5 * threshold
    a = NAMES.index("a")
    assert data["profile_delta"].values[a][[0, -1]].min() > threshold


def test_uncertainty_files_and_figures(synthetic, tmp_path):
    io.write(synthetic.summary, synthetic.data, tmp_path / "u.json", tmp_path / "u.nc")
    summary, data = io.read(tmp_path / "u.json", tmp_path / "u.nc")
    assert summary["verdicts"] == synthetic.summary["verdicts"]
    np.testing.assert_array_equal(data["sample"].values, synthetic.data["sample"].values)
    figures = {name: tmp_path / f"{name}.png" for name in FIGURES}
    plots.write_all(summary, data, figures, tmp_path / "verdicts.html", PHYSICAL)
    assert all(p.stat().st_size > 10_000 for p in figures.values())
    page = (tmp_path / "verdicts.html").read_text()
    assert "traded off with c" in page and "<table>" in page


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="sobol_samples: must be a power of two"):
        UncertaintySettings(sobol_samples=1000)
    with pytest.raises(ValueError, match="noise_scale"):
        UncertaintySettings(noise_scale=0.0)
    with pytest.raises(ValueError, match="unknown uncertainty settings"):
        UncertaintySettings.from_config({"enabled": True, "budget": 3})
    assert UncertaintySettings.from_config({"enabled": False, "seed": 3}).seed == 3


# ---- an optimum outside the box: never identified; seeds that disagree say so first ------------
PAPER_NAMES = ["c0", "s_y", "beta", "E0"]
PAPER_BOX = np.array([[0.05, 1.0], [0.8, 1.15], [2.0, 15.0], [-3.39, -3.355]])


def outside_delta(x: np.ndarray) -> np.ndarray:
    """Smallest at u_β = −0.3, below the box's lower β bound; s_y identified at the middle of its
    range; the same roughness as :func:`synthetic_delta`."""
    u = (np.atleast_2d(x) - PAPER_BOX[:, 0]) / (PAPER_BOX[:, 1] - PAPER_BOX[:, 0])
    smooth = 0.1 * (1 + 0.5 * (u[:, 0] - 0.5) ** 2 + 4 * (u[:, 1] - 0.5) ** 2
                    + 4 * (u[:, 2] + 0.3) ** 2 + 0.5 * (u[:, 3] - 0.5) ** 2)
    phase = np.sin(x @ np.array([12.9898, 78.233, 37.719, 4.581]) * 1e3) * 43758.5453
    return smooth * (1 + ROUGHNESS * (2 * (phase - np.floor(phase)) - 1))


def _outside_history(seed: int, n_valley: int) -> EGOResult:
    """A random design and ``n_valley`` points that ran into the lower β bound (seed 1: none,
    so its best stays far from the other's)."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(40, 4))
    valley = np.column_stack([rng.uniform(size=n_valley), 0.5 + 0.05 * rng.standard_normal(
        n_valley), np.abs(0.02 * rng.standard_normal(n_valley)), rng.uniform(size=n_valley)])
    X = PAPER_BOX[:, 0] + np.clip(np.vstack([u, valley]), 0, 1) * np.ptp(PAPER_BOX, axis=1)
    y = outside_delta(X)
    i, n = int(np.argmin(y)), len(y)
    return EGOResult(x_best=X[i], y_best=float(y[i]), X=X, y=y, status=["ok"] * n,
                     iteration=np.zeros(n, dtype=int), acquisition=np.full(n, np.nan),
                     tr_length=np.full(n, np.nan), wall_time=np.zeros(n), names=PAPER_NAMES,
                     seed=seed, stop_reason="max_iter")


def test_an_optimum_outside_the_box_is_never_identified(caplog):
    with caplog.at_level("WARNING"):
        uq = analyze([_outside_history(0, 80), _outside_history(1, 0)],
                     lambda x: (outside_delta(x), ["ok"] * len(x)), SearchSpace(PAPER_BOX),
                     settings=FAST, units={"beta": "1/eV"})
    s = uq.summary
    status = {n: v["status"] for n, v in s["verdicts"].items()}
    assert status["beta"] == "at_bound" and status["s_y"] == "identified"
    assert all(s["near_optimal"]["intervals"][n]["reaches_bound"] in (None, "both")
               for n, st in status.items() if st == "identified")
    text = s["verdicts"]["beta"]["text"]
    assert text.startswith("at a bound: the near-optimal interval reaches the lower bound 2 1/eV")
    assert ("widen the box (init-config's rule for it is an initial STZ rate that varies by "
            "0.25–2 e-folds per standard deviation of the frame-0 PE) or the model cannot reach "
            "the data") in text
    assert s["parameters_at_bound"] == ["beta"]
    # the seeds: seed 1 never came near; the summary says so first, and the log warns
    assert list(s)[:2] == ["seeds_agree", "seed_agreement"] and s["seeds_agree"] is False
    assert s["seed_agreement"].startswith("the seeds do not agree — outside the near-optimal "
                                          "region: seed 1's optimum (")
    assert "the seeds do not agree" in caplog.text and "beta: at a bound" in caplog.text
    assert "<p><b>the seeds do not agree" in plots.verdict_html(s, PHYSICAL)


def test_a_seed_optimum_on_a_bound_is_at_the_bound():
    names, bounds = ["s_y", "beta"], np.array([[0.8, 1.15], [2.0, 15.0]])
    v = verdicts(names, {"s_y": "GPa"}, np.array([[0.9, 0.95], [4.0, 5.0]]), bounds,
                 np.array([0.3, 0.3]), np.full((2, 2), 0.3), np.eye(2), [None, None],
                 identified_fraction=0.25, insensitive_total=0.05, tradeoff_rho=0.8,
                 seeds_on_bound={"s_y": [(1, "upper")]})
    assert v["s_y"].status == "at_bound" and v["beta"].status == "identified"
    assert v["s_y"].text.startswith("at a bound: seed 1's optimum lies on the upper bound 1.15 "
                                    "GPa — widen the box (init-config's rule for it is 0.4–0.8 × "
                                    "the MD's peak stress)")
