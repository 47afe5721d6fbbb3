"""Cross-field checks of the workflow configuration (after JSON-schema validation).

The schema (workflow/schemas/config.schema.yaml) checks types and fills defaults; this module
checks what a schema cannot, before any job runs: bounds in order and of the right sign, parameter and model-constant
names and values, every required parameter calibrated or fixed, every settings class a job
builds (:func:`settings_builders`), report keys, the results path, the reference's input
files, and — where the reference file already exists — its plausibility
(:mod:`grassego.plausibility`), snapshot and report strains inside its data, its cell and
elastic slope against the solver's, and a box in which at least one run can start
(χ = β(E − E0) > 0). Every problem found is reported, one line each, naming the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from grassego.errors import ConfigError, GrassegoError, InputError, option_error
from grassego.solver_settings import SolverSettings, cell_problems, units_problems
from grassego.units import case_units

#: Parameters the STZ run always needs: calibrated (with bounds) or fixed (with a value).
REQUIRED_PARAMETERS = ("c0", "s_y", "beta", "E0")
#: Parameters that must be positive for a run to start (c0 [1], s_y [GPa], β [1/eV]).
POSITIVE_PARAMETERS = ("c0", "s_y", "beta")
#: Longest file or directory name (bytes) that common file systems (ext4, XFS, NTFS) allow.
NAME_MAX = 255
#: The workflow's config schema (the repository's, beside the package).
SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


#: The config sections that turn a parameter vector into Δ (:class:`grassego.problem.Problem`;
#: the workflow passes them to its rules as one param, so a rule reruns when one changes).
CALIBRATION_SECTIONS = ("parameters", "fixed", "objective", "solver")


def calibration_sections(config: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`CALIBRATION_SECTIONS` of a schema-valid workflow config, in that order (an
    absent one empty); with several references, also ``weights``: name → weight of each
    calibrate reference (:func:`grassego.references.calibration_weights`), in order."""
    from grassego.references import calibration_weights

    sections = {k: config.get(k, {}) for k in CALIBRATION_SECTIONS}
    weights = calibration_weights(config)
    return sections if weights is None else {**sections, "weights": weights}


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


def schema_path(user: str, schema: Path = SCHEMA) -> Path:
    """``schema`` (the workflow's, :data:`SCHEMA`), or a :class:`ConfigError` saying that
    ``user`` (a command) needs it there."""
    if not schema.is_file():
        raise ConfigError(f"{schema}: no config schema there; {user} needs the repository's "
                          "workflow/ beside the package")
    return schema


def read_config_file(path: str | Path) -> dict:
    """One config file read strictly: a repeated key or section is an error naming the file
    and line (Snakemake itself keeps the last), and so is a file without sections. Raises
    :class:`ConfigError`."""
    from grassego.strict_yaml import load_yaml

    try:
        content = load_yaml(path)
        if not isinstance(content, dict) or not content:
            raise InputError(path, "holds no config sections (an empty file, or not a "
                                   "mapping): nothing of the case it should set would be "
                                   "set; give at least results and reference")
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    return content


def read_workflow_config(path: str | Path, user: str) -> dict:
    """The config file ``path`` as the workflow sees it when it is the only ``--configfile``:
    read strictly (:func:`read_config_file`), the schema's defaults filled in, and checked
    within itself (:func:`config_problems`: every settings class built from its section). For
    a command (``user``) that computes what the workflow computes; the files the config names
    and its results directory are not checked (they are relative to the workflow's working
    directory). Raises :class:`ConfigError`, each line naming the file and the key."""
    config = read_config_file(path)
    try:
        for problem in references_form_problems(config):
            raise ConfigError(problem)
        validate_schema(config, schema_path(user))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    problems = list(config_problems(config))
    if problems:
        raise ConfigError("\n".join(f"{path}: {p}" for p in problems))
    return config


