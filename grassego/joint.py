"""A joint calibration: every parameter set scored on several references of one material.

Each reference (an MD realisation: its own initial energy field, cell and shear rate) has its
own :class:`grassego.calibration.Calibration`; a parameter set's joint Δ is the weighted mean of
its Δ on each (:func:`joint_scores`), the one rule that the simulate fan-out (a training table
per reference, merged by :func:`joint_training_table`) and the EGO loop
(:meth:`JointCalibration.evaluate`) both apply, so that a run scores the same in either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from grassego.calibration import Calibration, training_table
from grassego.errors import GrassegoError

#: Training-table columns that are per-run scores, combined by weighted mean.
SCORE_COLUMNS = ("d_field", "d_stress", "delta")


def joint_scores(deltas: Sequence[np.ndarray], statuses: Sequence[Sequence[str]],
                 weights: Sequence[float]) -> tuple[np.ndarray, list[str]]:
    """The joint Δ [1] and status of runs scored on several references: ``deltas[r][i]`` and
    ``statuses[r][i]`` are run ``i``'s on reference ``r``. Δ is the ``weights``-weighted mean
    (NaN where any is NaN; one reference: its Δ unchanged); the status is ``ok`` only where
    every reference's is, else the first other status in reference order (a run that fails on
    one realisation of the material fails)."""
    d = np.asarray(deltas, dtype=np.float64)
    if len(d) == 1:
        joint = d[0]
    else:
        w = np.asarray(weights, dtype=np.float64)
        joint = (w[:, None] * d).sum(axis=0) / w.sum()
    status = [next((s for s in run if s != "ok"), "ok") for run in zip(*statuses)]
    return joint, status


def joint_training_table(tables: Mapping[str, pd.DataFrame],
                         weights: Mapping[str, float]) -> pd.DataFrame:
    """One initial training table from each calibrate reference's (name → the table of
    :func:`grassego.calibration.training_table`, same samples): Δ, d_field and d_stress
    combined by :func:`joint_scores` (the status with Δ), wall times summed, and each
    reference's Δ kept as ``delta@<name>``."""
    names = list(tables)
    first = tables[names[0]].reset_index(drop=True)
    for name in names[1:]:
        if not tables[name]["sample"].reset_index(drop=True).equals(first["sample"]):
            raise GrassegoError(f"the runs on reference {name!r} are not those on "
                                f"{names[0]!r} (samples differ)")
    parts = {n: tables[n].reset_index(drop=True) for n in names}
    w = [weights[n] for n in names]
    out = first.copy()
    for col in SCORE_COLUMNS:
        out[col], status = joint_scores([parts[n][col].to_numpy() for n in names],
                                        [parts[n]["status"].tolist() for n in names], w)
    out["status"] = status
    out["wall_time"] = sum(parts[n]["wall_time"].to_numpy() for n in names)
    for n in names:
        out[f"delta@{n}"] = parts[n]["delta"].to_numpy()
    return out


def collected_training(runs: Sequence[xr.Dataset], samples: pd.DataFrame, names: Sequence[str],
                       weights: Mapping[str, float] | None) -> pd.DataFrame:
    """A seed's initial training table from its scored batches ``runs`` (the collect step):
    :func:`grassego.calibration.training_table` of one reference (``weights`` None), or of
    each calibrate reference (``weights``: name → weight; ``runs`` reference-major, as many
    batches each) merged by :func:`joint_training_table`."""
    if weights is None:
        return training_table(runs, samples, names)
    n = len(runs) // len(weights)
    return joint_training_table({ref: training_table(runs[k * n:(k + 1) * n], samples, names)
                                 for k, ref in enumerate(weights)}, weights)


@dataclass
class JointCalibration:
    """Several references' :class:`grassego.calibration.Calibration` (name → calibration, all
    with the same parameters, objective and solver settings) and their ``weights``."""

    calibrations: Mapping[str, Calibration]
    weights: Mapping[str, float]

    def evaluate(self, X: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """The joint Δ of each row of ``X`` and its status (the EGO objective): every
        reference's :meth:`grassego.calibration.Calibration.evaluate`, combined by
        :func:`joint_scores`."""
        scored = [calib.evaluate(X) for calib in self.calibrations.values()]
        return joint_scores([d for d, _ in scored], [s for _, s in scored],
                            [self.weights[n] for n in self.calibrations])
