"""Throughput of the batched STZ solver: runs/s by batch size and dtype, with peak memory.

Each configuration runs in a fresh subprocess (so peak RSS is its own). Parameter sets are a
Latin hypercube in the paper's bounds (Table 2: c0 ∈ [0.05, 1], s_y ∈ [0.8, 1.15] GPa,
β ∈ [2, 15] 1/eV, E0 ∈ [−3.390, −3.355] eV); runs the paper's driver rejects (final T_eff < 20 K)
cost nothing and are counted apart, so the table also gives runs/s over the solved runs only.

    python benchmarks/bench_stz.py                          # 1, 16, 128, 400 × float32, float64
    python benchmarks/bench_stz.py --sizes 400 --dtypes float32 --threads 2
    python benchmarks/bench_stz.py --backend torch --sizes 400 --threads 2 --compile
    python benchmarks/bench_stz.py --device cuda --sizes 1000 10000
    python benchmarks/bench_stz.py --backend fused --sizes 400 --dtypes float32 --threads 2 \
        --dynamics athermal linear             # the STZ laws back to back

``--dynamics`` picks the STZ law(s) (``simulate_batch(dynamics=...)``; the thermally activated
``linear`` law with ModelConstants' thermal defaults, the original driver's). Measured (fused,
float32, 400 runs, 2 threads, the shared 2-core machine, three back-to-back pairs, wall s,
linear / athermal): 186.7 / 235.1, 226.4 / 148.5, 263.5 / 239.6 (linear first): 677 / 623 s
in all, the linear law 1.09× the athermal one's time (the pairs scatter with the other load).

Timings are steady state: a 1-frame warm-up run first loads the compiled kernels (Numba's cache,
or torch.compile's) so compilation is not counted; ``--json`` keeps the rows.

The original C++ solver takes ~6.1 s per run on one core of the reference machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: The original solver's exact inputs (float64 text), shipped with the tests.
MD = ROOT / "tests" / "data" / "cuzr_legacy"
BOUNDS = {"c0": (0.05, 1.0), "s_y": (0.8, 1.15), "beta": (2.0, 15.0), "E0": (-3.390, -3.355)}


def design(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Latin hypercube in BOUNDS; below 16 runs, the paper's validation target repeated (so a
    small batch is not a handful of rejected samples)."""
    if n < 16:
        return {k: np.full(n, v) for k, v in
                {"c0": 0.55, "s_y": 1.006, "beta": 8.277, "E0": -3.368}.items()}
    from scipy.stats import qmc

    u = qmc.LatinHypercube(d=len(BOUNDS), seed=seed).random(n)
    return {k: lo + (hi - lo) * u[:, i] for i, (k, (lo, hi)) in enumerate(BOUNDS.items())}


def energy_fields() -> tuple[np.ndarray, np.ndarray]:
    """Initial and final PE fields of the CuZr MD [eV/atom], as the original solver read them."""
    sys.path.insert(0, str(ROOT))
    from grassego.legacy import read_field_file

    return read_field_file(MD / "pe.MD.0"), read_field_file(MD / "pe.MD.100")


def one(n: int, dtype: str, device: str, threads: int | None, compile_: bool, backend: str,
        dynamics: str) -> dict:
    """Run one configuration in this process; return its measurements."""
    import torch

    sys.path.insert(0, str(ROOT))
    from grassego.objective import PAPER_SNAPSHOT_STRAINS
    from grassego.stz import ModelConstants, simulate_batch

    if threads:
        torch.set_num_threads(threads)
    c = ModelConstants()
    strains = np.asarray(c.frame_strains())
    keep = sorted({int(np.abs(strains - s).argmin()) for s in PAPER_SNAPSHOT_STRAINS})
    pe0, pe_final = energy_fields()
    params = design(n)
    run = dict(device=device, dtype=getattr(torch, dtype), compile=compile_, backend=backend,
               threads=threads, dynamics=dynamics)
    warm = ModelConstants(max_strain=0.01, n_frames=2)  # load/compile the kernels untimed
    simulate_batch(params, pe0, pe_final, keep_frames=[], constants=warm, **run)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    res = simulate_batch(params, pe0, pe_final, keep_frames=keep, constants=c, **run)
    if device == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    status = np.bincount(res.status, minlength=4).tolist()
    solved = n - status[3]
    return {
        "runs": n, "dtype": dtype, "device": device, "backend": backend, "dynamics": dynamics,
        "threads": threads or torch.get_num_threads(),
        "compile": compile_, "wall_s": wall, "runs_per_s": n / wall,
        "solved": solved, "solved_per_s": solved / wall, "status_counts": status,
        "peak_rss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_cuda_MiB": (torch.cuda.max_memory_allocated() / 2**20) if device == "cuda" else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 128, 400])
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=("float32", "float64"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--compile", action="store_true", help="torch backend: torch.compile")
    ap.add_argument("--backend", default="auto", choices=("auto", "fused", "torch"))
    ap.add_argument("--dynamics", nargs="+", default=["athermal"], choices=("athermal", "linear"),
                    help="STZ law(s), each timed in turn")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    ap.add_argument("--one", nargs=3, metavar=("N", "DTYPE", "DYNAMICS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1], args.device, args.threads, args.compile,
                             args.backend, args.one[2])))
        return 0
    rows = []
    print(f"{'dynamics':>8} {'runs':>6} {'dtype':>8} {'solved':>6} {'wall s':>8} {'runs/s':>8} "
          f"{'solved/s':>9} {'peak RSS MiB':>12} {'peak CUDA MiB':>13}")
    for dynamics, dtype, n in ((d, t, n) for t in args.dtypes for n in args.sizes
                               for d in args.dynamics):
        cmd = [sys.executable, __file__, "--one", str(n), dtype, dynamics, "--device",
               args.device, "--backend", args.backend]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        if args.compile:
            cmd.append("--compile")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        rows.append(row)
        cuda = f"{row['peak_cuda_MiB']:.0f}" if row["peak_cuda_MiB"] is not None else "-"
        print(f"{dynamics:>8} {n:>6} {dtype:>8} {row['solved']:>6} {row['wall_s']:>8.1f} "
              f"{row['runs_per_s']:>8.2f} {row['solved_per_s']:>9.2f} "
              f"{row['peak_rss_MiB']:>12.0f} {cuda:>13}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
