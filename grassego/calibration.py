"""Glue between the STZ solver and the objective: run parameter sets and score them.

Used by the workflow scripts (simulate, ego, report) and by notebooks: everything here takes
plain arrays/datasets and knows nothing of Snakemake.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import xarray as xr

from grassego.errors import GrassegoError
from grassego.fields import RUN_STATUS, build_reference
from grassego.threads import torch_threads
from grassego.objective import (ObjectiveConfig, distances_dataset, nearest_frames,
                                series_from_dataset)


_STATUS_NAMES = {v: k for k, v in RUN_STATUS.items()}
#: A solved run whose final mean stress is at least this fraction of the linear-elastic stress
#: μγ never yielded (status ``elastic``).
ELASTIC_FRACTION = 0.9


def mark_elastic(runs: xr.Dataset, mu_GPa: float | np.ndarray) -> xr.Dataset:
    """Set status ``elastic`` on solved runs that never yielded: final mean stress
    τ(γ_max) ≥ :data:`ELASTIC_FRACTION` · μ γ_max [GPa]. Such runs (too little disorder χ to
    activate STZs) are not a material response to compare with the MD: their Δ ≈ 3 is a cliff
    next to the good region, so the optimiser models them as failures, not as values. ``mu_GPa``:
    shear modulus, one value or one per run."""
    tau_end = runs["tau_mean"].values[:, -1]
    elastic = ((runs["status"].values == RUN_STATUS["ok"])
               & (tau_end >= ELASTIC_FRACTION * mu_GPa * float(runs["strain_ss"].values[-1])))
    status = np.where(elastic, RUN_STATUS["elastic"], runs["status"].values).astype(np.int8)
    return runs.assign(status=(runs["status"].dims, status, runs["status"].attrs))


def resolve_device(name: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible (to torch or numba-cuda), else ``cpu``; raises
    :class:`grassego.config.ConfigError` for ``cuda`` without a visible GPU."""
    from grassego.config import ConfigError
    from grassego.stz.solver import gpu_visible

    if name == "auto":
        return "cuda" if gpu_visible() else "cpu"
    if name == "cuda" and not gpu_visible():
        raise ConfigError("solver.device: cuda, but neither torch nor numba-cuda sees a CUDA GPU")
    return name


