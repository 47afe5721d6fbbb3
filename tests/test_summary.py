"""The calibration summary's JSON: strict JSON, missing values as null."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from grassego.ego import EGOResult
from grassego.summary import summary_dict, summary_json


def _result(seed: int, y: list[float]) -> EGOResult:
    n = len(y)
    X = np.linspace(0.1, 0.9, 2 * n).reshape(n, 2)
    y_arr = np.array(y)
    finite = np.isfinite(y_arr)
    i = int(np.nanargmin(y_arr)) if finite.any() else 0
    return EGOResult(x_best=X[i] if finite.any() else np.full(2, np.nan),
                     y_best=float(y_arr[i]) if finite.any() else math.nan, X=X, y=y_arr,
                     status=["ok" if f else "failed" for f in finite],
                     iteration=np.zeros(n, dtype=int), acquisition=np.full(n, np.nan),
                     tr_length=np.ones(n), wall_time=np.ones(n), names=["c0", "s_y"], seed=seed,
                     stop_reason="max_iter")


def _reject(name: str):
    raise ValueError(f"non-JSON constant {name}")


def test_summary_json_is_strict_with_null_for_missing_values():
    results = {0: _result(0, [0.3, 0.2]), 1: _result(1, [math.nan, math.nan])}
    deltas = {"seed 0": 0.2, "seed 1": math.nan, "paper": math.nan}
    fidelity = {label: {"peak_stress": np.float64(1.5), "band_fwhm@0.5": math.nan,
                        "band_row@0.1": np.float32(3.0), "steps": np.int64(7),
                        "drop": -math.inf}
                for label in ("seed 0", "seed 1", "paper", "MD")}
    summary = summary_dict(results, ["c0", "s_y"], deltas, fidelity, {0: 2, 1: 2},
                           {"metric": "geodesic"}, target={"c0": 0.5, "s_y": 1.0})
    text = summary_json(summary)
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text, parse_constant=_reject)
    assert data["per_seed"][1]["delta"] is None and data["per_seed"][1]["c0"] is None
    assert data["delta_of_compared_sets"] == {"paper": None}
    md = data["fidelity"]["MD"]
    assert md == {"peak_stress": 1.5, "band_fwhm@0.5": None, "band_row@0.1": 3.0, "steps": 7,
                  "drop": None}
    assert data["best"]["seed"] == 0 and data["best"]["delta"] == 0.2
    with pytest.raises(TypeError):
        summary_json({"bad": object()})
