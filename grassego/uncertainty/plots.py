"""Figures and the verdict table of the uncertainty analysis, from the arrays and summary that
:func:`grassego.uncertainty.analyze` writes (:mod:`grassego.uncertainty.io`): per-parameter
profiles, the pairwise scatter of the near-optimal set, the Sobol' indices, and an HTML table of
the verdicts for the Snakemake report. Each file is written atomically."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import xarray as xr

from grassego.atomic import write_text_atomic
from grassego.plots import _save, plt
from grassego.uncertainty import FIGURES
from grassego.units import Units


def _grid(n: int):
    cols = min(n, 2)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.5 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def plot_profiles(data: xr.Dataset, out: str | Path, units: Units) -> Path:
    """Δ along each parameter: re-optimised profile (GP median, ±2σ band), slice at the
    optimum (dashed), real check evaluations, the near-optimal threshold and interval, the
    seeds' optima and the target where known; parameter axes in the case's ``units``."""
    names = [str(n) for n in data["param"].values]
    fig, axes = _grid(len(names))
    threshold = float(data.attrs["delta_threshold"])
    for i, (name, ax) in enumerate(zip(names, axes)):
        v = data["profile_value"].values[i]
        ax.fill_between(v, data["profile_low"].values[i], data["profile_high"].values[i],
                        color="C0", alpha=0.2, lw=0, label="GP ±2σ (re-optimised)")
        ax.plot(v, data["profile_delta"].values[i], color="C0", lw=1.6,
                label="others re-optimised")
        ax.plot(v, data["slice_delta"].values[i], color="C1", lw=1.2, ls="--",
                label="others at the optimum")
        ax.plot(data["profile_check_value"].values[i], data["profile_check_delta"].values[i],
                "ko", ms=4, label="real evaluation")
        ax.axhline(threshold, color="C3", lw=1, ls=":", label="near-optimal threshold")
        lo, hi = data["interval"].values[i]
        ax.axvspan(lo, hi, color="C2", alpha=0.12, lw=0, label="near-optimal interval")
        for x in data["seed_optimum"].values[:, i]:
            ax.axvline(x, color="0.4", lw=0.8, ls="-.")
        if "target" in data:
            ax.axvline(float(data["target"].values[i]), color="k", lw=1.2, ls="--")
        best = float(np.nanmin(data["profile_delta"].values[i]))
        top = np.nanmax(np.concatenate([data["profile_delta"].values[i],
                                        data["profile_check_delta"].values[i]]))
        ax.set_ylim(max(0.0, best - 2 * (threshold - best)),
                    min(top, best + 12 * (threshold - best)) + 2 * (threshold - best))
        ax.set_xlim(v[0], v[-1])
        ax.set_xlabel(units.parameter_axis(name))
        ax.set_ylabel("Δ")
        ax.set_title(f"{name}: {str(data['status'].values[i]).replace('_', ' ')}", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6, loc="upper right")
    fig.suptitle("Profiles of Δ (dash-dot: the seeds' optima; dashed black: the target)",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, out)


def plot_pairs(data: xr.Dataset, out: str | Path, units: Units) -> Path:
    """Pairwise scatter of the near-optimal set (lower triangle), its histograms (diagonal) and
    Spearman correlations (upper triangle); checks, seeds' optima and target marked;
    parameter axes in the case's ``units``."""
    names = [str(n) for n in data["param"].values]
    d = len(names)
    sample, checks = data["sample"].values, data["check_x"].values
    threshold = float(data.attrs["delta_threshold"])
    inside = np.nan_to_num(data["check_delta"].values, nan=np.inf) <= threshold
    fig, axes = plt.subplots(d, d, figsize=(2.3 * d, 2.3 * d), squeeze=False)
    for r in range(d):
        for c in range(d):
            ax = axes[r, c]
            ax.tick_params(labelsize=6)
            if r == c:
                ax.hist(sample[:, c], bins=30, color="C0", alpha=0.7)
                for x in data["interval"].values[c]:
                    ax.axvline(x, color="C2", lw=1)
            elif r > c:
                ax.plot(sample[:, c], sample[:, r], ".", ms=1.5, color="C0", alpha=0.3)
                ax.plot(checks[inside, c], checks[inside, r], "o", ms=3, mfc="none",
                        color="C2")
                ax.plot(checks[~inside, c], checks[~inside, r], "x", ms=3, color="C3")
                opt = data["seed_optimum"].values
                ax.plot(opt[:, c], opt[:, r], "*", ms=7, color="k")
                if "target" in data:
                    t = data["target"].values
                    ax.plot(t[c], t[r], "P", ms=7, color="C1")
            else:
                rho = _spearman_of(sample, r, c)
                ax.text(0.5, 0.5, f"ρ = {rho:+.2f}", ha="center", va="center",
                        fontsize=10 + 4 * abs(rho) if np.isfinite(rho) else 10,
                        transform=ax.transAxes)
                ax.set_xticks([])
                ax.set_yticks([])
            if r == d - 1:
                ax.set_xlabel(units.parameter_axis(names[c]), fontsize=8)
            if c == 0:
                ax.set_ylabel(units.parameter_axis(names[r]), fontsize=8)
    fig.suptitle("Near-optimal set of the surrogate (dots); real checks inside (o) / outside (x) "
                 "the threshold; seeds' optima (*), target (+)", fontsize=9)
    fig.tight_layout()
    return _save(fig, out)


