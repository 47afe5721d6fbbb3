"""The report step's settings and figures: each seed's EGO history, and the reference beside the
best seed's optimum (strain and effective-temperature fields, stress–strain curves, band
profiles) at the report strains. The numbers of the report are :mod:`grassego.summary`'s."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from os import PathLike
from typing import Any, Mapping, Sequence

import numpy as np
import xarray as xr

from grassego import plots
from grassego.ego import EGOResult
from grassego.fidelity import row_profile
from grassego.fields import engineering_shear, reference_cell
from grassego.misfit import percent
from grassego.objective import nearest_frames
from grassego.settings import settings_from
from grassego.stz import ModelConstants, chi_from_energy
from grassego.summary import REFERENCE_LABEL
from grassego.units import Units

#: The report's diagnosis page (beside the figures).
DIAGNOSIS = "diagnosis.html"
#: The report's figures, by name (``<name>.png``).
FIGURES = ("convergence", "delta_history", "strain_fields", "teff_fields", "stress_strain",
           "band_profiles")


@dataclass(frozen=True)
class ReportSettings:
    """The workflow config's ``report`` section (its defaults are the only ones): ``compare``,
    named parameter sets (label → parameter → value) evaluated beside the optima;
    ``field_strains``, the global strains [1] of the field and band-profile figures and of the
    band fidelity."""

    compare: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    field_strains: tuple[float, ...] = (0.1, 0.2, 0.35, 0.5)

    def __post_init__(self) -> None:
        if not self.field_strains or min(self.field_strains) < 0:
            raise ValueError(f"report.field_strains: need at least one strain >= 0, got "
                             f"{list(self.field_strains)}")

    @classmethod
    def from_config(cls, report: Mapping[str, Any]) -> "ReportSettings":
        """From the workflow config's ``report`` section (unknown keys are an error)."""
        kw = dict(report)
        if "field_strains" in kw:
            kw["field_strains"] = tuple(float(s) for s in kw["field_strains"])
        return settings_from(cls, kw, "report")


def diagnosis_html(summary: Mapping[str, Any]) -> str:
    """summary.json's opening keys (:func:`grassego.summary.headline`) as a small HTML page:
    whether the seeds agree, the parameters at a bound, the misfit sentence, and per seed the
    mean |model − MD| stress (in the case's unit) of each regime of the MD's curve and the peak errors."""
    misfit = summary["misfit"]
    lines = [summary["seed_agreement"],
             f"Parameters at a bound: {', '.join(summary['parameters_at_bound'])}"
             if summary.get("parameters_at_bound") else "",
             misfit["sentence"]]
    regimes = list(misfit["regimes"])
    head = ["set", *(f"{r.replace('_', ' ')} γ {lo:.3g}–{hi:.3g} [{misfit['stress_unit']}]"
                     for r, (lo, hi) in misfit["regimes"].items()),
            "peak strain error", "peak stress error"]
    rows = []
    for label, fit in misfit["per_set"].items():
        if fit is None:
            cells = [label, "run failed", *[""] * (len(head) - 2)]
        else:
            res = [fit["residual"][r] for r in regimes]
            cells = [label, *("—" if v is None else f"{v['mean_abs']:.3g} ({v['mean']:+.3g})"
                              for v in res),
                     percent(fit["peak_strain_error"], 0), percent(fit["peak_stress_error"], 1)]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Diagnosis</title>"
            "<style>table{border-collapse:collapse;font:13px sans-serif}td,th{border:1px solid "
            "#bbb;padding:4px}p{font:13px sans-serif}</style></head><body>"
            "<h3>What the calibration found, and what the model cannot follow</h3>"
            + "".join(f"<p><b>{html.escape(line)}</b></p>" for line in lines if line)
            + "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"
            + "".join(rows) + "</table><p>Cells: mean |model − MD| (mean model − MD). "
            + html.escape(misfit["definition"]) + ".</p></body></html>\n")


def reference_teff(reference: xr.Dataset, frames: Sequence[int], point: Mapping[str, float],
                   constants: ModelConstants) -> np.ndarray:
    """Effective temperature T_eff [the case's temperature unit: K, or ε/k_B] of the reference
    at ``frames``, ``(F, ny, nx)``: its own
    ``t_eff`` where it has one (a forward run), else its PE mapped through χ
    (:func:`grassego.stz.chi_from_energy`) at the parameter set ``point`` (name → value; its
    ``chi_energy_factor`` and ``T_Z_K`` where it gives them, else ``constants``'), as a run at
    ``point`` starts from it."""
    frames = np.asarray(frames)
    if "t_eff" in reference:
        return np.asarray(reference["t_eff"].values[frames])
    factor = point.get("chi_energy_factor", constants.chi_energy_factor)
    t_z = point.get("T_Z_K", constants.T_Z_K)
    pe = np.asarray(reference["pe"].values[frames], dtype=np.float64)
    return chi_from_energy(pe, point["beta"], point["E0"], factor) * t_z


