"""EGO against random and LHS sampling on standard test functions, and the cost of one iteration.

For Branin (2-D), Hartmann-4 (4-D) and Hartmann-6 (6-D): EGO from a small LHS start with several
seeds, stopped when the best value is within the target of the known optimum (1e-3 relative for
Branin, 0.05 absolute for the Hartmann functions) or the budget is spent; against uniform random
search (evaluations to the target in the same budget) and an LHS of the whole budget.
Then one EGO proposal (local GP fit + trust-region acquisition, q = 4) at N = 1,200 points in
4-D; the real-problem benchmark, with its cost at N = 2,000, is bench_calibration.py.

Usage: ``python benchmarks/bench_ego.py [--seeds 5] [--problems branin,hartmann4,hartmann6]``.
Writes the table to stdout and to ``benchmarks/results/ego_benchmark.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grassego.atomic import write_text_atomic  # noqa: E402
from grassego.design import latin_hypercube  # noqa: E402
from grassego.ego import (EGOLoop, EGOSettings, SearchProblem, TrustRegion, minimize,  # noqa: E402
                          propose)
from grassego.surrogate import GPConfig  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "ego_benchmark.md"

# Hartmann constants (Dixon & Szegő 1978; Picheny et al. 2013 for the 4-D variant's columns).
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
               [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])


def branin(x: np.ndarray) -> np.ndarray:
    a, b, c, r, s, t = 1.0, 5.1 / (4 * np.pi**2), 5 / np.pi, 6.0, 10.0, 1 / (8 * np.pi)
    return (a * (x[:, 1] - b * x[:, 0] ** 2 + c * x[:, 0] - r) ** 2
            + s * (1 - t) * np.cos(x[:, 0]) + s)


def _hartmann(x: np.ndarray) -> np.ndarray:
    d = x.shape[1]
    inner = (_A[None, :, :d] * (x[:, None, :] - _P[None, :, :d]) ** 2).sum(-1)
    return -(_ALPHA * np.exp(-inner)).sum(-1)


@dataclass(frozen=True)
class Benchmark:
    name: str
    f: Callable[[np.ndarray], np.ndarray]
    bounds: np.ndarray
    f_opt: float
    tol: float
    tol_text: str
    n_initial: int
    budget: int


PROBLEMS = {
    "branin": Benchmark("Branin", branin, np.array([[-5.0, 10.0], [0.0, 15.0]]), 0.397887357729738,
                      1e-3 * 0.397887357729738, "1e-3 relative", 10, 60),
    "hartmann4": Benchmark("Hartmann-4", _hartmann, np.array([[0.0, 1.0]] * 4), -3.72984058448559,
                         0.05, "0.05 absolute", 20, 120),
    "hartmann6": Benchmark("Hartmann-6", _hartmann, np.array([[0.0, 1.0]] * 6), -3.32236801141551,
                         0.05, "0.05 absolute", 30, 150),
}


def evals_to_target(y: np.ndarray, target: float) -> float:
    """1-based index of the first value <= target, or inf."""
    hit = np.flatnonzero(np.asarray(y) <= target)
    return float(hit[0] + 1) if hit.size else float("inf")


def _fmt(counts: list[float], budget: int) -> tuple[str, str]:
    ok = [c for c in counts if np.isfinite(c)]
    med = statistics.median(counts)
    med_s = f"{med:.0f}" if np.isfinite(med) else f"> {budget}"
    rng = f"{min(ok):.0f}–{max(ok):.0f}" if ok else "—"
    return f"{len(ok)}/{len(counts)}", f"{med_s} [{rng}]"


def run_problem(p: Benchmark, seeds: int, settings: EGOSettings) -> list[str]:
    target = p.f_opt + p.tol
    ego_counts, ego_gaps, ego_times = [], [], []
    for s in range(seeds):
        t0 = time.perf_counter()
        r = minimize(SearchProblem.box(p.f, p.bounds, settings=settings),
                     EGOLoop(max_iter=p.budget - p.n_initial, batch_size=1,
                             threshold=target + 1e-15), initial=p.n_initial, seed=s)
        ego_times.append(time.perf_counter() - t0)
        ego_counts.append(evals_to_target(r.y, target))
        ego_gaps.append(r.y_best - p.f_opt)
        print(f"  {p.name} EGO seed {s}: {ego_counts[-1]} evaluations, gap {ego_gaps[-1]:.2e}, "
              f"{ego_times[-1]:.0f} s", file=sys.stderr, flush=True)
    d = p.bounds.shape[0]
    n_random = 100
    rnd_counts, rnd_gaps, lhs_hits, lhs_gaps = [], [], [], []
    for s in range(n_random):
        rng = np.random.default_rng(1000 + s)
        x = p.bounds[:, 0] + rng.random((p.budget, d)) * (p.bounds[:, 1] - p.bounds[:, 0])
        y = p.f(x)
        rnd_counts.append(evals_to_target(y, target))
        rnd_gaps.append(y.min() - p.f_opt)
        y_lhs = p.f(latin_hypercube(p.budget, p.bounds, seed=1000 + s))
        lhs_hits.append(float(p.budget) if y_lhs.min() <= target else float("inf"))
        lhs_gaps.append(y_lhs.min() - p.f_opt)
    rows = []
    for method, counts, gaps, extra in (
            ("EGO", ego_counts, ego_gaps, f"{statistics.median(ego_times):.0f} s/run"),
            ("random", rnd_counts, rnd_gaps, ""),
            (f"LHS of {p.budget}", lhs_hits, lhs_gaps, "one-shot design")):
        hit, med = _fmt(counts, p.budget)
        if method.startswith("LHS"):
            med = "—"
        rows.append(f"| {p.name} | {d} | {p.tol_text} | {p.n_initial} | {p.budget} | {method} | "
                    f"{hit} | {med} | {statistics.median(gaps):.2e} | {extra} |")
    return rows


def time_iteration(n: int, settings: EGOSettings, q: int = 4, repeats: int = 3) -> float:
    """Median wall seconds of one proposal (local GP + classifier-free acquisition, q points) at
    N = n points of Hartmann-4 (the GP sees the ``settings.n_local`` nearest)."""
    p = PROBLEMS["hartmann4"]
    torch.set_num_threads(1)
    x = latin_hypercube(n, p.bounds, seed=0)
    y = p.f(x)
    wall = []
    for i in range(repeats):
        t0 = time.perf_counter()
        propose(x, y, np.ones(n, bool), p.bounds, TrustRegion(settings.tr_init), q, settings,
                seed=i)
        wall.append(time.perf_counter() - t0)
    return statistics.median(wall)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    settings = EGOSettings(gp=GPConfig(y_transform="none"))  # the test functions go negative
    lines = [
        "# EGO benchmark",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"torch {torch.__version__}; load average at start {os.getloadavg()[0]:.1f} "
        "(other jobs shared the cores).",
        f"EGO settings: defaults ({settings.acquisition}, ARD Matérn-5/2 local GP on "
        f"{settings.n_local} points, trust region, q=1); random search: 100 runs; LHS: 100 "
        "designs.",
        "Evaluations to target include the initial LHS; a run that never reaches it counts as "
        "infinite in the median.",
        "",
        "| function | d | target | n_initial | budget | method | reached | evaluations to target: "
        "median [range] | best gap (median) | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for key in args.problems.split(","):
        for row in run_problem(PROBLEMS[key], args.seeds, settings):
            lines.append(row)
            print(row, flush=True)
    wall = time_iteration(1200, settings)
    lines += ["", "## One EGO proposal at N = 1,200, 4-D (local GP fit + acquisition, q = 4, "
              "1 thread)", "", f"Median of 3: {wall:.2f} s."]
    print(lines[-1], flush=True)
    lines.append(f"\nLoad average at end: {os.getloadavg()[0]:.1f}.")
    write_text_atomic(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
