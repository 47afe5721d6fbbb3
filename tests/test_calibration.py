"""Solver + objective glue: reproducibility, the validation-mode reference, where a seed's EGO
state lives."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from grassego.calibration import (Calibration, SolverSettings, check_initial_designs,
                                  ego_state_path, training_table)
from grassego.errors import GrassegoError
from grassego.fields import read_reference
from grassego.objective import ObjectiveConfig
from grassego.threads import torch_threads

NAMES = ["c0", "s_y", "beta", "E0"]
#: A CuZr parameter set near a shear-band bifurcation: its Δ changed by 7 % with the thread
#: count before the torch path was pinned to one thread.
SENSITIVE = [0.7649426458, 1.037279595, 13.20347154, -3.378821238]


@pytest.fixture(scope="module")
def reference(cuzr_reference_path):
    return read_reference(cuzr_reference_path)


@pytest.fixture(scope="module")
def calib(reference):
    return Calibration(reference, NAMES, ObjectiveConfig(), solver=SolverSettings(dtype="float32"))


@pytest.mark.parametrize("backend", ["fused", "torch"])
def test_delta_does_not_depend_on_thread_count_or_batch(reference, backend):
    def calib(threads: int) -> Calibration:
        return Calibration(reference, NAMES, ObjectiveConfig(), threads=threads,
                           solver=SolverSettings(dtype="float32", backend=backend))

    one, _ = calib(1).evaluate(np.array([SENSITIVE]))
    with torch_threads(2):
        two, status = calib(2).evaluate(np.array([[0.164, 0.906, 6.882, -3.369], SENSITIVE]))
        assert torch.get_num_threads() == 2  # the caller's thread count is left as it was
    assert status == ["ok", "ok"]
    assert two[1] == one[0]


def test_the_torch_path_solves_on_one_thread_whatever_the_caller_set(reference):
    short = SolverSettings(backend="torch", device="cpu",
                           constants={"n_frames": 3, "steps_per_frame": 1})
    calib = Calibration(reference, NAMES, solver=short, threads=2)
    seen = []
    with torch_threads(2):
        calib.simulate(calib.parameter_table([[0.164, 0.906, 6.882, -3.369]]), keep_frames=[0],
                       progress=lambda frame, n: seen.append(torch.get_num_threads()))
    assert seen == [1, 1, 1]


def test_the_ego_state_lives_beside_the_result_named_by_the_problem(reference, tmp_path):
    training = pd.DataFrame({"c0": [0.1, 0.2], "s_y": [0.9, 1.0], "beta": [6.0, 7.0],
                             "E0": [-3.37, -3.38], "delta": [0.2, 0.3], "status": ["ok", "ok"]})
    calibration = {"parameters": {"c0": [0.05, 1.0]}, "objective": {"variant": "paper"}}
    section = {"seeds": [0, 1], "max_iter": 80, "batch_size": 4, "threshold": None,
               "kernel": "matern52"}
    result = tmp_path / "ego" / "seed_0" / "result.nc"

    def path(seed=0, calibration=calibration, training=training, **ego):
        return ego_state_path(result, reference, training, calibration, {**section, **ego},
                              seed)

    base = path()
    assert base.parent.parent == result.parent and base.name == "history.nc"
    assert re.fullmatch(r"state-[0-9a-f]{12}", base.parent.name)
    # the budget continues the history ...
    assert path(max_iter=5) == path(threshold=0.05) == path(seeds=[0, 7]) == base
    # ... a changed problem starts a new one
    changed = [path(batch_size=8), path(kernel="rbf"), path(seed=1),
               path(calibration={**calibration, "objective": {"variant": "aligned"}}),
               path(training=training.assign(delta=[0.2, 0.31]))]
    assert len({base, *changed}) == 6


def test_forward_reference_recovers_zero_distance_at_the_target(calib):
    target = dict(zip(NAMES, [0.55, 1.006, 8.277, -3.368]))
    ref = calib.forward_reference(target)
    assert ref["exy"].attrs["shear_convention"] == "tensor"
    assert ref.sizes["frame"] == 101 and "t_eff" in ref
    assert ref.attrs["coarse_graining_width_A"] == 50.0  # the base's: the aligned shift's unit
    assert float(ref["stress_strain"].max()) == pytest.approx(1.4736, abs=2e-3)  # golden peak
    validation = Calibration(ref, NAMES, ObjectiveConfig(), solver=SolverSettings(dtype="float32"))
    delta, status = validation.evaluate(np.array([list(target.values()),
                                                  [0.164, 0.906, 6.882, -3.369]]))
    assert status == ["ok", "ok"]
    assert delta[0] < 1e-6
    assert delta[1] > 0.05


def test_a_seed_without_a_usable_initial_run_stops_the_workflow():
    table = pd.DataFrame({"seed": [0, 0, 1, 1], "status": ["ok", "elastic", "rejected_input",
                                                           "rejected_input"]})
    with pytest.raises(GrassegoError, match=r"seed 1: none of the 2 runs .*'rejected_input': 2"):
        check_initial_designs(table)
    check_initial_designs(table.iloc[:2])


def test_the_training_table_has_one_row_per_run_by_sample_with_its_seed_and_status_name():
    def batch(samples, status):
        n = len(samples)
        data = {name: ("run", np.arange(n) + k) for k, name in enumerate(["c0", "E0", "d_field",
                                                                          "d_stress", "delta",
                                                                          "wall_time"])}
        return xr.Dataset({**data, "status": ("run", np.array(status, dtype=np.int8))},
                          coords={"sample": ("run", samples)})

    runs = [batch([2, 0], [0, 4]), batch([1, 3], [3, 9])]
    design = pd.DataFrame({"sample": [0, 1, 2, 3], "seed": [5, 5, 6, 6], "c0": 0.0})
    table = training_table(runs, design, ["c0", "E0"])
    assert list(table.columns) == ["sample", "c0", "E0", "d_field", "d_stress", "delta",
                                   "wall_time", "status", "seed"]
    assert table["sample"].tolist() == [0, 1, 2, 3] and table["seed"].tolist() == [5, 5, 6, 6]
    assert table["status"].tolist() == ["elastic", "rejected_input", "ok", "unknown"]
    assert table["c0"].tolist() == [1, 0, 0, 1]  # each run's own values, by sample
    with pytest.raises(GrassegoError, match=r"samples \[3\] are not in the design table"):
        training_table(runs, design.iloc[:3], ["c0", "E0"])
