"""Nothing a user hands in overwrites their data or passes as a wrong answer (issue 22), one
table per entry point: each bad input stops with a non-zero exit status and one error line
naming the file or key, no traceback, and nothing written or deleted.

``CLI_CASES`` run ``grassego`` in-process; ``PLAN_CASES`` check the test case with one thing
changed as the Snakefile does (a few of them through ``snakemake -n``); the plausibility flag's
``ACCEPTED`` cases pass on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from conftest import ROOT
from grassego.cli import build_parser, main
from grassego.config import ConfigError, check_workflow_config
from grassego.fields import read_reference, write_reference
from grassego.plausibility import ACCEPT_UNUSUAL

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def _reference_variants(ref: xr.Dataset, d: Path) -> None:
    """The shipped reference and broken copies of it in ``d``."""
    write_reference(ref, d / "ref.nc")
    write_reference(ref.assign_coords(strain=ref["strain"] * 100,
                                      strain_ss=ref["strain_ss"] * 100), d / "percent.nc")
    write_reference(ref.isel(frame=[0, ref.sizes["frame"] - 1]), d / "two_frames.nc")
    zero = ref.copy()
    zero["exy"] = zero["exy"] * 0
    write_reference(zero, d / "zero.nc")
    mpa = ref.copy()
    mpa["stress_strain"] = mpa["stress_strain"] * 1000
    write_reference(mpa, d / "mpa.nc")
    write_reference(ref.isel(x=slice(0, None, 2), y=slice(0, None, 2)), d / "coarse.nc")
    write_reference(ref.isel(frame=slice(0, None, 10)), d / "sparse.nc")  # a frame every 0.05
    (d / "empty.nc").write_bytes(b"")
    runs = ref[["exy"]].expand_dims(run=2).transpose("run", "frame", "y", "x")
    runs["tau_mean"] = ref["stress_strain"].expand_dims(run=2)
    runs["status"] = ("run", np.zeros(2, dtype=np.int8))
    runs["wall_time"] = ("run", np.zeros(2))
    runs.to_netcdf(d / "runs.nc")


def _legacy_dir(d: Path) -> None:
    """A small legacy text data set (5 frames of 4 x 6, a stress trace in bar)."""
    d.mkdir()
    rng = np.random.default_rng(1)
    for n in range(5):
        for prefix, values in (("pe", -3.36 + 1e-3 * rng.standard_normal((4, 6))),
                               ("Exy", 0.1 * n + 0.01 * rng.standard_normal((4, 6)))):
            rows = [" ".join(f"{v:.8f}" for v in row) for row in values]
            (d / f"{prefix}.MD.{n}").write_text("\n".join(["6 4 0 0", *rows]) + "\n")
    rows = [f"{1000 * i}\t100\t0\t{-2000.0 * i}\t5\t6\t{-500.0 * i:.1f}" for i in range(21)]
    (d / "stress.txt").write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, cuzr_reference_path) -> Path:
    """A directory of inputs: references (good and broken), a parameter CSV, dump and log
    stand-ins, links to them, a legacy text directory."""
    d = tmp_path_factory.mktemp("inputs")
    _reference_variants(read_reference(cuzr_reference_path), d)
    (d / "p.csv").write_text("c0,s_y,beta,E0\n0.2,0.9,7.0,-3.37\n")
    (d / "d.dump").write_text("ITEM: TIMESTEP\n0\n")
    (d / "l.log").write_text("LAMMPS\n")
    os.symlink(d / "ref.nc", d / "ref_link.nc")
    os.link(d / "p.csv", d / "p_hard.csv")
    _legacy_dir(d / "legacy")
    return d


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): (p.read_bytes() if p.is_file() else b"")
            for p in sorted(d.rglob("*")) if ".snakemake" not in p.parts}


SIM = ["simulate", "--reference", "ref.nc", "--params", "p.csv"]
#: (id, argv, text the one error line must contain)
CLI_CASES = [
    # data loss: an output that resolves to an input
    ("simulate-out-is-reference", [*SIM, "--out", "ref.nc"], "ref.nc: is one of this command"),
    ("simulate-out-is-params", [*SIM, "--out", "p.csv"], "p.csv: is one of this command"),
    ("simulate-out-symlink", [*SIM, "--out", "ref_link.nc"], "ref_link.nc: resolves to the input"),
    ("simulate-out-hard-link", [*SIM, "--out", "p_hard.csv"], "p_hard.csv: resolves to the input"),
    ("simulate-out-other-spelling", [*SIM, "--out", "./legacy/../ref.nc"],
     "resolves to the input ref.nc"),
    ("ingest-out-is-dump", ["ingest", "d.dump", "--log", "l.log", "--out", "d.dump"],
     "d.dump: is one of this command"),
    ("ingest-out-is-log", ["ingest", "d.dump", "--log", "l.log", "--out", "l.log"],
     "l.log: is one of this command"),
    ("ingest-out-matches-pattern", ["ingest", "*.dump", "--out", "d.dump"], "d.dump: is one of"),
    ("init-config-out-is-reference-forced", ["init-config", "ref.nc", "--out", "ref.nc",
                                             "--force"], "ref.nc: is one of this command"),
    ("ingest-legacy-out-in-directory", ["ingest-legacy", "legacy", "legacy/stress.txt",
                                        "--stress-file", "stress.txt"],
     "legacy/stress.txt: is one of this command"),
    # wrong answers: implausible or mismatched references
    ("distance-runs-as-reference", ["distance", "runs.nc", "ref.nc"], "runs.nc: holds 2 runs"),
    ("distance-percent-strain", ["distance", "percent.nc", "ref.nc"], "a strain in percent"),
    ("distance-two-frames", ["distance", "two_frames.nc", "ref.nc"], "2 frame(s)"),
    ("distance-zero-field", ["distance", "zero.nc", "ref.nc"], "zero everywhere"),
    ("distance-stress-in-mpa", ["distance", "mpa.nc", "ref.nc"], "peak shear stress 1541"),
    ("distance-repeated-snapshots", ["distance", "ref.nc", "ref.nc", "--snapshots", "0.1",
                                     "0.1"], "--snapshots: 0.1 is given more than once"),
    ("init-config-percent-strain", ["init-config", "percent.nc", "--out", "c.yaml"],
     "percent.nc: implausible reference"),
    ("init-config-stress-in-mpa", ["init-config", "mpa.nc", "--out", "c.yaml"],
     "mpa.nc: implausible reference"),
    ("ingest-legacy-percent-strain", ["ingest-legacy", "legacy", "out.nc", "--stress-file",
                                      "stress.txt", "--max-strain", "40"], "legacy: implausible"),
    # unclear errors made clear
    ("distance-grid-mismatch", ["distance", "ref.nc", "coarse.nc"], "coarse.nc: its grid 16 x 16"),
    ("distance-bad-rank", ["distance", "ref.nc", "ref.nc", "--rank", "x"], "--rank: 'x'"),
    ("distance-bad-weights", ["distance", "ref.nc", "ref.nc", "--weights", "-1", "0"],
     "--weights: need two finite"),
    ("ingest-grid-zero", ["ingest", "d.dump", "--out", "o.nc", "--grid", "0", "0"],
     "grid: need two grid sizes"),
    ("init-config-legacy-directory", ["init-config", "legacy", "--out", "c.yaml"],
     "legacy: is a directory; a NetCDF file is expected"),
    # break-it round two (docs/break_it_round2.md)
    ("simulate-out-is-directory", [*SIM, "--out", "legacy"], "legacy: is a directory"),
    ("init-config-out-is-directory-forced", ["init-config", "ref.nc", "--out", "legacy",
                                             "--force"], "legacy: is a directory"),
    ("simulate-repeated-snapshots", [*SIM, "--out", "o.nc", "--snapshot-strains", "0.1", "0.1"],
     "--snapshot-strains: 0.1 is given more than once"),
    ("md-out-dir-is-a-file", ["md", "--out-dir", "p.csv"], "p.csv: exists and is not a directory"),
    ("distance-empty-file", ["distance", "ref.nc", "empty.nc"], "empty.nc: empty file (0 bytes)"),
    ("distance-compared-file-too-coarse", ["distance", "ref.nc", "sparse.nc"],
     "sparse.nc: snapshot strains 0.04 and 0.06 both fall on the frame at strain 0.05"),
    ("ingest-negative-width", ["ingest", "d.dump", "--out", "o.nc", "--width", "-1"],
     "width: must be > 0"),
]


@pytest.mark.parametrize("argv,needle", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_a_bad_command_line_stops_with_one_line_and_touches_nothing(inputs, monkeypatch, capsys,
                                                                    argv, needle):
    monkeypatch.chdir(inputs)
    before = _tree(inputs)
    assert main(argv) != 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], lines
    assert _tree(inputs) == before


#: Unusual references accepted on purpose.
ACCEPTED = [["distance", "mpa.nc", "ref.nc", "--accept-unusual"],
            ["distance", "zero.nc", "zero.nc", "--accept-unusual", "--unequal", "min"]]


@pytest.mark.parametrize("argv", ACCEPTED, ids=["mpa", "zero"])
def test_the_unusual_is_accepted_on_purpose(inputs, monkeypatch, argv):
    monkeypatch.chdir(inputs)
    assert main(argv) == 0


def test_init_config_accepting_the_unusual_writes_the_config_key(tmp_path, inputs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["init-config", str(inputs / "mpa.nc"), "--out", "case.yaml",
                 "--accept-unusual"]) == 0
    assert yaml.safe_load((tmp_path / "case.yaml").read_text())["reference"]["accept_unusual"]


def test_the_flag_and_the_config_key_share_one_default():
    schema = yaml.safe_load(SCHEMA.read_text())
    key = schema["properties"]["reference"]["properties"]["accept_unusual"]
    assert key["default"] is ACCEPT_UNUSUAL is False
    assert build_parser().parse_args(["distance", "a", "b"]).accept_unusual is ACCEPT_UNUSUAL


def test_every_command_declares_what_it_reads_and_writes():
    """The overwrite check (grassego.inputs_outputs) sees every command's files."""
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, parser in sub.choices.items():
        assert {"reads", "writes"} <= set(parser._defaults), name