@dataclass
class Calibration:
    """Everything needed to turn parameter vectors into Δ against one reference.

    ``names`` are the calibrated parameters (columns of X, in order), ``fixed`` the held values,
    ``constants`` overrides of :class:`grassego.stz.ModelConstants`.
    """

    reference: xr.Dataset
    names: Sequence[str]
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    fixed: Mapping[str, float] = field(default_factory=dict)
    constants: Mapping[str, float] = field(default_factory=dict)
    device: str = "cpu"
    dtype: torch.dtype = torch.float64
    backend: str = "auto"
    threads: int = 1

    @classmethod
    def from_config(cls, reference: xr.Dataset, config: Mapping, threads: int = 1) -> "Calibration":
        """From a validated workflow config (sections parameters, objective, fixed, solver);
        ``threads``: CPU threads of the fused solver (the job's thread count)."""
        return cls(
            reference=reference,
            names=list(config["parameters"]),
            objective=ObjectiveConfig.from_mapping(config["objective"]),
            fixed=config.get("fixed", {}),
            constants=config["solver"]["constants"],
            device=resolve_device(config["solver"]["device"]),
            dtype=dtype_from_name(config["solver"]["dtype"]),
            backend=config["solver"].get("backend", "auto"),
            threads=threads,
        )

    def __post_init__(self) -> None:
        """The solver's cell is the reference's (:func:`grassego.config.reference_cell`) unless
        ``constants`` give ``lx_A``/``ly_A``; raises :class:`grassego.config.ConfigError` if
        those contradict the reference's grid, or if ``backend`` cannot run on ``device``
        (e.g. ``cuda`` without a GPU)."""
        from grassego.config import ConfigError, cell_problems, reference_cell
        from grassego.stz import ModelConstants
        from grassego.stz.solver import choose_backend

        problems = cell_problems(self.reference, self.constants, "the reference")
        if problems:
            raise ConfigError("\n".join(problems))
        try:  # where the jobs run (a login node submitting GPU jobs may have no GPU)
            choose_backend(self.backend, torch.device(self.device),
                           self.reference["pe"].shape[-2:], self.dtype)
        except ValueError as exc:
            raise ConfigError(f"solver.backend: {self.backend}: {exc}") from None
        self.model_constants = replace(ModelConstants(), **(reference_cell(self.reference)
                                                            | dict(self.constants)))
        self._ref_series = series_from_dataset(self.reference, "reference")
        self.pe0 = np.asarray(self.reference["pe"].values[0], dtype=np.float64)
        self.pe_final = np.asarray(self.reference["pe"].values[-1], dtype=np.float64)

    # ------------------------------------------------------------------------------------------
    def parameter_table(self, X: np.ndarray) -> pd.DataFrame:
        """Calibrated columns from ``X`` (n, d) plus the fixed values, one row per run."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        table = pd.DataFrame(X, columns=list(self.names))
        for name, value in self.fixed.items():
            table[name] = float(value)
        return table

    def snapshot_frames(self) -> np.ndarray:
        """Solver frames nearest to the objective's snapshot strains."""
        return nearest_frames(np.asarray(self.model_constants.frame_strains()),
                              self.objective.snapshot_strains, "solver frames")

    def simulate(self, params: pd.DataFrame, keep_frames: Sequence[int] | None = None,
                 progress=None, chunk_done=None):
        """Run the batched solver on ``params``; returns a :class:`grassego.stz.StzResult`.
        ``progress`` and ``chunk_done``: the hooks of :func:`grassego.stz.simulate_batch`.

        The shear-band instability amplifies rounding differences, so every evaluation of a
        parameter set must round identically in the design, the EGO loop and the report. The
        fused CPU backend guarantees that for any thread count and batch (runs are computed
        independently, ``threads`` of them at a time). The torch path does not — its thread
        count changes the rounding of parallel reductions (measured: Δ of one CuZr parameter set
        0.1163 on 1 thread, 0.1248 on 2, in float32) — so on the CPU it runs single-threaded.
        """
        from grassego.stz import simulate_batch

        with torch_threads(1) if self.device == "cpu" else contextlib.nullcontext():
            return simulate_batch(params, self.pe0, self.pe_final,
                                  keep_frames=keep_frames, device=self.device, dtype=self.dtype,
                                  constants=self.model_constants, progress=progress,
                                  chunk_done=chunk_done,
                                  backend=self.backend, threads=self.threads)

    def runs_dataset(self, params: pd.DataFrame, keep_frames: Sequence[int] | None = None,
                     progress=None, chunk_done=None) -> xr.Dataset:
        """Simulate ``params`` and return the runs dataset with the distances merged in."""
        from grassego.stz import to_runs_dataset

        if keep_frames is None:
            keep_frames = self.snapshot_frames()
        result = self.simulate(params, keep_frames, progress, chunk_done)
        runs = to_runs_dataset(result, params, x=self.reference["x"].values,
                               y=self.reference["y"].values)
        runs = mark_elastic(runs, runs["mu_GPa"].values if "mu_GPa" in runs
                            else self.model_constants.mu_GPa)
        scores = distances_dataset(self._ref_series, series_from_dataset(runs, "runs"),
                                   self.objective)
        return xr.merge([runs, scores], compat="override", combine_attrs="drop_conflicts")

    def evaluate(self, X: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Δ for each row of ``X`` and a status name per run (the EGO objective)."""
        runs = self.runs_dataset(self.parameter_table(X))
        status = [_STATUS_NAMES.get(int(s), "unknown") for s in runs["status"].values]
        delta = np.asarray(runs["delta"].values, dtype=np.float64)
        for i, s in enumerate(status):
            if s == "ok" and not np.isfinite(delta[i]):
                status[i] = "non_finite"
        return delta, status

    def forward_reference(self, target: Mapping[str, float]) -> xr.Dataset:
        """A reference dataset from one forward run at ``target`` (paper §5.3 validation).

        Fields and the stress curve come from the run at every solver frame; ``pe`` is the
        base reference's field at the nearest frame (it only initialises later runs).
        """
        params = pd.DataFrame({k: [float(v)] for k, v in {**self.fixed, **target}.items()})
        res = self.simulate(params)
        if int(res.status[0]) != RUN_STATUS["ok"]:
            raise RuntimeError(f"the forward run at {dict(target)} failed with status "
                               f"{_STATUS_NAMES.get(int(res.status[0]))}")
        base_idx = nearest_frames(self.reference["strain"].values, res.strain, "base reference")
        return build_reference(
            pe=self.reference["pe"].values[base_idx],
            exy=res.exy[0],
            strain=res.strain,
            x=self.reference["x"].values,
            y=self.reference["y"].values,
            strain_ss=res.strain_all,
            stress_strain=res.tau_mean[0],
            shear_convention="tensor",
            extra={"t_eff": res.t_eff[0]},
            attrs={"title": "Forward continuum STZ run used as a reference (validation mode)",
                   "source": "grassego forward run",
                   "target_parameters": ", ".join(f"{k}={v}" for k, v in params.iloc[0].items()),
                   **{k: v for k, v in self.reference.attrs.items()
                      if k in ("attribution", "license")}},
        )


def check_initial_designs(table: pd.DataFrame) -> None:
    """Raise :class:`grassego.errors.GrassegoError` if any seed's initial design (rows of
    ``table`` with columns ``seed`` and ``status``) has no usable run: the EGO would have nothing
    to model, and its optimum would be NaN."""
    for seed, part in table.groupby("seed"):
        if (part["status"] == "ok").any():
            continue
        counts = part["status"].value_counts().to_dict()
        raise GrassegoError(
            f"seed {seed}: none of the {len(part)} runs of the initial design is usable "
            f"({counts}); 'rejected_input' means chi = beta (E - E0) was not positive everywhere "
            "or the final effective temperature too low (check parameters.E0 and beta against "
            "the reference's PE), 'elastic' that the model never yielded (check s_y and "
            "solver.constants.mu_GPa)")


def problem_fingerprint(reference: xr.Dataset, training: pd.DataFrame, names: Sequence[str],
                        settings: Any) -> str:
    """12 hex digits naming one calibration problem: the reference's values (fields, strains,
    stress curve), the initial training set's parameter values, Δ and statuses, and the JSON of
    ``settings`` (everything else that defines the problem; not the budget). Values, not file
    bytes or wall times, so a regenerated identical reference or design gives the same name."""
    h = hashlib.sha256()
    for name in ("pe", "exy", "strain", "stress_strain", "strain_ss"):
        h.update(np.ascontiguousarray(reference[name].values).tobytes())
    h.update(training[list(names) + ["delta", "status"]].to_csv(index=False).encode())
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()[:12]


def dtype_from_name(name: str) -> torch.dtype:
    """``"float32"`` / ``"float64"`` -> the torch dtype."""
    return {"float32": torch.float32, "float64": torch.float64}[name]