def overridden(section: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """A config ``section`` with the values of ``given`` (a command's options, None where not
    given) in place of its own: the settings a command builds, the workflow's unless an option
    says otherwise."""
    return {**section, **{k: v for k, v in given.items() if v is not None}}


def command_settings(build: Callable[[Mapping[str, Any]], Any], config: Mapping[str, Any],
                     key: str, given: Mapping[str, Any], path: str | Path | None,
                     options: Mapping[str, str] = {}) -> Any:
    """The settings a command builds with ``build`` (a settings class's ``from_config``) from
    the section ``key`` of ``config`` (read from ``path`` by :func:`read_workflow_config`;
    empty and None without one) with the options ``given`` in place (:func:`overridden`). A
    rejection (``"name: problem"``, where the values clash) is a :class:`GrassegoError` naming
    the option (``options[name]``, else ``--name``) where it was given, else the file and key."""
    try:
        return build(overridden(_section(config, key), given))
    except ValueError as exc:
        name = str(exc).partition(":")[0]
        from_file = {name: f"{path}: {key}.{name}"} if path and given.get(name) is None else {}
        raise option_error(exc, {**options, **from_file}) from None


def check_workflow_config(config: dict, configfiles: Sequence[str | Path], schema: str | Path,
                          root: str | Path = ".") -> None:
    """Everything the Snakefile checks before any job, in order: each config file read strictly
    (:func:`read_config_file`), the schema (:func:`validate_schema`, filling defaults into
    ``config``), then :func:`check_config` from ``root``. Raises :class:`ConfigError`."""
    for path in configfiles:
        read_config_file(path)
    form = references_form_problems(config)
    if form:
        raise ConfigError("\n".join(form))
    validate_schema(config, schema)
    check_config(config, root)


def check_config(config: Mapping[str, Any], root: str | Path = ".") -> None:
    """Raise :class:`ConfigError` listing every inconsistency of a schema-valid config."""
    problems = [*config_problems(config),
                *(p for entry, view, rename in _reference_views(config)
                  for p in map(rename, _reference_problems(view, root, _md_dir(config, entry)))),
                *_results_problems(config, root)]
    if not problems:
        problems += [rename(p) for _, view, rename in _reference_views(config)
                     for p in _data_problems(view, root)]
    if problems:
        raise ConfigError("\n".join(problems))


def references_form_problems(config: Mapping[str, Any]) -> list[str]:
    """A config (as given, before the schema's defaults) names its references one way:
    ``reference`` or ``references``, not both."""
    if "reference" in config and config.get("references"):
        return ["references: give either 'reference' (one) or 'references' (several, named), "
                "not both"]
    return []


#: The keys of a reference's settings, as they begin a message about them.
_REFERENCE_KEY = re.compile(r"\breference\.(?=(source|legacy|dumps|forward|accept_unusual)\b)")


def _reference_views(config: Mapping[str, Any]):
    """``(entry, view, rename)`` per reference of the config
    (:func:`grassego.references.reference_entries`): ``view`` is the config with that
    reference's settings as its ``reference`` section (so that one set of checks serves every
    reference), ``rename`` turns a message's ``reference.…`` keys into the entry's key."""
    from grassego.references import reference_entries

    for entry in reference_entries(config):
        if entry.name is None:
            yield entry, config, lambda message: message
        else:
            yield (entry, {**config, "reference": entry.section},
                   lambda message, key=entry.key: _REFERENCE_KEY.sub(f"{key}.", message))


def _md_dir(config: Mapping[str, Any], entry) -> Path:
    """Where the workflow's MD run of ``entry`` writes: ``results/md`` (one reference) or
    ``results/md/<name>``."""
    md = Path(config["results"]) / "md"
    return md if entry.name is None else md / entry.name


def config_problems(config: Mapping[str, Any]) -> Iterator[str]:
    """The inconsistencies of a schema-valid config within itself, one line each naming the
    key: parameters and fixed values, every settings class (:func:`_settings_problems`), the
    solver's constants and strains, the report's comparisons, the design's batches; not the
    files it names nor the results directory (:func:`check_config` adds those)."""
    yield from _parameter_problems(config)
    yield from _settings_problems(config)
    yield from _joint_problems(config)
    yield from _solver_problems(config)
    yield from _report_problems(config)
    if config["design"]["n_batches"] > config["design"]["n_samples"]:
        yield "design.n_batches: more batches than samples"


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
        if not np.isfinite(value):
            yield f"fixed.{name}: must be a finite number, got {value}"
        elif name in _positive_names() and not value > 0:
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


def settings_builders() -> tuple[tuple[str, Any], ...]:
    """``(config section, builder)`` of every settings class the jobs build from the config:
    :func:`check_config` builds each one, so that whatever a job would reject stops the plan."""
    from grassego.design import DesignSettings
    from grassego.ego.settings import EGOLoop, EGOSettings
    from grassego.ingest import IngestSettings
    from grassego.objective import ObjectiveConfig
    from grassego.report import ReportSettings
    from grassego.uncertainty.settings import UncertaintySettings

    return (("objective", ObjectiveConfig.from_config), ("design", DesignSettings.from_config),
            ("solver", SolverSettings.from_config), ("ego", EGOLoop.from_config),
            ("ego", EGOSettings.from_config), ("report", ReportSettings.from_config),
            ("uncertainty", UncertaintySettings.from_config),
            ("reference.dumps", IngestSettings.from_config))


def _section(config: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The config section at the dotted ``key`` (empty where the config leaves it out)."""
    section: Any = config
    for name in key.split("."):
        section = section.get(name, {})
    return section


def _settings_problems(config: Mapping[str, Any]) -> Iterator[str]:
    """Every settings class built from its section (:func:`settings_builders`); a rejection is
    one line prefixed with the section's key."""
    for key, build in settings_builders():
        try:
            build(_section(config, key))
        except (TypeError, ValueError) as exc:
            message = " ".join(str(exc).split())
            named = message.startswith(key) and message[len(key):len(key) + 1] in (".", ":")
            yield message if named else f"{key}.{message}"


def _joint_problems(config: Mapping[str, Any]) -> Iterator[str]:
    """A joint config (``references``) calibrates on at least one reference, and each
    reference's ingestion settings build (as ``reference.dumps``'s do)."""
    from grassego.ingest import IngestSettings
    from grassego.references import calibration_entries, is_joint, reference_entries

    if not is_joint(config):
        if config["ensemble"]["single_fits"]:
            yield ("ensemble.single_fits: compares fits to several MD runs; name them under "
                   "'references' (this config has one 'reference')")
        return
    if not calibration_entries(config):
        yield ("references: no reference has role 'calibrate'; the calibration needs at least "
               "one (holdouts are only predicted)")
    for entry in reference_entries(config):
        try:
            IngestSettings.from_config(entry.section["dumps"])
        except (TypeError, ValueError) as exc:
            yield f"{entry.key}.dumps.{' '.join(str(exc).split())}"


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
    window = config["objective"]["overshoot_window"]
    if window[0] >= max_strain:
        yield (f"objective.overshoot_window: {list(window)} lies beyond the model's final strain "
               f"solver.constants.max_strain = {max_strain}")
    for key, strains in (("objective.snapshot_strains", config["objective"]["snapshot_strains"]),
                         ("report.field_strains", config["report"]["field_strains"])):
        beyond = [s for s in strains if s > max_strain * (1 + 1e-9)]
        if beyond:
            yield (f"{key}: {beyond[0]} lies beyond the model's final strain "
                   f"solver.constants.max_strain = {max_strain}")


def _long_component(path: Path) -> str | None:
    """What is wrong with ``path`` if one of its components is longer than :data:`NAME_MAX`
    bytes (the file system would refuse it), else None."""
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            return (f"a path component is {len(os.fsencode(part))} bytes long ({part[:20]}...); "
                    f"file systems allow {NAME_MAX}")
    return None


def _input_paths(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(config key, path)`` of every input file the chosen reference source names."""
    ref = config["reference"]
    if ref["source"] == "legacy":
        yield "reference.legacy.path", ref["legacy"]["path"]
    elif ref["source"] == "forward":
        yield "reference.forward.base", ref["forward"]["base"]
    elif not ref["dumps"]["md"]["enabled"]:
        yield from (("reference.dumps.files", f) for f in ref["dumps"]["files"])
        if ref["dumps"]["log"]:
            yield "reference.dumps.log", ref["dumps"]["log"]


def _input_path_problems(config: Mapping[str, Any], root: str | Path) -> Iterator[str]:
    """The reference's input files: names a file system allows, present (a pattern of dump
    files is checked by :func:`_dump_file_problems`), and not under ``results`` (the workflow
    writes there)."""
    results = Path(os.path.abspath(Path(root) / config["results"]))
    workdir = Path(os.path.abspath(root))
    apart = results != workdir and results not in workdir.parents  # else: a results problem
    for key, name in _input_paths(config):
        path = Path(os.path.abspath(Path(root) / name))
        too_long = _long_component(path)
        if too_long:
            yield f"{key}: {too_long}"
        elif apart and (path == results or results in path.parents):
            yield (f"{key}: {name!r} lies under results ({results}), where the workflow writes "
                   "its outputs; keep inputs outside it")
        elif key != "reference.dumps.files" and not path.exists():
            yield f"{key}: {name!r}: no such file or directory"


def _reference_problems(config: Mapping[str, Any], root: str | Path,
                        md_dir: Path) -> Iterator[str]:
    """The reference's settings: its input files, a forward target in the box, the dump files
    or the MD run (writing to ``md_dir``, relative to ``root``)."""
    params, fixed, ref = config["parameters"], config.get("fixed", {}), config["reference"]
    problems = list(_input_path_problems(config, root))
    yield from problems
    if problems:
        return
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
            elif name in params and not params[name][0] <= value <= params[name][1]:
                yield (f"reference.forward.target.{name}: {value} lies outside its box "
                       f"parameters.{name} = {list(params[name])}; the known answer must be "
                       "one the calibration can find")
    if ref["source"] == "dumps" and not ref["dumps"]["md"]["enabled"]:
        yield from _dump_file_problems(ref["dumps"], root)
    if ref["source"] == "dumps" and ref["dumps"]["md"]["enabled"]:
        yield from _md_problems(ref["dumps"], Path(root) / md_dir)


def _md_problems(dumps: Mapping[str, Any], out_dir: Path) -> Iterator[str]:
    """The MD run's settings make whole numbers of steps, its units are the ingestion's, and
    LAMMPS can write to its output directory ``out_dir`` (under ``results``)."""
    from grassego.md import SYSTEMS, deck_variables, lammps_safe_dir, shear_settings

    try:
        lammps_safe_dir(Path(os.path.abspath(out_dir)))
    except InputError as exc:
        yield f"results: the MD run (reference.dumps.md.enabled) writes to {exc}"

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
    from grassego.plausibility import reference_problems, snapshot_problems

    strain = np.asarray(ds["strain"].values)
    spacing = float(np.max(np.diff(strain))) if strain.size > 1 else 0.0
    implausible = reference_problems(ds, None, config["reference"]["accept_unusual"])
    if implausible:
        return [f"{key}: {path}: implausible reference: {'; '.join(implausible)}"]
    problems = [f"objective.snapshot_strains: {p} ({path})"
                for p in snapshot_problems(strain, config["objective"]["snapshot_strains"])]
    for s in config["report"]["field_strains"]:
        if s < strain.min() - spacing or s > strain.max() + spacing:
            problems.append(f"report.field_strains: {s} lies outside the reference data's strain "
                            f"range [{strain.min():g}, {strain.max():g}] ({path})")
            break
    window, top = config["objective"]["overshoot_window"], float(ds["strain_ss"].max())
    if window[0] >= top:
        problems.append(f"objective.overshoot_window: {list(window)} lies beyond the reference's "
                        f"stress-strain data (up to strain {top:g}, {path})")
    if problems:
        return problems
    problems += cell_problems(ds, config["solver"]["constants"], str(path))
    problems += units_problems(ds, config["solver"]["units"], config["solver"]["constants"],
                               str(path))
    if any(p.startswith("solver.units") for p in problems):
        return problems  # the box check below would judge LJ data with CuZr's constants
    if not config["reference"]["accept_unusual"]:
        problems += modulus_problems(ds, config["solver"]["constants"], str(path))
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


#: Largest factor, either way, between the model's shear modulus and the reference's elastic
#: slope that passes without reference.accept_unusual.
MODULUS_FACTOR = 3.0


def modulus_problems(reference, constants: Mapping[str, Any], source: str) -> list[str]:
    """The model's shear modulus (``solver.constants.mu_GPa`` or its default) against the
    elastic slope of the reference's stress-strain curve (same units): more than
    :data:`MODULUS_FACTOR` apart, the model's elastic response is not the data's."""
    from grassego.init_config import elastic_modulus
    from grassego.stz import ModelConstants

    mu = ModelConstants(**constants).mu_GPa
    try:
        slope = elastic_modulus(reference["strain_ss"].values,
                                reference["stress_strain"].values.astype(np.float64),
                                source).mu_GPa
    except InputError:  # no elastic part to compare with
        return []
    if 1 / MODULUS_FACTOR <= mu / slope <= MODULUS_FACTOR:
        return []
    given = "" if "mu_GPa" in constants else " (the default)"
    return [f"solver.constants.mu_GPa: {mu:g}{given}, but the elastic slope of {source}'s "
            f"stress-strain curve is {slope:.3g}: more than {MODULUS_FACTOR:g} times apart "
            "(units?); set it near the slope, or reference.accept_unusual: true if intended"]


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
    units = case_units(reference)
    return (f"{key}: no parameter set in the box can start; even at E0 = {corner['E0']:g} "
            f"{units.label('energy')} and beta = {corner['beta']:g} "
            f"{units.label('inverse_energy')}: {'; '.join(reasons)}")


def start_problems(reference, point: Mapping[str, float], constants: Mapping[str, Any]
                   ) -> list[str]:
    """Why a run at ``point`` (parameter → value) would be rejected before it starts, by the
    solver's own rule on the reference's first and last PE fields (empty: it can start)."""
    from grassego.stz import ModelConstants
    from grassego.stz.params import prepare_inputs

    pe = np.asarray(reference["pe"].values, dtype=np.float64)
    inputs = prepare_inputs({k: [v] for k, v in point.items()}, pe[0], pe[-1],
                            ModelConstants(**constants),
                            case_units(reference).label("temperature"))
    return inputs.reasons(0)


def _results_problems(config: Mapping[str, Any], root: str | Path) -> Iterator[str]:
    """Check ``results`` (relative to ``root``) names a directory the workflow can create or
    write: not empty nor the filesystem root, no ``{``/``}`` (Snakemake would read a
    wildcard), no regular file on the way, write permission where it is (to be) created."""
    results = config["results"]
    path = Path(os.path.abspath(Path(root) / results))
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in results):
        yield (f"results: {results!r} contains a control character (a newline, a tab); name a "
               "directory without one")
        return
    if not results.strip() or path == Path(path.anchor):
        yield (f"results: {results!r} would put the outputs at the filesystem root; name a "
               "directory, e.g. results")
        return
    workdir = Path(os.path.abspath(root))
    if path == workdir or path in workdir.parents:
        yield (f"results: {results!r} is the working directory {workdir} or holds it; the "
               "outputs would mix with the inputs: name a subdirectory, e.g. results")
        return
    too_long = _long_component(path)
    if too_long:
        yield f"results: {too_long}"
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
