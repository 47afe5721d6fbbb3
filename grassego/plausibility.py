"""Is a reference plausible? Checked wherever a reference enters: ``grassego ingest`` and
``ingest-legacy`` (before writing), the workflow's reference rule and config checks,
``grassego init-config`` and ``grassego distance``.

Always errors (the comparison would be meaningless): fewer than :data:`MIN_FRAMES` frames; a
snapshot strain farther than half a frame spacing from every frame; two snapshot strains on one
frame (the field counted twice). Unusual, refused unless accepted on purpose
(``--accept-unusual``, or ``reference.accept_unusual: true`` in a workflow config; default
:data:`ACCEPT_UNUSUAL`): sheared frames whose strain field is zero everywhere (all of them, or
one compared at a snapshot strain), a global shear strain beyond :data:`MAX_GLOBAL_STRAIN` (strain in percent?), a shear modulus μ or
peak stress outside the range of :data:`MU_RANGE` / :data:`PEAK_STRESS_RANGE` for the
reference's units (GPa for physical units, reduced ε/σ² for LJ: a stress in bar or MPa, or a
strain in percent, lands outside).
"""

from __future__ import annotations

import argparse
from typing import Sequence

import numpy as np
import xarray as xr

from grassego.errors import InputError

#: Whether unusual references are accepted by default (the CLI flags' and the schema's default).
ACCEPT_UNUSUAL = False
#: Fewest frames of a usable reference: the initial one and two sheared ones.
MIN_FRAMES = 3
#: Largest plausible global shear strain γ [1] of a reference (MD shears reach ~1).
MAX_GLOBAL_STRAIN = 2.0
#: Plausible shear modulus μ per unit system: GPa (metals, glasses, polymers: 1–500 GPa) and
#: reduced LJ units ε/σ² (LJ glasses: ~5–40).
MU_RANGE = {"physical": (1.0, 500.0), "lj": (0.5, 200.0)}
#: Plausible peak shear stress per unit system: GPa and reduced LJ units ε/σ³ (2-D: ε/σ²).
PEAK_STRESS_RANGE = {"physical": (0.02, 20.0), "lj": (0.01, 20.0)}
#: How to accept the unusual on purpose, appended to each such problem.
ACCEPT_HINT = ("if this is intended, pass --accept-unusual (workflow config: "
               "reference.accept_unusual: true)")


def snapshot_problems(strain: np.ndarray, snapshots: Sequence[float]) -> list[str]:
    """Snapshot strains that no frame of the strains ``strain`` (increasing, [1]) stands for: one
    farther than half the local frame spacing from its nearest frame, or two on one frame."""
    strain = np.asarray(strain, dtype=np.float64)
    if strain.size < 2:
        return []
    gaps = np.diff(strain)
    far, shared, taken = [], [], {}
    for s in snapshots:
        i = int(np.abs(strain - s).argmin())
        local = max(gaps[max(i - 1, 0)], gaps[min(i, gaps.size - 1)])
        if abs(strain[i] - s) > 0.5 * local * (1 + 1e-6) and not strain[0] <= s <= strain[-1]:
            far.append(f"{s:g} lies outside the reference data's strain range [{strain[0]:g}, "
                       f"{strain[-1]:g}] by more than half the frame spacing {local:g}")
        elif abs(strain[i] - s) > 0.5 * local * (1 + 1e-6):
            far.append(f"snapshot strain {s:g} is {abs(strain[i] - s):g} from the nearest frame "
                       f"(strain {strain[i]:g}), more than half the frame spacing {local:g}: no "
                       "frame of the reference shows that strain")
        elif i in taken:
            shared.append(f"snapshot strains {taken[i]:g} and {s:g} both fall on the frame at "
                          f"strain {strain[i]:g}: the frames are too coarse for them (the field "
                          "would count twice)")
        else:
            taken[i] = s
    return [kind[0] + (f" (and {len(kind) - 1} more)" if len(kind) > 1 else "")
            for kind in (far, shared) if kind]