def band_profiles(ref_exy: np.ndarray, run_exy: np.ndarray, labels: Sequence[str],
                  best: str) -> dict[str, np.ndarray]:
    """Row profiles (:func:`grassego.fidelity.row_profile`, ``(F, ny)``) of the reference's
    fields ``ref_exy`` ``(F, ny, nx)`` and of the runs ``run_exy`` ``(N, F, ny, nx)`` labelled
    ``labels``: of the best seed's optimum ``best`` and of every comparison set, not of the
    other seeds."""
    profiles = {REFERENCE_LABEL: np.array([row_profile(f) for f in ref_exy])}
    for k, label in enumerate(labels):
        if label == best or not label.startswith("seed "):
            profiles[label] = np.array([row_profile(f) for f in run_exy[k]])
    return profiles


def write_figures(paths: Mapping[str, str | PathLike], reference: xr.Dataset, runs: xr.Dataset,
                  deltas: Mapping[str, float], results: Mapping[int, EGOResult], n_initial: int,
                  strains: Sequence[float], best: str, constants: ModelConstants,
                  units: Units, target: Mapping[str, float] | None = None) -> None:
    """Write every figure of :data:`FIGURES` to ``paths[name]``.

    ``runs``: the reported sets run with the fields of every frame, one run per label of
    ``deltas`` (label → Δ, in the runs' order); ``results``: each seed's EGO result;
    ``n_initial``: the initial-design size (the convergence plots mark it); ``strains``: the
    report strains; ``best``: the label of the best seed's optimum; ``constants``: the
    solver's; ``units``: the case's unit system (every axis and colour-bar label); ``target``:
    the validation target, if any."""
    missing = [name for name in FIGURES if name not in paths]
    if missing:
        raise ValueError(f"no output path for the figures {missing}")
    names = [str(n) for n in next(iter(results.values())).names]
    histories = {f"seed {s}": (r.X, r.y) for s, r in sorted(results.items())}
    plots.plot_convergence(histories, names, n_initial, paths["convergence"], target=target,
                           axis_labels=[units.parameter_axis(n) for n in names])
    plots.plot_delta_history(histories, n_initial, paths["delta_history"],
                             lines={k: v for k, v in deltas.items() if not k.startswith("seed ")})

    labels = list(deltas)
    k_best = labels.index(best)
    i_ref = nearest_frames(reference["strain"].values, strains, "reference")
    i_run = nearest_frames(runs["strain"].values, strains, "reported sets")
    cell = reference_cell(reference)
    extent = (0.0, cell["lx_A"], 0.0, cell["ly_A"])
    titles = ("reference", f"optimum ({best})")
    xy = (units.axis("x", "length"), units.axis("y", "length"))
    ref_exy = engineering_shear(reference["exy"]).values[i_ref]
    run_exy = engineering_shear(runs["exy"]).values[:, i_run]
    plots.plot_field_pairs(ref_exy, run_exy[k_best], strains, paths["strain_fields"],
                           titles=titles, label="γ_xy", extent=extent, xy_labels=xy)
    point = {name: float(runs[name].values[k_best])
             for name in ("beta", "E0", "chi_energy_factor", "T_Z_K") if name in runs}
    plots.plot_field_pairs(reference_teff(reference, i_ref, point, constants),
                           runs["t_eff"].values[k_best, i_run], strains, paths["teff_fields"],
                           titles=titles, label=units.axis("T_eff", "temperature"),
                           extent=extent, xy_labels=xy)
    curves = {f"{label} (Δ={deltas[label]:.4f})":
              (runs["strain_ss"].values, runs["tau_mean"].values[k])
              for k, label in enumerate(labels)}
    plots.plot_stress_strain((reference["strain_ss"].values, reference["stress_strain"].values),
                             curves, paths["stress_strain"],
                             stress_label=units.axis("shear stress τ", "stress"))
    plots.plot_band_profiles(reference["y"].values, band_profiles(ref_exy, run_exy, labels, best),
                             strains, paths["band_profiles"], y_label=xy[1])
