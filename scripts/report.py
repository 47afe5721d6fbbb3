"""Rule `report`: summary table + JSON (optima, Δ, physical fidelity) and the figures."""

import json

import numpy as np
import torch

from grassego import ego, plots
from grassego.atomic import atomic_path, write_text_atomic
from grassego.calibration import Calibration
from grassego.fidelity import dataset_fidelity, row_profile
from grassego.fields import engineering_shear, read_reference
from grassego.logsetup import setup_logging
from grassego.objective import nearest_frames
from grassego.summary import (REFERENCE_LABEL, parameter_sets, summary_dict, summary_json,
                              summary_table)
from grassego.tables import read_table
from grassego.uncertainty import FIGURES as UNCERTAINTY_FIGURES
from grassego.uncertainty import io as uncertainty_io
from grassego.uncertainty import plots as uncertainty_plots

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
torch.set_num_threads(smk.threads)
cfg = json.loads(smk.params.calibration)
report_cfg = json.loads(smk.params.report)
target = json.loads(smk.params.target)
names = list(cfg["parameters"])
reference = read_reference(smk.input.reference)
training = read_table(smk.input.training, text=["status"], required=["seed"])
calib = Calibration.from_config(reference, cfg, threads=smk.threads)
strains = report_cfg["field_strains"]

# ---- every reported set: each seed's optimum and the comparison sets, all frames -------------
results = {r.seed: r for r in (ego.result_from_history(p) for p in smk.input.results)}
compare = dict(report_cfg["compare"])
if target is not None:
    compare.setdefault("target", target)
sets = parameter_sets(results, names, compare)
runs = calib.runs_dataset(calib.parameter_table(np.array(list(sets.values()))), keep_frames=None)
deltas = dict(zip(sets, runs["delta"].values.tolist()))
fidelity = dict(zip(sets, dataset_fidelity(runs, strains, "reported optima")))
fidelity[REFERENCE_LABEL] = dataset_fidelity(reference, strains, "reference")[0]
for label in sets:
    fidelity[label].pop("delta", None)
log.info("delta of the reported sets: %s", deltas)

table = summary_table(results, names, sets, deltas, fidelity)
with atomic_path(smk.output.summary) as tmp:
    table.to_csv(tmp, index=False, float_format="%.6g")
n_initial = training.groupby("seed").size().to_dict()
summary = summary_dict(results, names, deltas, fidelity, n_initial, cfg["objective"], target)
uncertainty = hasattr(smk.input, "uncertainty")
if uncertainty:
    uq_summary, uq_data = uncertainty_io.read(smk.input.uncertainty, smk.input.uncertainty_data)
    summary["uncertainty"] = uq_summary
write_text_atomic(smk.output.summary_json, summary_json(summary))

# ---- figures ---------------------------------------------------------------------------------
fig = dict(zip(smk.params.figure_names, smk.output.figures))
histories = {f"seed {s}": (r.X, r.y) for s, r in sorted(results.items())}
n0 = max(n_initial.values())
plots.plot_convergence(histories, names, n0, fig["convergence"], target=target)
plots.plot_delta_history(histories, n0, fig["delta_history"],
                         lines={k: v for k, v in deltas.items() if not k.startswith("seed ")})

best = f"seed {summary['best']['seed']}"
k_best = list(sets).index(best)
i_ref = nearest_frames(reference["strain"].values, strains, "reference")
i_run = nearest_frames(runs["strain"].values, strains, "reported optima")
extent = (0, float(reference["x"].values[-1] + reference["x"].values[0]),
          0, float(reference["y"].values[-1] + reference["y"].values[0]))
ref_exy = engineering_shear(reference["exy"]).values[i_ref]
run_exy = engineering_shear(runs["exy"]).values[:, i_run]
plots.plot_field_pairs(ref_exy, run_exy[k_best], strains, fig["strain_fields"],
                       titles=("reference", f"optimum ({best})"), label="γ_xy", extent=extent)
if "t_eff" in reference:
    ref_teff = reference["t_eff"].values[i_ref]
else:  # MD: map the coarse-grained PE through the optimum's chi = beta (E - E0)
    p = calib.parameter_table(np.array([sets[best]])).iloc[0]
    ref_teff = p["beta"] * (reference["pe"].values[i_ref] - p["E0"]) * calib.model_constants.T_Z_K
plots.plot_field_pairs(ref_teff, runs["t_eff"].values[k_best, i_run], strains, fig["teff_fields"],
                       titles=("reference", f"optimum ({best})"), label="T_eff [K]",
                       extent=extent)
curves = {f"{label} (Δ={deltas[label]:.4f})":
          (runs["strain_ss"].values, runs["tau_mean"].values[k]) for k, label in enumerate(sets)}
plots.plot_stress_strain((reference["strain_ss"].values, reference["stress_strain"].values),
                         curves, fig["stress_strain"])
profiles = {REFERENCE_LABEL: np.array([row_profile(f) for f in ref_exy])}
for k, label in enumerate(sets):
    if label == best or not label.startswith("seed "):
        profiles[label] = np.array([row_profile(f) for f in run_exy[k]])
plots.plot_band_profiles(reference["y"].values, profiles, strains, fig["band_profiles"])
if uncertainty:
    uncertainty_plots.write_all(uq_summary, uq_data,
                                dict(zip(UNCERTAINTY_FIGURES, smk.output.uncertainty_figures)),
                                smk.output.uncertainty_table)
log.info("report written: best delta %.5f (%s)", summary["best"]["delta"], best)
