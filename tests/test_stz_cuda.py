"""The CUDA backend (grassego.stz.cuda_kernel) without a GPU: its kernel runs in numba-cuda's
simulator (in a subprocess, NUMBA_ENABLE_CUDASIM=1) on the small batches of cuda_sim_cases.py
and must give bitwise the fused CPU backend's runs, statuses included; where the CUDA compiler
libraries are installed, it compiles for an H100 in float32 without fused multiply-adds; and
choosing it where it cannot run is a clear error."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numba
import numpy as np
import pytest
import torch

from cuda_sim_cases import CASES, solve
from grassego.calibration import Calibration, SolverSettings, resolve_device
from grassego.config import ConfigError
from grassego.fields import read_reference
from grassego.objective import ObjectiveConfig
from grassego.stz.cuda_batch import exact_arithmetic
from grassego.stz.solver import choose_backend, gpu_visible


@pytest.fixture(scope="module")
def simulated(tmp_path_factory, root) -> dict[str, np.ndarray]:
    """The cases solved by the cuda backend in the simulator."""
    out = tmp_path_factory.mktemp("cudasim") / "runs.npz"
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, str(root / "tests" / "cuda_sim_cases.py"), str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(out) as data:
        return dict(data)


@pytest.mark.parametrize("case", list(CASES))
def test_kernel_agrees_with_the_fused_backend(simulated, case):
    """Same statuses (ok, diverged by sub-step count or stress bound, non-finite); where ok,
    bitwise the same stress curve, strain and T_eff fields (the kernel does the fused backend's
    operations in its order, float32 or float64); where failed, NaN."""
    fused = solve(case, "fused")
    expected = CASES[case]["status"]
    status = simulated[f"{case}.status"]
    assert list(fused.status) == list(status) == expected
    ok = status == 0
    for field in ("tau_mean", "exy", "t_eff"):
        got, ref = simulated[f"{case}.{field}"], getattr(fused, field)
        assert np.all(np.isnan(got[~ok])) and np.all(np.isnan(ref[~ok]))
        assert np.array_equal(got[ok], ref[ok]), field
    if case == "plastic":  # the runs did yield: the stress fell below the elastic line
        tau = fused.tau_mean[ok]
        assert np.all(tau[:, -1] < tau[:, 1] * 3 * 0.9)


def test_choosing_the_cuda_backend(cuzr_fields_16):
    shape = cuzr_fields_16[0].shape
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    with pytest.raises(ValueError, match="needs device cuda"):
        choose_backend("cuda", cpu, shape, torch.float32)
    assert choose_backend("auto", cpu, shape, torch.float32) == "fused"
    from numba import cuda

    if not cuda.is_available():  # the usual test machine: no GPU
        with pytest.raises(ValueError, match="sees no CUDA GPU"):
            choose_backend("cuda", gpu, shape, torch.float32)
    with pytest.raises(ValueError, match="shared memory"):  # float64 32 x 32: 88 KiB a run
        choose_backend("cuda", gpu, (32, 32), torch.float64)
    with pytest.raises(ValueError, match="powers of two"):
        choose_backend("cuda", gpu, (12, 16), torch.float32)


@pytest.mark.skipif(gpu_visible(), reason="a GPU is visible here")
def test_asking_for_the_gpu_without_one_is_a_config_error(cuzr_reference_path):
    with pytest.raises(ConfigError, match="solver.device: cuda, but neither torch nor numba-cuda"):
        resolve_device("cuda")
    assert resolve_device("auto") == "cpu"
    reference = read_reference(cuzr_reference_path)
    with pytest.raises(ConfigError, match="solver.device: cuda, but neither torch nor numba-cuda"):
        Calibration(reference, ["c0", "s_y", "beta", "E0"], ObjectiveConfig(),
                    solver=SolverSettings(device="cuda", backend="cuda"))
    with pytest.raises(ConfigError, match=r"solver\.backend: cuda: the cuda backend runs on a "
                                          r"GPU: it needs device cuda, got cpu"):
        Calibration(reference, ["c0", "s_y", "beta", "E0"], ObjectiveConfig(),
                    solver=SolverSettings(device="auto", backend="cuda"))


def _ptx(kernel, sig, monkeypatch) -> str:
    """PTX of ``kernel`` for an H100 (sm_90), with no GPU needed; skips where the CUDA compiler
    libraries (NVVM, NVRTC: ``pip install 'numba-cuda[cu12]'``) are missing."""
    from numba import cuda
    from numba.cuda import dispatcher

    class H100:
        compute_capability = (9, 0)

    if not cuda.is_available():  # device functions ask the current device for its architecture
        monkeypatch.setattr(dispatcher, "get_current_device", lambda: H100())
    try:
        cuda.compile_ptx(lambda a: None, (numba.float32[::1],), cc=(9, 0))
    except Exception as exc:  # noqa: BLE001 - any missing library
        pytest.skip(f"no CUDA compiler here ({type(exc).__name__})")
    with exact_arithmetic():
        return cuda.compile_ptx(kernel.py_func, sig, cc=(9, 0), launch_bounds=(256, 3))[0]


def test_kernel_compiles_for_a_gpu_and_steps_in_float32(monkeypatch):
    """What the simulator cannot check: the kernel passes numba-cuda's type inference and
    compiles; in float32 it does its arithmetic in float32 (a stray float64 literal would make
    every step float64): float64 only in the per-frame record, a few dozen instructions against
    thousands; and no multiply-add is fused (it would round differently from the CPU)."""
    from grassego.stz.cuda_kernel import frame_kernel

    f4, f8, i4, i8 = numba.float32, numba.float64, numba.int32, numba.int64
    sig = (f4[:, :, :, ::1], f4[:, ::1], f4[::1], f4[:, :, :, :, ::1], f4[::1], i4[::1], i4[::1],
           f4[:, ::1], f4[:, ::1], i8, i8, i8, f8[::1], i8, i8, f8[:, ::1], numba.int8[::1],
           f8[:, ::1], f4[:, :, :, ::1], f4[:, :, :, ::1])
    ptx = _ptx(frame_kernel("float32", 4, 256, 3, "athermal"), sig, monkeypatch)
    n64, n32 = len(re.findall(r"\.f64\b", ptx)), len(re.findall(r"\.f32\b", ptx))
    assert n32 > 1000 and n64 < 0.05 * n32, (n32, n64)
    assert not re.search(r"\bfma\.", ptx)
