"""The CUDA backend on a GPU: golden comparison with the fused CPU backend, then throughput.

One prepared run for a machine with an NVIDIA GPU (minutes of GPU time, not hours); see
``bench_cuda.sh`` for the wrapper. Sections, in order, each result a JSON line appended (and
flushed) to ``OUT/bench_cuda.jsonl`` as soon as it is measured, so a run cut off keeps what it
had:

1. ``env``: GPU, driver, library versions; ``compile``: the first launch (kernel compilation).
2. ``golden``: 64 runs of a Latin hypercube in the paper's bounds (the CuZr inputs of
   tests/data/cuzr_legacy, γ = 0.5, 100 frames, the objective's 9 snapshot frames kept),
   solved on the GPU (float32) and with the fused CPU backend (float32, all cores); per run
   the stress MAE [GPa] and the relative Frobenius error of the E_xy and T_eff snapshots
   (acceptance: MAE ≤ 0.02 GPa, fields within 2 %), and how many runs are bitwise equal (the
   kernel is built to give all of them); τ curves and E_xy snapshots of both saved to
   ``OUT/golden_64.npz``.
3. ``sweep``: kernel launch settings (cells per thread, blocks per multiprocessor) timed on
   1,000 runs to γ = 0.15 (1,800 steps through the stress peak and drop, where the plastic
   sub-steps cost most); registers and local memory per thread of each.
4. ``timing``: 1,000 and 10,000 full runs (γ = 0.5, 100 frames, snapshots kept, float32)
   through ``simulate_batch(backend="cuda")`` with the shipped settings, and with the sweep's
   fastest if that differs (time allowing); runs/s, peak GPU memory (nvidia-smi, every 0.1 s),
   the largest batch one launch holds.

Needs: this repository, a Python with its dependencies (``make setup``; torch may be the CPU
build) and the CUDA libraries of numba-cuda: ``pip install 'numba-cuda[cu12]==0.30.4'`` (or
``[cu13]`` for a driver of CUDA 13), done before the machine goes offline. It stops at once,
with exit status 2 and one line saying what is missing, if numba-cuda, the driver, a GPU or
the CUDA compiler is absent.

    python benchmarks/bench_cuda.py --out DIR [--budget-s 450]
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/bench_cuda.py --out DIR --smoke   # check the script

``--smoke`` runs every section on the CPU in numba-cuda's simulator at toy size (an 8 × 8 grid,
2–3 runs of 2 steps): it checks this script, it measures nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_stz import design, energy_fields  # noqa: E402  (the same inputs as bench_stz.py)

GOLDEN_MAE_GPA, GOLDEN_FIELD_REL = 0.02, 0.02


@dataclass
class Plan:
    """What to run: model constants of the full and the sweep's runs (as ModelConstants
    overrides), batch sizes, the launch settings (cells per thread, blocks per multiprocessor)
    the sweep tries, the shipped first, and the step over the 32 × 32 energy grid."""

    full: dict = field(default_factory=dict)
    short: dict = field(default_factory=lambda: dict(max_strain=0.15, n_frames=30))
    golden_runs: int = 64
    sweep_runs: int = 1000
    sizes: tuple = (1000, 10000)
    sweep: list = field(default_factory=lambda: [(4, 3), (4, 2), (4, 4), (4, 5), (2, 2), (2, 1),
                                                 (8, 4), (1, 1)])
    grid_step: int = 1


SMOKE = Plan(full=dict(max_strain=0.02, n_frames=2, steps_per_frame=2),
             short=dict(max_strain=0.02, n_frames=2, steps_per_frame=2), golden_runs=2,
             sweep_runs=2, sizes=(2, 3), sweep=[(4, 3), (2, 2)], grid_step=4)


class Log:
    """Append JSON lines to a file (flushed and fsynced per line) and echo them."""

    def __init__(self, path: Path):
        self.file = path.open("a")

    def __call__(self, section: str, **values) -> None:
        line = json.dumps({"section": section, "time": time.strftime("%H:%M:%S"), **values},
                          default=float)
        self.file.write(line + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())
        print(line, flush=True)


def preflight(smoke: bool) -> dict:
    """The GPU and libraries, or exit 2 naming what is missing."""
    def fail(why: str):
        print(f"bench_cuda: cannot run: {why}", file=sys.stderr, flush=True)
        sys.exit(2)

    try:
        import numba
        from numba import cuda
    except ImportError as exc:
        fail(f"numba-cuda is not importable ({exc}); pip install 'numba-cuda[cu12]==0.30.4'")
    simulator = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")
    if simulator and not smoke:
        fail("NUMBA_ENABLE_CUDASIM is set: this would time numba-cuda's CPU simulator")
    if smoke and not simulator:
        fail("--smoke runs in numba-cuda's simulator: set NUMBA_ENABLE_CUDASIM=1")
    if smoke:
        return dict(gpu="numba-cuda simulator (smoke test)", cpus=os.cpu_count())
    if not cuda.is_available():
        fail("numba-cuda sees no GPU (no NVIDIA driver, or no device visible)")
    try:
        @cuda.jit
        def probe(a):
            a[0] = 1.0

        probe[1, 1](cuda.device_array(1, dtype=np.float32))
        cuda.synchronize()
    except Exception as exc:  # noqa: BLE001 - NVVM/NVRTC/driver: whatever is missing
        fail(f"cannot compile or launch a kernel ({type(exc).__name__}: {exc}); "
             "pip install 'numba-cuda[cu12]==0.30.4' (or [cu13]) for the CUDA compiler libraries")
    dev = cuda.get_current_device()
    facts = dict(gpu=lambda: dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name),
                 compute_capability=lambda: list(dev.compute_capability),
                 multiprocessors=lambda: dev.MULTIPROCESSOR_COUNT,
                 memory_total_GiB=lambda: cuda.current_context().get_memory_info()[1] / 2**30,
                 memory_free_GiB=lambda: cuda.current_context().get_memory_info()[0] / 2**30,
                 driver=lambda: str(cuda.cudadrv.driver.driver.get_version()),
                 numba=lambda: numba.__version__, numba_cuda=lambda: version("numba-cuda"),
                 cpus=os.cpu_count)
    info = {}
    for name, get in facts.items():  # a fact that cannot be read is left out, not fatal
        try:
            info[name] = get()
        except Exception as exc:  # noqa: BLE001
            info[name] = f"unknown ({type(exc).__name__})"
    return info


class PeakMemory:
    """Highest GPU memory in use (nvidia-smi, all processes) while the block runs [MiB]."""

    def __init__(self):
        self.peak = None
        self._stop = threading.Event()

    def _poll(self):
        while not self._stop.is_set():
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
                                      "-i", os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0]],
                                     capture_output=True, text=True, timeout=5).stdout
                used = float(out.split()[0])
                self.peak = used if self.peak is None else max(self.peak, used)
            except Exception:  # noqa: BLE001 - no nvidia-smi: no reading
                return
            self._stop.wait(0.1)

    def __enter__(self):
        if shutil.which("nvidia-smi"):
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()


def keep_frames(c) -> list[int]:
    from grassego.objective import PAPER_SNAPSHOT_STRAINS

    strains = np.asarray(c.frame_strains())
    return sorted({int(np.abs(strains - s).argmin()) for s in PAPER_SNAPSHOT_STRAINS})


def golden(log: Log, out: Path, plan: Plan, pe0, pe_final) -> None:
    """LHS runs on the GPU and on the fused CPU backend, compared run by run."""
    import torch

    from grassego.stz import ModelConstants, simulate_batch

    c = ModelConstants(**plan.full)
    keep = keep_frames(c)
    n = plan.golden_runs
    params = design(n, seed=1)
    t0 = time.perf_counter()
    gpu = simulate_batch(params, pe0, pe_final, keep_frames=keep, device="cuda",
                         dtype=torch.float32, constants=c, backend="cuda")
    t_gpu = time.perf_counter() - t0
    t0 = time.perf_counter()
    cpu = simulate_batch(params, pe0, pe_final, keep_frames=keep, device="cpu",
                         dtype=torch.float32, constants=c, backend="fused")
    t_cpu = time.perf_counter() - t0
    np.savez_compressed(out / f"golden_{n}.npz", params=np.stack([params[k] for k in params]),
                        names=list(params), frames=np.asarray(keep), strain=gpu.strain_all,
                        tau_gpu=gpu.tau_mean, tau_cpu=cpu.tau_mean, exy_gpu=gpu.exy,
                        exy_cpu=cpu.exy, status_gpu=gpu.status, status_cpu=cpu.status)
    both = (gpu.status == 0) & (cpu.status == 0)
    mae = np.nanmean(np.abs(gpu.tau_mean - cpu.tau_mean), axis=1)

    def rel(a, b):  # per run: worst snapshot's ||a - b||_F / ||b||_F
        num = np.sqrt(((a - b) ** 2).sum(axis=(-2, -1)))
        return (num / np.sqrt((b ** 2).sum(axis=(-2, -1)))).max(axis=1)

    e_exy, e_teff = rel(gpu.exy, cpu.exy), rel(gpu.t_eff, cpu.t_eff)
    passed = both & (mae <= GOLDEN_MAE_GPA) & (e_exy <= GOLDEN_FIELD_REL) & (e_teff <= GOLDEN_FIELD_REL)
    log("golden", runs=n, gpu_s=t_gpu, cpu_fused_s=t_cpu,
        status_equal=int(np.sum(gpu.status == cpu.status)),
        statuses_gpu=np.bincount(gpu.status, minlength=5).tolist(),
        statuses_cpu=np.bincount(cpu.status, minlength=5).tolist(),
        solved_both=int(both.sum()), passing=int(passed.sum()),
        bitwise_equal=int(sum(all(np.array_equal(getattr(gpu, f)[i], getattr(cpu, f)[i],
                                                 equal_nan=True)
                                  for f in ("tau_mean", "exy", "t_eff")) for i in range(n))),
        stress_mae_GPa_max=float(mae[both].max()) if both.any() else None,
        stress_mae_GPa_median=float(np.median(mae[both])) if both.any() else None,
        exy_frobenius_rel_max=float(e_exy[both].max()) if both.any() else None,
        exy_frobenius_rel_median=float(np.median(e_exy[both])) if both.any() else None,
        t_eff_frobenius_rel_max=float(e_teff[both].max()) if both.any() else None,
        accepted=bool(both.any() and passed[both].all()
                      and np.array_equal(gpu.status, cpu.status)))


def timed_batch(n: int, c, keep, pe0, pe_final, settings=None) -> dict:
    """Solve an n-run LHS on the GPU; wall time, statuses, peak memory. ``settings``: (cells
    per thread, blocks) through run_cuda directly; None: simulate_batch with the shipped ones."""
    import torch

    from grassego.stz import simulate_batch
    from grassego.stz.cuda_batch import run_cuda
    from grassego.stz.params import prepare_inputs

    params = design(n, seed=0)
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        if settings is None:
            status = simulate_batch(params, pe0, pe_final, keep_frames=keep, device="cuda",
                                    dtype=torch.float32, constants=c, backend="cuda").status
        else:
            inputs = prepare_inputs(params, pe0, pe_final, c)
            rows = np.flatnonzero(inputs.valid)
            status = run_cuda(inputs, rows, np.asarray(keep), c, "athermal", torch.float32, None,
                              *settings)[3]
        wall = time.perf_counter() - t0
    solved = int(np.sum(status != 3))  # rejected inputs cost nothing
    return dict(runs=n, solved=solved, wall_s=wall, runs_per_s=n / wall,
                solved_runs_per_s=solved / wall, ok=int(np.sum(status == 0)),
                peak_gpu_MiB=mem.peak)


def kernel_resources(settings, cells: int) -> dict:
    """Registers and local memory per thread of the float32 kernel for a grid of ``cells``."""
    from grassego.stz.cuda_kernel import frame_kernel

    kernel = frame_kernel("float32", settings[0], cells // settings[0], settings[1], "athermal")

    def values(per_signature):  # {argument types: value} unless the kernel is specialised
        got = per_signature() if callable(per_signature) else per_signature
        return sorted(set(got.values())) if isinstance(got, dict) else got

    try:
        return dict(registers=values(kernel.get_regs_per_thread),
                    local_bytes=values(kernel.get_local_mem_per_thread))
    except Exception:  # noqa: BLE001 - the simulator has no such figures
        return {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT", "."), help="directory for the results")
    ap.add_argument("--budget-s", type=float, default=450.0,
                    help="stop starting new measurements after this many seconds")
    ap.add_argument("--smoke", action="store_true",
                    help="check this script in the simulator at toy size (measures nothing)")
    args = ap.parse_args()
    plan = SMOKE if args.smoke else Plan()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    left = lambda: args.budget_s - (time.perf_counter() - start)  # noqa: E731
    info = preflight(args.smoke)
    log = Log(out / "bench_cuda.jsonl")
    log("env", **info)

    import torch

    from grassego.stz import ModelConstants, simulate_batch
    from grassego.stz.cuda_batch import (CELLS_PER_THREAD, MEMORY_FRACTION, MIN_BLOCKS,
                                         bytes_per_run, runs_per_launch)

    pe0, pe_final = (f[::plan.grid_step, ::plan.grid_step] for f in energy_fields())
    cells = pe0.size
    tiny = ModelConstants(max_strain=0.005, n_frames=1, steps_per_frame=2)
    t0 = time.perf_counter()  # the first launch compiles the shipped kernel
    simulate_batch(design(2), pe0, pe_final, keep_frames=[], device="cuda", dtype=torch.float32,
                   constants=tiny, backend="cuda")
    log("compile", settings=[CELLS_PER_THREAD, MIN_BLOCKS], s=time.perf_counter() - t0,
        **kernel_resources((CELLS_PER_THREAD, MIN_BLOCKS), cells))

    golden(log, out, plan, pe0, pe_final)

    short = ModelConstants(**plan.short)  # the same step as a full run, fewer of them
    best, best_rate = (CELLS_PER_THREAD, MIN_BLOCKS), 0.0
    for settings in plan.sweep:
        if left() < 60:
            log("sweep", settings=list(settings), skipped="time budget")
            continue
        try:
            from grassego.stz.cuda_batch import run_cuda
            from grassego.stz.params import prepare_inputs

            t0 = time.perf_counter()
            run_cuda(prepare_inputs(design(2), pe0, pe_final, tiny), np.arange(2),
                     np.asarray([], dtype=int), tiny, "athermal", torch.float32, None, *settings)
            compile_s = time.perf_counter() - t0
            row = timed_batch(plan.sweep_runs, short, [], pe0, pe_final, settings)
        except Exception as exc:  # noqa: BLE001 - e.g. too many resources for a launch
            log("sweep", settings=list(settings), error=f"{type(exc).__name__}: {exc}")
            continue
        log("sweep", settings=list(settings), compile_s=compile_s, steps=short.n_steps,
            **kernel_resources(settings, cells), **row)
        if row["runs_per_s"] > best_rate:
            best, best_rate = settings, row["runs_per_s"]
    log("sweep_best", settings=list(best), shipped=[CELLS_PER_THREAD, MIN_BLOCKS])

    c = ModelConstants(**plan.full)
    keep = keep_frames(c)
    per_run = bytes_per_run(*pe0.shape, np.float32, len(keep), c.n_frames)
    log("memory", bytes_per_run=per_run, memory_fraction=MEMORY_FRACTION,
        largest_launch_runs=runs_per_launch(10**9, per_run))
    first = None  # wall time of the first size with the shipped settings
    for n in plan.sizes:
        for settings in [None] + ([best] if best != (CELLS_PER_THREAD, MIN_BLOCKS) else []):
            guess = 20.0 if first is None else first * n / plan.sizes[0] * 1.2 + 10
            if left() < guess:
                log("timing", runs=n, settings=settings and list(settings),
                    skipped=f"time budget ({left():.0f} s left, ~{guess:.0f} s needed)")
                continue
            row = timed_batch(n, c, keep, pe0, pe_final, settings)
            if first is None:
                first = row["wall_s"]
            log("timing", settings=list(settings or (CELLS_PER_THREAD, MIN_BLOCKS)),
                frames=c.n_frames, steps=c.n_steps, kept=len(keep), **row)
    log("done", total_s=time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
