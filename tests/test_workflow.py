"""End-to-end: the Snakemake workflow on the shipped CuZr reference with a tiny budget.

Also: a rerun with nothing changed does nothing; changing only the EGO budget reruns only the
EGO, uncertainty and report rules and continues the saved EGO history; each config key reruns exactly the
steps that read it (table ``RERUNS``); killing the workflow in the middle of
the EGO job and rerunning loses no evaluation; a second run on a results directory in use is
refused; the SLURM profile parses (dry run, even while the results directory is in use).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from case_labels import check_case_labels
from conftest import ROOT, replica
from grassego.config import calibration_sections, validate_schema
from grassego.design import replicate_design
from grassego.ego import result_from_history
from grassego.fields import read_reference, write_reference
from grassego.init_config import SCHEMA
from grassego.problem import Problem
from grassego.units import PHYSICAL

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def _config(tmp: Path, max_iter: int) -> Path:
    """The test case, .test/config/config.yaml (8 samples and 2 EGO seeds in 2 batches, q = 2),
    with ``max_iter`` EGO iterations, on a copy of its reference (the tests edit it)."""
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    reference = tmp / "reference.nc"
    if not reference.exists():
        shutil.copy2(ROOT / ".test" / cfg["reference"]["legacy"]["path"], reference)
    cfg["reference"]["legacy"]["path"] = str(reference)
    cfg["ego"]["max_iter"] = max_iter
    path = tmp / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _joint_config(tmp: Path, max_iter: int) -> Path:
    """The test case as a joint calibration (:func:`_config`): its reference and a replica of
    it (fields shifted by 9 rows, stress 4 % higher; conftest.replica), both calibrated."""
    path = _config(tmp, max_iter)
    cfg = yaml.safe_load(path.read_text())
    first = cfg.pop("reference")
    second = tmp / "replica.nc"
    write_reference(replica(read_reference(first["legacy"]["path"]), 9, 1.04), second)
    cfg["references"] = {"a": first, "b": {"source": "legacy", "legacy": {"path": str(second)}}}
    path.write_text(yaml.safe_dump(cfg))
    return path


def _smk(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp), "--cores", "2",
           "--configfile", str(tmp / "tiny.yaml"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-6000:]}")
    return proc


def _planned_rules(output: str) -> set[str]:
    """Rule names of the 'Job stats' table of a dry run."""
    block = output.split("Job stats:", 1)[1] if "Job stats:" in output else ""
    names = set()
    for line in block.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+\d+\s*$", line.strip())
        if m and m.group(1) != "total":
            names.add(m.group(1))
        elif not line.strip():
            break
    return names


def _planned_jobs(output: str) -> set[str]:
    """The jobs of a dry run: ``rule`` or ``rule wildcards`` (as Snakemake prints them)."""
    jobs, rule = set(), None
    for line in output.splitlines() + ["rule end:"]:
        m = re.match(r"^(?:local)?rule (\w+):$", line.strip())
        if m or line.strip() == "":
            if rule is not None:
                jobs.add(rule)
            rule = m.group(1) if m else None
            continue
        m = re.match(r"^wildcards: (.*)$", line.strip())
        if m and rule is not None:
            rule = f"{rule} {m.group(1)}"
    return jobs


@pytest.mark.slow
def test_workflow_end_to_end(tmp_path: Path):
    _config(tmp_path, max_iter=1)
    _smk(tmp_path)
    results = tmp_path / "results"
    for rel in ("reference/fields.nc", "design/seed_0/samples.csv", "design/seed_1/samples.csv",
                "runs/seed_0/batch_0.nc", "runs/seed_1/batch_1.nc", "training/seed_0.csv",
                "training/seed_1.csv", "ego/seed_0/result.nc", "ego/seed_1/result.nc",
                "summary/summary.csv", "summary/summary.json", "figures/convergence.png",
                "figures/strain_fields.png", "figures/stress_strain.png",
                "figures/teff_fields.png", "figures/band_profiles.png",
                "figures/delta_history.png", "logs/ego/seed_0.log", "benchmarks/design/seed_0.tsv",
                "uncertainty/uncertainty.json", "uncertainty/uncertainty.nc",
                "figures/uncertainty_profiles.png", "figures/uncertainty_pairs.png",
                "figures/uncertainty_sobol.png", "summary/uncertainty.html",
                "summary/diagnosis.html",
                "logs/uncertainty.log", "benchmarks/uncertainty.tsv"):
        assert (results / rel).is_file(), rel
    with xr.open_dataset(results / "ego" / "seed_0" / "result.nc") as ds:
        first = ds.load()
    with xr.open_dataset(results / "ego" / "seed_1" / "result.nc") as ds:
        other = ds.load()
    assert first.sizes["evaluation"] == 8 + 2  # design + one EGO iteration of q = 2
    # seeds are independent replicates: each has its own initial design, the one the library
    # makes (columns in the config's parameter order, every bit kept)
    assert not np.allclose(first["X"].values[:8], other["X"].values[:8])
    cfg = yaml.safe_load((tmp_path / "tiny.yaml").read_text())
    names = list(cfg["parameters"])
    bounds = np.array([cfg["parameters"][n] for n in names])
    for seed, history in ((0, first), (1, other)):
        design = pd.read_csv(results / "design" / f"seed_{seed}" / "samples.csv")
        assert list(design.columns) == ["sample", "seed", *names]
        assert (design["seed"] == seed).all()
        expected = replicate_design("lhs", 8, bounds, cfg["design"]["seed"], seed)
        np.testing.assert_array_equal(design[names].to_numpy(), expected)
        np.testing.assert_array_equal(history["X"].values[:8], expected)
    summary = json.loads((results / "summary" / "summary.json").read_text())
    assert list(summary)[:4] == ["seeds_agree", "seed_agreement", "parameters_at_bound",
                                 "misfit"]
    assert summary["seed_agreement"] == summary["uncertainty"]["seed_agreement"]
    assert summary["misfit"]["regimes"]["pre_peak"] == [0.058, 0.088]  # the CuZr MD's
    assert set(summary["misfit"]["per_set"]) == {"seed 0", "seed 1"}
    assert summary["misfit"]["sentence"].startswith("The largest misfit is")
    assert [r["seed"] for r in summary["per_seed"]] == [0, 1]
    assert summary["delta_std"] > 0
    md = summary["fidelity"]["MD"]
    assert md["peak_stress"] == pytest.approx(1.541, abs=1e-3)
    assert md["localisation@0.5"] == pytest.approx(2.91, abs=0.01)
    for label in ("seed 0", "seed 1", "paper_optimum"):
        assert {"peak_stress", "stress_drop_value", "flow_stress", "band_fwhm@0.5",
                "band_row@0.1", "localisation@0.5"} <= set(summary["fidelity"][label])
    uq = summary["uncertainty"]
    assert uq["evaluations"] == 2 * 2 + 2 + 1 * len(names)  # the stated budget
    assert set(uq["verdicts"]) == set(names) == set(uq["near_optimal"]["intervals"])
    assert {"std_log_delta", "std_delta", "per_seed"} <= set(uq["noise"])
    table = (results / "summary" / "summary.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in table[1:]] == ["seed 0", "seed 1", "paper_optimum",
                                                         "MD"]
    # every output speaks the case's (physical) units (tests/test_case_units.py: an LJ case)
    check_case_labels(results, PHYSICAL)

    # nothing changed -> nothing to do
    dry = _smk(tmp_path, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr

    # only the EGO budget changed -> only ego and what follows it rerun, and the history is
    # continued
    _config(tmp_path, max_iter=2)
    dry = _smk(tmp_path, "-n")
    assert _planned_rules(dry.stdout + dry.stderr) == {"ego", "uncertainty", "report", "all"}
    # ... even when seed 0's history and its backup are both damaged: Snakemake deletes
    # result.nc when the job starts, and the copy kept when the seed finished restores it
    state = next((results / "ego" / "seed_0").glob("state-*"))
    (state / "history.nc").write_bytes((state / "history.nc").read_bytes()[:500])
    (state / "history.nc.bak").write_text("not netcdf")
    _smk(tmp_path)
    restored = [line for line in (results / "logs" / "ego" / "seed_0.log").read_text()
                .splitlines() if "restored" in line]
    assert len(restored) == 1 and "from history.nc.finished" in restored[0], restored
    with xr.open_dataset(results / "ego" / "seed_0" / "result.nc") as ds:
        second = ds.load()
    assert second.sizes["evaluation"] == 8 + 4
    xr.testing.assert_equal(second["X"].isel(evaluation=slice(0, 10)), first["X"])
    xr.testing.assert_equal(second["y"].isel(evaluation=slice(0, 10)), first["y"])

    done = (tmp_path / "tiny.yaml").read_text()
    # a seed's design, runs, training set and EGO are computed once, whatever the other seeds
    for seeds, jobs in SEED_RERUNS:
        cfg = yaml.safe_load(done)
        cfg["ego"]["seeds"] = seeds
        (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        dry = _smk(tmp_path, "-n")
        assert _planned_jobs(dry.stdout + dry.stderr) == jobs, seeds
        (tmp_path / "tiny.yaml").write_text(done)

    # each config key (and, last, the reference file) reruns exactly the steps that read it
    for key, value, planned in RERUNS:
        cfg = yaml.safe_load(done)
        if key == "edit reference":
            edited = read_reference(cfg["reference"]["legacy"]["path"])
            edited.attrs["title"] += " (edited)"
            write_reference(edited, cfg["reference"]["legacy"]["path"])
        else:
            *path, last = key.split(".")
            section = cfg
            for name in path:
                section = section.setdefault(name, {})  # a section the file leaves out
            section[last] = value
        (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        dry = _smk(tmp_path, "-n")
        assert _planned_rules(dry.stdout + dry.stderr) == {*planned, "all"}, key
        (tmp_path / "tiny.yaml").write_text(done)


def _source_case(tmp: Path, source: str) -> Path:
    """The test case of a reference ``source`` (.test/config/SOURCE.yaml) with its file paths,
    relative to .test/, made absolute, to run in ``tmp``."""
    cfg = yaml.safe_load((ROOT / ".test" / "config" / f"{source}.yaml").read_text())
    forward = cfg["reference"].get("forward")
    if forward:
        forward["base"] = str((ROOT / ".test" / forward["base"]).resolve())
    path = tmp / f"{source}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("source", ["forward", "md"])
def test_each_reference_source_runs_end_to_end(tmp_path: Path, source: str):
    """Beside the legacy case above, the other reference sources end to end on their .test
    configs: ``forward`` (a continuum run at a target, the paper's validation mode) and
    ``dumps`` from a LAMMPS run made by the workflow (``md``), both coarse-grained, calibrated
    and reported. The forward case is checked against itself: the target's own Δ is zero to
    float32 rounding while the calibrated optimum's is not; the md case reports in LJ units."""
    config = _source_case(tmp_path, source)
    cmd = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--cores", "2",
           "--configfile", str(config)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-6000:]
    results = tmp_path / yaml.safe_load(config.read_text())["results"]
    summary = json.loads((results / "summary" / "summary.json").read_text())
    assert summary["per_seed"][0]["delta"] > 0
    reference = read_reference(results / "reference" / "fields.nc")
    if source == "forward":
        deltas = summary["delta_of_compared_sets"]
        assert deltas["target"] < 1e-6 < summary["per_seed"][0]["delta"], deltas
        assert summary["fidelity"]["target"]["peak_stress"] == pytest.approx(
            summary["fidelity"]["MD"]["peak_stress"], rel=1e-6)  # float32 in the reference
    else:
        assert (results / "md" / "log.lammps").is_file()
        assert reference.sizes["frame"] == 7
        assert (reference.sizes["y"], reference.sizes["x"]) == (8, 8)
        assert summary["units"]["columns"]["s_y"] == "epsilon/sigma^2"
    shutil.rmtree(tmp_path / ".snakemake", ignore_errors=True)


