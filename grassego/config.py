"""Cross-field checks of the workflow configuration (after JSON-schema validation).

The schema (workflow/schemas/config.schema.yaml) checks types and fills defaults; this module
checks what a schema cannot, before any job runs: bounds in order and of the right sign, parameter and model-constant
names and values, every required parameter calibrated or fixed, the objective's settings (rank
rule, weights), report keys, the uncertainty step's settings, the results path, dump files,
and — where the reference file already exists — snapshot and report strains inside its data,
its cell against the solver's, and a box in which at least one run can start
(χ = β(E − E0) > 0). Every problem found is reported, one line each, naming the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from grassego.errors import GrassegoError

#: Parameters the STZ run always needs: calibrated (with bounds) or fixed (with a value).
REQUIRED_PARAMETERS = ("c0", "s_y", "beta", "E0")
#: Parameters that must be positive for a run to start (c0 [1], s_y [GPa], β [1/eV]).
POSITIVE_PARAMETERS = ("c0", "s_y", "beta")
#: Relative mismatch tolerated between the reference grid's extent and the solver's cell.
CELL_RTOL = 0.01


class ConfigError(GrassegoError):
    """A configuration value is wrong; each line of the message names a key."""


def model_constant_names() -> tuple[str, ...]:
    from grassego.stz import ModelConstants

    return ModelConstants.names()


def known_parameters() -> set[str]:
    """Names a run can vary: the four calibration parameters plus the per-run model constants
    (:data:`grassego.stz.constants.PER_RUN_FIELDS`)."""
    from grassego.stz.constants import PER_RUN_FIELDS

    return set(REQUIRED_PARAMETERS) | set(PER_RUN_FIELDS)


def validate_schema(config: dict, schema: str | Path) -> None:
    """Validate ``config`` against the JSON schema and fill its defaults (in place), as
    ``snakemake.utils.validate`` does, but report a violation as one line naming the key, not
    the schema."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    try:
        validate(config, str(schema))
    except WorkflowError as exc:
        import jsonschema

        err = exc.__context__  # snakemake raises its error while handling jsonschema's
        if not isinstance(err, jsonschema.ValidationError):
            raise
        key = ".".join(str(k) for k in err.absolute_path) or "config"
        hint = err.schema.get("description") if isinstance(err.schema, dict) else None
        hint = f" (expected: {' '.join(hint.split())})" if hint and err.validator == "oneOf" else ""
        raise ConfigError(f"{key}: {err.message}{hint}") from None


def check_config(config: Mapping[str, Any], root: str | Path = ".") -> None:
    """Raise :class:`ConfigError` listing every inconsistency of a schema-valid config."""
    problems = [*_parameter_problems(config), *_objective_problems(config),
                *_solver_problems(config), *_reference_problems(config, root),
                *_report_problems(config), *_uncertainty_problems(config),
                *_results_problems(config, root)]
    if config["design"]["n_batches"] > config["design"]["n_samples"]:
        problems.append("design.n_batches: more batches than samples")
    if not problems:
        problems += _data_problems(config, root)
    if problems:
        raise ConfigError("\n".join(problems))


def _parameter_problems(config: Mapping[str, Any]) -> Iterator[str]:
    params, fixed = config["parameters"], config.get("fixed", {})
    known = known_parameters()
    for section, names in (("parameters", params), ("fixed", fixed)):
        for name in names:
            if name in model_constant_names() and name not in known:
                yield (f"{section}.{name}: shared by every run of a batch; set it under "
                       "solver.constants instead")
            elif name not in known:
                yield (f"{section}.{name}: unknown parameter name; known: "
                       f"{', '.join(sorted(known))}")
    for name, (lo, hi) in params.items():
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi:
            yield f"parameters.{name}: bounds [{lo}, {hi}] must be finite with lower < upper"
        elif name in _positive_names() and lo <= 0:
            yield (f"parameters.{name}: the lower bound {lo} must be > 0 (no run with "
                   f"{name} <= 0 can start)")
    for name, value in fixed.items():
        if name in _positive_names() and not value > 0:
            yield f"fixed.{name}: must be > 0, got {value}"
    for name in sorted(set(params) & set(fixed)):
        yield f"fixed.{name}: a parameter cannot be both calibrated and fixed"
    for name in REQUIRED_PARAMETERS:
        if name not in params and name not in fixed:
            yield f"parameters.{name}: required; give bounds under 'parameters' or a value under 'fixed'"
    constants = {k: v for k, v in fixed.items() if k in known - set(REQUIRED_PARAMETERS)}
    yield from _constants_problems(constants, "fixed")