def test_the_plan_builds_every_settings_class():
    """No config section escapes check_config: every settings class with a ``from_config`` is
    built by it (grassego.config.settings_builders). Calibration and Problem are built from the
    reference and the sections those builders check, not from a section of their own."""
    import dataclasses
    import importlib
    import inspect
    import pkgutil

    import grassego
    from grassego.config import settings_builders

    built = {build.__self__ for _, build in settings_builders()}
    found = set()
    for info in pkgutil.walk_packages(grassego.__path__, "grassego."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (cls.__module__ == module.__name__ and dataclasses.is_dataclass(cls)
                    and "from_config" in vars(cls)):
                found.add(cls)
    from grassego.calibration import Calibration
    from grassego.problem import Problem

    assert found - {Calibration, Problem} == built, found ^ built


# ---- the workflow: snakemake -n stops before any job ------------------------------------------
def _set(cfg: dict, key: str, value) -> None:
    *path, last = key.split(".")
    for name in path:
        cfg = cfg.setdefault(name, {})
    cfg[last] = value


def _plan_config(d: Path, inputs: Path, edits: dict) -> str:
    """The test case's config with ``edits`` (dotted key -> value; a ``None`` value removes
    the key) and its reference at ``inputs/ref.nc``, as YAML text."""
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    cfg["reference"]["legacy"]["path"] = str(inputs / "ref.nc")
    for key, value in edits.items():
        if value is None:
            *path, last = key.split(".")
            section = cfg
            for name in path:
                section = section[name]
            section.pop(last)
        else:
            _set(cfg, key, value)
    return yaml.safe_dump(cfg, sort_keys=False)


MD_IN_A_SPACE = {"results": "my results", "reference.source": "dumps",
                 "reference.dumps.units": "lj", "reference.dumps.md": {"enabled": True}}
#: (id, config edits or a function of the config text, text the one error line must contain)
PLAN_CASES = [
    ("repeated-section", lambda text: text + "ego:\n  seeds: [0]\n", "key 'ego' appears twice"),
    ("repeated-key", lambda text: text.replace("design:\n", "design:\n  n_samples: 4\n"),
     "key 'n_samples' appears twice"),
    ("tr-min-above-tr-max", {"ego.tr_min": 0.9, "ego.tr_max": 0.5}, "ego.tr_min"),
    ("md-results-with-space", MD_IN_A_SPACE, "results: the MD run"),
    ("results-with-newline", {"results": "res\nults"}, "results: 'res\\nults' contains a control"),
    ("results-is-workdir", {"results": "."}, "results: '.' is the working directory"),
    ("results-300-characters", {"results": "r" * 300}, "results: a path component is 300 bytes"),
    ("fixed-E0-nan", {"parameters.E0": None, "fixed": {"E0": float("nan")},
                      "report.compare.paper_optimum.E0": None}, "fixed.E0: must be a finite"),
    ("overshoot-window-beyond-max-strain", {"objective.overshoot_window": [7.48, 14.08]},
     "objective.overshoot_window: [7.48, 14.08] lies beyond the model's final strain"),
    ("overshoot-window-beyond-data", {"objective.overshoot_window": [0.6, 0.7],
                                      "solver.constants": {"max_strain": 1.0}},
     "objective.overshoot_window: [0.6, 0.7] lies beyond the reference's stress-strain data"),
    ("repeated-snapshot-strains", {"objective.snapshot_strains": [0.1, 0.1, 0.5]},
     "objective.snapshot_strains: 0.1 is given more than once"),
    ("forward-target-outside-box", {"reference.source": "forward",
                                    "reference.forward": {"base": "REF", "target": {
                                        "c0": 5.0, "s_y": 1.0, "beta": 7.0, "E0": -3.37}},
                                    "report.compare": {}},
     "reference.forward.target.c0: 5.0 lies outside its box"),
    ("reference-percent-strain", {"reference.legacy.path": "percent.nc"}, "strain in percent"),
    ("reference-two-frames", {"reference.legacy.path": "two_frames.nc"}, "2 frame(s)"),
    ("reference-zero-field", {"reference.legacy.path": "zero.nc"}, "zero everywhere"),
    ("reference-stress-in-mpa", {"reference.legacy.path": "mpa.nc"}, "peak shear stress 1541"),
    # break-it round two (docs/break_it_round2.md)
    ("empty-config-file", lambda text: "", "holds no config sections"),
    ("config-file-is-a-list", lambda text: "- results\n", "holds no config sections"),
    ("model-modulus-far-from-the-data", {"solver.constants": {"mu_GPa": 0.2}},
     "solver.constants.mu_GPa: 0.2, but the elastic slope"),
    ("reference-missing", {"reference.legacy.path": "nope.nc"}, "no such file or directory"),
    ("reference-under-results", lambda text: text.replace(REF_LINE, "results/fields.nc"),
     "reference.legacy.path: 'results/fields.nc' lies under results"),
    ("reference-path-component-300", lambda text: text.replace(REF_LINE, "x" * 300 + "/r.nc"),
     "reference.legacy.path: a path component is 300 bytes"),
    ("results-holds-the-workdir", {"results": ".."}, "results: '..' is the working directory"),
]
#: The reference path in the cases' config text, replaced by some cases.
REF_LINE = "INPUTS/ref.nc"


def _plan(tmp: Path, text: str) -> subprocess.CompletedProcess:
    (tmp / "case.yaml").write_text(text)
    return subprocess.run([*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp), "-n",
                           "--configfile", str(tmp / "case.yaml")],
                          capture_output=True, text=True, timeout=300)