#: (change to .test/config/joint.yaml, the exact jobs a dry run then plans besides the report):
#: a new holdout reruns only its MD, ingestion, prediction and single fit (and the other
#: holdout's prediction, which runs every single fit's optimum); a new calibrate reference
#: its MD, ingestion, runs and single fit, then the joint calibration (the existing
#: reference's runs are kept); a changed holdout only its own steps; a weight the calibration,
#: not a run; single fits off only the prediction. A new reference is glass_b's settings with
#: the changes given.
GLASS_C = {"role": "holdout", "dumps": {"md": {"seed": 5}}}
SINGLE_C = {"simulate seed=0, batch=0, ref=glass_c", "simulate seed=0, batch=1, ref=glass_c",
            "collect_single ref=glass_c, seed=0", "ego_single ref=glass_c, seed=0"}
JOINT_RERUNS = [
    ({"references": {"glass_c": GLASS_C}},
     {"md ref=glass_c", "reference ref=glass_c", "predict ref=glass_c", "predict ref=glass_b",
      *SINGLE_C}),
    ({"references": {"glass_c": {**GLASS_C, "role": "calibrate"}}},
     {"md ref=glass_c", "reference ref=glass_c", "collect seed=0", "ego seed=0",
      "predict ref=glass_b", *SINGLE_C}),
    ({"references": {"glass_b": {"dumps": {"md": {"seed": 6}}}}},
     {"md ref=glass_b", "reference ref=glass_b", "predict ref=glass_b",
      "simulate seed=0, batch=0, ref=glass_b", "simulate seed=0, batch=1, ref=glass_b",
      "collect_single ref=glass_b, seed=0", "ego_single ref=glass_b, seed=0"}),
    ({"references": {"glass_a": {"weight": 2.0}}},
     {"collect seed=0", "ego seed=0", "predict ref=glass_b"}),
    ({"ensemble": {"single_fits": False}}, {"predict ref=glass_b"}),
]