def _positive_names() -> set[str]:
    """Per-run parameters that must be > 0 (the solver rejects a run otherwise)."""
    from grassego.stz.constants import NON_NEGATIVE_FIELDS, PER_RUN_FIELDS

    return set(POSITIVE_PARAMETERS) | (set(PER_RUN_FIELDS) - {"poisson", *NON_NEGATIVE_FIELDS})


def _constants_problems(constants: Mapping[str, Any], section: str) -> Iterator[str]:
    """Names and values of model constants, as :class:`ModelConstants` checks them."""
    from grassego.stz import ModelConstants

    names = model_constant_names()
    unknown = [k for k in constants if k not in names]
    for name in unknown:
        yield f"{section}.{name}: unknown model constant; known: {', '.join(names)}"
    if unknown:
        return
    try:
        ModelConstants(**constants)
    except (TypeError, ValueError) as exc:
        name, _, problem = str(exc).removeprefix("ModelConstants.").partition(" ")
        yield f"{section}.{name}: {problem}"


def _objective_problems(config: Mapping[str, Any]) -> Iterator[str]:
    from grassego.objective import ObjectiveConfig

    try:
        ObjectiveConfig.from_config(config["objective"])
    except (TypeError, ValueError) as exc:
        yield f"objective.{exc}"


def _uncertainty_problems(config: Mapping[str, Any]) -> Iterator[str]:
    from grassego.uncertainty.settings import UncertaintySettings

    try:
        UncertaintySettings.from_config(config.get("uncertainty", {}))
    except (TypeError, ValueError) as exc:
        yield f"uncertainty.{exc}"


def _solver_problems(config: Mapping[str, Any]) -> Iterator[str]:
    from grassego.stz import ModelConstants

    backend, device = config["solver"].get("backend"), config["solver"].get("device")
    if backend == "cuda" and device == "cpu":
        yield "solver.backend: cuda runs on a GPU; set solver.device to cuda or auto"
    if backend == "fused" and device == "cuda":
        yield "solver.backend: fused runs on the CPU; set solver.device to cpu or auto"
    constants = config["solver"]["constants"]
    problems = list(_constants_problems(constants, "solver.constants"))
    yield from problems
    if problems:
        return
    max_strain = ModelConstants(**constants).max_strain
    for key, strains in (("objective.snapshot_strains", config["objective"]["snapshot_strains"]),
                         ("report.field_strains", config["report"]["field_strains"])):
        beyond = [s for s in strains if s > max_strain * (1 + 1e-9)]
        if beyond:
            yield (f"{key}: {beyond[0]} lies beyond the model's final strain "
                   f"solver.constants.max_strain = {max_strain}")


def _reference_problems(config: Mapping[str, Any], root: str | Path) -> Iterator[str]:
    params, fixed, ref = config["parameters"], config.get("fixed", {}), config["reference"]
    if ref["source"] == "forward":
        target = ref["forward"]["target"]
        for name in target:
            if name not in params:
                yield (f"reference.forward.target.{name}: not a calibrated parameter; the target "
                       f"gives values for: {', '.join(params)}")
        for name in params:
            if name not in target and name not in fixed:
                yield (f"reference.forward.target.{name}: a target value is needed for every "
                       "calibrated parameter")
        for name, value in target.items():
            if name in _positive_names() and not value > 0:
                yield f"reference.forward.target.{name}: must be > 0, got {value}"
    if ref["source"] == "dumps" and not ref["dumps"]["md"]["enabled"]:
        yield from _dump_file_problems(ref["dumps"], root)
    if ref["source"] == "dumps" and ref["dumps"]["md"]["enabled"]:
        yield from _md_problems(ref["dumps"])


def _md_problems(dumps: Mapping[str, Any]) -> Iterator[str]:
    """The MD run's settings make whole numbers of steps, and its units are the ingestion's."""
    from grassego.md import SYSTEMS, deck_variables, shear_settings

    md = dumps["md"]
    settings = {k: v for k, v in md.items() if k not in ("enabled", "system", "omp_threads")}
    try:
        deck_variables(shear_settings(md["system"], **settings))
    except ValueError as exc:
        yield f"reference.dumps.md: {exc}"
    units = SYSTEMS[md["system"]].units
    if dumps["units"] != units:
        yield (f"reference.dumps.units: {dumps['units']!r}, but the MD system "
               f"{md['system']!r} (reference.dumps.md.system) writes LAMMPS {units!r} units")


