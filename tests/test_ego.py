"""EGO: EI against eq. (20) integrated numerically, log-EI tails, the loop on Branin, determinism,
resume after a real kill, failed evaluations, batches, given initial designs, seed summaries."""

from __future__ import annotations

import logging
import math
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
from scipy import integrate, stats

from grassego.design import latin_hypercube
from grassego.ego import (EGOSettings, expected_improvement, log_expected_improvement, minimize,
                          read_history, result_from_history, summarize_seeds)
from grassego.errors import GrassegoError, InputError
from grassego.surrogate import GPConfig, fit_gp

ROOT = Path(__file__).resolve().parents[1]
BRANIN_BOUNDS = np.array([[-5.0, 10.0], [0.0, 15.0]])
BRANIN_MIN = 0.397887357729738
BRANIN_ARGMIN = np.array([[-np.pi, 12.275], [np.pi, 2.275], [9.42478, 2.475]])
# Small candidate sets keep the tests fast; the algorithm is the same.
FAST = EGOSettings(n_candidates=2**12, n_exact=1024, n_polish=3, gp=GPConfig(restarts=1))


def _t(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64))


def branin(x: np.ndarray) -> np.ndarray:
    a, b, c, r, s, t = 1.0, 5.1 / (4 * np.pi**2), 5 / np.pi, 6.0, 10.0, 1 / (8 * np.pi)
    return (a * (x[:, 1] - b * x[:, 0] ** 2 + c * x[:, 0] - r) ** 2
            + s * (1 - t) * np.cos(x[:, 0]) + s)


# -- expected improvement --------------------------------------------------------------------------
@pytest.mark.parametrize("mean,std,f_min", [(0.0, 1.0, 0.0), (1.0, 0.5, 0.2), (-0.3, 2.0, 0.5),
                                            (3.0, 0.7, 0.0), (0.1, 1e-3, 0.1)])
def test_ei_matches_numerical_integration_of_the_improvement(mean, std, f_min):
    # E[max(f_min - Y, 0)], Y ~ N(mean, std): integrate the improvement against the density
    ref, _ = integrate.quad(lambda v: (f_min - v) * stats.norm.pdf(v, mean, std),
                            mean - 40 * std, f_min, epsabs=1e-14, epsrel=1e-12, limit=200)
    ei = float(expected_improvement(_t([mean]), _t([std]), f_min))
    assert ei == pytest.approx(max(ref, 0.0), rel=1e-8, abs=1e-14)
    log_ei = float(log_expected_improvement(_t([mean]), _t([std]), f_min))
    assert log_ei == pytest.approx(math.log(ref), rel=1e-8)


def test_ei_without_uncertainty_is_the_plain_improvement():
    ei = expected_improvement(_t([0.0, 2.0]), _t([0.0, 0.0]), 1.0)
    assert ei.tolist() == [1.0, 0.0]
    assert log_expected_improvement(_t([2.0]), _t([0.0]), 1.0).item() == -math.inf


def test_log_ei_is_finite_and_follows_the_asymptote_where_ei_underflows():
    z = torch.tensor([-5.0, -40.0, -1e3, -1e7], dtype=torch.float64)
    log_ei = log_expected_improvement(-z, torch.ones_like(z), 0.0)  # mean = -z, s = 1 -> z
    assert torch.all(torch.isfinite(log_ei))
    assert float(expected_improvement(-z[1:2], _t([1.0]), 0.0)) == 0.0  # EI underflowed
    # h(z) = φ(z)/z² (1 − 3/z² + 15/z⁴ − …) for z → −∞
    zz = z.numpy()
    asym = stats.norm.logpdf(zz) - 2 * np.log(-zz) + np.log1p(-3 / zz**2 + 15 / zz**4)
    np.testing.assert_allclose(log_ei[1:].numpy(), asym[1:], rtol=1e-9)
    # continuous across the branch switch at z = -1
    zs = torch.tensor([-1.0 - 1e-9, -1.0 + 1e-9], dtype=torch.float64)
    v = log_expected_improvement(-zs, torch.ones(2, dtype=torch.float64), 0.0)
    assert abs(float(v[0] - v[1])) < 1e-7