def reference_problems(ds: xr.Dataset, snapshots: Sequence[float] | None = None,
                       accept_unusual: bool = ACCEPT_UNUSUAL) -> list[str]:
    """Why the reference dataset ``ds`` is implausible (module doc), one sentence each; empty
    when it is plausible. ``snapshots``: the compared strains [1], if known."""
    from grassego.fields import reference_units

    strain = np.asarray(ds["strain"].values, dtype=np.float64)
    problems = []
    if strain.size < MIN_FRAMES:
        problems.append(f"{strain.size} frame(s); a reference needs at least {MIN_FRAMES} (the "
                        "initial one and sheared ones to compare)")
    if snapshots is not None:
        problems += snapshot_problems(strain, snapshots)
    if not accept_unusual:
        unusual = _zero_fields(ds, strain, snapshots) or _unusual(ds, reference_units(ds))
        problems += [f"{p}; {ACCEPT_HINT}" for p in unusual]
    return problems


def _zero_fields(ds: xr.Dataset, strain: np.ndarray, snapshots: Sequence[float] | None
                 ) -> list[str]:
    """Sheared frames (strain > 0) whose strain field is zero everywhere: all of them, or one
    compared at a snapshot strain."""
    from grassego.fields import engineering_shear

    exy = np.asarray(engineering_shear(ds["exy"]).values, dtype=np.float64)
    sheared = [k for k in range(strain.size) if strain[k] > 0]
    zero = [k for k in sheared if not np.any(exy[k])]
    if zero and zero == sheared:
        return ["every sheared frame's strain field is zero everywhere (was the strain computed "
                "against the frame itself?)"]
    used = {int(np.abs(strain - s).argmin()) for s in snapshots or ()}
    hit = sorted(used & set(zero))
    if hit:
        return [f"the frame at strain {strain[hit[0]]:g}, compared at a snapshot strain, has a "
                "strain field that is zero everywhere"]
    return []


def _unusual(ds: xr.Dataset, units: str) -> list[str]:
    """Strain range, shear modulus and peak stress outside their plausible ranges."""
    from grassego.init_config import elastic_modulus

    out = []
    for name in ("strain", "strain_ss"):
        top = float(np.max(ds[name].values))
        if top > MAX_GLOBAL_STRAIN:
            out.append(f"{name} reaches {top:g}: a global shear strain above "
                       f"{MAX_GLOBAL_STRAIN:g} is implausible (a strain in percent?)")
            return out  # μ and the peak would only repeat it
    unit = "GPa" if units == "physical" else "(reduced LJ units)"
    strain_ss = np.asarray(ds["strain_ss"].values, dtype=np.float64)
    stress = np.asarray(ds["stress_strain"].values, dtype=np.float64)
    peak = float(stress.max())
    lo, hi = PEAK_STRESS_RANGE[units]
    if not lo <= peak <= hi:
        out.append(f"the peak shear stress {peak:.4g} {unit} lies outside the plausible "
                   f"{lo:g}-{hi:g} {unit} (stress in bar or MPa? its sign flipped?)")
        return out
    try:
        mu = elastic_modulus(strain_ss, stress, "reference").mu_GPa
    except InputError:  # no elastic part to fit: nothing to judge μ by
        return out
    lo, hi = MU_RANGE[units]
    if not lo <= mu <= hi:
        out.append(f"the shear modulus of its stress-strain curve, {mu:.4g} {unit}, lies outside "
                   f"the plausible {lo:g}-{hi:g} {unit} (strain in percent? stress in other "
                   "units?)")
    return out


def add_accept_unusual(parser: argparse.ArgumentParser) -> None:
    """The ``--accept-unusual`` flag of a command that reads or writes a reference."""
    parser.add_argument("--accept-unusual", action="store_true", default=ACCEPT_UNUSUAL,
                        help="accept on purpose a reference whose strain range, shear modulus or "
                             "peak stress is implausible for its units (grassego.plausibility; "
                             "init-config writes reference.accept_unusual: true)")


def check_reference(ds: xr.Dataset, source: str, snapshots: Sequence[float] | None = None,
                    accept_unusual: bool = ACCEPT_UNUSUAL) -> xr.Dataset:
    """Raise :class:`InputError` naming ``source`` with every problem of
    :func:`reference_problems` (joined by "; "); return ``ds``."""
    problems = reference_problems(ds, snapshots, accept_unusual)
    if problems:
        raise InputError(source, "implausible reference: " + "; ".join(problems))
    return ds