def _case_text(tmp: Path, inputs: Path, edit) -> str:
    if callable(edit):
        text = _plan_config(tmp, inputs, {})
        return edit(text.replace(str(inputs / "ref.nc"), REF_LINE)).replace(
            REF_LINE, str(inputs / "ref.nc"))
    edits = {k: (str(inputs / v) if k == "reference.legacy.path" else v) for k, v in edit.items()}
    if "reference.forward" in edits:
        edits["reference.forward"] = {**edits["reference.forward"], "base": str(inputs / "ref.nc")}
    return _plan_config(tmp, inputs, edits)


#: The cases also run through ``snakemake -n`` (each costs a Snakemake start): the others call
#: the Snakefile's check (grassego.config.check_workflow_config) in-process.
THROUGH_SNAKEMAKE = ("repeated-section", "tr-min-above-tr-max", "md-results-with-space")


@pytest.mark.parametrize("edit,needle", [c[1:] for c in PLAN_CASES],
                         ids=[c[0] for c in PLAN_CASES])
def test_a_bad_config_is_one_line_naming_the_key(tmp_path, inputs, edit, needle):
    text = _case_text(tmp_path, inputs, edit)
    (tmp_path / "case.yaml").write_text(text)
    before = _tree(tmp_path)
    with pytest.raises(ConfigError) as err:
        check_workflow_config(yaml.safe_load(text), [tmp_path / "case.yaml"], SCHEMA, tmp_path)
    lines = str(err.value).splitlines()
    assert len(lines) == 1 and needle in lines[0], lines
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("case", THROUGH_SNAKEMAKE)
def test_a_bad_config_stops_the_dry_run_before_any_job(tmp_path, inputs, case):
    _, edit, needle = next(c for c in PLAN_CASES if c[0] == case)
    text = _case_text(tmp_path, inputs, edit)
    (tmp_path / "case.yaml").write_text(text)
    before = _tree(tmp_path)
    proc = _plan(tmp_path, text)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[0] == "Config error:" and len(lines) == 2 and needle in lines[1], lines
    assert _tree(tmp_path) == before