def _dump_file_problems(dumps: Mapping[str, Any], root: str | Path) -> Iterator[str]:
    """Every dump file or pattern matches a file, and the LAMMPS log exists."""
    import glob

    if not dumps["files"]:
        yield ("reference.dumps.files: give dump files (or set reference.dumps.md.enabled to run "
               "the LAMMPS example first)")
    for pattern in dumps["files"]:
        path = Path(root) / pattern
        if not path.is_file() and not glob.glob(str(path)):
            yield f"reference.dumps.files: {pattern!r} is no file and matches none as a pattern"
    if dumps["log"] and not (Path(root) / dumps["log"]).is_file():
        yield f"reference.dumps.log: {dumps['log']!r}: no such file"


def _report_problems(config: Mapping[str, Any]) -> Iterator[str]:
    params, fixed = config["parameters"], config.get("fixed", {})
    for label, values in config["report"]["compare"].items():
        missing = [n for n in params if n not in values and n not in fixed]
        extra = [n for n in values if n not in params and n not in fixed]
        clash = [n for n in values if n in fixed and values[n] != fixed[n]]
        if missing:
            yield f"report.compare.{label}: no value for the calibrated parameter(s) {missing}"
        if extra:
            yield (f"report.compare.{label}: {extra} are neither calibrated nor fixed "
                   f"(calibrated: {', '.join(params)})")
        for name in clash:
            yield (f"report.compare.{label}.{name}: {values[name]} differs from the fixed value "
                   f"{fixed[name]} the runs use")
        for name, value in values.items():
            if name in _positive_names() and not value > 0:
                yield f"report.compare.{label}.{name}: must be > 0, got {value}"


def reference_file(config: Mapping[str, Any], root: str | Path = ".") -> tuple[str, Path] | None:
    """``(config key, path)`` of a reference NetCDF that exists before the workflow runs."""
    ref = config["reference"]
    key = {"legacy": "reference.legacy.path", "forward": "reference.forward.base"}.get(ref["source"])
    if key is None:
        return None
    path = Path(root) / ref[ref["source"]]["path" if ref["source"] == "legacy" else "base"]
    if path.suffix != ".nc" or not path.is_file():
        return None
    return key, path


def _data_problems(config: Mapping[str, Any], root: str | Path) -> list[str]:
    """Checks against the reference file, where it exists at planning time."""
    found = reference_file(config, root)
    if found is None:
        return []
    key, path = found
    from grassego.fields import read_reference

    try:
        ds = read_reference(path)
    except (GrassegoError, ValueError, OSError) as exc:
        return [f"{key}: {exc}"]
    strain = np.asarray(ds["strain"].values)
    spacing = float(np.max(np.diff(strain))) if strain.size > 1 else 0.0
    problems = []
    for skey in ("objective.snapshot_strains", "report.field_strains"):
        section, name = skey.split(".")
        for s in config[section][name]:
            if s < strain.min() - spacing or s > strain.max() + spacing:
                problems.append(f"{skey}: {s} lies outside the reference data's strain range "
                                f"[{strain.min():g}, {strain.max():g}] ({path})")
                break
    problems += cell_problems(ds, config["solver"]["constants"], str(path))
    problems += units_problems(ds, config["solver"]["units"], config["solver"]["constants"],
                               str(path))
    if any(p.startswith("solver.units") for p in problems):
        return problems  # the box check below would judge LJ data with CuZr's constants
    problem = box_problem(ds, config)
    if problem:
        problems.append(problem)
    if config["reference"]["source"] == "forward":
        target = config["reference"]["forward"]["target"] | config.get("fixed", {})
        reasons = start_problems(ds, target, config["solver"]["constants"])
        if reasons:
            problems.append(f"reference.forward.target: the target run cannot start on "
                            f"{path}: {'; '.join(reasons)}")
    return problems


def reference_cell(reference) -> dict[str, float]:
    """The periodic cell the reference's grid spans, as solver constants ``lx_A``, ``ly_A``
    [Å]: cells × spacing of the ``x``/``y`` cell-centre coordinates."""
    cell = {}
    for axis in ("x", "y"):
        coord = np.asarray(reference[axis].values, dtype=np.float64)
        cell[f"l{axis}_A"] = coord.size * float(np.mean(np.diff(coord)))
    return cell


