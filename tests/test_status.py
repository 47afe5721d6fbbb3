"""The run status vocabulary and the failure classification shared by the solvers, the
calibration and the optimiser."""

from __future__ import annotations

import numpy as np
import pytest

from grassego.status import (RUN_STATUS, FailureTracker, elastic_runs, scored_statuses,
                             status_names)


#: The codes files written so far hold (the runs and history NetCDF contract): a code, once
#: written, names the same status for every later version, so this table only ever grows.
WRITTEN_CODES = {0: "ok", 1: "diverged", 2: "non_finite", 3: "rejected_input", 4: "elastic"}


def test_written_codes_keep_their_names_and_unknown_codes_are_named_so():
    assert status_names(list(WRITTEN_CODES)) == list(WRITTEN_CODES.values())
    assert {RUN_STATUS[name] for name in WRITTEN_CODES.values()} == set(WRITTEN_CODES)
    assert len(set(RUN_STATUS.values())) == len(RUN_STATUS)
    assert status_names(np.array([0, 99], dtype=np.int8)) == ["ok", "unknown"]


def test_an_ok_run_without_a_finite_value_is_non_finite():
    values = [0.1, np.nan, np.inf, np.nan, 0.2]
    given = ["ok", "ok", "ok", "diverged", "elastic"]
    assert scored_statuses(values, given) == ["ok", "non_finite", "non_finite", "diverged",
                                              "elastic"]
    assert scored_statuses(np.array([1.0, -np.inf])) == ["ok", "non_finite"]


def test_elastic_runs_reach_nine_tenths_of_the_linear_elastic_stress():
    # mu = 20 GPa sheared to 0.5: linear-elastic end stress 10 GPa, threshold 9 GPa
    codes = np.array([0, 0, 0, 1], dtype=np.int8)
    tau_end = np.array([9.0, 8.999, 1.2, 50.0])
    assert elastic_runs(codes, tau_end, 20.0, 0.5).tolist() == [True, False, False, False]
    per_run_mu = np.array([20.0, 10.0, 20.0, 20.0])  # the second run's threshold is 4.5 GPa
    assert elastic_runs(codes, tau_end, per_run_mu, 0.5).tolist() == [True, True, False, False]


def test_a_run_keeps_the_status_of_its_first_failure():
    tracker = FailureTracker(4)
    no = np.zeros(4, dtype=bool)
    # frame 1: run 1 is non-finite, run 2 is beyond the divergence stress
    new = tracker.update(finite=[True, False, True, True], too_large=[False, False, True, False],
                         stuck=no)
    assert new.tolist() == [False, True, True, False]
    # frame 2: run 2 (already diverged) turns non-finite, run 3 runs out of plastic sub-steps
    new = tracker.update(finite=[True, True, False, True], too_large=no,
                         stuck=[False, False, False, True])
    assert new.tolist() == [False, False, False, True]
    assert status_names(tracker.codes()) == ["ok", "non_finite", "diverged", "diverged"]
    out = np.ones((4, 3))
    tracker.blank(out)
    assert np.isnan(out[1:]).all() and (out[0] == 1).all()


@pytest.mark.parametrize("checks", [
    dict(finite=[False], too_large=[True], stuck=[True]),
    dict(finite=[False], too_large=[False], stuck=[False]),
])
def test_a_non_finite_state_outranks_the_other_checks_of_the_same_frame(checks):
    tracker = FailureTracker(1)
    tracker.update(**checks)
    assert status_names(tracker.codes()) == ["non_finite"]
