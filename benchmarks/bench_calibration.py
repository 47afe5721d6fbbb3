"""The optimiser on the real problem: the shipped CuZr calibration at the default budget, against
simple baselines at equal evaluations, and the physical fidelity of each optimum.

Methods (seed s of each; every method spends exactly the default config's evaluations per seed,
``design.n_samples + ego.max_iter × ego.batch_size``):

- ``ego``: the workflow's optimiser (:func:`grassego.ego.minimize`) from seed s's own initial
  design (the one the workflow makes: :func:`grassego.design.replicate_design`);
- ``random``: uniform random points, the whole budget;
- ``box``: the same initial design, then rounds of 40 uniform points in a box of half-width 5 %
  of each range around the incumbent, halved after a round without improvement;
- ``cmaes``: the same initial design, then CMA-ES (the ``cmaes`` package) in the unit cube from
  the design's best point, σ0 = 0.1, population 8; failed runs get a penalty of 10.

Reported: best Δ (median and range over seeds), evaluations to reach Δ ≤ ``--target``, wall time
per run; for every objective variant in ``--variants`` the fidelity (stress overshoot and drop,
band at γ = 0.5) of the best point of each EGO seed beside the MD's; and the optimiser's own
cost at N = 2,000 evaluated points (proposal of q points vs the q simulations it steers).

Usage: ``python benchmarks/bench_calibration.py [--seeds 3] [--methods ego,random,box,cmaes]
[--variants paper,aligned] [--ego-variants overshoot] [--jobs 2]``: every method on each of
``--variants``, the EGO alone on ``--ego-variants`` (for the fidelity table). Runs are spread over
``--jobs`` processes (one solver thread each). Writes
``benchmarks/results/calibration_benchmark.md`` and a JSON of every run's best point and Δ trace
beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grassego.atomic import write_text_atomic  # noqa: E402
from grassego.design import from_unit, replicate_design, to_unit  # noqa: E402
from grassego.fidelity import dataset_fidelity  # noqa: E402
from grassego.fields import read_reference  # noqa: E402
from grassego.problem import Problem  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "calibration_benchmark.md"
BOX_ROUND, BOX_HALF = 40, 0.05
CMA_SIGMA, CMA_POPULATION, CMA_PENALTY = 0.1, 8, 10.0


def _config(variant: str) -> dict:
    """The default config (schema defaults filled by Snakemake are not needed here: the keys
    read below are all set in config/config.yaml), with the objective variant replaced."""
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["objective"]["variant"] = variant
    return cfg


def _problem(variant: str) -> tuple[dict, Problem]:
    """The config and the workflow's calibration problem (one thread)."""
    cfg = _config(variant)
    reference = read_reference(ROOT / cfg["reference"]["legacy"]["path"])
    return cfg, Problem.from_config(reference, cfg, cfg["ego"], threads=1)


def _budget(cfg: dict) -> tuple[int, int]:
    return cfg["design"]["n_samples"], cfg["ego"]["max_iter"] * cfg["ego"]["batch_size"]


def _initial(cfg, calib, bounds, seed):
    x0 = replicate_design(cfg["design"]["method"], cfg["design"]["n_samples"], bounds,
                          cfg["design"]["seed"], seed)
    y0, _ = calib.evaluate(x0)
    return x0, y0


def _run(task: tuple[str, str, int]) -> dict:
    """One (method, variant, seed) run in a worker process."""
    method, variant, seed = task
    cfg, problem = _problem(variant)
    calib, names, bounds = problem.calibration, problem.names, problem.bounds
    n0, n_more = _budget(cfg)
    t0 = time.perf_counter()
    if method == "random":
        rng = np.random.default_rng([seed, 0xBA5E])
        X = from_unit(rng.random((n0 + n_more, len(names))), bounds)
        y, _ = calib.evaluate(X)
    elif method == "ego":
        from grassego.ego import EGOLoop, InitialRuns, minimize

        x0, y0 = _initial(cfg, calib, bounds, seed)
        r = minimize(problem, EGOLoop.from_config(cfg["ego"]), initial=InitialRuns(x0, y0),
                     seed=seed)
        X, y = r.X, r.y
    elif method == "box":
        X, y = _initial(cfg, calib, bounds, seed)
        rng = np.random.default_rng([seed, 0xB0C5])
        half = BOX_HALF
        while y.size < n0 + n_more:
            centre = to_unit(X[np.nanargmin(y)][None], bounds)[0]
            k = min(BOX_ROUND, n0 + n_more - y.size)
            u = np.clip(centre + rng.uniform(-half, half, (k, len(names))), 0.0, 1.0)
            xn = from_unit(u, bounds)
            yn, _ = calib.evaluate(xn)
            if not np.nanmin(yn, initial=np.inf) < np.nanmin(y):
                half /= 2
            X, y = np.vstack([X, xn]), np.concatenate([y, yn])
    elif method == "cmaes":
        from cmaes import CMA

        X, y = _initial(cfg, calib, bounds, seed)
        opt = CMA(mean=to_unit(X[np.nanargmin(y)][None], bounds)[0], sigma=CMA_SIGMA,
                  bounds=np.array([[0.0, 1.0]] * len(names)), seed=seed,
                  population_size=CMA_POPULATION)
        while y.size < n0 + n_more:
            k = min(opt.population_size, n0 + n_more - y.size)
            u = np.array([opt.ask() for _ in range(opt.population_size)])
            xn = from_unit(u[:k], bounds)
            yn, _ = calib.evaluate(xn)
            if k == opt.population_size:
                opt.tell([(ui, float(v) if np.isfinite(v) else CMA_PENALTY)
                          for ui, v in zip(u, yn)])
            X, y = np.vstack([X, xn]), np.concatenate([y, yn])
    else:
        raise ValueError(f"unknown method {method!r}")
    wall = time.perf_counter() - t0
    i = int(np.nanargmin(y))
    print(f"  {method:6s} {variant:9s} seed {seed}: best Δ {y[i]:.5f} after {y.size} evaluations, "
          f"{wall:.0f} s", file=sys.stderr, flush=True)
    return {"method": method, "variant": variant, "seed": seed, "wall_s": wall,
            "x_best": dict(zip(names, X[i].tolist())), "delta_best": float(y[i]),
            "X": X.tolist(), "y": [float(v) for v in y]}


