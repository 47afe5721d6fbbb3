"""Where one EGO proposal's time goes, on the real CuZr problem's evaluations.

The history: the unique rows of the given EGO histories (``--history``: the workflow's
``results/ego/seed_*/state-*/history.nc`` of the default case, several runs may be pooled),
padded to ``--n`` rows with further initial-design replicates (:func:`grassego.design.
replicate_design`, replicates after the config's seeds) evaluated on the real objective, or
cut to ``--n`` by a seeded random subset as ``bench_calibration.py`` does. The padding costs
~1.5 s of solver time per point, so the assembled history is kept in ``--cache`` (an ``.npz``)
and reused.

One proposal (:func:`grassego.ego.propose`, q = ``ego.batch_size``, TrustRegion at half its
initial length as in ``bench_calibration.py``, one torch thread) in the search coordinates the
loop uses, ``--repeats`` times with seeds 0, 1, …; reported per part: the local GP fit (its
L-BFGS iterations and time per iteration), the feasibility classifier's fit, the acquisition
optimisation (calls of the acquisition, points evaluated, time per call), and the rest.

Usage: ``python benchmarks/bench_propose.py --history H1.nc H2.nc … [--n 2000]
[--cache history.npz] [--repeats 3]``; ``--first 204 --n 204`` with one history: the state of
its first iteration (a neighbourhood with failed runs, so the classifier is fitted too).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import xarray as xr
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import botorch.optim.batched_lbfgs_b as _batched  # noqa: E402
import botorch.optim.core as _core  # noqa: E402

from grassego.config import calibration_sections  # noqa: E402
from grassego.design import replicate_design  # noqa: E402
from grassego.ego import TrustRegion  # noqa: E402
from grassego.fields import read_reference  # noqa: E402
from grassego.problem import Problem  # noqa: E402
from grassego.threads import torch_threads  # noqa: E402

#: the module (``grassego.ego.propose`` is also the name of its function, which the package
#: exports)
_propose = importlib.import_module("grassego.ego.propose")


def _problem() -> tuple[dict, Problem]:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    reference = read_reference(ROOT / cfg["reference"]["legacy"]["path"])
    return cfg, Problem.from_config(reference, calibration_sections(cfg), cfg["ego"], threads=1)


def _pooled(paths: list[Path], first: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Unique evaluated rows (X in parameter units, Δ; NaN for failed runs) of the histories,
    the ``first`` rows of each (None: all)."""
    rows: dict[bytes, tuple[np.ndarray, float]] = {}
    for path in paths:
        with xr.open_dataset(path) as ds:
            X, y, status = ds.X.values, ds.y.values, ds.status.values
        for x, v, s in list(zip(X, y, status))[:first]:
            if s != "pending":
                rows.setdefault(x.tobytes(), (x, float(v)))
    return np.array([r[0] for r in rows.values()]), np.array([r[1] for r in rows.values()])


