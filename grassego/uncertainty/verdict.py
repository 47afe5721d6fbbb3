"""Plain-words identifiability verdicts, one per parameter, from the near-optimal interval,
the total Sobol' index and the rank correlations over the near-optimal set.

Rules, in order (thresholds: :class:`grassego.uncertainty.settings.UncertaintySettings`):

1. ``identified``: the near-optimal interval spans at most ``identified_fraction`` of the
   parameter's range (a trade-off partner, a low global index or a bound the interval reaches
   are named beside it);
2. ``insensitive``: otherwise, if the total Sobol' index is below ``insensitive_total``: the data
   do not identify it because Δ hardly depends on it;
3. ``traded_off``: otherwise, if its absolute Spearman correlation with another parameter over
   the near-optimal set is at least ``tradeoff_rho``: Δ depends on it, but another parameter
   compensates its changes;
4. ``not_identified``: otherwise: Δ depends on it, yet a wide range of it is near-optimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

#: Why a pair of parameters trades off, where the model says so.
KNOWN_TRADEOFFS = {
    frozenset({"beta", "E0"}): "along χ = β(E − E0): both set the initial disorder",
}


@dataclass(frozen=True)
class Verdict:
    """``status`` (``identified``, ``insensitive``, ``traded_off`` or ``not_identified``: the
    module doc's rules), ``text`` (one plain-words sentence), the trade-off ``partner`` (the
    parameter most correlated with it, if at least ``tradeoff_rho``; else None) and ``rho``, its
    strongest Spearman correlation with any other parameter."""

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


def verdicts(names: Sequence[str], units: Mapping[str, str], intervals: np.ndarray,
             bounds: np.ndarray, total: np.ndarray, total_interval: np.ndarray,
             rho: np.ndarray, on_bound: Sequence[str | None], identified_fraction: float,
             insensitive_total: float, tradeoff_rho: float) -> dict[str, Verdict]:
    """One :class:`Verdict` per parameter (module doc). ``intervals`` and ``bounds`` (d, 2) in
    parameter units; ``total`` (d,) and ``total_interval`` (d, 2): total Sobol' indices; ``rho``
    (d, d): Spearman correlations over the near-optimal set; ``on_bound``: per parameter
    ``"lower"``, ``"upper"``, ``"both"`` or None — the bounds its interval reaches."""
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
        if fraction <= identified_fraction:
            notes = [trade, edge]
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
