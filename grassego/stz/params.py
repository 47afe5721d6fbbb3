"""Checking and normalising the inputs of a batch: parameter sets and energy fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from grassego.stz.constants import NON_NEGATIVE_FIELDS, PER_RUN_FIELDS, ModelConstants
from grassego.units import PHYSICAL

#: Calibrated parameters every run must give: c0 [1], s_y [GPa], beta [1/eV], E0 [eV].
REQUIRED_PARAMS: tuple[str, ...] = ("c0", "s_y", "beta", "E0")


@dataclass
class RunInputs:
    """Validated inputs of a batch.

    ``given``: the parameters as passed (name → (N,) float64); ``per_run``: every per-run quantity
    the solver needs (the required parameters, :data:`PER_RUN_FIELDS`, and ``chi_inf`` [1]);
    ``valid``: (N,) bool, False for runs rejected before solving; ``pe0``, ``pe_final``: (ny, nx)
    float64 [eV/atom]; ``rejected``: why runs are rejected, reason → (N,) bool (True where that
    rule rejects the run).
    """

    given: dict[str, np.ndarray]
    per_run: dict[str, np.ndarray]
    valid: np.ndarray
    pe0: np.ndarray
    pe_final: np.ndarray
    rejected: dict[str, np.ndarray]

    def reasons(self, i: int) -> list[str]:
        """Why run ``i`` is rejected (empty if it is valid)."""
        return [reason for reason, mask in self.rejected.items() if mask[i]]

    @property
    def n_runs(self) -> int:
        return self.valid.size


def chi_from_energy(energy, beta, e0, factor):
    """The dimensionless effective temperature χ = factor · β (E − E0) that a potential energy
    ``energy`` [eV/atom] maps to (paper §5.1; T_eff = χ · T_Z [K]), for ``beta`` [1/eV], ``e0``
    [eV] and ``factor`` [1]: :attr:`ModelConstants.chi_energy_factor` for the initial χ field (the
    original solver's unit round-off), 1 where the original driver leaves it out (its χ∞ and its
    final-temperature rule). Floats, NumPy arrays or torch tensors, broadcast together;
    evaluated as (factor · β) · (E − E0), the rounding both solver drivers have always had."""
    return factor * beta * (energy - e0)


def _columns(params: Mapping[str, Iterable[float]]) -> dict[str, np.ndarray]:
    names = list(params.keys())
    missing = [k for k in REQUIRED_PARAMS if k not in names]
    if missing:
        raise ValueError(f"parameters {missing} are missing; every run needs {list(REQUIRED_PARAMS)}")
    unknown = [k for k in names if k not in REQUIRED_PARAMS and k not in PER_RUN_FIELDS]
    if unknown:
        shared = [k for k in unknown if k in ModelConstants.names()]
        hint = (f" ({shared} are shared by the whole batch: set them in ModelConstants)"
                if shared else f"; per-run names are {list(REQUIRED_PARAMS) + list(PER_RUN_FIELDS)}")
        raise ValueError(f"unknown per-run parameters {unknown}{hint}")
    out: dict[str, np.ndarray] = {}
    for k in names:
        try:
            col = np.asarray(params[k], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"parameter {k!r} is not numeric ({exc})") from exc
        if col.ndim != 1:
            raise ValueError(f"parameter {k!r} must be a 1-D array, got shape {col.shape}")
        out[k] = col
    sizes = {k: v.size for k, v in out.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"parameter arrays differ in length: {sizes}")
    return out


def _field(name: str, a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or min(a.shape) < 4:
        raise ValueError(f"{name} must be a 2-D (ny, nx) field with ny, nx >= 4, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0].tolist()
        raise ValueError(f"{name} has a non-finite value at [y, x] = {bad}")
    return a


def prepare_inputs(params: Mapping[str, Iterable[float]], pe0: np.ndarray, pe_final: np.ndarray,
                   constants: ModelConstants,
                   temperature_unit: str = PHYSICAL.label("temperature")) -> RunInputs:
    """Validate the call and each run. Raises ``ValueError`` for a bad call; marks bad runs.
    ``temperature_unit``: the case's (T_Z's) temperature label, for the rejection reasons."""
    given = _columns(params)
    pe0, pe_final = _field("pe0", pe0), _field("pe_final", pe_final)
    if pe0.shape != pe_final.shape:
        raise ValueError(f"pe0 {pe0.shape} and pe_final {pe_final.shape} differ in shape")
    n = next(iter(given.values())).size
    per_run = {k: np.full(n, float(getattr(constants, k))) for k in PER_RUN_FIELDS}
    per_run.update(given)
    with np.errstate(all="ignore"):
        rejected = {}
        rejected["a parameter is not finite"] = ~np.all(
            [np.isfinite(v) for v in per_run.values()], axis=0)
        for k in ("c0", "s_y", "beta", "mu_GPa", "rho_kg_m3", "tau0_s", "ep", "T_Z_K",
                  "adapt_fac", "strain_rate_per_s", "chi_energy_factor", "delta_K", "theta_K",
                  "omega_A3", "eps0"):
            rejected[f"{k} <= 0"] = ~(per_run[k] > 0)
        for k in NON_NEGATIVE_FIELDS:
            rejected[f"{k} < 0"] = ~(per_run[k] >= 0)
        rejected["poisson outside (-1, 0.5)"] = ~((per_run["poisson"] > -1.0)
                                                  & (per_run["poisson"] < 0.5))
        beta, e0 = per_run["beta"], per_run["E0"]
        # chi must start positive everywhere (exp(-1/chi) blows up for chi < 0)
        rejected[f"chi = beta (E - E0) <= 0 where the initial PE is lowest ({pe0.min():.6g}): "
                 "E0 must lie below it"] = ~(chi_from_energy(pe0.min(), beta, e0,
                                                             per_run["chi_energy_factor"]) > 0)
        # the paper's driver: reject when beta (E_final - E0) T_Z < threshold anywhere
        rejected[f"final effective temperature beta (E_final - E0) T_Z below "
                 f"{constants.min_final_teff_K:g} {temperature_unit} where the final PE is lowest "
                 f"({pe_final.min():.6g})"] = ~(chi_from_energy(pe_final.min(), beta, e0, 1.0)
                                                * per_run["T_Z_K"]
                                                >= constants.min_final_teff_K)
        per_run["chi_inf"] = chi_from_energy(pe_final.max(), beta, e0, 1.0)
    ok = ~np.any(list(rejected.values()), axis=0)
    return RunInputs(given=given, per_run=per_run, valid=ok, pe0=pe0, pe_final=pe_final,
                     rejected=rejected)