def test_ei_is_zero_at_noiseless_training_points():
    x = latin_hypercube(15, BRANIN_BOUNDS, seed=0)
    y = branin(x)
    gp = fit_gp(x, y, BRANIN_BOUNDS, GPConfig(fixed_noise=1e-12, restarts=0))
    mean, std = gp.predict(x)
    ei_train = expected_improvement(_t(mean), _t(std), float(y.min()))
    xt = latin_hypercube(200, BRANIN_BOUNDS, seed=1)
    mt, st = gp.predict(xt)
    ei_test = expected_improvement(_t(mt), _t(st), float(y.min()))
    assert float(ei_train.max()) < 1e-6 * float(y.std())
    assert float(ei_test.max()) > 1e3 * float(ei_train.max())


# -- the loop --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def branin_run():
    return minimize(branin, BRANIN_BOUNDS, n_initial=10, max_iter=25, seed=0, settings=FAST)


def test_ego_finds_the_branin_minimum_and_beats_lhs_of_the_same_budget(branin_run):
    r = branin_run
    assert r.n_evaluations == 35 and r.stop_reason == "max_iter"
    assert (r.y_best - BRANIN_MIN) / BRANIN_MIN < 1e-2
    assert np.min(np.linalg.norm(BRANIN_ARGMIN - r.x_best, axis=1)) < 0.1
    lhs_best = min(branin(latin_hypercube(35, BRANIN_BOUNDS, seed=s)).min() for s in range(5))
    assert r.y_best - BRANIN_MIN < 0.1 * (lhs_best - BRANIN_MIN)
    assert r.y_best == r.y.min() and np.array_equal(r.x_best, r.X[np.argmin(r.y)])
    assert r.iteration.tolist() == [0] * 10 + list(range(1, 26))
    assert np.all(np.isnan(r.ei[:10])) and np.all(r.ei[10:] >= 0)


def test_same_seed_gives_the_same_sequence_and_another_seed_differs(branin_run):
    again = minimize(branin, BRANIN_BOUNDS, n_initial=10, max_iter=6, seed=0, settings=FAST)
    np.testing.assert_array_equal(again.X, branin_run.X[:16])
    other = minimize(branin, BRANIN_BOUNDS, n_initial=10, max_iter=1, seed=1, settings=FAST)
    assert not np.allclose(other.X[:10], branin_run.X[:10])


def test_threshold_stops_the_loop(branin_run):
    threshold = 2.0
    r = minimize(branin, BRANIN_BOUNDS, n_initial=10, max_iter=25, seed=0, threshold=threshold,
                 settings=FAST)
    assert r.stop_reason == "threshold" and r.converged and r.y_best < threshold
    first = int(np.argmax(branin_run.y < threshold))  # first row under it in the full run
    assert r.n_evaluations == first + 1


_RESUME_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {root!r})
    from grassego.ego import EGOSettings, minimize
    from grassego.surrogate import GPConfig

    def main(state, kill_at):
        calls = []

        def objective(x):
            calls.append(1)
            if len(calls) == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)  # dies with a batch pending on disk
            a, b, c = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
            y = ((x[:, 1] - a * x[:, 0]**2 + b * x[:, 0] - 6)**2
                 + 10 * (1 - c) * np.cos(x[:, 0]) + 10)
            y[x[:, 0] > 8.5] = np.nan  # failures must survive the restart too
            return y, ["ok" if v == v else "diverged" for v in y]

        settings = EGOSettings(n_candidates=2**11, n_exact=512, n_polish=2,
                               gp=GPConfig(restarts=1), full_refit_every=3)
        minimize(objective, [[-5, 10], [0, 15]], n_initial=6, max_iter=4, seed=3, batch_size=2,
                 state_path=state, names=["a", "b"], settings=settings)

    if __name__ == "__main__":
        main(sys.argv[1], int(sys.argv[2]))