def _merged(base: dict, change: dict) -> dict:
    """``base`` with the nested mapping ``change`` laid over it."""
    out = dict(base)
    for key, value in change.items():
        out[key] = (_merged(base[key], value) if isinstance(value, dict)
                    and isinstance(base.get(key), dict) else value)
    return out


@pytest.mark.slow
def test_joint_calibration_with_a_holdout_runs_end_to_end(tmp_path: Path):
    """.test/config/joint.yaml: two LAMMPS replicas of a glass, one calibrated, one held out.
    The prediction is the optimum run on the held-out glass (its Δ there, not on the calibrated
    one), reported beside the in-sample Δ with its figure; then each change of
    :data:`JOINT_RERUNS` plans exactly its jobs."""
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "joint.yaml").read_text())
    config = tmp_path / "joint.yaml"
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    cmd = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--cores", "2",
           "--configfile", str(config)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-6000:]
    results = tmp_path / cfg["results"]
    summary = json.loads((results / "summary" / "summary.json").read_text())
    predicted = summary["prediction"]["glass_b"]["sets"]["seed 0"]
    assert (results / "figures" / "prediction_glass_b.png").is_file()

    filled = yaml.safe_load(config.read_text())
    validate_schema(filled, SCHEMA)
    result = result_from_history(results / "ego" / "seed_0" / "result.nc")
    delta = {name: Problem.from_config(read_reference(results / "reference" / name / "fields.nc"),
                                       calibration_sections(filled)).objective(
                                           result.x_best[None])[0][0]
             for name in ("glass_a", "glass_b")}
    assert predicted["delta"] == delta["glass_b"] != delta["glass_a"]
    assert predicted["delta_in_sample"] == delta["glass_a"] == result.y_best
    md = summary["prediction"]["glass_b"]["MD"]
    assert md["peak_stress"] != summary["fidelity"]["MD"]["peak_stress"]  # the other glass
    # single fits: glass_a alone is the joint problem here (one calibrate reference: same
    # designs, runs and Δ, so the same optimum); glass_b's optimum scores on glass_b as in its
    # own calibration
    single = summary["prediction"]["glass_b"]["single_fits"]
    assert summary["ensemble"]["single_fits"]["glass_a seed 0"]["delta"] == result.y_best
    assert single["glass_a seed 0"]["delta"] == predicted["delta"]
    assert single["glass_b seed 0"]["delta"] == single["glass_b seed 0"]["delta_own"]
    comparison = summary["prediction"]["glass_b"]["comparison"]
    assert comparison["own_fit_delta"] == single["glass_b seed 0"]["delta_own"]
    assert (results / "figures" / "ensemble.png").is_file()
    assert summary["units"]["columns"]["s_y"] == "epsilon/sigma^2"

    done = config.read_text()
    for change, planned in JOINT_RERUNS:
        new = {name: cfg["references"]["glass_b"] for name in change.get("references", {})
               if name not in cfg["references"]}
        config.write_text(yaml.safe_dump(_merged(cfg | {"references": {**cfg["references"],
                                                                        **new}}, change),
                                         sort_keys=False))
        dry = subprocess.run([*cmd, "-n"], capture_output=True, text=True, timeout=300)
        assert dry.returncode == 0, dry.stderr[-3000:]
        assert _planned_jobs(dry.stdout + dry.stderr) == {*planned, "report", "all"}, change
        config.write_text(done)
    shutil.rmtree(tmp_path / ".snakemake", ignore_errors=True)


