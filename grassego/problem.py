"""The calibration problem of a workflow config, built once: what the rule scripts that run the
solver (simulate, ego, uncertainty, report), the benchmarks and the tests start from.

:class:`Problem` gathers the calibrated parameters' names and bounds (the config's
``parameters`` section, in its order), the :class:`grassego.calibration.Calibration` that
turns a parameter vector into Δ (with the ``fixed`` values, the ``objective`` and the
``solver``), the coordinates the optimiser searches in and its settings (the ``ego``
section), and the job's thread count. It is the :class:`grassego.ego.SearchProblem` that
:func:`grassego.ego.minimize` takes; :meth:`Problem.run_batch` and :meth:`Problem.run_seed`
are the simulate and ego steps' work.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd
import torch
import xarray as xr

from grassego.atomic import atomic_path
from grassego.calibration import Calibration, ego_state_path
from grassego.design import parameter_box
from grassego.ego import (EGOLoop, EGOResult, EGOSettings, InitialRuns, SearchProblem, minimize,
                          search_space)
from grassego.joint import JointCalibration
from grassego.stz.progress import RunProgress
from grassego.tables import read_table


@dataclass(frozen=True, eq=False)
class Problem(SearchProblem):
    """A :class:`grassego.ego.SearchProblem` whose objective is Δ on its references
    (``calibrations``: reference name → calibration; one, named None, for the single-reference
    form; several for a joint calibration, their weighted mean Δ); ``threads``: the CPU threads its runs and GP fits use; ``config``: the sections it was
    built from (``calibration``, ``ego``), which name its EGO histories
    (:meth:`state_path`)."""

    calibrations: Mapping[str | None, Calibration]
    threads: int
    config: Mapping[str, Mapping[str, Any]]

    @classmethod
    def from_config(cls, reference: xr.Dataset | Sequence[xr.Dataset],
                    calibration: Mapping[str, Any], ego: Mapping[str, Any] | None = None,
                    threads: int = 1) -> "Problem":
        """The problem of ``reference`` (a reference fields dataset; or, for a joint
        calibration, one per calibrate reference, in the order of ``calibration["weights"]``)
        under the config sections ``calibration`` (:func:`grassego.config.calibration_sections`)
        and ``ego`` (the ``ego`` section or the part of it a step reads; None: the defaults), on
        ``threads`` CPU threads: torch's thread count is set to it here (the GP fits; the fused
        solver takes it per call). Several references: Δ is the joint Δ
        (:class:`grassego.joint.JointCalibration`); the first reference sets the search
        coordinates' mean energy and the units."""
        ego = {} if ego is None else dict(ego)
        torch.set_num_threads(threads)
        if isinstance(reference, xr.Dataset):
            references: dict[str | None, xr.Dataset] = {None: reference}
        else:
            references = dict(zip(calibration["weights"], reference, strict=True))
        calibs = {name: Calibration.from_config(ds, calibration, threads=threads)
                  for name, ds in references.items()}
        calib = next(iter(calibs.values()))
        objective = (calib.evaluate if len(calibs) == 1 else
                     JointCalibration(calibs, calibration["weights"]).evaluate)
        names, bounds = parameter_box(calibration["parameters"])
        settings = EGOSettings.from_config(ego)
        space = search_space(bounds, names, settings.search_space,
                             e_mean=float(calib.pe0.mean()),
                             energy_unit=calib.units.label("energy"))
        return cls(objective=objective, space=space, names=tuple(names),
                   units=tuple(calib.units.parameter_names(names)), settings=settings,
                   calibrations=calibs, threads=threads,
                   config={"calibration": dict(calibration), "ego": ego})

    @property
    def calibration(self) -> Calibration:
        """The first reference's calibration: the units, the fixed values, the report's fields
        and figures."""
        return next(iter(self.calibrations.values()))

    @property
    def weights(self) -> list[float]:
        """The weight of each reference's Δ in the joint Δ, in the order of ``calibrations``."""
        weights = self.config["calibration"].get("weights")
        return [1.0] if weights is None else [float(weights[n]) for n in self.calibrations]

    @property
    def fixed(self) -> Mapping[str, float]:
        """The held parameter values (the config's ``fixed`` section)."""
        return self.calibration.fixed

    def read_training(self, path: str | Path, seed: int) -> pd.DataFrame:
        """The rows of EGO seed ``seed`` in the initial training table ``path`` (the collect
        step's CSV: columns ``seed``, the parameters, ``delta``, ``status``, …)."""
        table = read_table(path, text=["status"],
                           required=["seed", *self.names, "delta", "status"])
        return table[table["seed"] == seed]

    def initial_runs(self, training: pd.DataFrame) -> InitialRuns:
        """The evaluated runs of a training table (:meth:`read_training`) an EGO seed starts
        from."""
        return InitialRuns(training[list(self.names)].to_numpy(), training["delta"].to_numpy(),
                           training["status"].tolist())

    def state_path(self, result: str | Path, training: pd.DataFrame, seed: int) -> Path:
        """Where the EGO history of ``seed`` starting from ``training`` lives, beside its
        result file ``result`` (:func:`grassego.calibration.ego_state_path`)."""
        references = [c.reference for c in self.calibrations.values()]
        return ego_state_path(result, references[0] if len(references) == 1 else references,
                              training,
                              self.config["calibration"], self.config["ego"], seed)

    def run_batch(self, path: str | Path, log: logging.Logger) -> xr.Dataset:
        """The scored runs (:meth:`grassego.calibration.Calibration.runs_dataset`, with a
        ``sample`` coordinate on ``run``) of the design batch ``path`` (a CSV table: columns
        ``sample`` and the parameters, one row per run), the solver's progress logged to
        ``log`` (:class:`grassego.stz.progress.RunProgress`)."""
        table = read_table(path, required=["sample", *self.names])
        progress = RunProgress(log)
        runs = self.calibration.runs_dataset(
            self.calibration.parameter_table(table[list(self.names)].to_numpy()),
            progress=progress.frame, chunk_done=progress.chunk)
        return runs.assign_coords(sample=("run", table["sample"].to_numpy()))

    def run_seed(self, training: str | Path, seed: int, loop: EGOLoop, result: str | Path,
                 log: logging.Logger) -> EGOResult:
        """Run EGO seed ``seed`` under ``loop`` (:func:`grassego.ego.minimize`) from its rows of
        the initial training table ``training`` (:meth:`read_training`), or resume it from its
        history (:meth:`state_path`, beside ``result``); then write ``result``, a snapshot of
        the finished history (same format, :func:`grassego.ego.read_history`), atomically.
        Logs the start (initial runs, history path, :meth:`describe`) to ``log``."""
        runs = self.read_training(training, seed)
        state = self.state_path(result, runs, seed)
        log.info("seed %d: %d initial runs, state %s; %s", seed, len(runs), state,
                 self.describe())
        out = minimize(self, loop, seed=seed, initial=self.initial_runs(runs), state_path=state)
        with atomic_path(result, suffix=".nc.tmp") as tmp:
            shutil.copyfile(state, tmp)
        return out

    def describe(self) -> str:
        """One line: the parameters, the fixed values and the search coordinates."""
        fixed = f", fixed {dict(self.fixed)}" if self.fixed else ""
        return f"calibrating {list(self.names)}{fixed} in {self.space.describe()}"