def _evals_to(y: list[float], target: float) -> float:
    hit = np.flatnonzero(np.nan_to_num(np.asarray(y), nan=np.inf) <= target)
    return float(hit[0] + 1) if hit.size else float("inf")


def _optimiser_table(runs: list[dict], variant: str, target: float) -> list[str]:
    lines = [f"### Objective `{variant}`", "",
             f"| method | seeds | best Δ median | best Δ range | evaluations to Δ ≤ {target} "
             "(median; reached) | wall per run [s] (median) |", "|---|---|---|---|---|---|"]
    for method in dict.fromkeys(r["method"] for r in runs if r["variant"] == variant):
        rs = [r for r in runs if r["variant"] == variant and r["method"] == method]
        best = [r["delta_best"] for r in rs]
        hits = [_evals_to(r["y"], target) for r in rs]
        med_hit = statistics.median(hits)
        n_hit = sum(np.isfinite(h) for h in hits)
        hit_txt = f"{med_hit:.0f}" if np.isfinite(med_hit) else "not reached"
        lines.append(f"| {method} | {len(rs)} | {statistics.median(best):.4f} | "
                     f"{min(best):.4f}–{max(best):.4f} | {hit_txt}; {n_hit}/{len(rs)} | "
                     f"{statistics.median(r['wall_s'] for r in rs):.0f} |")
    return lines + [""]


FIDELITY_COLUMNS = (("delta", "Δ (paper)", "{:.4f}"), ("peak_stress", "peak τ [GPa]", "{:.3f}"),
                    ("peak_strain", "at γ", "{:.3f}"),
                    ("stress_drop_value", "τ(γ=0.12) [GPa]", "{:.3f}"),
                    ("flow_stress", "flow τ [GPa]", "{:.3f}"),
                    ("localisation@0.5", "loc. index γ=0.5", "{:.2f}"),
                    ("band_fwhm@0.5", "FWHM γ=0.5 [rows]", "{:.1f}"),
                    ("band_row@0.5", "band row", "{:.0f}"))


def _band_and_drop(f: dict, md: dict) -> str:
    """The shear band and the stress drop of the MD, as the acceptance of the calibration issue
    reads them: localisation index at γ = 0.5 in [2.2, 3.8], band FWHM ≤ 12 rows, stress at
    γ = 0.12 ≤ 1.05 GPa, peak stress within 6 % of the MD's."""
    checks = (2.2 <= f["localisation@0.5"] <= 3.8, f["band_fwhm@0.5"] <= 12.0,
              f["stress_drop_value"] <= 1.05,
              abs(f["peak_stress"] / md["peak_stress"] - 1.0) <= 0.06)
    return f"{sum(checks)}/4"


def _fidelity_table(runs: list[dict], variants: list[str]) -> list[str]:
    """Fidelity of every EGO seed's optimum (per variant), the paper's optimum and the MD."""
    cfg, problem = _problem("paper")
    calib, names = problem.calibration, problem.names
    sets: dict[str, list[float]] = {"paper's published optimum": [
        cfg["report"]["compare"]["paper_optimum"][n] for n in names]}
    for r in runs:
        if r["method"] == "ego" and r["variant"] in variants:
            sets[f"EGO `{r['variant']}` seed {r['seed']}"] = [r["x_best"][n] for n in names]
    rows = {"MD (reference)": dataset_fidelity(calib.reference, (0.5,), "reference")[0]}
    runs_ds = calib.runs_dataset(calib.parameter_table(np.array(list(sets.values()))),
                                 keep_frames=None)
    rows.update(zip(sets, dataset_fidelity(runs_ds, (0.5,), "optima")))
    md = rows["MD (reference)"]
    lines = ["| set | " + " | ".join(c[1] for c in FIDELITY_COLUMNS) + " | band & drop |",
             "|---" * (len(FIDELITY_COLUMNS) + 2) + "|"]
    for label, f in rows.items():
        cells = [fmt.format(f[key]) if np.isfinite(f.get(key, np.nan)) else "—"
                 for key, _, fmt in FIDELITY_COLUMNS]
        verdict = "—" if f is md else _band_and_drop(f, md)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {verdict} |")
    return lines + [""]


