"""Benchmark: ingestion time per frame (OVITO read + atomic strain + Gaussian coarse-graining)
at ~4k, ~50k and ~300k atoms, and the wall time of the LAMMPS 2-D LJ example.

Synthetic dumps: a 3-D slab (12 layers) of a jittered simple-cubic lattice, spacing 2.5 Å
(number density of a CuZr glass, ~0.064 /Å³; 300k atoms = the paper's 400 Å x 400 Å x 30 Å
cell), sheared affinely by 1 % strain per frame plus thermal-like noise. Metal units.

    python benchmarks/bench_ingest.py [--frames 4] [--skip-md] [--md-threads 2]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from grassego.coarse_grain import PlaneCell, coarse_grain
from grassego.ingest import ingest_dumps
from grassego.md import run_shear_md

SIZES = {"4k": 20, "50k": 64, "300k": 160}  # lattice cells per in-plane edge; 12 layers
SPACING, LAYERS = 2.5, 12


def write_dump(path: Path, side: int, frames: int, seed: int = 0) -> int:
    """A multi-frame triclinic LAMMPS dump; returns the atom count."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side), np.arange(LAYERS),
                                indexing="ij"), -1).reshape(-1, 3) * SPACING
    n = grid.shape[0]
    base = grid + rng.normal(scale=0.1, size=grid.shape)
    length, lz = side * SPACING, LAYERS * SPACING
    ids = np.arange(1, n + 1)
    types = 1 + (rng.random(n) < 0.5)
    with open(path, "w") as fh:
        for k in range(frames):
            gamma = 0.01 * k
            pos = base + rng.normal(scale=0.05, size=base.shape)
            pos[:, 0] += gamma * pos[:, 1]
            xy = gamma * length
            fh.write(f"ITEM: TIMESTEP\n{1000 * k}\nITEM: NUMBER OF ATOMS\n{n}\n"
                     f"ITEM: BOX BOUNDS xy xz yz pp pp pp\n{min(0, xy)} {length + max(0, xy)} {xy}\n"
                     f"0 {length} 0\n0 {lz} 0\nITEM: ATOMS id type x y z c_pe c_sxy\n")
            pe = -3.4 + 0.05 * rng.normal(size=n)
            sxy = rng.normal(size=n)
            table = np.column_stack([ids, types, pos, pe, sxy])
            np.savetxt(fh, table, fmt=["%d", "%d", "%.6f", "%.6f", "%.6f", "%.6f", "%.4f"])
    return n


def bench_size(label: str, side: int, frames: int, tmp: Path, settings: list[tuple]) -> None:
    dump = tmp / f"bench_{label}.dump"
    t0 = time.perf_counter()
    n = write_dump(dump, side, frames)
    print(f"[{label}] {n} atoms, {frames} frames written in {time.perf_counter() - t0:.1f} s")
    for width, cutoff in settings:
        t0 = time.perf_counter()
        ingest_dumps([dump], tmp / f"bench_{label}.nc", width=width, cutoff=cutoff,
                     grid=(32, 32), strain_cutoff=3.0, stress_column="c_sxy", units="metal")
        total = time.perf_counter() - t0
        rng = np.random.default_rng(1)
        length = side * SPACING
        pos = rng.random((n, 3)) * [length, length, LAYERS * SPACING]
        t1 = time.perf_counter()
        coarse_grain(pos, rng.normal(size=(n, 2)), PlaneCell(length, length, 0.3 * length),
                     width=width, cutoff=cutoff, grid=(32, 32), count=False)
        cg = time.perf_counter() - t1
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"[{label}] c={width} Å r_cut={cutoff} Å grid 32x32: ingest {total / frames:.2f} "
              f"s/frame (end to end, {frames} frames incl. file scan and NetCDF write); "
              f"coarse-graining alone {cg:.2f} s/frame; max RSS so far {rss:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--skip-md", action="store_true")
    parser.add_argument("--md-threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bench_size("4k", SIZES["4k"], args.frames, tmp, [(5.0, 15.0)])
        bench_size("50k", SIZES["50k"], args.frames, tmp, [(5.0, 15.0), (20.0, 60.0)])
        bench_size("300k", SIZES["300k"], args.frames, tmp,
                   [(5.0, 15.0), (50.0, 100.0), (50.0, 150.0)])
        if not args.skip_md:
            for threads in sorted({1, args.md_threads}):
                run = run_shear_md(tmp / f"md{threads}", omp_threads=threads)
                print(f"[md] LAMMPS 2-D KA LJ, {run.n_atoms} atoms, melt+quench+hold+shear to "
                      f"50 % ({run.n_shear_steps} shear steps), {threads} OpenMP thread(s): "
                      f"{run.wall_time_s:.1f} s wall")


if __name__ == "__main__":
    main()
