"""Small STZ batches for the CUDA kernel tests (tests/test_stz_cuda.py), and a script that
solves them with the cuda backend and saves the results.

The script is run in a subprocess with ``NUMBA_ENABLE_CUDASIM=1`` (Numba reads it when it is
first imported, so it cannot be switched on inside the test process), where numba-cuda's
simulator executes the kernel on the CPU, one Python thread per CUDA thread: hence the small
grids and few steps. Usage: ``python tests/cuda_sim_cases.py OUT.npz``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGET = {"c0": 0.55, "s_y": 1.006, "beta": 8.277, "E0": -3.368}

#: name → grid step over the 32 × 32 CuZr fields (y, x), ModelConstants overrides, runs, kept
#: frames, expected statuses, dtype. "plastic": γ = 0.15 in 12 steps, through the stress peak
#: (γ ≈ 0.1) and into the drop, on an 8 × 16 grid (dx ≠ dy, so x and y cannot be confused);
#: its second run has a 20× faster STZ rate (ε0 = 1000) and takes a whole step as one plastic
#: sub-step (adapt_fac = 1000): it overshoots and blows up to inf/NaN. "stuck": too few
#: sub-steps allowed. "huge": a stress bound the run exceeds. "float64": 4 steps to γ = 0.1.
#: "linear", "linear64": the thermally activated law (float32, float64) with every term on (θ
#: and Δ per run, the M function with a small ρ, the κ sink).
SHORT = dict(max_strain=0.15, n_frames=3, steps_per_frame=4)
CASES = {
    "plastic": dict(step=(4, 2), constants=SHORT, keep=[0, 2, 3], status=[0, 2],
                    runs=[TARGET, {**TARGET, "adapt_fac": 1e3, "ep": 1e3}]),
    "stuck": dict(step=(4, 4), constants={**SHORT, "max_substeps": 1}, keep=[3], status=[1],
                  runs=[TARGET]),
    "huge": dict(step=(4, 4), constants={**SHORT, "diverge_stress": 1.0}, keep=[3], status=[1],
                 runs=[TARGET]),
    "float64": dict(step=(4, 4), constants=dict(max_strain=0.1, n_frames=2, steps_per_frame=2),
                    keep=[1, 2], status=[0], runs=[TARGET], dtype="float64"),
    "linear": dict(step=(4, 2), constants={**SHORT, "kappa": 5000.0, "stz_rho": 1.0},
                   keep=[0, 2, 3], status=[0, 0], dynamics="linear",
                   runs=[TARGET, {**TARGET, "theta_K": 300.0, "delta_K": 1500.0}]),
    "linear64": dict(step=(4, 4), constants=dict(max_strain=0.1, n_frames=2, steps_per_frame=2,
                                                 kappa=5000.0, stz_rho=1.0),
                     keep=[1, 2], status=[0], runs=[TARGET], dtype="float64", dynamics="linear"),
}


def solve(name: str, backend: str, device: str = "cpu"):
    """Solve case ``name`` with ``backend``; returns the StzResult."""
    import torch

    from grassego.fields import read_reference
    from grassego.stz import ModelConstants, simulate_batch

    case = CASES[name]
    sy, sx = case["step"]
    pe = read_reference(ROOT / "resources" / "cuzr" / "reference.nc")["pe"].values
    pe = pe.astype(np.float64)[:, ::sy, ::sx]
    c = ModelConstants(**case["constants"])
    runs = case["runs"]
    names = sorted({k for r in runs for k in r})  # a run without its own value takes c's
    params = {k: [r.get(k, getattr(c, k, np.nan)) for r in runs] for k in names}
    return simulate_batch(params, pe[0], pe[-1], keep_frames=case["keep"], device=device,
                          dtype=getattr(torch, case.get("dtype", "float32")), constants=c,
                          backend=backend, threads=1,
                          dynamics=case.get("dynamics", "athermal"))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    out = {}
    for case in CASES:
        res = solve(case, "cuda", "cuda")
        for field in ("tau_mean", "exy", "t_eff", "status"):
            out[f"{case}.{field}"] = getattr(res, field)
    np.savez(sys.argv[1], **out)
