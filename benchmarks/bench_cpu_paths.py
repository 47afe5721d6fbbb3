"""What pinning the CPU code paths (grassego.cpu_paths) costs and what it buys, on the default case.

Usage: .venv/bin/python benchmarks/bench_cpu_paths.py [--design 200] [--iters 10]

Evaluates seed 0's initial design of the default case (config/config.yaml on the shipped CuZr
reference), then runs ``--iters`` EGO iterations from it, once per environment in a fresh
process: the pinned portable paths (grassego's default), the host's own fastest paths, and
torch/MKL/OpenBLAS each forced to another path on their own. Prints, per environment, the wall
seconds of the design evaluation and of the EGO iterations, and whether its Δ values and EGO
proposals are bit-identical to the pinned run's (a path that changes them would give another
machine another answer).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Environment overrides: name → variables set before the child starts ("host": each library's
#: own choice on this processor, :func:`host_paths`; the others change one library's path from
#: the pinned one).
ENVIRONMENTS = {
    "pinned": {},
    "host": None,  # host_paths()
    "torch avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "MKL avx2": {"MKL_CBWR": "AVX2"},
    "OpenBLAS haswell": {"OPENBLAS_CORETYPE": "Haswell"},
}

CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
import grassego  # noqa: F401  (pins before numpy, scipy and torch load)
import numpy as np, yaml
from grassego import ego
from grassego.config import calibration_sections
from grassego.design import replicate_design
from grassego.fields import read_reference
from grassego.problem import Problem
from grassego.ego.problem import InitialRuns
root, n, iters = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
cfg = yaml.safe_load((root / "config" / "config.yaml").read_text())
problem = Problem.from_config(read_reference(root / "resources" / "cuzr" / "reference.nc"),
                              calibration_sections(cfg), cfg["ego"], threads=1)
X = replicate_design(cfg["design"]["method"], n, problem.bounds, cfg["design"]["seed"], 0)
t = time.perf_counter()
y, status = problem.objective(X)
t_design = time.perf_counter() - t
t = time.perf_counter()
with tempfile.TemporaryDirectory() as tmp:
    result = ego.minimize(problem, ego.EGOLoop.from_config({**cfg["ego"], "max_iter": iters}),
                          seed=0, initial=InitialRuns(X, y, status),
                          state_path=Path(tmp) / "history.nc")
t_ego = time.perf_counter() - t
print(json.dumps({"design_s": t_design, "ego_s": t_ego, "y": [float(v).hex() for v in y],
                  "X": [float(v).hex() for v in np.ravel(result.X[n:])],
                  "best": result.y_best}))
"""


def host_paths() -> dict[str, str]:
    """The paths each library picks by itself on this processor (this process loads them
    without grassego's pins)."""
    import numpy  # noqa: F401  (loads OpenBLAS)
    import torch
    from threadpoolctl import threadpool_info

    openblas = next(i["architecture"] for i in threadpool_info() if i["internal_api"] == "openblas")
    return {"ATEN_CPU_CAPABILITY": torch.backends.cpu.get_cpu_capability().lower(),
            "MKL_CBWR": "AUTO", "OPENBLAS_CORETYPE": openblas}


def run(overrides: dict[str, str], n: int, iters: int) -> dict:
    """One child run under the pinned environment with ``overrides``."""
    env = {**os.environ, **overrides}
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(n), str(iters)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--design", type=int, default=200)
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()
    base = None
    print(f"| environment | design of {args.design} [s] | {args.iters} EGO iterations [s] | "
          "Δ bit-identical | proposals bit-identical | best Δ |")
    print("|---|---|---|---|---|---|")
    for name, overrides in ENVIRONMENTS.items():
        r = run(host_paths() if overrides is None else overrides, args.design, args.iters)
        base = base or r
        print(f"| {name} | {r['design_s']:.1f} | {r['ego_s']:.1f} | {r['y'] == base['y']} | "
              f"{r['X'] == base['X']} | {r['best']:.6f} |", flush=True)


if __name__ == "__main__":
    main()
