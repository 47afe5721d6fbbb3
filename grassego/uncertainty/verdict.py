"""Plain-words identifiability verdicts, one per parameter, from the near-optimal interval,
the total Sobol' index and the rank correlations over the near-optimal set.

Rules, in order (thresholds: :class:`grassego.uncertainty.settings.UncertaintySettings`):

1. ``at_bound``: the near-optimal interval reaches one bound of the box, or a seed's optimum
   lies on one — unless the interval spans the whole range (then the bounds say nothing) or Δ is
   insensitive to the parameter (rule 3) and the interval is too wide for rule 2. The data pull
   the parameter against the box: either the box is too small (the text names how
   ``grassego init-config`` derives that parameter's bounds, :data:`BOUND_RULES`) or no value
   lets the model reach the data. Never ``identified``: the interval is cut by the box;
2. ``identified``: the near-optimal interval spans at most ``identified_fraction`` of the
   parameter's range (a trade-off partner or a low global index are named beside it);
3. ``insensitive``: otherwise, if the total Sobol' index is below ``insensitive_total``: the data
   do not identify it because Δ hardly depends on it;
4. ``traded_off``: otherwise, if its absolute Spearman correlation with another parameter over
   the near-optimal set is at least ``tradeoff_rho``: Δ depends on it, but another parameter
   compensates its changes;
5. ``not_identified``: otherwise: Δ depends on it, yet a wide range of it is near-optimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from grassego.init_config import BOUND_RULES

#: Why a pair of parameters trades off, where the model says so.
KNOWN_TRADEOFFS = {
    frozenset({"beta", "E0"}): "along χ = β(E − E0): both set the initial disorder",
}


@dataclass(frozen=True)
class Verdict:
    """``status`` (``at_bound``, ``identified``, ``insensitive``, ``traded_off`` or
    ``not_identified``: the module doc's rules), ``text`` (one plain-words sentence), the
    trade-off ``partner`` (the parameter most correlated with it, if at least
    ``tradeoff_rho``; else None) and ``rho``, its strongest Spearman correlation with any other
    parameter."""

    status: str
    text: str
    partner: str | None
    rho: float


def interval_text(lo: float, hi: float, unit: str = "") -> str:
    """``lo to hi [unit]`` with the decimals that tell the two ends apart (two significant
    digits of the width)."""
    width = abs(hi - lo)
    decimals = max(0, 1 - int(np.floor(np.log10(width)))) if width > 0 else 4
    unit = "" if unit in ("", "1") else f" {unit}"
    return f"{lo:.{decimals}f} to {hi:.{decimals}f}{unit}"


def bound_text(name: str, unit: str, side: str, value: float, interval_reaches: bool,
               seeds: Sequence[int]) -> str:
    """Why ``name`` is ``at_bound``: its interval reaches (``interval_reaches``) the ``side``
    (``"lower"``/``"upper"``) bound ``value`` and/or the optima of ``seeds`` lie on it; what to
    do (widen the box, naming init-config's rule :data:`BOUND_RULES`) or what it means."""
    unit = "" if unit in ("", "1") else f" {unit}"
    what = [f"the near-optimal interval reaches the {side} bound {value:g}{unit}"
            if interval_reaches else ""]
    if seeds:
        who = " and ".join(f"seed {s}'s" for s in seeds)
        what.append(f"{who} optim{'a lie' if len(seeds) > 1 else 'um lies'} on "
                    f"{'it' if interval_reaches else f'the {side} bound {value:g}{unit}'}")
    rule = BOUND_RULES.get(name)
    rule = (f"init-config's rule for it is {rule}" if rule else
            "init-config derives no bounds for it")
    return (f"at a bound: {' and '.join(w for w in what if w)} — widen the box ({rule}) or the "
            "model cannot reach the data")


def verdicts(names: Sequence[str], units: Mapping[str, str], intervals: np.ndarray,
             bounds: np.ndarray, total: np.ndarray, total_interval: np.ndarray,
             rho: np.ndarray, on_bound: Sequence[str | None], identified_fraction: float,
             insensitive_total: float, tradeoff_rho: float,
             seeds_on_bound: Mapping[str, Sequence[tuple[int, str]]] | None = None
             ) -> dict[str, Verdict]:
    """One :class:`Verdict` per parameter (module doc). ``intervals`` and ``bounds`` (d, 2) in
    parameter units; ``total`` (d,) and ``total_interval`` (d, 2): total Sobol' indices; ``rho``
    (d, d): Spearman correlations over the near-optimal set; ``on_bound``: per parameter
    ``"lower"``, ``"upper"``, ``"both"`` or None — the bounds its interval reaches;
    ``seeds_on_bound``: parameter → (seed, ``"lower"``/``"upper"``) of each seed whose optimum
    lies on a bound of it."""
    seeds_on_bound = seeds_on_bound or {}
    out = {}
    for i, name in enumerate(names):
        lo, hi = intervals[i]
        fraction = (hi - lo) / (bounds[i, 1] - bounds[i, 0])
        span = (f"{interval_text(lo, hi, units.get(name, ''))}, {100 * fraction:.0f} % of its "
                "range")
        others = [j for j in range(len(names)) if j != i and np.isfinite(rho[i, j])]
        j = max(others, key=lambda k: abs(rho[i, k])) if others else None
        r = float(rho[i, j]) if j is not None else float("nan")
        partner = names[j] if j is not None and abs(r) >= tradeoff_rho else None
        why = KNOWN_TRADEOFFS.get(frozenset({name, partner}), "") if partner else ""
        trade = (f"traded off with {partner} (Spearman ρ = {r:+.2f} over the near-optimal set"
                 f"{'; ' + why if why else ''})") if partner else ""
        sobol = (f"total Sobol index {total[i]:.3f} [{total_interval[i, 0]:.3f}–"
                 f"{total_interval[i, 1]:.3f}]")
        edge = {"lower": "the interval reaches the lower bound",
                "upper": "the interval reaches the upper bound",
                "both": "the interval spans the whole range"}.get(on_bound[i] or "", "")
        pinned = _pinned_side(on_bound[i], seeds_on_bound.get(name, ()))
        flat = total[i] < insensitive_total and fraction > identified_fraction
        if pinned and on_bound[i] != "both" and not flat:
            seeds = [sd for sd, side in seeds_on_bound.get(name, ()) if side == pinned]
            status = "at_bound"
            text = bound_text(name, units.get(name, ""), pinned,
                              bounds[i, 0 if pinned == "lower" else 1], on_bound[i] == pinned,
                              seeds)
            notes = [f"near-optimal over {span}", trade]
            if total[i] < insensitive_total:
                notes.append(f"globally Δ depends little on it ({sobol})")
        elif fraction <= identified_fraction:  # reaches no bound: at_bound otherwise
            notes = [trade]
            if total[i] < insensitive_total:
                notes.append(f"globally Δ depends little on it ({sobol}), but near the optimum "
                             "the data pin it")
            status, text = "identified", f"identified: {span}"
        elif total[i] < insensitive_total:
            status = "insensitive"
            text = (f"not identified by the data: Δ is insensitive to it ({sobol} < "
                    f"{insensitive_total:g}); near-optimal over {span}")
            notes = [edge if on_bound[i] != "both" else ""]
        elif partner:
            status = "traded_off"
            text = f"not identified alone: {trade}; near-optimal over {span}"
            notes = [edge]
        else:
            status = "not_identified"
            text = f"not identified: near-optimal over {span} ({sobol})"
            notes = [edge]
        notes = [n for n in notes if n]
        out[name] = Verdict(status=status, text="; ".join([text, *notes]), partner=partner,
                            rho=r)
    return out


def _pinned_side(interval_side: str | None, seeds: Sequence[tuple[int, str]]) -> str | None:
    """The bound (``"lower"``/``"upper"``) a parameter is pinned at: the one its interval
    reaches, else the one most of the seeds' optima lie on; None if neither."""
    if interval_side in ("lower", "upper"):
        return interval_side
    sides = [side for _, side in seeds]
    return max(("lower", "upper"), key=sides.count) if sides else None
