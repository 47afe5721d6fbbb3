"""Physical fidelity of a stress–strain curve and its strain fields: does the model show the
stress overshoot and drop and the shear band of the MD?

The objective Δ is one number; these are the features a materials scientist looks at:

Stress (GPa, against the global shear strain γ)
    ``peak_stress`` and ``peak_strain`` (the overshoot), ``stress_drop_value``: the stress at
    γ = :data:`DROP_STRAIN` (after the drop in the MD), ``flow_stress``: the mean stress on
    γ ∈ :data:`FLOW_WINDOW` (steady flow).
Band (per requested global strain, from the row-mean profile p(y) = ⟨γ_xy(x, y)⟩_x of the
engineering shear strain; the band runs along x)
    ``band_row``: row index of the maximum of p; ``localisation``: max p / mean p (1 for
    homogeneous flow; MD CuZr at γ = 0.5: 2.9); ``band_fwhm``: full width of p at half height
    between its minimum and maximum, in grid rows, measured around the peak on the periodic
    profile with linear interpolation at the two crossings.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from grassego.objective import nearest_frames, series_from_dataset

#: Global strain at which the post-overshoot stress is read (the MD has dropped by then).
DROP_STRAIN = 0.12
#: Strain window of the steady-flow stress.
FLOW_WINDOW = (0.3, 0.5)


def stress_features(strain: np.ndarray, stress: np.ndarray) -> dict[str, float]:
    """Overshoot, drop and flow stress of one curve (``strain`` (T,), ``stress`` (T,) in GPa)."""
    strain = np.asarray(strain, dtype=np.float64)
    stress = np.asarray(stress, dtype=np.float64)
    if not np.all(np.isfinite(stress)):
        return {k: float("nan") for k in ("peak_stress", "peak_strain", "stress_drop_value",
                                          "flow_stress")}
    i = int(np.argmax(stress))
    window = (strain >= FLOW_WINDOW[0]) & (strain <= FLOW_WINDOW[1])
    return {
        "peak_stress": float(stress[i]),
        "peak_strain": float(strain[i]),
        "stress_drop_value": float(np.interp(DROP_STRAIN, strain, stress)),
        "flow_stress": float(stress[window].mean()) if window.any() else float("nan"),
    }


def row_profile(exy: np.ndarray) -> np.ndarray:
    """Row-mean profile p(y) of an engineering shear-strain field ``exy`` (ny, nx)."""
    return np.asarray(exy, dtype=np.float64).mean(axis=1)


def band_features(profile: np.ndarray) -> dict[str, float]:
    """Band row, FWHM [rows] and localisation index of a periodic row profile (see module doc)."""
    p = np.asarray(profile, dtype=np.float64)
    if not np.all(np.isfinite(p)) or p.mean() <= 0:
        return {"band_row": float("nan"), "band_fwhm": float("nan"),
                "localisation": float("nan")}
    n = p.size
    peak = int(np.argmax(p))
    half = 0.5 * (p.max() + p.min())
    width = 0.0
    for step in (1, -1):  # walk from the peak to the half-height crossing on each side
        k = 0
        while k < n and p[(peak + step * (k + 1)) % n] >= half:
            k += 1
        if k >= n:
            return {"band_row": float(peak), "band_fwhm": float(n),
                    "localisation": float(p.max() / p.mean())}
        inside, outside = p[(peak + step * k) % n], p[(peak + step * (k + 1)) % n]
        width += k + (inside - half) / (inside - outside)
    return {"band_row": float(peak), "band_fwhm": float(width),
            "localisation": float(p.max() / p.mean())}


def fidelity(strain: np.ndarray, exy: np.ndarray, strain_ss: np.ndarray, stress: np.ndarray,
             band_strains: Sequence[float], source: str = "series") -> dict[str, float]:
    """Stress features plus band features at each of ``band_strains`` for one series.

    ``strain`` (F,) frame strains of ``exy`` (F, ny, nx, engineering shear); ``strain_ss`` (T,)
    and ``stress`` (T,) [GPa] the stress–strain curve. Band keys are suffixed with the strain,
    e.g. ``localisation@0.5``.
    """
    out = stress_features(strain_ss, stress)
    frames = nearest_frames(strain, band_strains, source)
    for g, i in zip(band_strains, frames):
        for key, value in band_features(row_profile(exy[i])).items():
            out[f"{key}@{g:g}"] = value
    return out


def dataset_fidelity(ds: xr.Dataset, band_strains: Sequence[float],
                     source: str = "dataset") -> list[dict[str, float]]:
    """:func:`fidelity` of each run of a runs dataset (one entry for a reference dataset); runs
    that failed get NaN features. A ``delta`` variable, if present, is copied in."""
    series = series_from_dataset(ds, source)
    out = []
    for k in range(series.exy.shape[0]):
        if series.ok[k]:
            f = fidelity(series.strain, series.exy[k], series.strain_ss, series.stress[k],
                         band_strains, source)
        else:
            f = {}
        if "delta" in ds:
            f["delta"] = float(np.atleast_1d(ds["delta"].values)[k])
        out.append(f)
    return out