def test_merge_keys_may_override_in_a_config(tmp_path, inputs):
    """The strict reader refuses repeated keys, not YAML's merge keys."""
    text = _plan_config(tmp_path, inputs, {})
    text = text[:text.index("report:")] + (
        "report:\n  compare:\n    paper: &paper {c0: 0.164, s_y: 0.906, beta: 6.882, E0: -3.369}\n"
        "    mine:\n      <<: *paper\n      c0: 0.2\n")
    (tmp_path / "case.yaml").write_text(text)
    config = yaml.safe_load(text)
    check_workflow_config(config, [tmp_path / "case.yaml"], SCHEMA, tmp_path)
    assert config["report"]["compare"]["mine"] == {"c0": 0.2, "s_y": 0.906, "beta": 6.882,
                                                   "E0": -3.369}


def test_an_unusual_reference_accepted_in_the_config_plans(tmp_path, inputs):
    text = _plan_config(tmp_path, inputs, {"reference.legacy.path": str(inputs / "mpa.nc"),
                                           "reference.accept_unusual": True})
    check_workflow_config(yaml.safe_load(text), [], SCHEMA, tmp_path)


def test_killing_simulate_leaves_no_output_and_the_inputs_intact(tmp_path, inputs):
    """kill -9 while the solver runs: no half-written runs file, the inputs as they were."""
    import signal
    import time

    params = tmp_path / "p.csv"
    rows = [f"{0.1 + 0.01 * i},0.9,7.0,-3.37" for i in range(64)]
    params.write_text("c0,s_y,beta,E0\n" + "\n".join(rows) + "\n")
    before = _tree(inputs)
    out = tmp_path / "runs.nc"
    proc = subprocess.Popen([sys.executable, "-m", "grassego.cli", "simulate", "--reference",
                             str(inputs / "ref.nc"), "--params", str(params), "--out", str(out),
                             "--batch-size", "8", "--threads", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    for line in proc.stderr:  # killed once the first chunk of runs is solved
        if " runs/s, ETA " in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "finished before it was killed"
    assert not out.exists()
    assert _tree(inputs) == before