def _cost_at(runs: list[dict], n: int, repeats: int = 3) -> list[str]:
    """Proposal (GP fits + acquisition, q points) vs the q simulations, at N = n real points."""
    from grassego.ego import TrustRegion, propose

    cfg, problem = _problem("paper")
    calib, space, settings = problem.calibration, problem.space, problem.settings
    X = np.array([x for r in runs if r["variant"] == "paper" for x in r["X"]])
    y = np.array([v for r in runs if r["variant"] == "paper" for v in r["y"]])
    if y.size < n:
        return [f"(cost at N = {n} skipped: only {y.size} paper-objective evaluations ran)", ""]
    order = np.random.default_rng(0).permutation(y.size)[:n]
    X, y = X[order], y[order]
    q = cfg["ego"]["batch_size"]
    prop, sim = [], []
    for i in range(repeats):
        t0 = time.perf_counter()
        # in the search coordinates the loop proposes in (grassego.ego.loop.minimize)
        p = propose(space.to_search(X), y, np.isfinite(y), space.search_bounds,
                    TrustRegion(settings.tr_init / 2), q, settings, seed=i)
        prop.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        calib.evaluate(space.from_search(p.x))
        sim.append(time.perf_counter() - t0)
    return [f"At N = {n} evaluated points (the benchmark's own paper-objective evaluations), "
            f"q = {q}, one thread, median of {repeats}: proposal (local GP and classifier fits, "
            f"acquisition) **{statistics.median(prop):.2f} s**, the {q} simulations it steers "
            f"**{statistics.median(sim):.2f} s**.", ""]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--methods", default="ego,random,box,cmaes")
    ap.add_argument("--variants", default="paper,aligned",
                    help="objective variants every method runs on")
    ap.add_argument("--ego-variants", default="overshoot",
                    help="further objective variants the EGO alone runs on")
    ap.add_argument("--target", type=float, default=0.10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cost-n", type=int, default=2000,
                    help="history size at which the proposal is timed (0: not timed)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.out.is_dir():  # before the hours of runs, not when their tables are written
        ap.error(f"--out {args.out}: is a directory; give the path of the Markdown file to write")
    variants = args.variants.split(",")
    ego_variants = [v for v in args.ego_variants.split(",") if v]
    methods = args.methods.split(",")
    tasks = [(m, v, s) for v in variants for m in methods for s in range(args.seeds)]
    if "ego" in methods:
        tasks += [("ego", v, s) for v in ego_variants for s in range(args.seeds)]
    cfg = _config(variants[0])
    n0, n_more = _budget(cfg)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(_run, tasks))
    total = time.perf_counter() - t0
    lines = [
        "# Calibration benchmark: the CuZr problem at the default budget", "",
        f"Command: `python benchmarks/bench_calibration.py --seeds {args.seeds} --methods "
        f"{args.methods} --variants {args.variants} --ego-variants {args.ego_variants} "
        f"--jobs {args.jobs}`.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {args.jobs} runs at a time "
        f"(one solver thread each); load average at start {load0:.1f}; {total / 60:.0f} min.",
        f"Budget per run: {n0} initial + {n_more} = {n0 + n_more} evaluations (config/config.yaml: "
        f"design.n_samples, ego.max_iter × ego.batch_size); failed runs count as evaluations.",
        "Initial design of seed s: the workflow's (design.seed, replicate s), shared by ego, box "
        "and cmaes; random search draws its own points.", "",
        "## Best Δ at equal evaluations", ""]
    for v in variants:
        lines += _optimiser_table(runs, v, args.target)
    lines += ["## Physical fidelity of the optima", "",
              "Δ is the `paper` objective for every row, so the variants' optima can be compared "
              "on one scale; band columns from the row-mean strain profile at γ = 0.5 "
              "(grassego.fidelity); 'band & drop' counts the criteria met of: localisation index "
              "at γ = 0.5 in [2.2, 3.8], band FWHM ≤ 12 rows, τ(γ = 0.12) ≤ 1.05 GPa, peak "
              "within 6 % of the MD's.", ""]
    lines += _fidelity_table(runs, variants + ego_variants)
    if "ego" in methods and args.cost_n > 0:
        lines += ["## The optimiser's own cost", ""] + _cost_at(runs, args.cost_n)
    write_text_atomic(args.out, "\n".join(lines) + "\n")
    slim = [{k: v for k, v in r.items() if k not in ("X",)} for r in runs]
    write_text_atomic(args.out.with_suffix(".json"), json.dumps(slim, indent=1) + "\n")
    print("\n".join(lines))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
