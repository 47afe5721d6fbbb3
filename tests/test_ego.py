"""Trust-region EGO: the loop on Branin, determinism, resume after a real kill or from the backup
of a damaged history, failed evaluations and the feasibility classifier, given designs,
q-batches, trust-region rules and their replay, stall, seed summaries, settings from the
workflow config."""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from conftest import ROOT
from grassego.design import latin_hypercube
from grassego.ego import (EGOLoop, EGOSettings, InitialRuns, SearchProblem, TrustRegion, minimize,
                          propose, read_history, replay, result_from_history, search_space,
                          summarize_seeds)
from grassego.errors import GrassegoError, InputError
from grassego.surrogate import GPConfig

BRANIN_BOUNDS = np.array([[-5.0, 10.0], [0.0, 15.0]])
BRANIN_MIN = 0.397887357729738
BRANIN_ARGMIN = np.array([[-np.pi, 12.275], [np.pi, 2.275], [9.42478, 2.475]])
# Fewer acquisition starts keep the tests fast; the algorithm is the same.
FAST = EGOSettings(raw_samples=64, num_restarts=2, mc_samples=64)


def branin(x: np.ndarray) -> np.ndarray:
    a, b, c, r, s, t = 1.0, 5.1 / (4 * np.pi**2), 5 / np.pi, 6.0, 10.0, 1 / (8 * np.pi)
    return (a * (x[:, 1] - b * x[:, 0] ** 2 + c * x[:, 0] - r) ** 2
            + s * (1 - t) * np.cos(x[:, 0]) + s)


def on_branin(objective=branin, settings: EGOSettings = FAST, **kw) -> SearchProblem:
    """``objective`` over Branin's box, searched with ``settings``."""
    return SearchProblem.box(objective, BRANIN_BOUNDS, settings=settings, **kw)


def loop(max_iter: int, batch_size: int = 1, threshold: float | None = None) -> EGOLoop:
    return EGOLoop(max_iter=max_iter, batch_size=batch_size, threshold=threshold)


# -- the loop --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def branin_run():
    return minimize(on_branin(), loop(25), initial=10, seed=0)


def test_ego_finds_the_branin_minimum_and_beats_lhs_of_the_same_budget(branin_run):
    r = branin_run
    assert r.n_evaluations == 35 and r.stop_reason == "max_iter"
    assert (r.y_best - BRANIN_MIN) / BRANIN_MIN < 1e-2
    assert np.min(np.linalg.norm(BRANIN_ARGMIN - r.x_best, axis=1)) < 0.1
    lhs_best = min(branin(latin_hypercube(35, BRANIN_BOUNDS, seed=s)).min() for s in range(5))
    assert r.y_best - BRANIN_MIN < 0.1 * (lhs_best - BRANIN_MIN)
    assert r.y_best == r.y.min() and np.array_equal(r.x_best, r.X[np.argmin(r.y)])
    assert r.iteration.tolist() == [0] * 10 + list(range(1, 26))
    assert np.all(np.isnan(r.acquisition[:10])) and np.all(np.isfinite(r.acquisition[10:]))
    assert r.tr_length[10] == FAST.tr_init and np.all(r.tr_length[10:] >= FAST.tr_min)


def test_same_seed_gives_the_same_sequence_and_another_seed_differs(branin_run):
    again = minimize(on_branin(), loop(6), initial=10, seed=0)
    np.testing.assert_array_equal(again.X, branin_run.X[:16])
    other = minimize(on_branin(), loop(1), initial=10, seed=1)
    assert not np.allclose(other.X[:10], branin_run.X[:10])


def test_threshold_stops_the_loop(branin_run):
    threshold = 2.0
    r = minimize(on_branin(), loop(25, threshold=threshold), initial=10, seed=0)
    assert r.stop_reason == "threshold" and r.converged and r.y_best < threshold
    first = int(np.argmax(branin_run.y < threshold))  # first row under it in the full run
    assert r.n_evaluations == first + 1


