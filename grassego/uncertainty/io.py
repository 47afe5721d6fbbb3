"""Files of the uncertainty step: the summary block as strict JSON (``uncertainty.json``, merged
into summary.json by the report) and the figures' arrays as NetCDF (``uncertainty.nc``)."""

from __future__ import annotations

import json
import os
from typing import Any

import xarray as xr

from grassego.atomic import atomic_path, write_text_atomic
from grassego.summary import summary_json


def write(summary: dict[str, Any], data: xr.Dataset, json_path: str | os.PathLike,
          nc_path: str | os.PathLike) -> None:
    """Write both files, each atomically."""
    with atomic_path(nc_path, suffix=".nc.tmp") as tmp:
        data.to_netcdf(tmp, engine="netcdf4", format="NETCDF4")
    write_text_atomic(json_path, summary_json(summary))


def read(json_path: str | os.PathLike, nc_path: str | os.PathLike
         ) -> tuple[dict[str, Any], xr.Dataset]:
    """The summary block and the arrays written by :func:`write`."""
    with open(json_path, encoding="utf-8") as fh:
        summary = json.load(fh)
    with xr.open_dataset(nc_path, engine="netcdf4") as ds:
        return summary, ds.load()
