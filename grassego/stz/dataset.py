"""Packing an :class:`~grassego.stz.solver.StzResult` into the runs NetCDF contract."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import xarray as xr

from grassego import __version__
from grassego.fields import status_attrs, validate_runs
from grassego.stz.constants import ModelConstants
from grassego.stz.solver import StzResult

#: Units of the per-run parameters (NetCDF attributes, the uncertainty verdicts).
PARAMETER_UNITS = {"c0": "1", "s_y": "GPa", "beta": "1/eV", "E0": "eV", "mu_GPa": "GPa",
                   "poisson": "1", "rho_kg_m3": "kg/m3", "tau0_s": "s", "ep": "1",
                   "chi_len_A": "angstrom", "T_Z_K": "K", "adapt_fac": "1",
                   "strain_rate_per_s": "1/s", "chi_energy_factor": "1"}


def to_runs_dataset(res: StzResult, params: Mapping[str, Iterable[float]] | None = None, *,
                    x: np.ndarray | None = None, y: np.ndarray | None = None,
                    constants: ModelConstants | None = None,
                    attrs: Mapping[str, object] | None = None) -> xr.Dataset:
    """Build a validated runs dataset (see :mod:`grassego.fields`) from a solver result.

    ``params`` defaults to ``res.params``; ``x``, ``y`` [Å] default to the cell centres of the
    solver grid ((i + ½)·dx). The strain field is E_xy of the Green–Lagrange tensor
    (``shear_convention="tensor"``), evaluated by the solver on the cell corners of the same index.
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
        "t_eff": (dims, res.t_eff, {"long_name": "effective temperature chi*T_Z", "units": "K"}),
        "tau_mean": (("run", "strain_ss"), res.tau_mean,
                     {"long_name": "grid-mean shear stress", "units": "GPa"}),
        "status": (("run",), res.status.astype(np.int8), status_attrs()),
        "wall_time": (("run",), res.wall_time,
                      {"long_name": "wall time (chunk time shared equally among its runs)",
                       "units": "s"}),
    }
    for name in params:
        data[name] = (("run",), np.asarray(params[name], dtype=np.float64),
                      {"units": PARAMETER_UNITS.get(name, "1")})
    coords = {
        "run": ("run", np.arange(n, dtype=np.int32)),
        "frame": ("frame", np.asarray(res.frames, dtype=np.int32)),
        "strain": ("frame", np.asarray(res.strain, dtype=np.float64),
                   {"long_name": "global shear strain of the frame", "units": "1"}),
        "strain_ss": ("strain_ss", np.asarray(res.strain_all, dtype=np.float64),
                      {"long_name": "global shear strain of the stress-strain curve", "units": "1"}),
        "x": ("x", np.asarray(x, dtype=np.float64), {"long_name": "cell-centre x", "units": "angstrom"}),
        "y": ("y", np.asarray(y, dtype=np.float64), {"long_name": "cell-centre y", "units": "angstrom"}),
    }
    base = {"Conventions": "CF-1.10", "grassego_kind": "runs", "grassego_version": __version__,
            "solver": "grassego.stz quasi-static STZ (FFT projection)",
            "model_constants": repr(constants)}
    ds = xr.Dataset(data, coords=coords, attrs={**base, **dict(attrs or {})})
    return validate_runs(ds, "<in memory>")