DOWNSTREAM_OF_SIMULATE = {"simulate", "collect", "ego", "uncertainty", "report"}
#: (config key, new value, the rules a dry run must plan): every value a step reads reaches it
#: through its rule's params or inputs, and nothing else reruns.
RERUNS = [
    ("report.field_strains", [0.2, 0.5], {"report"}),
    ("report.compare.paper_optimum.c0", 0.2, {"report"}),
    ("ego.max_iter", 3, {"ego", "uncertainty", "report"}),
    ("ego.n_local", 100, {"ego", "uncertainty", "report"}),
    ("ego.kernel", "rbf", {"ego", "uncertainty", "report"}),
    ("uncertainty.noise_evaluations", 3, {"uncertainty", "report"}),
    ("uncertainty.identified_fraction", 0.5, {"uncertainty", "report"}),
    ("uncertainty.enabled", False, {"report"}),
    ("design.seed", 1, {"design", *DOWNSTREAM_OF_SIMULATE}),
    ("parameters.c0", [0.1, 1.0], {"design", *DOWNSTREAM_OF_SIMULATE}),
    ("objective.variant", "paper", DOWNSTREAM_OF_SIMULATE),
    ("objective.weights", [0.5, 0.5], DOWNSTREAM_OF_SIMULATE),
    ("objective.snapshot_strains", [0.05, 0.1, 0.5], {"reference", *DOWNSTREAM_OF_SIMULATE}),
    ("solver.dtype", "float64", DOWNSTREAM_OF_SIMULATE),
    ("solver.constants", {"chi_len_A": 25.0}, DOWNSTREAM_OF_SIMULATE),
    ("edit reference", None, {"reference", *DOWNSTREAM_OF_SIMULATE}),
]
#: (ego.seeds instead of [0, 1], the exact jobs a dry run plans): dropping a seed reruns only
#: the steps that pool the seeds, adding one computes only the new seed's design, runs,
#: training set and EGO.
SEED_RERUNS = [
    ([0], {"uncertainty", "report", "all"}),
    ([0, 2], {"design seed=2", "simulate seed=2, batch=0", "simulate seed=2, batch=1",
              "collect seed=2", "ego seed=2", "uncertainty", "report", "all"}),
]