""")


def test_resume_after_a_kill_gives_the_uninterrupted_history(tmp_path):
    source = _RESUME_SCRIPT.format(root=str(ROOT))
    script = tmp_path / "run.py"
    script.write_text(source)

    def run(state: Path, kill_at: int) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(script), str(state), str(kill_at)],
                              capture_output=True, text=True, timeout=300)

    namespace: dict = {"__name__": "reference"}
    exec(compile(source, str(script), "exec"), namespace)
    namespace["main"](tmp_path / "full.nc", 0)  # the uninterrupted run, in this process
    killed = run(tmp_path / "resumed.nc", 3)  # design and iteration 1 done; iteration 2 pending
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    partial = read_history(tmp_path / "resumed.nc")
    assert list(partial["status"].values[-2:]) == ["pending", "pending"]
    assert int(partial["iteration"].max()) == 2
    assert result_from_history(tmp_path / "resumed.nc").stop_reason == "incomplete"
    resumed = run(tmp_path / "resumed.nc", 0)
    assert resumed.returncode == 0, resumed.stderr
    a, b = read_history(tmp_path / "full.nc"), read_history(tmp_path / "resumed.nc")
    np.testing.assert_array_equal(a["X"].values, b["X"].values)
    np.testing.assert_array_equal(a["y"].values, b["y"].values)
    assert list(a["status"].values) == list(b["status"].values)
    assert a.sizes["evaluation"] == 6 + 2 * 4
    assert "diverged" in list(a["status"].values)
    assert list(a["param"].values) == ["a", "b"] and a.attrs["seed"] == 3


def test_failed_evaluations_are_kept_imputed_and_logged(caplog):
    calls = []

    def objective(x):
        calls.append(len(x))
        y = branin(x)
        y[x[:, 0] > 6.0] = np.nan
        return y

    with caplog.at_level(logging.INFO, logger="grassego.ego"):
        r = minimize(objective, BRANIN_BOUNDS, n_initial=12, max_iter=5, seed=2, settings=FAST)
    bad = np.isnan(r.y)
    assert bad.any() and np.all(r.X[bad, 0] > 6.0)
    assert all(s == "non_finite" for s, b_ in zip(r.status, bad) if b_)
    assert np.isfinite(r.y_best) and r.x_best[0] <= 6.0
    assert any("imputed with the worst finite" in m for m in caplog.messages)
    assert any("iter 5/5" in m for m in caplog.messages)


def test_given_initial_design_is_not_re_evaluated_and_statuses_are_kept(tmp_path):
    x0 = latin_hypercube(8, BRANIN_BOUNDS, seed=4)
    y0 = branin(x0)
    y0[1] = np.nan
    status0 = ["ok", "diverged"] + ["ok"] * 6
    seen = []

    def objective(x):
        seen.append(x.copy())
        return branin(x), ["ok"] * len(x)

    r = minimize(objective, BRANIN_BOUNDS, n_initial=99, max_iter=3, seed=0, batch_size=2,
                 initial_X=x0, initial_y=y0, initial_status=status0, names=["x1", "x2"],
                 state_path=tmp_path / "h.nc", settings=FAST)
    assert len(seen) == 3 and all(s.shape == (2, 2) for s in seen)  # only the EGO batches
    np.testing.assert_array_equal(r.X[:8], x0)
    assert r.status[:2] == ["ok", "diverged"] and r.n_evaluations == 14
    assert len({tuple(p) for p in r.X[8:]}) == 6  # batch points are distinct
    ds = read_history(tmp_path / "h.nc")
    assert list(ds["param"].values) == ["x1", "x2"]
    assert np.all(ds["wall_time"].values[8:] >= 0) and np.all(np.isnan(ds["wall_time"][:8]))
    with pytest.raises(InputError, match="initial design differs"):
        minimize(objective, BRANIN_BOUNDS, n_initial=8, max_iter=4, seed=0, initial_X=x0[::-1],
                 names=["x1", "x2"], state_path=tmp_path / "h.nc", settings=FAST)


def test_constant_liar_batches_and_initial_chunks():
    calls = []

    def objective(x):
        calls.append(len(x))
        return branin(x)

    settings = replace(FAST, batch_strategy="constant_liar")
    r = minimize(objective, BRANIN_BOUNDS, n_initial=9, max_iter=2, seed=5, batch_size=3,
                 initial_chunks=3, settings=settings)
    assert calls == [3, 3, 3, 3, 3]
    assert len({tuple(p) for p in r.X}) == 15


def test_resume_with_other_settings_names_the_file(tmp_path):
    path = tmp_path / "h.nc"
    minimize(branin, BRANIN_BOUNDS, n_initial=4, max_iter=0, seed=0, state_path=path,
             settings=FAST)
    with pytest.raises(InputError, match=r"h\.nc.*seed 0.*seed 1"):
        minimize(branin, BRANIN_BOUNDS, n_initial=4, max_iter=0, seed=1, state_path=path)
    (tmp_path / "junk.nc").write_text("not netcdf")
    with pytest.raises(InputError, match="junk.nc"):
        read_history(tmp_path / "junk.nc")


def test_objective_returning_the_wrong_count_is_an_error():
    with pytest.raises(GrassegoError, match="returned 1 values for 4 points"):
        minimize(lambda x: np.zeros(1), BRANIN_BOUNDS, n_initial=4, max_iter=1)


def test_stall_is_reported_and_can_stop_the_run(caplog):
    settings = replace(FAST, stall_tol=10.0, stall_patience=2, stop_on_stall=True)
    with caplog.at_level(logging.WARNING, logger="grassego.ego"):
        r = minimize(branin, BRANIN_BOUNDS, n_initial=6, max_iter=10, seed=0, settings=settings)
    assert r.stop_reason == "stalled" and r.stalled
    assert r.iteration.max() == 2
    assert any("EI has stalled" in m for m in caplog.messages)


def test_summarize_seeds_gathers_best_points_and_spread(tmp_path):
    paths = []
    for seed in (0, 1, 2):
        p = tmp_path / f"seed_{seed}.nc"
        minimize(branin, BRANIN_BOUNDS, n_initial=5, max_iter=2, seed=seed, state_path=p,
                 settings=FAST)
        paths.append(p)
    summary = summarize_seeds(paths)
    results = [result_from_history(p) for p in paths]
    xb = np.array([r.x_best for r in results])
    assert isinstance(summary, xr.Dataset)
    assert summary["seed"].values.tolist() == [0, 1, 2]
    np.testing.assert_allclose(summary["x_best"].values, xb)
    np.testing.assert_allclose(summary["x_best_std"].values, xb.std(axis=0, ddof=1))
    assert float(summary["y_overall"]) == min(r.y_best for r in results)
    assert summary["n_evaluations"].values.tolist() == [7, 7, 7]
    assert all(r.stop_reason == "max_iter" for r in results)
    with pytest.raises(ValueError, match="duplicate"):
        summarize_seeds([paths[0], paths[0]])


def test_settings_from_a_config_mapping():
    s = EGOSettings.from_mapping({"acquisition": "ei", "batch_strategy": "constant_liar",
                                  "gp": {"kernel": "rbf", "noise_floor": 1e-5}})
    assert s.acquisition == "ei" and s.gp.kernel == "rbf" and s.gp.noise_floor == 1e-5
    with pytest.raises(ValueError, match="unknown EGO settings"):
        EGOSettings.from_mapping({"acqusition": "ei"})
    with pytest.raises(ValueError, match="unknown GP settings"):
        EGOSettings.from_mapping({"gp": {"kernal": "rbf"}})
    with pytest.raises(ValueError, match="acquisition"):
        EGOSettings(acquisition="pi")


def test_log_transform_handles_outliers_and_keeps_delta_in_the_history():
    """With a few huge values (like diverged/elastic STZ runs), EGO on log Δ still homes in."""
    def objective(x):
        x = np.atleast_2d(x)
        base = (x[:, 0] - 0.3) ** 2 + (x[:, 1] - 0.7) ** 2 + 0.01
        return np.where(x[:, 0] > 0.85, 50.0, base)  # a plateau of 'failed-like' outliers

    bounds = np.array([[0.0, 1.0], [0.0, 1.0]])
    res = minimize(objective, bounds, n_initial=10, max_iter=15, seed=3,
                   settings=EGOSettings(y_transform="log", n_candidates=4096))
    assert res.y_best < 0.012
    assert np.allclose(res.y, objective(res.X))  # the history keeps Δ, not log Δ
    with pytest.raises(ValueError, match="y_transform"):
        EGOSettings(y_transform="sqrt")
