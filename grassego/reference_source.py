"""The workflow's reference step: the reference fields dataset from the configured source, checked
before it is written.

Sources (the config's ``reference.source``): ``legacy``, the shipped reference (a NetCDF file of
:mod:`grassego.fields`) or the paper's legacy text directory (:mod:`grassego.legacy`);
``forward``, one forward continuum run at the target parameters on a base reference (validation
mode, :meth:`grassego.calibration.Calibration.forward_reference`); ``dumps``, LAMMPS dumps
coarse-grained with OVITO (:func:`grassego.ingest.read_dumps`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
import xarray as xr

from grassego.calibration import Calibration
from grassego.fields import read_reference
from grassego.ingest import IngestSettings, read_dumps
from grassego.legacy import read_legacy
from grassego.objective import nearest_frames
from grassego.plausibility import check_reference

PathLike = str | os.PathLike


def build_reference(settings: Mapping[str, Any], snapshot_strains: Sequence[float], *,
                    source: PathLike | None = None,
                    dumps: PathLike | Sequence[PathLike] | None = None,
                    lammps_log: PathLike | None = None, threads: int = 1,
                    log: logging.Logger | None = None) -> xr.Dataset:
    """The reference dataset of ``settings`` (the reference step's params: the ``reference``
    section for its source only, plus ``solver``, ``fixed`` and ``parameters`` for a forward
    run), checked against the objective's ``snapshot_strains`` [1] (each must lie on a frame,
    :func:`grassego.objective.nearest_frames`) and for plausibility
    (:func:`grassego.plausibility.check_reference`, ``reference.accept_unusual``); nothing is
    written.

    ``source``: the legacy file or directory, or the forward run's base reference; ``dumps``
    (one path, or several) and ``lammps_log`` (the stress–strain curve, or None): the dump
    source's inputs. ``threads``: torch's CPU threads (set here) and the forward run's solver
    threads; ``log`` (default this module's logger) gets the forward run's target.
    """
    log = log or logging.getLogger(__name__)
    torch.set_num_threads(threads)
    ref_cfg = settings["reference"]
    kind = ref_cfg["source"]
    if kind == "legacy":
        path = Path(source)
        ds = read_reference(path) if path.suffix == ".nc" else read_legacy(path)
    elif kind == "forward":
        objective = {"snapshot_strains": snapshot_strains}
        calib = Calibration.from_config(read_reference(source),
                                        {**settings, "objective": objective}, threads=threads)
        log.info("forward run at target %s", ref_cfg["forward"]["target"])
        ds = calib.forward_reference(ref_cfg["forward"]["target"])
    else:
        files = [dumps] if isinstance(dumps, (str, os.PathLike)) else list(dumps)
        ds = read_dumps(files, log_file=lammps_log,
                        settings=IngestSettings.from_config(ref_cfg["dumps"]))
    label = f"reference ({kind})"
    nearest_frames(ds["strain"].values, snapshot_strains, label)
    return check_reference(ds, label, snapshot_strains,
                           accept_unusual=ref_cfg.get("accept_unusual", False))