_RESUME_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {root!r})
    from grassego.ego import EGOLoop, EGOSettings, SearchProblem, minimize

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

        settings = EGOSettings(raw_samples=32, num_restarts=2, mc_samples=32, failure_tol=1)
        minimize(SearchProblem.box(objective, [[-5, 10], [0, 15]], ["a", "b"], settings),
                 EGOLoop(max_iter=5, batch_size=2), initial=8, seed=3, state_path=state)

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
    killed = run(tmp_path / "resumed.nc", 4)  # design and iterations 1-2 done; 3 pending
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    partial = read_history(tmp_path / "resumed.nc")
    assert list(partial["status"].values[-2:]) == ["pending", "pending"]
    assert int(partial["iteration"].max()) == 3
    assert result_from_history(tmp_path / "resumed.nc").stop_reason == "incomplete"
    resumed = run(tmp_path / "resumed.nc", 0)
    assert resumed.returncode == 0, resumed.stderr
    a, b = read_history(tmp_path / "full.nc"), read_history(tmp_path / "resumed.nc")
    np.testing.assert_array_equal(a["X"].values, b["X"].values)
    np.testing.assert_array_equal(a["y"].values, b["y"].values)
    np.testing.assert_array_equal(a["tr_length"].values, b["tr_length"].values)
    assert list(a["status"].values) == list(b["status"].values)
    assert a.sizes["evaluation"] == 8 + 2 * 5
    assert "diverged" in list(a["status"].values)
    assert len(set(a["tr_length"].values[8:])) > 1  # the trust region moved and was replayed
    assert list(a["param"].values) == ["a", "b"] and a.attrs["seed"] == 3


def _truncate_to_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


_DAMAGED = dict(initial=6, seed=7, initial_chunks=2)


@pytest.fixture(scope="module")
def damaged_reference():
    """The uninterrupted run the recovered runs must reproduce bit for bit."""
    return minimize(on_branin(), loop(4, 2), **_DAMAGED)


@pytest.mark.parametrize("stop,damage,restored", [
    # a finished run whose last write (the stop reason) is damaged
    ("finished", "truncate", r"restored 10 rows \(10 evaluated, 0 pending\).*no evaluation"),
    # the objective failed after the design's first chunk: that chunk's evaluations are lost
    ("raised", "truncate", r"restored 6 rows \(0 evaluated, 6 pending\).*up to these 6 pending"),
    # killed between the two renames: only the backup exists
    ("raised", "missing", r"missing.*restored 6 rows \(3 evaluated, 3 pending\)"),
], ids=["stop-reason-lost", "evaluations-lost", "killed-between-renames"])
def test_a_damaged_history_is_restored_from_its_backup_and_ends_as_uninterrupted(
        tmp_path, caplog, damaged_reference, stop, damage, restored):
    path = tmp_path / "history.nc"
    calls = []

    def failing(x):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("solver crashed")
        return branin(x)

    if stop == "finished":
        minimize(on_branin(), loop(2, 2), state_path=path, **_DAMAGED)
    else:
        with pytest.raises(RuntimeError, match="solver crashed"):
            minimize(on_branin(failing), loop(4, 2), state_path=path, **_DAMAGED)
    backup = tmp_path / "history.nc.bak"
    assert backup.is_file()
    if damage == "truncate":
        _truncate_to_half(path)
        damaged_bytes = path.read_bytes()
    else:  # the state after renaming the file to the backup, before the new file lands
        path.replace(backup)
    with caplog.at_level(logging.WARNING, logger="grassego.ego"):
        r = minimize(on_branin(), loop(4, 2), state_path=path, **_DAMAGED)
    warnings = [m for m in caplog.messages if "restored" in m]
    assert len(warnings) == 1 and re.search(restored, warnings[0]), caplog.messages
    np.testing.assert_array_equal(r.X, damaged_reference.X)
    np.testing.assert_array_equal(r.y, damaged_reference.y)
    assert r.status == damaged_reference.status
    np.testing.assert_array_equal(read_history(path)["X"].values, damaged_reference.X)
    aside = list(tmp_path.glob("history.nc.damaged-*"))
    if damage == "truncate":
        assert len(aside) == 1 and aside[0].read_bytes() == damaged_bytes
        assert aside[0].name in warnings[0]
    else:
        assert not aside


