"""Figures of a calibration: convergence, Δ history, reference-vs-optimum fields, stress–strain.

All functions take plain arrays and write one PNG atomically; they know nothing of Snakemake.
Axis and colour-bar texts that carry a unit are given by the caller, in the case's units
(:mod:`grassego.units`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from grassego.atomic import atomic_path  # noqa: E402


def figure_text(fig) -> str:
    """Every title, axis and colour-bar label, legend entry and text of ``fig``, one per line
    (in drawing order, each once): what a reader of the figure reads, tick numbers aside."""
    texts = [fig.get_suptitle()]
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        texts += [t.get_text() for t in legend.get_texts()] if legend is not None else []
    return "\n".join(dict.fromkeys(t for t in texts if t))


def _save(fig, out: str | Path) -> Path:
    """Write ``fig`` as a PNG atomically, its text (:func:`figure_text`) in the PNG's
    ``Description`` metadata, so that a figure's words and units can be searched."""
    with atomic_path(out, suffix=".png.tmp") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png",
                    metadata={"Description": figure_text(fig)})
    plt.close(fig)
    return Path(out)


def best_so_far(y: np.ndarray) -> np.ndarray:
    """Running minimum of ``y`` ignoring NaN (NaN until the first finite value)."""
    y = np.where(np.isfinite(y), y, np.inf)
    run = np.minimum.accumulate(y)
    return np.where(np.isfinite(run), run, np.nan)


def plot_convergence(histories: Mapping[str, tuple[np.ndarray, np.ndarray]],
                     names: Sequence[str], n_initial: int, out: str | Path,
                     target: Mapping[str, float] | None = None,
                     axis_labels: Sequence[str] | None = None) -> Path:
    """Parameters of the best sample so far vs evaluation number, one line per seed
    (paper Figs. 8, 12). ``histories`` maps a label to ``(X (n, d), delta (n,))``;
    ``axis_labels``: each parameter's axis text with its unit (default: its name)."""
    d = len(names)
    fig, axes = plt.subplots(d, 1, figsize=(7, 1.9 * d + 0.6), sharex=True, squeeze=False)
    for label, (X, y) in histories.items():
        y = np.where(np.isfinite(y), y, np.inf)
        best_idx = np.array([int(np.argmin(y[: i + 1])) for i in range(len(y))])
        for j, ax in enumerate(axes[:, 0]):
            ax.plot(np.arange(1, len(y) + 1), X[best_idx, j], lw=1.2, label=label)
    for j, ax in enumerate(axes[:, 0]):
        ax.set_ylabel(names[j] if axis_labels is None else axis_labels[j])
        ax.axvline(n_initial, color="0.6", ls=":", lw=1)
        if target and names[j] in target:
            ax.axhline(target[names[j]], color="k", ls="--", lw=1)
    axes[-1, 0].set_xlabel("evaluation (design + EGO)")
    axes[0, 0].legend(fontsize=7, ncol=min(4, len(histories)), loc="upper right")
    axes[0, 0].set_title("Parameters of the best sample so far (dotted: end of the design)")
    return _save(fig, out)


def plot_delta_history(histories: Mapping[str, tuple[np.ndarray, np.ndarray]], n_initial: int,
                       out: str | Path, lines: Mapping[str, float] | None = None) -> Path:
    """Δ of every evaluation (dots) and the best so far (lines), per seed."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for label, (_, y) in histories.items():
        n = np.arange(1, len(y) + 1)
        (line,) = ax.plot(n, best_so_far(y), lw=1.5, label=f"{label} best")
        ax.plot(n, y, ".", ms=2, alpha=0.35, color=line.get_color())
    for name, value in (lines or {}).items():
        if np.isfinite(value):
            ax.axhline(value, color="k", ls="--", lw=1)
            ax.annotate(f"{name}: {value:.4f}", (1, value), fontsize=7, va="bottom")
    ax.axvline(n_initial, color="0.6", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("evaluation (design + EGO)")
    ax.set_ylabel("Δ")
    ax.legend(fontsize=7)
    return _save(fig, out)


def plot_field_pairs(left: np.ndarray, right: np.ndarray, strains: Sequence[float],
                     out: str | Path, *, titles: tuple[str, str], label: str,
                     extent: tuple[float, float, float, float] | None = None,
                     xy_labels: tuple[str, str] = ("x", "y")) -> Path:
    """Reference (left) vs model (right) fields ``(S, ny, nx)`` at the given global strains,
    one row per strain, each row on a shared colour scale; ``label`` the colour bar's text,
    ``extent`` the cell (x0, x1, y0, y1) and ``xy_labels`` its axes' texts, with units."""
    s = len(strains)
    fig, axes = plt.subplots(s, 2, figsize=(6.4, 2.7 * s), squeeze=False)
    for i, strain in enumerate(strains):
        lo = float(np.nanmin([left[i].min(), right[i].min()]))
        hi = float(np.nanmax([left[i].max(), right[i].max()]))
        for j, field in enumerate((left[i], right[i])):
            ax = axes[i, j]
            im = ax.imshow(field, origin="lower", extent=extent, vmin=lo, vmax=hi,
                           cmap="viridis", aspect="equal")
            ax.set_title(f"{titles[j]}, γ = {strain:g}", fontsize=8)
            ax.tick_params(labelsize=6)
            ax.set_xlabel(xy_labels[0], fontsize=7)
            ax.set_ylabel(xy_labels[1], fontsize=7)
        fig.colorbar(im, ax=axes[i, :].tolist(), shrink=0.85, label=label)
    return _save(fig, out)


