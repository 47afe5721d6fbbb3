"""Batch consistency, failure isolation and input validation of the STZ solver.

Runs use a 16 × 16 subsample of the CuZr energy field and γ ≤ 0.1 (through the stress peak) with
the paper's time step, to stay fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from grassego.fields import read_runs, write_runs
from grassego.status import RUN_STATUS
from grassego.stz import ModelConstants, simulate_batch, to_runs_dataset

C = ModelConstants(max_strain=0.1, n_frames=20)
GOOD = {"c0": 0.55, "s_y": 1.006, "beta": 8.277, "E0": -3.368}
OTHER = {"c0": 0.164, "s_y": 0.906, "beta": 6.882, "E0": -3.369}


@pytest.fixture(scope="module")
def fields(cuzr_fields_16) -> tuple[np.ndarray, np.ndarray]:
    return cuzr_fields_16


def _cols(*runs: dict[str, float]) -> dict[str, list[float]]:
    return {k: [r[k] for r in runs] for k in runs[0]}


@pytest.fixture(scope="module", params=["fused", "torch"])
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def singles(fields, backend):
    return [simulate_batch(_cols(p), *fields, constants=C, backend=backend) for p in (GOOD, OTHER)]


# Fused backend: runs are computed lane by lane with the same operations, so results are bitwise
# identical whatever the batch. Torch: runs never interact, but MKL's batched FFT vectorises across
# transforms, so rounding differs with the batch composition at 1e-16, which the shear-band
# instability amplifies to ~1e-7 (stress) and ~1e-6 (fields) by γ = 0.1.
TOL = {"fused": dict(rtol=0, atol=0), "torch": dict(rtol=1e-6, atol=1e-12)}
TOL_FIELD = {"fused": dict(rtol=0, atol=0), "torch": dict(rtol=1e-6, atol=1e-5)}


def test_batch_equals_single_runs(fields, singles, backend):
    batch = simulate_batch(_cols(GOOD, OTHER), *fields, constants=C, backend=backend)
    assert list(batch.status) == [0, 0]
    for i, single in enumerate(singles):
        np.testing.assert_allclose(batch.tau_mean[i], single.tau_mean[0], **TOL[backend])
        np.testing.assert_allclose(batch.exy[i], single.exy[0], **TOL_FIELD[backend])
        np.testing.assert_allclose(batch.t_eff[i], single.t_eff[0], **TOL[backend])
    assert not np.allclose(batch.tau_mean[0], batch.tau_mean[1])  # the runs really differ


def test_failing_runs_do_not_contaminate_the_batch(fields, singles, backend):
    nan_param = {**GOOD, "c0": float("nan")}
    negative = {**GOOD, "s_y": -1.0}
    too_cold = {**GOOD, "E0": -3.355}  # beta (E_final - E0) T_Z < 20 K somewhere
    runs = [nan_param, GOOD, negative, too_cold, GOOD]
    lchi = C.chi_len_A
    params = {**_cols(*runs), "chi_len_A": [lchi, lchi, lchi, lchi, 1e4]}  # run 4 blows up
    res = simulate_batch(params, *fields, constants=C, batch_size=3, backend=backend)
    rej = RUN_STATUS["rejected_input"]
    assert list(res.status[:4]) == [rej, 0, rej, rej]
    assert res.status[4] in (RUN_STATUS["non_finite"], RUN_STATUS["diverged"])
    for i in (0, 2, 3, 4):
        assert np.all(np.isnan(res.tau_mean[i])) and np.all(np.isnan(res.exy[i]))
    np.testing.assert_allclose(res.tau_mean[1], singles[0].tau_mean[0], **TOL[backend])
    np.testing.assert_allclose(res.exy[1], singles[0].exy[0], **TOL_FIELD[backend])


def test_keep_frames_and_dataset(fields, singles, tmp_path):
    params = pd.DataFrame(_cols(GOOD, {**GOOD, "s_y": float("inf")}))  # a DataFrame works too
    res = simulate_batch(params, *fields, constants=C, keep_frames=[20, 4, 4], dtype=torch.float32)
    assert res.exy.shape == (2, 2, 16, 16) and list(res.frames) == [4, 20]
    np.testing.assert_allclose(res.strain, [0.02, 0.1])
    assert res.tau_mean.shape == (2, C.n_frames + 1)
    np.testing.assert_allclose(res.tau_mean[0], singles[0].tau_mean[0], atol=2e-3)  # float32
    ds = to_runs_dataset(res, constants=ModelConstants(lx_A=400.0))
    path = write_runs(ds, tmp_path / "runs.nc")
    back = read_runs(path)
    assert back["exy"].attrs["shear_convention"] == "tensor"
    assert list(back["status"].values) == [0, RUN_STATUS["rejected_input"]]
    assert back["t_eff"].attrs["units"] == "K" and back["tau_mean"].attrs["units"] == "GPa"
    np.testing.assert_allclose(back["s_y"].values, [1.006, np.inf])
    np.testing.assert_allclose(back["strain_ss"].values, res.strain_all)


@pytest.mark.parametrize("pe0,message", [
    (np.zeros(16), "2-D"),
    (np.zeros((16, 16, 2)), "2-D"),
    (np.zeros((15, 16)), "differ in shape"),
    (np.where(np.eye(16) > 0, np.nan, -3.36), "non-finite"),
])
def test_bad_fields_raise(fields, pe0, message):
    with pytest.raises(ValueError, match=message):
        simulate_batch(_cols(GOOD), pe0, fields[1], constants=C)


@pytest.mark.parametrize("params,message", [
    ({"c0": [0.5], "s_y": [1.0], "beta": [8.0]}, "missing"),
    ({**_cols(GOOD), "gamma": [1.0]}, "unknown"),
    ({**_cols(GOOD), "n_frames": [10]}, "shared by the whole batch"),
    ({**_cols(GOOD), "c0": [0.1, 0.2]}, "differ in length"),
])
def test_bad_parameters_raise(fields, params, message):
    with pytest.raises(ValueError, match=message):
        simulate_batch(params, *fields, constants=C)


def test_bad_keep_frames_raise(fields):
    with pytest.raises(ValueError, match="keep_frames"):
        simulate_batch(_cols(GOOD), *fields, constants=C, keep_frames=[C.n_frames + 1])