def history(paths: list[Path], first: int | None, n: int, cache: Path | None, cfg: dict,
            problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """``n`` evaluated rows (see the module doc), from ``cache`` when it holds them."""
    if cache is not None and cache.exists():
        data = np.load(cache)
        if data["X"].shape[0] == n:
            return data["X"], data["y"]
    X, y = _pooled(paths, first)
    if y.size < n:
        design = cfg["design"]
        extra = replicate_design(design["method"], n - y.size, problem.bounds, design["seed"],
                                 max(cfg["ego"]["seeds"]) + 1)
        t0 = time.perf_counter()
        y_extra, _ = problem.calibration.evaluate(extra)
        print(f"padded {len(paths)} histories' {y.size} rows with {extra.shape[0]} design "
              f"points ({time.perf_counter() - t0:.0f} s of solver time)", file=sys.stderr)
        X, y = np.vstack([X, extra]), np.concatenate([y, y_extra])
    order = np.sort(np.random.default_rng(0).permutation(y.size)[:n])
    X, y = X[order], y[order]
    if cache is not None:
        np.savez(cache, X=X, y=y)
    return X, y


class Profile:
    """Wall time and counts of a proposal's parts, gathered by wrapping the functions that do
    them (the wrappers only time and count: the proposal is unchanged)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self.current = ""

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        outer, self.current = self.current, name
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - t0
            self.count[name] += 1
            self.current = outer

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap the GP fit, the classifier, the acquisition optimisation and the acquisition's
        forward pass for the duration of the block."""
        saved = []

        def wrap(module, name, wrapper):
            saved.append((module, name, getattr(module, name)))
            setattr(module, name, wrapper(getattr(module, name)))

        prof = self

        def fit_surrogate(f):
            def run(*a, **k):
                with prof.part("GP fit (log Δ)"):
                    return f(*a, **k)
            return run

        def feasibility(cls):
            class Timed(cls):
                def __init__(self, *a, **k):
                    with prof.part("classifier fit"):
                        super().__init__(*a, **k)
            return Timed

        def hyperparameter_minimize(f):
            def run(*a, **k):
                result = f(*a, **k)
                prof.count[f"{prof.current} iterations"] += int(result.nit)
                prof.count[f"{prof.current} evaluations"] += int(result.nfev)
                return result
            return run

        def batched_minimize(f):  # the classifier's two latent GPs are fitted side by side
            def run(*a, **k):
                xs, fs, results = f(*a, **k)
                prof.count[f"{prof.current} iterations"] += max(int(r["nit"]) for r in results)
                prof.count[f"{prof.current} evaluations"] += max(int(r["nfev"]) for r in results)
                return xs, fs, results
            return run

        def optimize_acqf(f):
            def run(acq_function, *a, **k):
                forward = type(acq_function).forward

                def counted(module, X):
                    with prof.part("acquisition calls"):
                        prof.count["acquisition points"] += int(np.prod(X.shape[:-2]))
                        return forward(module, X)

                type(acq_function).forward = counted
                try:
                    with prof.part("acquisition optimisation"):
                        return f(acq_function, *a, **k)
                finally:
                    type(acq_function).forward = forward
            return run

        wrap(_propose, "fit_surrogate", fit_surrogate)
        wrap(_propose, "FeasibilityModel", feasibility)
        wrap(_propose, "optimize_acqf", optimize_acqf)
        wrap(_core, "minimize_with_timeout", hyperparameter_minimize)
        wrap(_batched, "fmin_l_bfgs_b_batched", batched_minimize)
        try:
            yield
        finally:
            for module, name, value in reversed(saved):
                setattr(module, name, value)


def profile(X: np.ndarray, y: np.ndarray, problem: Problem, q: int,
            repeats: int) -> list[str]:
    """Markdown lines: the proposal's parts, median over ``repeats`` seeds."""
    space, settings = problem.space, problem.settings
    Z, ok = space.to_search(X), np.isfinite(y)
    runs = []
    with torch_threads(1):
        for seed in range(repeats):
            prof = Profile()
            with prof.installed():
                t0, c0 = time.perf_counter(), time.process_time()
                p = _propose.propose(Z, y, ok, space.search_bounds,
                                     TrustRegion(settings.tr_init / 2), q, settings, seed=seed)
                prof.wall["proposal"] = time.perf_counter() - t0
                prof.wall["CPU"] = time.process_time() - c0
            prof.wall["rest"] = prof.wall["proposal"] - sum(
                prof.wall[k] for k in ("GP fit (log Δ)", "classifier fit",
                                       "acquisition optimisation"))
            prof.count["n_local"], prof.count["n_failed"] = p.n_local, p.n_failed
            runs.append(prof)
            print(f"seed {seed}: {prof.wall['proposal']:.3f} s; x[0] "
                  f"{p.x[0].tobytes().hex()[:32]}…", file=sys.stderr, flush=True)

    def med(key, what="wall"):
        return statistics.median(getattr(r, what)[key] for r in runs)

    n_calls = med("acquisition calls", "count")
    lines = [f"N = {y.size} ({int((~ok).sum())} failed), q = {q}, one torch thread, "
             f"median of {repeats} seeds; neighbourhood {med('n_local', 'count'):.0f} points, "
             f"{med('n_failed', 'count'):.0f} failed.", "",
             "| part | wall [s] | detail |", "|---|---|---|"]
    def fit_detail(part):
        it, ev = med(f"{part} iterations", "count"), med(f"{part} evaluations", "count")
        return (f"L-BFGS-B {it:.0f} iterations, {ev:.0f} likelihood evaluations, "
                f"{1e3 * med(part) / max(ev, 1):.2f} ms per evaluation")

    lines += [
        f"| local GP fit | {med('GP fit (log Δ)'):.3f} | {fit_detail('GP fit (log Δ)')} |",
        f"| classifier fit | {med('classifier fit'):.3f} | {fit_detail('classifier fit')} |",
        f"| acquisition optimisation | {med('acquisition optimisation'):.3f} | "
        f"{n_calls:.0f} acquisition calls on {med('acquisition points', 'count'):.0f} points, "
        f"{1e3 * med('acquisition optimisation') / max(n_calls, 1):.2f} ms per call, of "
        f"which {1e3 * med('acquisition calls') / max(n_calls, 1):.2f} ms the forward pass "
        f"(the rest: its gradient, L-BFGS-B) |",
        f"| rest (data, posterior mean, baseline pruning, …) | {med('rest'):.3f} | |",
        f"| **proposal** | **{med('proposal'):.3f}** | CPU time {med('CPU'):.3f} s (wall on a busy "
        "machine counts the waits too) |", ""]
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--history", type=Path, nargs="+", required=True)
    ap.add_argument("--first", type=int, default=None,
                    help="only the first rows of each history (an early iteration's state)")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--cache", type=Path, default=None,
                    help=".npz keeping the assembled history (reused when it has --n rows)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cfg, problem = _problem()
    X, y = history(args.history, args.first, args.n, args.cache, cfg, problem)
    print("\n".join(profile(X, y, problem, cfg["ego"]["batch_size"], args.repeats)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