def cell_problems(reference, constants: Mapping[str, Any], source: str) -> list[str]:
    """Explicit cell constants (``lx_A``, ``ly_A`` [Å] in ``constants``) that contradict the
    cell of the reference's grid (:func:`reference_cell`) by more than :data:`CELL_RTOL`.
    Without them the solver takes the reference's cell."""
    cell = reference_cell(reference)
    out = []
    for key, extent in cell.items():
        if key not in constants:
            continue
        given, n = float(constants[key]), reference[key[1]].size
        if abs(extent - given) > CELL_RTOL * given:
            out.append(f"solver.constants.{key}: {given:g} Å, but the reference grid ({n} cells "
                       f"of {extent / n:g} Å along {key[1]} in {source}) spans {extent:g} Å; "
                       "leave it out to take the reference's cell")
    return out


#: Dimensional model constants whose defaults are CuZr's physical values: an LJ-unit
#: calibration must give each of them in reduced units.
LJ_REQUIRED_CONSTANTS = ("mu_GPa", "chi_len_A", "strain_rate_per_s")


def units_problems(reference, units: str, constants: Mapping[str, Any], source: str
                   ) -> list[str]:
    """``solver.units`` against the reference's unit system
    (:func:`grassego.fields.reference_units`), and, for LJ units, the dimensional constants
    that have no meaningful default (:data:`LJ_REQUIRED_CONSTANTS`)."""
    from grassego.fields import reference_units

    found = reference_units(reference)
    if found != units:
        what = {"lj": "reduced Lennard-Jones units (lengths in sigma, energies in epsilon)",
                "physical": "physical units (Å, eV/atom, GPa)"}
        return [f"solver.units: {units}, but {source} is in {what[found]}; set solver.units: "
                f"{found} and give solver.constants in the same units"]
    missing = [k for k in LJ_REQUIRED_CONSTANTS if k not in constants] if units == "lj" else []
    if missing:
        return [f"solver.constants: solver.units is lj, so give {', '.join(missing)} in reduced "
                f"LJ units (their defaults are CuZr's values in GPa, Å and 1/s)"]
    return []


def box_problem(reference, config: Mapping[str, Any]) -> str | None:
    """Whether any run of the parameter box can start: tried at its most favourable corner
    (lowest E0, highest β and T_Z), with the solver's own acceptance rule (χ > 0 everywhere at
    the start, final effective temperature above ``min_final_teff_K``)."""
    params, fixed = config["parameters"], config.get("fixed", {})
    corner = {n: (lo if n == "E0" else hi) for n, (lo, hi) in params.items()} | dict(fixed)
    reasons = start_problems(reference, corner, config["solver"]["constants"])
    if not reasons:
        return None
    key = "fixed.E0" if "E0" in fixed else "parameters.E0"
    return (f"{key}: no parameter set in the box can start; even at E0 = {corner['E0']:g} eV and "
            f"beta = {corner['beta']:g} 1/eV: {'; '.join(reasons)}")


def start_problems(reference, point: Mapping[str, float], constants: Mapping[str, Any]
                   ) -> list[str]:
    """Why a run at ``point`` (parameter → value) would be rejected before it starts, by the
    solver's own rule on the reference's first and last PE fields (empty: it can start)."""
    from grassego.stz import ModelConstants
    from grassego.stz.params import prepare_inputs

    pe = np.asarray(reference["pe"].values, dtype=np.float64)
    inputs = prepare_inputs({k: [v] for k, v in point.items()}, pe[0], pe[-1],
                            ModelConstants(**constants))
    return inputs.reasons(0)


def _results_problems(config: Mapping[str, Any], root: str | Path) -> Iterator[str]:
    """Check ``results`` (relative to ``root``) names a directory the workflow can create or
    write: not empty nor the filesystem root, no ``{``/``}`` (Snakemake would read a
    wildcard), no regular file on the way, write permission where it is (to be) created."""
    import os

    results = config["results"]
    path = Path(os.path.abspath(Path(root) / results))
    if not results.strip() or path == Path(path.anchor):
        yield (f"results: {results!r} would put the outputs at the filesystem root; name a "
               "directory, e.g. results")
        return
    if "{" in results or "}" in results:
        yield (f"results: {results!r} contains a brace, which Snakemake reads as a wildcard; "
               "name a directory without '{' or '}'")
        return
    existing = next(p for p in (path, *path.parents) if os.path.exists(p))
    if not existing.is_dir():
        where = "is" if existing == path else f"lies under {existing},"
        yield f"results: {path} {where} a file, not a directory"
        return
    if not os.access(existing, os.W_OK | os.X_OK):
        what = (f"write to {path}" if existing == path else
                f"create {path} ({existing} is not writable)")
        yield f"results: cannot {what}"
