"""Rule `report`: summary table + JSON and the figures of the calibration."""

import json

import numpy as np
import pandas as pd
import torch

from grassego.atomic import atomic_path, write_text_atomic
from grassego.calibration import Calibration
from grassego.fields import engineering_shear, read_reference
from grassego.logsetup import setup_logging
from grassego.objective import nearest_frames
from grassego import ego, plots

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
torch.set_num_threads(smk.threads)
cfg = smk.config
names = list(cfg["parameters"])
reference = read_reference(smk.input.reference)
training = pd.read_csv(smk.input.training)
calib = Calibration.from_config(reference, cfg, threads=smk.threads)

# ---- per-seed results ------------------------------------------------------------------------
results = {r.seed: r for r in (ego.result_from_history(p) for p in smk.input.results)}
seeds_summary = ego.summarize_seeds(list(results.values()))
rows = [{"seed": seed, **dict(zip(names, r.x_best.tolist())), "delta": float(r.y_best),
         "evaluations": r.n_evaluations, "failed": int((~np.isfinite(r.y)).sum()),
         "stop_reason": r.stop_reason} for seed, r in sorted(results.items())]
table = pd.DataFrame(rows)
best_seed = int(seeds_summary["seed_overall"])
x_best = seeds_summary["x_overall"].values

# ---- comparison parameter sets (e.g. the paper's optimum, the validation target) -------------
compare = dict(cfg["report"]["compare"])
target = None
if cfg["reference"]["source"] == "forward":
    target = {k: float(v) for k, v in cfg["reference"]["forward"]["target"].items()}
    compare.setdefault("target", target)
sets = {"optimum": dict(zip(names, x_best))}
for label, values in compare.items():
    missing = [n for n in names if n not in values]
    if missing:
        raise ValueError(f"report.compare.{label}: no value for {missing}")
    sets[label] = {n: float(values[n]) for n in names}
X_sets = np.array([[sets[label][n] for n in names] for label in sets])
runs = calib.runs_dataset(calib.parameter_table(X_sets), keep_frames=None)  # all frames
deltas = dict(zip(sets, runs["delta"].values.tolist()))
log.info("delta of the compared sets: %s", deltas)

summary = {
    "parameters": names,
    "per_seed": rows,
    "best": {"seed": best_seed, "x": dict(zip(names, x_best.tolist())),
             "delta": float(table["delta"].min())},
    "mean": dict(zip(names, seeds_summary["x_best_mean"].values.tolist())),
    "std": dict(zip(names, seeds_summary["x_best_std"].values.tolist())),
    "delta_mean": float(seeds_summary["y_best_mean"]),
    "delta_std": float(seeds_summary["y_best_std"]),
    "delta_of_compared_sets": deltas,
    "n_initial": len(training),
    "objective": cfg["objective"],
}
if target is not None:
    summary["relative_error_vs_target"] = {
        n: abs(x_best[i] - target[n]) / abs(target[n]) for i, n in enumerate(names)}
for label, value in deltas.items():
    table[f"delta_{label}"] = value
with atomic_path(smk.output.summary) as tmp:
    table.to_csv(tmp, index=False, float_format="%.6g")
write_text_atomic(smk.output.summary_json, json.dumps(summary, indent=2, default=float) + "\n")

# ---- figures ---------------------------------------------------------------------------------
fig = dict(zip(smk.params.figure_names, smk.output.figures))
histories = {f"seed {s}": (r.X, r.y) for s, r in sorted(results.items())}
plots.plot_convergence(histories, names, len(training), fig["convergence"], target=target)
plots.plot_delta_history(histories, len(training), fig["delta_history"],
                         lines={k: v for k, v in deltas.items() if k != "optimum"})

strains = cfg["report"]["field_strains"]
i_ref = nearest_frames(reference["strain"].values, strains, "reference")
i_run = nearest_frames(runs["strain"].values, strains, "optimum run")
extent = (0, float(reference["x"].values[-1] + reference["x"].values[0]),
          0, float(reference["y"].values[-1] + reference["y"].values[0]))
ref_exy = engineering_shear(reference["exy"]).values[i_ref]
opt_exy = engineering_shear(runs["exy"]).values[0, i_run]
plots.plot_field_pairs(ref_exy, opt_exy, strains, fig["strain_fields"],
                       titles=("reference", "optimum"), label="γ_xy", extent=extent)
if "t_eff" in reference:
    ref_teff = reference["t_eff"].values[i_ref]
else:  # MD: map the coarse-grained PE through the optimum's chi = beta (E - E0)
    p = calib.parameter_table(x_best[None]).iloc[0]
    ref_teff = p["beta"] * (reference["pe"].values[i_ref] - p["E0"]) * calib.model_constants.T_Z_K
plots.plot_field_pairs(ref_teff, runs["t_eff"].values[0, i_run], strains, fig["teff_fields"],
                       titles=("reference", "optimum"), label="T_eff [K]", extent=extent)
curves = {f"{label} (Δ={deltas[label]:.4f})": (runs["strain_ss"].values, runs["tau_mean"].values[k])
          for k, label in enumerate(sets)}
plots.plot_stress_strain((reference["strain_ss"].values, reference["stress_strain"].values),
                         curves, fig["stress_strain"])
log.info("report written: best delta %.5f (seed %d)", summary["best"]["delta"], best_seed)