def _history_rows(results: Path) -> xr.Dataset | None:
    """The EGO state history of seed 0 as saved so far (None before the first save)."""
    found = sorted((results / "ego" / "seed_0").glob("state-*/history.nc"))
    if not found:
        return None
    try:
        with xr.open_dataset(found[0]) as ds:
            return ds.load()
    except (OSError, ValueError):  # caught between the temporary file and its rename
        return None


#: EGO iterations of the killed run (killed after two of them).
ITERATIONS = 8


@pytest.mark.slow
@pytest.mark.parametrize("case", [_config, _joint_config], ids=["one reference", "joint"])
def test_killing_the_ego_job_loses_no_evaluation(tmp_path: Path, case):
    """A kill during the EGO job (of a calibration on one reference, and of a joint one on
    two) and a rerun: every evaluation saved before the kill is kept."""
    case(tmp_path, max_iter=ITERATIONS)
    results = tmp_path / "results"
    cmd = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--cores", "2",
           "--configfile", str(tmp_path / "tiny.yaml")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    saved = None
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            saved = _history_rows(results)
            if saved is not None and (saved["status"] != "pending").sum() >= 8 + 2 * 2:
                break  # two EGO iterations evaluated and saved
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # snakemake and the running ego script
        proc.wait()
    assert saved is not None, "killed too late"
    assert saved.sizes["evaluation"] < 8 + 2 * ITERATIONS, "killed too late"
    assert not (results / "ego" / "seed_0" / "result.nc").exists()

    _smk(tmp_path, "--unlock")
    # the EGO results only: the steps after them are the end-to-end test's
    _smk(tmp_path, "--rerun-incomplete", *(f"results/ego/seed_{s}/result.nc" for s in (0, 1)))
    with xr.open_dataset(results / "ego" / "seed_0" / "result.nc") as ds:
        final = ds.load()
    assert final.sizes["evaluation"] == 8 + 2 * ITERATIONS
    # every saved row is kept: evaluated ones with their Δ, proposals that were being evaluated
    # (status "pending") are evaluated on the rerun rather than proposed afresh
    n = saved.sizes["evaluation"]
    xr.testing.assert_equal(final["X"].isel(evaluation=slice(0, n)), saved["X"])
    done = np.flatnonzero(saved["status"].values != "pending")
    xr.testing.assert_equal(final["y"].isel(evaluation=done), saved["y"].isel(evaluation=done))
    assert set(final["status"].values) <= {"ok", "rejected_input", "diverged", "non_finite",
                                           "elastic"}


def test_a_second_run_on_the_same_results_directory_is_refused(tmp_path: Path, lock_holder):
    """Two working directories, one absolute results directory: while a run holds it (here a
    stand-in process), a real run stops before any job, naming the directory and the holder."""
    config = _config(tmp_path, max_iter=1)
    results = tmp_path / "common" / "results"
    cfg = yaml.safe_load(config.read_text())
    cfg["results"] = str(results)
    config.write_text(yaml.safe_dump(cfg))
    holder = lock_holder(results)
    proc = subprocess.run(
        [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--cores", "1",
         "--configfile", str(config)], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert (f"results: {results} is in use by another run (pid {holder.pid} on host "
            in proc.stderr), proc.stderr[-3000:]
    assert [p.name for p in results.iterdir()] == [".grassego.lock"]  # no job ran


def test_slurm_profile_dry_run(tmp_path: Path, lock_holder):
    _config(tmp_path, max_iter=1)
    lock_holder(tmp_path / "results")  # a dry run does not take the results lock
    proc = subprocess.run(
        [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path),
         "--profile", str(ROOT / "config" / "profiles" / "slurm"),
         "--configfile", str(tmp_path / "tiny.yaml"), "--dry-run"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "simulate" in proc.stdout + proc.stderr