def _spearman_of(sample: np.ndarray, r: int, c: int) -> float:
    from scipy.stats import spearmanr

    if len(sample) < 3 or np.ptp(sample[:, r]) == 0 or np.ptp(sample[:, c]) == 0:
        return float("nan")
    return float(spearmanr(sample[:, r], sample[:, c]).statistic)


def plot_sobol(data: xr.Dataset, out: str | Path) -> Path:
    """First-order and total Sobol' indices per parameter with their intervals."""
    names = [str(n) for n in data["param"].values]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(1.3 * len(names) + 2.5, 3.4))
    for k, (key, label) in enumerate((("sobol_first", "first order"), ("sobol_total", "total"))):
        value = data[key].values
        iv = data[f"{key}_interval"].values
        ax.bar(x + (k - 0.5) * 0.38, value, width=0.38, label=label,
               yerr=np.abs(np.stack([value - iv[:, 0], iv[:, 1] - value])), capsize=3)
    ax.set_xticks(x, names)
    ax.set_ylabel("Sobol' index of Δ")
    ax.axhline(0, color="k", lw=0.6)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax.set_title("Global sensitivity of Δ over the parameter bounds (surrogate)", fontsize=9)
    return _save(fig, out)


def verdict_html(summary: Mapping[str, Any], units: Units) -> str:
    """The verdicts, intervals (in the case's ``units``), indices and seeds' optima as a small
    HTML page, opening with whether the seeds agree and which parameters are at a bound."""
    near, sobol, seeds = summary["near_optimal"], summary["sobol"], summary["seeds"]
    noise, checks = summary["noise"], near["checks"]
    rows = []
    for name, v in summary["verdicts"].items():
        iv = near["intervals"][name]
        cells = [name, v["status"].replace("_", " "), v["text"],
                 f"{iv['low']:.5g} – {iv['high']:.5g}{_unit(units, name)} "
                 f"({100 * iv['fraction_of_range']:.0f} %)",
                 _index_text(sobol["first_order"][name]), _index_text(sobol["total"][name]),
                 ", ".join(f"{x:.5g}" for x in seeds[name]["optima"])
                 + f" (spread {seeds[name]['spread']:.3g})"]
        if "target_inside" in summary:
            cells.append("yes" if summary["target_inside"][name] else "no")
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    head = ["parameter", "status", "verdict", "near-optimal interval", "first-order Sobol",
            "total Sobol", "seeds' optima"] + (["target inside"] if "target_inside" in summary
                                               else [])
    first = [f"<b>{html.escape(summary['seed_agreement'])}</b>"] if "seed_agreement" in summary \
        else []
    if summary.get("parameters_at_bound"):
        first.append(f"<b>At a bound: {html.escape(', '.join(summary['parameters_at_bound']))}"
                     "</b> (the verdicts say what to do).")
    lines = [
        f"Objective noise ({html.escape(noise['method'])}): std of ln Δ "
        f"{_num(noise['std_log_delta'])}, of Δ {_num(noise['std_delta'])} "
        f"(near-replicates within ±{noise['scale']:g} of each range).",
        f"Near-optimal: Δ ≤ {near['delta_threshold']:.5g} (surrogate best "
        f"{near['delta_best_surrogate']:.5g}); real checks: {checks['inside']} of "
        f"{checks['evaluations']} inside, {checks['inside_within_noise']} within one more noise "
        "margin.",
        *(f"Caveat: {html.escape(c)}." for c in summary.get("caveats", [])),
        html.escape(summary["method"]),
    ]
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Uncertainty</title>"
            "<style>table{border-collapse:collapse;font:13px sans-serif}td,th{border:1px solid "
            "#bbb;padding:4px;vertical-align:top}p{font:13px sans-serif}</style></head><body>"
            "<h3>Which parameters the data identify</h3>"
            + "".join(f"<p>{line}</p>" for line in first) + "<table><tr>"
            + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>"
            + "".join(f"<p>{line}</p>" for line in lines) + "</body></html>\n")


def _unit(units: Units, name: str) -> str:
    """`` <label>`` of a parameter's unit, or nothing for a dimensionless one."""
    label = units.label(units.parameter_quantity(name))
    return f" {label}" if label else ""


def _num(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3g}"


def _index_text(index: Mapping[str, float]) -> str:
    return f"{index['value']:.3f} [{index['low']:.3f}, {index['high']:.3f}]"


def write_all(summary: Mapping[str, Any], data: xr.Dataset, figures: Mapping[str, str | Path],
              table: str | Path, units: Units) -> None:
    """Every figure (``figures``: each name of :data:`grassego.uncertainty.FIGURES` → path)
    and the HTML table, parameters in the case's ``units``."""
    plot_profiles(data, figures["uncertainty_profiles"], units)
    plot_pairs(data, figures["uncertainty_pairs"], units)
    plot_sobol(data, figures["uncertainty_sobol"])
    write_text_atomic(table, verdict_html(summary, units))
