"""Time the Grassmann field distance and the full objective for a batch of runs.

Usage: .venv/bin/python benchmarks/bench_objective.py [--runs 400] [--threads 2]
Compares 400 runs x 9 snapshots of 32 x 32 fields against the shipped CuZr reference.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from grassego.fields import read_reference
from grassego.grassmann import grassmann_distance
from grassego.objective import ObjectiveConfig, Series, distances_dataset, series_from_dataset

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ref = read_reference(ROOT / "resources" / "cuzr" / "reference.nc")
    ref_series = series_from_dataset(ref)
    rng = np.random.default_rng(0)
    n = args.runs
    exy = ref_series.exy[0][None] * (1 + 0.05 * rng.standard_normal((n, *ref_series.exy.shape[1:])))
    runs = Series(strain=ref_series.strain, exy=exy, strain_ss=ref_series.strain_ss,
                  stress=np.repeat(ref_series.stress, n, axis=0))
    a = torch.as_tensor(exy[:, :9])
    b = torch.as_tensor(ref_series.exy[0, :9])
    for rank in (5, "energy:0.99"):
        t = time.perf_counter()
        grassmann_distance(b, a, rank=rank)
        dt = time.perf_counter() - t
        print(f"grassmann_distance {n} x 9 snapshots, rank {rank}: {dt * 1e3:.1f} ms "
              f"({dt / (9 * n) * 1e6:.1f} us per pair)")
    t = time.perf_counter()
    distances_dataset(ref_series, runs, ObjectiveConfig())
    print(f"full objective for {n} runs (9 snapshots + stress): {time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    main()
