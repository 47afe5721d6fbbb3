"""What the model cannot follow: the stress residual of a calibrated model against the MD,
regime by regime of the MD's stress–strain curve, and one sentence naming the largest misfit.

Δ says how far the optimum is from the MD; this says where. The regimes are read off the MD's
curve τ(γ) alone (engineering shear strain γ [1], stress [GPa]), so every seed's optimum is
judged on the same strain intervals:

``elastic``
    0 < γ ≤ γ_e: the MD still follows the elastic line a + μγ fitted to the points before τ
    first exceeds :data:`grassego.init_config.ELASTIC_FIT_FRACTION` of its peak (the fit
    ``grassego init-config`` takes μ from). γ_e is the last strain before the secant modulus
    (τ − a)/γ first falls below :data:`SECANT_FRACTION` = 0.9 of μ, the first 10 % of softening,
    clear of the MD's noise (about 3 % of μγ at γ = 0.02 on the CuZr data); at most the peak
    strain. An athermal STZ model is elastic below s_y; a glass whose STZs activate thermally is
    not, and softens here.
``pre_peak``
    γ_e < γ ≤ γ_p (γ_p: the strain of the MD's peak stress): plastic flow below the peak, the
    rounded rise. Empty where the MD stays elastic to its peak.
``overshoot_drop``
    γ_p < γ ≤ γ_d: from the peak down to where the drop ends, the first strain after the peak
    where τ has fallen by 1 − :data:`DROP_REMAINING` (90 %) of the way from the peak to the flow
    level τ_f (the end of the curve where it never does).
``flow``
    γ > γ_d: steady flow. τ_f is the mean stress over the final :data:`FLOW_FRACTION` (40 %) of
    the curve's strain range (on the CuZr data 0.3–0.5, :data:`grassego.fidelity.FLOW_WINDOW`),
    or, where the peak lies in that stretch, the final stress.

The model's curve is interpolated linearly onto the MD's strain points, inside the range both
cover; per regime the residual model − MD is given as its mean (signed: above or below) and its
mean absolute value [GPa]. The largest misfit is the regime with the largest mean absolute
residual. Peak errors are relative to the MD's: (model − MD) / MD.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from grassego.errors import InputError
from grassego.init_config import elastic_modulus

#: The elastic regime ends where the MD's secant modulus falls below this fraction of μ.
SECANT_FRACTION = 0.9
#: The drop ends where this fraction of the way from the peak to the flow level is left.
DROP_REMAINING = 0.1
#: The flow level is the mean stress over this final fraction of the curve's strain range.
FLOW_FRACTION = 0.4
#: The regimes, in the order of the curve.
REGIMES = ("elastic", "pre_peak", "overshoot_drop", "flow")
#: Regime → how the sentence names it.
REGIME_WORDS = {"elastic": "the elastic rise", "pre_peak": "the rise below the peak",
                "overshoot_drop": "the overshoot and drop", "flow": "steady flow"}
#: The thermally activated dynamics the sentence suggests to an athermal model.
THERMAL_DYNAMICS = "linear"


@dataclass(frozen=True)
class Regimes:
    """Strain limits [1] of the MD's regimes (module doc): elastic up to ``elastic_end``,
    pre-peak up to ``peak``, overshoot and drop up to ``drop_end``, flow beyond (to ``end``, the
    curve's last strain); the elastic line's slope ``mu`` and offset ``offset`` [GPa], the peak
    stress and flow level [GPa]."""

    elastic_end: float
    peak: float
    drop_end: float
    mu: float
    offset: float
    peak_stress: float
    flow_level: float
    end: float

    def masks(self, strain: np.ndarray) -> dict[str, np.ndarray]:
        """Regime → boolean mask of ``strain`` (γ > 0 only)."""
        g = np.asarray(strain, dtype=np.float64)
        return {"elastic": (g > 0) & (g <= self.elastic_end),
                "pre_peak": (g > self.elastic_end) & (g <= self.peak),
                "overshoot_drop": (g > self.peak) & (g <= self.drop_end),
                "flow": g > self.drop_end}

    def limits(self) -> dict[str, list[float]]:
        """Regime → [from, to] strain [1] (``to`` of flow: the curve's last strain)."""
        edges = [0.0, self.elastic_end, self.peak, self.drop_end, self.end]
        return {name: [edges[k], edges[k + 1]] for k, name in enumerate(REGIMES)}


def md_regimes(strain: np.ndarray, stress: np.ndarray, source: str = "reference") -> Regimes:
    """The regimes of the MD's curve ``stress`` [GPa] on ``strain`` [1] (module doc)."""
    g = np.asarray(strain, dtype=np.float64)
    tau = np.asarray(stress, dtype=np.float64)
    fit = elastic_modulus(g, tau, source)
    mu, n = fit.mu_GPa, fit.n_points
    offset = float(np.mean(tau[:n] - mu * g[:n]))  # the least-squares line's intercept
    i_peak = int(np.argmax(tau))
    peak = float(g[i_peak])
    # softening is sought past the fit's points (elastic by the fit's own definition): the
    # secant modulus of the first few points is mostly the MD's noise
    soft = (g > fit.strain_max) & (g <= peak) & (tau - offset < SECANT_FRACTION * mu * g)
    elastic_end = float(g[int(np.argmax(soft)) - 1]) if soft.any() else peak
    tail = g >= g[-1] - FLOW_FRACTION * (g[-1] - g[0])
    flow_level = float(tau[tail & (g > peak)].mean()) if (tail & (g > peak)).any() \
        else float(tau[-1])
    after = (g > peak) & (tau <= flow_level + DROP_REMAINING * (tau[i_peak] - flow_level))
    drop_end = float(g[int(np.argmax(after))]) if after.any() else float(g[-1])
    return Regimes(elastic_end=elastic_end, peak=peak, drop_end=drop_end, mu=mu,
                   offset=offset, peak_stress=float(tau[i_peak]), flow_level=flow_level,
                   end=float(g[-1]))


def misfit(regimes: Regimes, md_strain: np.ndarray, md_stress: np.ndarray,
           strain: np.ndarray, stress: np.ndarray) -> dict[str, Any]:
    """The residual of one model curve ``stress`` [GPa] on ``strain`` [1] against the MD's, per
    regime (``mean`` and ``mean_abs`` [GPa], ``points``; None where a regime has no point both
    curves cover), and the peak errors: ``peak_strain`` and ``peak_stress`` of the model, and
    ``peak_strain_error``, ``peak_stress_error`` relative to the MD's."""
    g = np.asarray(md_strain, dtype=np.float64)
    strain, stress = np.asarray(strain, np.float64), np.asarray(stress, np.float64)
    inside = (g >= strain.min()) & (g <= strain.max())
    residual = np.interp(g, strain, stress) - np.asarray(md_stress, dtype=np.float64)
    out: dict[str, Any] = {"residual": {}}
    for name, mask in regimes.masks(g).items():
        r = residual[mask & inside]
        out["residual"][name] = ({"mean": float(r.mean()), "mean_abs": float(np.abs(r).mean()),
                                  "points": int(r.size)} if r.size else None)
    i = int(np.argmax(stress))
    out.update(peak_strain=float(strain[i]), peak_stress=float(stress[i]),
               peak_strain_error=float((strain[i] - regimes.peak) / regimes.peak),
               peak_stress_error=float((stress[i] - regimes.peak_stress)
                                       / regimes.peak_stress))
    return out


def percent(fraction: float, decimals: int) -> str:
    """``fraction`` as a signed percentage, e.g. ``+2 %`` (never ``-0``)."""
    return f"{round(100 * fraction, decimals) + 0.0:+.{decimals}f} %"


def largest(fit: Mapping[str, Any]) -> str:
    """The regime of ``fit`` (:func:`misfit`) with the largest mean absolute residual."""
    covered = {k: v["mean_abs"] for k, v in fit["residual"].items() if v is not None}
    return max(covered, key=covered.get)


def sentence(regimes: Regimes, fit: Mapping[str, Any], dynamics: str = "athermal",
             stress_unit: str = "GPa") -> str:
    """One plain sentence naming the largest misfit of ``fit`` (:func:`misfit`) and what to try,
    the model run with the STZ ``dynamics`` (``solver.dynamics``), stresses in the case's
    ``stress_unit``. A largest misfit in the
    pre-peak regime of a model with athermal dynamics (elastic below s_y, so no rounded rise)
    suggests the thermally activated ones."""
    worst = largest(fit)
    r = fit["residual"][worst]
    size = (f"mean |model − MD| {r['mean_abs']:.3g} {stress_unit}, the model "
            f"{'above' if r['mean'] > 0 else 'below'} on average")
    timing = (f"the model peaks at γ = {fit['peak_strain']:.3g}, the MD at {regimes.peak:.3g} "
              f"({percent(fit['peak_strain_error'], 0)}), "
              f"{percent(fit['peak_stress_error'], 1)} in peak stress")
    head = f"The largest misfit is {REGIME_WORDS[worst]} ({size}; {timing})"
    if worst == "pre_peak" and dynamics == "athermal":
        return (f"{head}: the MD flows below its peak; the athermal model cannot: try "
                f"`solver.dynamics: {THERMAL_DYNAMICS}`.")
    return head + {
        "pre_peak": f": the model does not soften before its peak as the MD does, even with "
                    f"the {dynamics} dynamics.",
        "elastic": f": the elastic slopes differ; check `solver.constants.mu_GPa` against the "
                   f"MD's {regimes.mu:.3g} {stress_unit}.",
        "overshoot_drop": ": the model's overshoot and drop do not match the MD's.",
        "flow": f": the model flows at another stress than the MD's {regimes.flow_level:.3g} "
                f"{stress_unit}.",
    }[worst]


def diagnosis(md_strain: np.ndarray, md_stress: np.ndarray,
              curves: Mapping[str, tuple[np.ndarray, np.ndarray]], best: str,
              dynamics: str = "athermal", source: str = "reference",
              stress_unit: str = "GPa") -> dict[str, Any]:
    """The ``misfit`` block of summary.json: the MD's regimes, the misfit (:func:`misfit`) of
    each labelled model curve ``curves`` (label → (strain, stress); None for a curve with a
    missing value: a failed run), and the sentence (:func:`sentence`) of the ``best`` one's,
    which ran with ``dynamics``; stresses in ``stress_unit`` (the case's). A curve whose regimes cannot be read (too few points before
    its stress first exceeds the elastic fit's fraction of its peak) gives the sentence why."""
    try:
        regimes = md_regimes(md_strain, md_stress, source)
    except InputError as exc:
        return {"sentence": f"no diagnosis: {exc}", "of": best, "largest": None,
                "dynamics": dynamics, "stress_unit": stress_unit, "regimes": {}, "md": {},
                "per_set": {}, "definition": ""}
    fits = {label: misfit(regimes, md_strain, md_stress, *curve)
            if np.all(np.isfinite(curve[1])) else None for label, curve in curves.items()}
    return {
        "sentence": (sentence(regimes, fits[best], dynamics, stress_unit) if fits[best] is not None else
                     f"no diagnosis: the run of {best} failed"),
        "of": best,
        "largest": largest(fits[best]) if fits[best] is not None else None,
        "dynamics": dynamics,
        "stress_unit": stress_unit,
        "regimes": regimes.limits(),
        "md": {"mu_GPa": regimes.mu, "peak_strain": regimes.peak,
               "peak_stress": regimes.peak_stress, "flow_level": regimes.flow_level},
        "per_set": fits,
        "definition": ("regimes of the MD's curve: elastic until its secant modulus falls below "
                       f"{SECANT_FRACTION:g} of the initial slope, pre-peak to the peak, "
                       f"overshoot and drop until {100 * (1 - DROP_REMAINING):g} % of the way "
                       f"to the flow level, flow after; residual = model - MD stress [{stress_unit}] on "
                       "the MD's strains (grassego.misfit)"),
    }
