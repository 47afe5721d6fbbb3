"""Glue between the STZ solver and the objective: run parameter sets and score them.

Used by the workflow scripts (simulate, ego, report) and by notebooks: everything here takes
plain arrays/datasets and knows nothing of Snakemake.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import xarray as xr

from grassego.errors import ConfigError, GrassegoError
from grassego.fields import CG_WIDTH_ATTRS, build_reference, reference_cell
from grassego.objective import (VARIANTS, ObjectiveConfig, distances_dataset, nearest_frames,
                                series_from_dataset)
from grassego.solver_settings import (SolverSettings, cell_problems, resolve_device,
                                      units_problems)
from grassego.status import RUN_STATUS, elastic_runs, scored_statuses, status_names
from grassego.threads import torch_threads
from grassego.units import case_units

log = logging.getLogger(__name__)


def mark_elastic(runs: xr.Dataset, mu_GPa: float | np.ndarray) -> xr.Dataset:
    """Set status ``elastic`` on the solved runs that never yielded
    (:func:`grassego.status.elastic_runs`); ``mu_GPa``: shear modulus [GPa], one value or one
    per run."""
    elastic = elastic_runs(runs["status"].values, runs["tau_mean"].values[:, -1], mu_GPa,
                           float(runs["strain_ss"].values[-1]))
    status = np.where(elastic, RUN_STATUS["elastic"], runs["status"].values).astype(np.int8)
    return runs.assign(status=(runs["status"].dims, status, runs["status"].attrs))


@dataclass
class Calibration:
    """Everything needed to turn parameter vectors into Δ against one reference.

    ``names`` are the calibrated parameters (columns of X, in order), ``fixed`` the held values,
    ``solver`` how the runs are computed, ``threads`` the CPU threads of the fused solver
    (None: Numba's setting).
    """

    reference: xr.Dataset
    names: Sequence[str]
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    fixed: Mapping[str, float] = field(default_factory=dict)
    solver: SolverSettings = field(default_factory=SolverSettings)
    threads: int | None = 1

    @classmethod
    def from_config(cls, reference: xr.Dataset, config: Mapping, threads: int = 1) -> "Calibration":
        """From a validated workflow config (sections parameters, objective, fixed, solver);
        ``threads``: CPU threads of the fused solver (the job's thread count)."""
        return cls(
            reference=reference,
            names=list(config["parameters"]),
            objective=ObjectiveConfig.from_config(config["objective"]),
            fixed=config.get("fixed", {}),
            solver=SolverSettings.from_config(config["solver"]),
            threads=threads,
        )

    def __post_init__(self) -> None:
        """The solver's cell is the reference's (:func:`grassego.fields.reference_cell`) unless
        ``solver.constants`` give ``lx_A``/``ly_A``; raises
        :class:`grassego.errors.ConfigError` if those contradict the reference's grid, if the
        units are not the reference's, or if ``backend`` cannot run on ``device`` (e.g. ``cuda``
        without a GPU); warns where the objective would shift the fields by a coarse-graining
        width the reference does not state."""
        from grassego.stz import ModelConstants
        from grassego.stz.solver import choose_backend

        self.device = resolve_device(self.solver.device)
        self.dtype = dtype_from_name(self.solver.dtype)
        constants = dict(self.solver.constants)
        problems = (cell_problems(self.reference, constants, "the reference")
                    + units_problems(self.reference, self.solver.units, constants,
                                     "the reference"))
        if problems:
            raise ConfigError("\n".join(problems))
        try:  # where the jobs run (a login node submitting GPU jobs may have no GPU)
            choose_backend(self.solver.backend, torch.device(self.device),
                           self.reference["pe"].shape[-2:], self.dtype)
        except ValueError as exc:
            raise ConfigError(f"solver.backend: {self.solver.backend}: {exc}") from None
        self.model_constants = replace(ModelConstants(), **(reference_cell(self.reference)
                                                            | constants))
        #: The case's unit system (the reference's; :mod:`grassego.units`): every output's labels.
        self.units = case_units(self.reference)
        self._ref_series = series_from_dataset(self.reference, "reference")
        if (self._ref_series.cg_width_rows is None
                and VARIANTS[self.objective.variant]["band_shift"]):
            log.warning("the reference states no coarse-graining width (attribute %s): the "
                        "%s objective compares its fields unshifted", CG_WIDTH_ATTRS[0],
                        self.objective.variant)
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

    def all_frames(self) -> np.ndarray:
        """Every solver frame, 0 … ``n_frames``."""
        return np.arange(self.model_constants.n_frames + 1)

    def snapshot_frames(self) -> np.ndarray:
        """Solver frames nearest to the objective's snapshot strains."""
        return nearest_frames(np.asarray(self.model_constants.frame_strains()),
                              self.objective.snapshot_strains, "solver frames")

    def simulate(self, params: pd.DataFrame, keep_frames: Sequence[int] | None = None,
                 progress=None, chunk_done=None, batch_size: int | None = None,
                 compile: bool = False):
        """Run the batched solver on ``params``; returns a :class:`grassego.stz.StzResult`.
        ``progress``, ``chunk_done``, ``batch_size`` and ``compile``: as
        :func:`grassego.stz.simulate_batch` takes them.

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
                                  chunk_done=chunk_done, batch_size=batch_size,
                                  compile=compile, backend=self.solver.backend,
                                  threads=self.threads, dynamics=self.solver.dynamics)

    def runs(self, params: pd.DataFrame, keep_frames: Sequence[int] | None = None,
             progress=None, chunk_done=None, batch_size: int | None = None,
             compile: bool = False) -> xr.Dataset:
        """Simulate ``params`` (one row per run): the runs dataset of :mod:`grassego.fields`
        with the fields of the solver frames ``keep_frames`` (default all) and the runs that
        never yielded marked ``elastic``; not scored. The other arguments: as :meth:`simulate`
        takes them."""
        from grassego.stz import to_runs_dataset

        result = self.simulate(params, keep_frames, progress, chunk_done, batch_size, compile)
        runs = to_runs_dataset(result, params, x=self.reference["x"].values,
                               y=self.reference["y"].values, constants=self.model_constants,
                               units=self.units)
        return mark_elastic(runs, runs["mu_GPa"].values if "mu_GPa" in runs
                            else self.model_constants.mu_GPa)

    def runs_dataset(self, params: pd.DataFrame, keep_frames: Sequence[int] | None = None,
                     progress=None, chunk_done=None) -> xr.Dataset:
        """:meth:`runs` scored against the reference (the distances merged in), with the fields
        of ``keep_frames`` (default: the snapshot frames)."""
        if keep_frames is None:
            keep_frames = self.snapshot_frames()
        runs = self.runs(params, keep_frames, progress, chunk_done)
        scores = distances_dataset(self._ref_series, series_from_dataset(runs, "runs"),
                                   self.objective, units=self.units)
        return xr.merge([runs, scores], compat="override", combine_attrs="drop_conflicts")

    def evaluate(self, X: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Δ for each row of ``X`` and a status name per run (the EGO objective)."""
        runs = self.runs_dataset(self.parameter_table(X))
        delta = np.asarray(runs["delta"].values, dtype=np.float64)
        return delta, scored_statuses(delta, status_names(runs["status"].values))

    def forward_reference(self, target: Mapping[str, float]) -> xr.Dataset:
        """A reference dataset from one forward run at ``target`` (paper §5.3 validation).

        Fields and the stress curve come from the run at every solver frame; ``pe`` is the
        base reference's field at the nearest frame (it only initialises later runs). The base's
        coarse-graining width is kept: the run starts from the base's energy field, smoothed
        over that width, so its band, like every run's, is placed only to within it (the
        ``aligned`` objective's shift, :mod:`grassego.objective`).
        """
        params = pd.DataFrame({k: [float(v)] for k, v in {**self.fixed, **target}.items()})
        res = self.simulate(params)
        if int(res.status[0]) != RUN_STATUS["ok"]:
            raise RuntimeError(f"the forward run at {dict(target)} failed with status "
                               f"{status_names(res.status[:1])[0]}")
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
            units=self.units,
            attrs={"title": "Forward continuum STZ run used as a reference (validation mode)",
                   "source": "grassego forward run",
                   "target_parameters": ", ".join(f"{k}={v}" for k, v in params.iloc[0].items()),
                   **{k: v for k, v in self.reference.attrs.items()
                      if k in ("attribution", "license", *CG_WIDTH_ATTRS)}},
        )


#: Per-run columns of the training table besides the sample, the parameters and the status.
TRAINING_COLUMNS = ("d_field", "d_stress", "delta", "wall_time")


def training_table(runs: Sequence[xr.Dataset], samples: pd.DataFrame,
                   names: Sequence[str]) -> pd.DataFrame:
    """The initial training set: one row per run of the scored batches ``runs`` (each with a
    ``sample`` coordinate on ``run``), in sample order, with its parameters ``names``,
    :data:`TRAINING_COLUMNS`, its status name and its EGO ``seed`` (from the design table
    ``samples``, columns ``sample`` and ``seed``; every run must have exactly one)."""
    frames = []
    for ds in runs:
        frame = pd.DataFrame({"sample": ds["sample"].values})
        for col in (*names, *TRAINING_COLUMNS):
            frame[col] = ds[col].values
        frame["status"] = status_names(ds["status"].values)
        frames.append(frame)
    table = pd.concat(frames)
    unknown = sorted(set(table["sample"]) - set(samples["sample"]))
    if unknown:
        raise GrassegoError(f"runs of samples {unknown[:5]} are not in the design table")
    return table.merge(samples[["sample", "seed"]], on="sample",
                       validate="one_to_one").sort_values("sample")


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


def problem_fingerprint(reference: xr.Dataset | Sequence[xr.Dataset], training: pd.DataFrame,
                        names: Sequence[str], settings: Any) -> str:
    """12 hex digits naming one calibration problem: the reference's values (fields, strains,
    stress curve; of each, in order, for a joint calibration's references), the initial
    training set's parameter values, Δ and statuses, and the JSON of ``settings`` (everything
    else that defines the problem; not the budget). Values, not file bytes or wall times, so a
    regenerated identical reference or design gives the same name."""
    h = hashlib.sha256()
    for ds in [reference] if isinstance(reference, xr.Dataset) else reference:
        for name in ("pe", "exy", "strain", "stress_strain", "strain_ss"):
            h.update(np.ascontiguousarray(ds[name].values).tobytes())
    h.update(training[list(names) + ["delta", "status"]].to_csv(index=False).encode())
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()[:12]


def ego_state_path(result: str | Path, reference: xr.Dataset | Sequence[xr.Dataset],
                   training: pd.DataFrame,
                   calibration: Mapping[str, Any], ego: Mapping[str, Any], seed: int) -> Path:
    """Where the EGO history of ``seed`` lives: ``state-<fingerprint>/history.nc`` beside the
    seed's result file ``result`` (the rule's output). The fingerprint
    (:func:`problem_fingerprint`) names the problem: the reference(s), the seed's initial
    ``training`` rows, the ``calibration`` sections (parameters, fixed, objective, solver), the
    ``ego`` section less its budget keys (:data:`grassego.ego.settings.BUDGET_KEYS`) and the
    seed. A changed problem starts a new history; a changed budget continues the old one."""
    from grassego.ego.settings import BUDGET_KEYS

    problem = {k: v for k, v in ego.items() if k not in BUDGET_KEYS}
    fingerprint = problem_fingerprint(reference, training, list(calibration["parameters"]),
                                      [calibration, problem, seed])
    return Path(result).parent / f"state-{fingerprint}" / "history.nc"


def dtype_from_name(name: str) -> torch.dtype:
    """``"float32"`` / ``"float64"`` -> the torch dtype."""
    return {"float32": torch.float32, "float64": torch.float64}[name]