def plot_stress_strain(reference: tuple[np.ndarray, np.ndarray],
                       curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
                       out: str | Path, *, stress_label: str) -> Path:
    """The reference stress–strain curve and model curves (stress vs global shear strain);
    ``stress_label``: the stress axis text with its unit."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(*reference, color="0.3", lw=1, label="reference")
    for label, (strain, stress) in curves.items():
        ax.plot(strain, stress, lw=1.6, label=label)
    ax.set_xlabel("global shear strain γ")
    ax.set_ylabel(stress_label)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, out)


def plot_band_profiles(y: np.ndarray, profiles: Mapping[str, np.ndarray],
                       strains: Sequence[float], out: str | Path, *, y_label: str) -> Path:
    """Row-mean shear-strain profiles p(y) (engineering γ_xy) of each labelled series at the
    given global strains: ``profiles`` maps a label to an ``(S, ny)`` array. One panel per
    strain; the band is the peak, its width and height the localisation. ``y_label``: the
    y axis text with its unit."""
    s = len(strains)
    fig, axes = plt.subplots(1, s, figsize=(3.0 * s, 3.4), sharey=False, squeeze=False)
    for i, strain in enumerate(strains):
        ax = axes[0, i]
        for k, (label, p) in enumerate(profiles.items()):
            ax.plot(p[i], y, lw=2.0 if k == 0 else 1.4, color="0.2" if k == 0 else None,
                    label=label)
        ax.set_title(f"γ = {strain:g}", fontsize=9)
        ax.set_xlabel("⟨γ_xy⟩_x")
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(y_label)
    axes[0, -1].legend(fontsize=7, loc="best")
    fig.suptitle("Row-mean strain profiles: the shear band", fontsize=10)
    return _save(fig, out)


def plot_prediction(curves: xr.Dataset, out: str | Path, *, title: str, stress_label: str,
                    y_label: str) -> Path:
    """A held-out reference's prediction (:func:`grassego.prediction.predict`'s dataset): the
    MD's stress–strain curve and each seed's optimum, the near-optimal sets' range shaded, the
    single-run optima dashed (left); the row-mean strain profiles at the last field strain
    (right). ``stress_label``,
    ``y_label``: axis texts with their units."""
    labels = [str(s) for s in curves["set"].values]
    seeds = [k for k, label in enumerate(labels) if label.startswith("seed ")]
    near = [k for k, label in enumerate(labels) if label.startswith("near-optimal")]
    single = [k for k in range(len(labels)) if k not in seeds and k not in near]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.8),
                                      gridspec_kw={"width_ratios": [1.6, 1]})
    strain = curves["strain_ss"].values
    tau = curves["tau_mean"].values
    profile = curves["profile"].values[:, -1]
    y = curves["y"].values
    left.plot(curves["md_strain_ss"].values, curves["md_stress"].values, color="0.2", lw=2,
              label="held-out MD")
    right.plot(curves["md_profile"].values[-1], y, color="0.2", lw=2, label="held-out MD")
    if near:
        left.fill_between(strain, np.nanmin(tau[near], axis=0), np.nanmax(tau[near], axis=0),
                          color="tab:blue", alpha=0.2, lw=0,
                          label=f"near-optimal sets ({len(near)})")
        right.fill_betweenx(y, np.nanmin(profile[near], axis=0),
                            np.nanmax(profile[near], axis=0), color="tab:blue", alpha=0.2, lw=0)
    for n, k in enumerate(single):
        label = f"single-run optima ({len(single)})" if n == 0 else None
        left.plot(strain, tau[k], color="0.55", lw=0.8, ls="--", label=label)
        right.plot(profile[k], y, color="0.55", lw=0.8, ls="--")
    for k in seeds:
        delta = float(curves["delta"].values[k])
        left.plot(strain, tau[k], lw=1.4, label=f"{labels[k]} (Δ={delta:.4f})")
        right.plot(profile[k], y, lw=1.4, label=labels[k])
    left.set_xlabel("global shear strain γ")
    left.set_ylabel(stress_label)
    left.legend(fontsize=7)
    left.grid(alpha=0.3)
    right.set_title(f"γ = {float(curves['field_strain'].values[-1]):g}", fontsize=9)
    right.set_xlabel("⟨γ_xy⟩_x")
    right.set_ylabel(y_label)
    right.grid(alpha=0.3)
    fig.suptitle(f"Prediction of the {title}", fontsize=10)
    return _save(fig, out)


def plot_ensemble(single: Mapping[str, Mapping[str, float]], joint: Mapping[str, float],
                  intervals: Mapping[str, Sequence[float]] | None, names: Sequence[str],
                  axis_labels: Sequence[str], out: str | Path) -> Path:
    """How the optimum varies from one MD run to another: per parameter (one panel each, axis
    texts ``axis_labels``), each single fit's optimum (``single``: label → parameter values;
    one colour per reference) beside the joint optimum (``joint``) and its near-optimal
    interval (``intervals``: name → [low, high], None without the uncertainty step)."""
    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 3.4), squeeze=False)
    references = list(dict.fromkeys(label.split(" seed ")[0] for label in single))
    colours = {ref: f"C{k}" for k, ref in enumerate(references)}
    for i, name in enumerate(names):
        ax = axes[0, i]
        for label, x in single.items():
            ref = label.split(" seed ")[0]
            ax.plot(references.index(ref), x[name], "o", color=colours[ref], ms=5)
        low, high = (intervals[name] if intervals else (joint[name], joint[name]))
        ax.errorbar(len(references), joint[name],
                    yerr=[[joint[name] - low], [high - joint[name]]], fmt="*", color="k", ms=9,
                    capsize=4)
        ax.set_xticks(range(len(references) + 1), [*references, "joint"], rotation=45,
                      fontsize=7)
        ax.set_ylabel(axis_labels[i], fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Single-run optima (dots) beside the joint optimum and its near-optimal "
                 "interval", fontsize=9)
    return _save(fig, out)
