"""Packing an :class:`~grassego.stz.solver.StzResult` into the runs NetCDF contract."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import xarray as xr

from grassego import __version__
from grassego.fields import cell_centres, status_attrs, validate_runs
from grassego.stz.constants import ModelConstants
from grassego.stz.solver import StzResult
from grassego.units import PHYSICAL, Units


def to_runs_dataset(res: StzResult, params: Mapping[str, Iterable[float]] | None = None, *,
                    x: np.ndarray | None = None, y: np.ndarray | None = None,
                    constants: ModelConstants | None = None,
                    attrs: Mapping[str, object] | None = None,
                    units: Units = PHYSICAL) -> xr.Dataset:
    """Build a validated runs dataset (see :mod:`grassego.fields`) from a solver result.

    ``params`` defaults to ``res.params``; ``x``, ``y`` [Å] default to the cell centres of the
    solver grid ((i + ½)·dx). ``units``: the case's unit system, which every unit attribute
    follows (:mod:`grassego.units`; the solver computes in the reference's units). The strain
    field is E_xy of the Green–Lagrange tensor (``shear_convention="tensor"``), evaluated by the
    solver on the cell corners of the same index.
    """
    constants = ModelConstants() if constants is None else constants
    n, _, ny, nx = res.exy.shape
    if x is None:
        x = (np.arange(nx) + 0.5) * constants.lx_A / nx
    if y is None:
        y = (np.arange(ny) + 0.5) * constants.ly_A / ny
    params = res.params if params is None else params
    dims = ("run", "frame", "y", "x")
    data = {
        "exy": (dims, res.exy, {"long_name": "Green-Lagrange xy strain", "units": "1",
                                "shear_convention": "tensor",
                                "grid_location": "cell corners (i dx, j dy), same index"}),
        "t_eff": (dims, res.t_eff, {"long_name": "effective temperature chi*T_Z",
                                    **units.cf("temperature")}),
        "tau_mean": (("run", "strain_ss"), res.tau_mean,
                     {"long_name": "grid-mean shear stress", **units.cf("stress")}),
        "status": (("run",), res.status.astype(np.int8), status_attrs()),
        "wall_time": (("run",), res.wall_time,
                      {"long_name": "wall time (chunk time shared equally among its runs)",
                       "units": "s"}),
    }
    for name in params:
        data[name] = (("run",), np.asarray(params[name], dtype=np.float64),
                      units.cf(units.parameter_quantity(name)))
    coords = {
        "run": ("run", np.arange(n, dtype=np.int32)),
        "frame": ("frame", np.asarray(res.frames, dtype=np.int32)),
        "strain": ("frame", np.asarray(res.strain, dtype=np.float64),
                   {"long_name": "global shear strain of the frame", "units": "1"}),
        "strain_ss": ("strain_ss", np.asarray(res.strain_all, dtype=np.float64),
                      {"long_name": "global shear strain of the stress-strain curve", "units": "1"}),
        **cell_centres(x, y, units),
    }
    base = {"Conventions": "CF-1.10", "grassego_kind": "runs", "grassego_version": __version__,
            "solver": "grassego.stz quasi-static STZ (FFT projection)",
            "model_constants": repr(constants), **units.attrs()}
    ds = xr.Dataset(data, coords=coords, attrs={**base, **dict(attrs or {})})
    return validate_runs(ds, "<in memory>")