def test_a_history_and_backup_both_damaged_is_an_error_that_touches_neither(tmp_path):
    """Without the copy a finished run keeps (a run killed before it first finished)."""
    path, backup = tmp_path / "history.nc", tmp_path / "history.nc.bak"
    minimize(on_branin(), loop(0), initial=4, seed=0, state_path=path)
    (tmp_path / "history.nc.finished").unlink()
    _truncate_to_half(path)
    backup.write_text("not netcdf")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(InputError, match=r"history\.nc: damaged .*history\.nc\.bak cannot be used"):
        minimize(on_branin(), loop(1), initial=4, seed=0, state_path=path)
    backup.unlink()  # a damaged first write has no backup
    with pytest.raises(InputError, match=r"history\.nc\.bak cannot be used either \(no such"):
        minimize(on_branin(), loop(1), initial=4, seed=0, state_path=path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {
        "history.nc": before["history.nc"]}


def test_a_finished_run_whose_history_and_backup_are_both_damaged_is_recovered(tmp_path, caplog):
    """The workflow's fault: a seed finished (its result file is a copy of the history), both
    history files are damaged, the budget is raised; Snakemake deletes the result file before
    the job starts. The copy kept when the run finished restores every evaluation, with one
    warning, and the run continues as an uninterrupted one would."""
    path = tmp_path / "history.nc"
    first = minimize(on_branin(), loop(2, 2), state_path=path, **_DAMAGED)
    assert (tmp_path / "history.nc.finished").read_bytes() == path.read_bytes()
    _truncate_to_half(path)
    (tmp_path / "history.nc.bak").write_text("not netcdf")
    with caplog.at_level(logging.WARNING, logger="grassego.ego"):
        r = minimize(on_branin(), loop(4, 2), state_path=path, **_DAMAGED)
    warnings = [m for m in caplog.messages if "restored" in m]
    assert len(warnings) == 1, caplog.messages
    assert re.search(r"restored 10 rows \(10 evaluated, 0 pending\) from history\.nc\.finished",
                     warnings[0]), warnings[0]
    np.testing.assert_array_equal(r.X[:first.n_evaluations], first.X)
    np.testing.assert_array_equal(r.y[:first.n_evaluations], first.y)
    assert r.n_evaluations == 6 + 2 * 4
    assert len(list(tmp_path.glob("history.nc.damaged-*"))) == 1
    assert len(list(tmp_path.glob("history.nc.bak.damaged-*"))) == 1


def test_failed_runs_are_kept_and_the_classifier_keeps_the_search_out_of_them(caplog):
    def objective(x):
        y = branin(x)
        y[x[:, 0] > 2.0] = np.nan  # two of Branin's three minima lie in the failing region
        return y, ["ok" if v == v else "diverged" for v in y]

    with caplog.at_level(logging.INFO, logger="grassego.ego"):
        r = minimize(on_branin(objective), loop(20), initial=12, seed=2)
    bad = np.isnan(r.y)
    assert bad[:12].any() and np.all(r.X[bad, 0] > 2.0)
    assert all(s == "diverged" for s, b_ in zip(r.status, bad) if b_)
    assert np.isfinite(r.y_best) and r.x_best[0] <= 2.0
    assert (r.y_best - BRANIN_MIN) / BRANIN_MIN < 0.05  # found the minimum left in bounds
    assert bad[12:].mean() < bad[:12].mean()  # fewer failures than the design's share
    assert any("failed" in m and "diverged" in m for m in caplog.messages)
    assert any("iter 20/20" in m for m in caplog.messages)


def test_given_initial_design_is_not_re_evaluated_and_statuses_are_kept(tmp_path):
    x0 = latin_hypercube(8, BRANIN_BOUNDS, seed=4)
    y0 = branin(x0)
    y0[1] = np.nan
    status0 = ["ok", "diverged"] + ["ok"] * 6
    seen = []

    def objective(x):
        seen.append(x.copy())
        return branin(x), ["ok"] * len(x)

    problem = on_branin(objective, names=["x1", "x2"])
    r = minimize(problem, loop(3, 2), initial=InitialRuns(x0, y0, status0), seed=0,
                 state_path=tmp_path / "h.nc")
    assert len(seen) == 3 and all(s.shape == (2, 2) for s in seen)  # only the EGO batches
    np.testing.assert_array_equal(r.X[:8], x0)
    assert r.status[:2] == ["ok", "diverged"] and r.n_evaluations == 14
    ds = read_history(tmp_path / "h.nc")
    assert list(ds["param"].values) == ["x1", "x2"]
    assert np.all(ds["wall_time"].values[8:] >= 0) and np.all(np.isnan(ds["wall_time"][:8]))
    with pytest.raises(InputError, match="initial design differs"):
        minimize(problem, loop(4), initial=InitialRuns(x0[::-1]), seed=0,
                 state_path=tmp_path / "h.nc")


def test_batches_are_distinct_points_and_initial_chunks_split_the_design():
    calls = []

    def objective(x):
        calls.append(len(x))
        return branin(x)

    r = minimize(on_branin(objective), loop(2, 3), initial=9, seed=5, initial_chunks=3)
    assert calls == [3, 3, 3, 3, 3]
    u = (r.X - BRANIN_BOUNDS[:, 0]) / np.ptp(BRANIN_BOUNDS, axis=1)
    for t in (1, 2):  # the picks of one batch see each other as pending: no near-duplicates
        batch = u[r.iteration == t]
        gaps = np.linalg.norm(batch[:, None] - batch[None], axis=-1)[np.triu_indices(3, 1)]
        assert gaps.min() > 1e-3


def test_the_trust_region_centre_is_the_best_posterior_mean_not_the_best_observation():
    rng = np.random.default_rng(11)
    bounds = np.array([[0.0, 1.0], [0.0, 1.0]])
    x = latin_hypercube(60, bounds, seed=1)
    delta = 1.0 + (x[:, 0] - 0.3) ** 2 + (x[:, 1] - 0.6) ** 2 + rng.normal(0, 0.02, 60)
    lucky = int(np.argmax(np.linalg.norm(x - [0.3, 0.6], axis=1) > 0.35))
    delta[lucky] = delta.min() - 0.01  # one lucky evaluation far from the true minimum
    p = propose(x, delta, np.ones(60, bool), bounds, TrustRegion(0.4), 2,
                replace(FAST, gp=GPConfig(y_transform="none")), seed=0)
    assert np.linalg.norm(p.centre - [0.3, 0.6]) < 0.15
    assert np.linalg.norm(x[lucky] - [0.3, 0.6]) > 0.35
    # the picks stay in the trust region: a box of edge 0.4 x (length-scale ratios) around the
    # centre, in axes rotated onto the good points (here the unit cube is the parameter box)
    w = p.surrogate.lengthscale
    half = 0.5 * 0.4 * w / np.exp(np.mean(np.log(w)))
    local = (p.x - p.centre) @ p.axes
    assert np.all(np.abs(local) <= half + 1e-9)
    np.testing.assert_allclose(p.axes.T @ p.axes, np.eye(2), atol=1e-12)


# -- trust region rules ----------------------------------------------------------------------------
def test_trust_region_grows_shrinks_restarts_and_replays():
    s = EGOSettings(tr_init=0.4, tr_min=0.15, tr_max=0.8, success_tol=2, failure_tol=2)
    tr = TrustRegion(0.4, best=1.0)
    history = [[0.9], [0.8]]  # two improvements: doubled
    history += [[0.8], [0.81], [0.9], [np.nan]]  # four without: halved twice
    history += [[0.85], [0.85]]  # halved below tr_min: restarted at tr_init
    lengths = []
    for y in history:
        tr.update(np.array(y), s)
        lengths.append(tr.length)
    assert lengths == [0.4, 0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.4]
    assert tr.restarts == 1 and tr.best == 0.8
    # a tiny improvement within improvement_tol does not count
    tr2 = TrustRegion(0.4, best=1.0)
    tr2.update(np.array([1.0 - 1e-5]), s)
    assert tr2.failures == 1
    # the replay of a history gives the same region
    y = np.concatenate([[1.0, 1.2], np.concatenate(history)])
    it = np.concatenate([[0, 0], np.arange(1, len(history) + 1)])
    again = replay(y, it, s)
    assert (again.length, again.restarts, again.best) == (tr.length, tr.restarts, tr.best)
    hw = TrustRegion(0.4).half_widths(np.array([0.5, 2.0]))
    np.testing.assert_allclose(hw, [0.1, 0.4])  # stretched by the length scales, same volume


def test_a_collapsed_trust_region_can_stop_the_run(caplog):
    settings = replace(FAST, tr_init=0.05, tr_min=0.05, failure_tol=1, stop_on_stall=True)
    with caplog.at_level(logging.WARNING, logger="grassego.ego"):
        r = minimize(on_branin(lambda x: np.ones(len(x)), settings), loop(10), initial=6,
                     seed=0)
    assert r.stop_reason == "stalled"
    assert r.iteration.max() == 1
    assert any("trust region collapsed" in m for m in caplog.messages)


# -- errors, summaries, settings -------------------------------------------------------------------
def test_resume_with_other_settings_names_the_file(tmp_path):
    path = tmp_path / "h.nc"
    minimize(on_branin(), loop(0), initial=4, seed=0, state_path=path)
    with pytest.raises(InputError, match=r"h\.nc.*seed 0.*seed 1"):
        minimize(on_branin(), loop(0), initial=4, seed=1, state_path=path)
    (tmp_path / "junk.nc").write_text("not netcdf")
    with pytest.raises(InputError, match="junk.nc"):
        read_history(tmp_path / "junk.nc")


def test_objective_returning_the_wrong_count_is_an_error():
    with pytest.raises(GrassegoError, match="returned 1 values for 4 points"):
        minimize(on_branin(lambda x: np.zeros(1)), loop(1), initial=4)


def test_summarize_seeds_gathers_best_points_and_spread(tmp_path):
    paths = []
    for seed in (0, 1, 2):
        p = tmp_path / f"seed_{seed}.nc"
        minimize(on_branin(), loop(2), initial=5, seed=seed, state_path=p)
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


def test_settings_from_the_workflow_config_and_a_mapping():
    s = EGOSettings.from_config({"seeds": [0], "max_iter": 3, "batch_size": 2, "threshold": None,
                                 "kernel": "rbf", "y_transform": "none",
                                 "acquisition": "log_ei", "failure_tol": 5})
    assert s.gp == GPConfig(kernel="rbf", y_transform="none")
    assert s.acquisition == "log_ei" and s.failure_tol == 5
    assert EGOSettings.from_mapping({"gp": {"kernel": "rbf"}}).gp.kernel == "rbf"
    with pytest.raises(ValueError, match="unknown EGO settings"):
        EGOSettings.from_config({"acqusition": "log_ei"})
    with pytest.raises(ValueError, match="unknown GP settings"):
        EGOSettings.from_mapping({"gp": {"kernal": "rbf"}})
    with pytest.raises(ValueError, match="acquisition"):
        EGOSettings(acquisition="pi")
    with pytest.raises(ValueError, match="trust-region"):
        EGOSettings(tr_min=0.5, tr_init=0.4)


def test_log_transform_handles_outliers_and_keeps_delta_in_the_history():
    """With a few huge values (like diverged/elastic STZ runs), EGO on log Δ still homes in."""
    def objective(x):
        x = np.atleast_2d(x)
        base = (x[:, 0] - 0.3) ** 2 + (x[:, 1] - 0.7) ** 2 + 0.01
        return np.where(x[:, 0] > 0.85, 50.0, base)  # a plateau of 'failed-like' outliers

    bounds = np.array([[0.0, 1.0], [0.0, 1.0]])
    res = minimize(SearchProblem.box(objective, bounds, settings=FAST), loop(15), initial=10,
                   seed=3)
    assert res.y_best < 0.012
    assert np.allclose(res.y, objective(res.X))  # the history keeps Δ, not log Δ


# -- search coordinates ----------------------------------------------------------------------------
def test_mean_chi_space_round_trips_and_straightens_the_chi_valley():
    names = ["c0", "s_y", "beta", "E0"]
    bounds = np.array([[0.05, 1.0], [0.8, 1.15], [2.0, 15.0], [-3.39, -3.355]])
    e_mean = -3.3596
    space = search_space(bounds, names, "mean_chi", e_mean)
    x = latin_hypercube(50, bounds, seed=0)
    z = space.to_search(x)
    np.testing.assert_allclose(space.from_search(z), x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(z[:, 3], x[:, 2] * (e_mean - x[:, 3]))
    sb = space.search_bounds
    assert np.all(z >= sb[:, 0] - 1e-12) and np.all(z <= sb[:, 1] + 1e-12)
    # a valley of constant mean disorder m is a line of constant z[:, 3]
    beta = np.linspace(4.0, 9.0, 5)
    valley = np.column_stack([np.full(5, 0.5), np.full(5, 1.0), beta, e_mean - 0.07 / beta])
    np.testing.assert_allclose(space.to_search(valley)[:, 3], 0.07)
    # points beyond the E0 bounds come back clipped into the box
    far = space.from_search(np.array([[0.5, 1.0, 2.0, sb[3, 1]]]))
    assert far[0, 3] == bounds[3, 0]
    assert search_space(bounds[:3], names[:3], "mean_chi", e_mean).describe() == "parameter box"
    with pytest.raises(ValueError, match="search space"):
        search_space(bounds, names, "polar", e_mean)


def test_minimize_searches_in_the_given_space_and_keeps_parameter_units(tmp_path):
    names = ["beta", "E0"]
    bounds = np.array([[2.0, 15.0], [-3.39, -3.355]])
    e_mean = -3.36

    def valley(x):  # Δ small on m = 0.07, rising along it away from beta = 8
        m = x[:, 0] * (e_mean - x[:, 1])
        return 0.01 + 50 * np.abs(m - 0.07) + 0.002 * (x[:, 0] - 8.0) ** 2

    space = search_space(bounds, names, "mean_chi", e_mean)
    r = minimize(SearchProblem.box(valley, bounds, names, FAST, space), loop(12, 2), initial=12,
                 seed=0, state_path=tmp_path / "h.nc")
    assert np.all(r.X >= bounds[:, 0]) and np.all(r.X <= bounds[:, 1])
    assert r.y_best < 0.03
    assert read_history(tmp_path / "h.nc")["bounds"].values.tolist() == bounds.tolist()
    with pytest.raises(ValueError, match="other bounds"):
        SearchProblem.box(valley, bounds * 1.01, space=space)


def test_principal_axes_follow_a_diagonal_valley_and_need_enough_points():
    from grassego.ego.propose import principal_axes

    rng = np.random.default_rng(0)
    u = rng.random((400, 3))
    along = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    delta = np.abs((u - 0.5) @ np.array([1.0, -1.0, 0.0])) + 0.3 * np.abs(u[:, 2] - 0.5)
    axes = principal_axes(u, delta)
    assert abs(axes[:, 0] @ along) > 0.95  # the best points line up along the valley
    np.testing.assert_allclose(axes.T @ axes, np.eye(3), atol=1e-12)
    np.testing.assert_array_equal(principal_axes(u[:100], delta[:100]), np.eye(3))
