"""The run status vocabulary and the one place that classifies failed runs.

A continuum run ends in one of :data:`RUN_STATUS`; the code is stored as ``status(run)`` in the
runs files (:mod:`grassego.fields`), the name is what the training tables, the EGO history and
the logs carry. Everything that decides a status lives here:

- before solving, :func:`grassego.stz.params.prepare_inputs` rejects a run (``rejected_input``);
- while solving, both solver drivers feed each frame's checks to a :class:`FailureTracker`
  (``diverged``, ``non_finite``);
- after solving, :func:`elastic_runs` finds the runs that never yielded (``elastic``);
- when a value is scored, :func:`scored_statuses` turns an ``ok`` run whose Δ is not finite
  into ``non_finite``.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

#: Run status codes (CF flag_values / flag_meanings of ``status(run)``): ``ok``; ``diverged``
#: (stress beyond ``diverge_stress`` or the plastic sub-steps exhausted) and ``non_finite`` (a
#: NaN/inf in the state), the solver failed; ``rejected_input`` (parameters rejected before
#: solving); ``elastic`` (solved, but the model never yielded).
RUN_STATUS: dict[str, int] = {"ok": 0, "diverged": 1, "non_finite": 2, "rejected_input": 3,
                              "elastic": 4}
#: Code → name: the inverse of :data:`RUN_STATUS`.
STATUS_NAMES: dict[int, str] = {code: name for name, code in RUN_STATUS.items()}
#: Name of a code that is not in :data:`RUN_STATUS` (a file written by another version).
UNKNOWN = "unknown"
#: A solved run whose final mean stress is at least this fraction of the linear-elastic stress
#: μγ never yielded (status ``elastic``).
ELASTIC_FRACTION = 0.9


def status_names(codes: Iterable[int]) -> list[str]:
    """The name of each status code (:data:`UNKNOWN` for a code not in :data:`RUN_STATUS`)."""
    return [STATUS_NAMES.get(int(code), UNKNOWN) for code in np.asarray(codes).ravel()]


def scored_statuses(values: Sequence[float], statuses: Sequence[str] | None = None) -> list[str]:
    """Statuses of scored runs: ``statuses`` (all ``ok`` if None), with ``non_finite`` for an
    ``ok`` run whose value (Δ) is NaN or infinite: the optimiser and the tables treat it as the
    failure it is."""
    values = np.asarray(values, dtype=np.float64).ravel()
    statuses = ["ok"] * values.size if statuses is None else [str(s) for s in statuses]
    return ["non_finite" if s == "ok" and not np.isfinite(v) else s
            for v, s in zip(values, statuses)]


def elastic_runs(codes: np.ndarray, tau_end_GPa: np.ndarray, mu_GPa: float | np.ndarray,
                 max_strain: float) -> np.ndarray:
    """Bool mask of the ``ok`` runs that never yielded: final mean stress ``tau_end_GPa`` ≥
    :data:`ELASTIC_FRACTION` · ``mu_GPa`` · ``max_strain`` (shear modulus [GPa], one value or one
    per run; final global strain [1]). Such runs (too little disorder χ to activate STZs) are not
    a material response to compare with the MD: their Δ ≈ 3 is a cliff next to the good region,
    so the optimiser models them as failures, not as values."""
    return ((np.asarray(codes) == RUN_STATUS["ok"])
            & (np.asarray(tau_end_GPa) >= ELASTIC_FRACTION * np.asarray(mu_GPa) * max_strain))


class FailureTracker:
    """Which runs of a batch (``n`` of them) have failed, and how, as a solver advances.

    After each frame the driver calls :meth:`update` with that frame's checks; a run fails at
    the first frame where one of them trips and stays failed. :meth:`codes` gives the final
    status codes, :meth:`blank` sets the outputs of failed runs to NaN.
    """

    def __init__(self, n: int) -> None:
        self.failed = np.zeros(n, dtype=bool)
        self.non_finite = np.zeros(n, dtype=bool)

    def update(self, finite, too_large, stuck) -> np.ndarray:
        """Record one frame's checks, bool ``(n,)`` each (array-likes): the run's state is all
        finite; its largest |stress| / s_y exceeds ``diverge_stress``; its plastic sub-steps ran
        out. Returns the bool mask of the runs that failed at this frame."""
        finite = np.asarray(finite, dtype=bool)
        new = (~finite | np.asarray(too_large, dtype=bool) | np.asarray(stuck, dtype=bool)) \
            & ~self.failed
        self.non_finite |= new & ~finite
        self.failed |= new
        return new

    def codes(self) -> np.ndarray:
        """int8 status code per run: ``ok``, ``diverged`` or ``non_finite``."""
        codes = np.full(self.failed.size, RUN_STATUS["ok"], dtype=np.int8)
        codes[self.failed] = RUN_STATUS["diverged"]
        codes[self.non_finite] = RUN_STATUS["non_finite"]
        return codes

    def blank(self, *outputs: np.ndarray) -> None:
        """Set the rows (first axis) of the failed runs to NaN in each array, in place."""
        for out in outputs:
            out[self.failed] = np.nan
