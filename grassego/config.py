"""Cross-field checks of the workflow configuration (after JSON-schema validation).

The schema (config/schema.yaml) checks types and fills defaults; this module checks what a schema
cannot: bounds in order, parameter names the solver knows, every required parameter either
calibrated or fixed, snapshot strains inside the reference data. Errors name the config key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from grassego.errors import GrassegoError

#: Parameters the STZ run always needs: calibrated (with bounds) or fixed (with a value).
REQUIRED_PARAMETERS = ("c0", "s_y", "beta", "E0")


class ConfigError(GrassegoError):
    """A configuration value is wrong; the message names the key."""


def known_parameters() -> set[str]:
    """Names a run can vary: the four calibration parameters plus every model constant."""
    from dataclasses import fields

    from grassego.stz import ModelConstants

    return set(REQUIRED_PARAMETERS) | {f.name for f in fields(ModelConstants)}


def check_config(config: Mapping[str, Any], root: str | Path = ".") -> None:
    """Raise :class:`ConfigError` on the first inconsistency found in a schema-valid config."""
    params = config["parameters"]
    fixed = config.get("fixed", {})
    known = known_parameters()
    for section, names in (("parameters", params), ("fixed", fixed)):
        for name in names:
            if name not in known:
                raise ConfigError(f"{section}.{name}: unknown parameter name; known: "
                                  f"{', '.join(sorted(known))}")
    for name, (lo, hi) in params.items():
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi:
            raise ConfigError(f"parameters.{name}: bounds [{lo}, {hi}] must be finite with "
                              "lower < upper")
    both = set(params) & set(fixed)
    if both:
        raise ConfigError(f"fixed.{sorted(both)[0]}: a parameter cannot be both calibrated and fixed")
    missing = [n for n in REQUIRED_PARAMETERS if n not in params and n not in fixed]
    if missing:
        raise ConfigError(f"parameters.{missing[0]}: required; give bounds under 'parameters' "
                          "or a value under 'fixed'")
    ref = config["reference"]
    if ref["source"] == "forward":
        target = ref["forward"]["target"]
        absent = [n for n in params if n not in target and n not in fixed]
        if absent:
            raise ConfigError(f"reference.forward.target.{absent[0]}: a target value is needed "
                              "for every calibrated parameter")
    if ref["source"] == "dumps" and not ref["dumps"]["files"] and not ref["dumps"]["md"]["enabled"]:
        raise ConfigError("reference.dumps.files: give dump files (or set reference.dumps.md."
                          "enabled to run the LAMMPS example first)")
    if config["design"]["n_batches"] > config["design"]["n_samples"]:
        raise ConfigError("design.n_batches: more batches than samples")
    check_snapshot_strains(config, root)
    check_results_path(config, root)


def check_snapshot_strains(config: Mapping[str, Any], root: str | Path = ".") -> None:
    """If the reference is an existing NetCDF file, check the snapshot strains lie in its range."""
    ref = config["reference"]
    path = None
    if ref["source"] == "legacy":
        path = Path(root) / ref["legacy"]["path"]
    elif ref["source"] == "forward":
        path = Path(root) / ref["forward"]["base"]
    if path is None or path.suffix != ".nc" or not path.is_file():
        return
    import xarray as xr

    with xr.open_dataset(path) as ds:
        strain = np.asarray(ds["strain"].values)
    spacing = float(np.max(np.diff(strain))) if strain.size > 1 else 0.0
    for s in config["objective"]["snapshot_strains"]:
        if s < strain.min() - spacing or s > strain.max() + spacing:
            raise ConfigError(f"objective.snapshot_strains: {s} lies outside the reference data's "
                              f"strain range [{strain.min():g}, {strain.max():g}] ({path})")
    rank = config["objective"]["rank"]
    if isinstance(rank, list) and len(rank) != len(config["objective"]["snapshot_strains"]):
        raise ConfigError("objective.rank: a list needs one entry per snapshot strain")


def check_results_path(config: Mapping[str, Any], root: str | Path = ".") -> None:
    """Check ``results`` (relative to ``root``) names a directory the workflow can create or
    write: not empty nor the filesystem root, no ``{``/``}`` (Snakemake would read a
    wildcard), no regular file on the way, write permission where it is (to be) created."""
    import os

    results = config["results"]
    path = Path(os.path.abspath(Path(root) / results))
    if not results.strip() or path == Path(path.anchor):
        raise ConfigError(f"results: {results!r} would put the outputs at the filesystem root; "
                          "name a directory, e.g. results")
    if "{" in results or "}" in results:
        raise ConfigError(f"results: {results!r} contains a brace, which Snakemake reads as a "
                          "wildcard; name a directory without '{' or '}'")
    existing = next(p for p in (path, *path.parents) if os.path.exists(p))
    if not existing.is_dir():
        where = "is" if existing == path else f"lies under {existing},"
        raise ConfigError(f"results: {path} {where} a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = (f"write to {path}" if existing == path else
                f"create {path} ({existing} is not writable)")
        raise ConfigError(f"results: cannot {what}")
