"""The SLURM profile on a real cluster, not only as a dry run: the test case (.test/) submitted
through config/profiles/slurm to the one-node cluster of .ci/slurm_cluster.sh. Each simulate
batch and each EGO seed must run as its own SLURM job, with the CPUs, memory and time limit the
profile gives its rule, and the results must equal those of a local run of the same config.

Needs that cluster, and says so through GRASSEGO_SLURM_DIR (the cluster's directory), which
`.ci/run` and `make test-slurm` set after starting it. Where it is set, a cluster that is down or
a job that fails is a test failure; where it is not (a plain `pytest`), the test is skipped with
the command to run it: `make test-slurm` (starts the cluster, runs this file, stops the cluster).
An explicit switch rather than "sinfo answers": a developer's machine may be a node of a real
cluster, where the test must not submit jobs unasked.

Options given beside the profile, for this cluster only: `--slurm-status-command squeue` (the
test cluster keeps no accounting database, so `sacct` cannot answer; squeue sees finished jobs
for the cluster's MinJobAge, an hour), `--slurm-init-seconds-before-status-checks 2` (poll soon:
the jobs take seconds), `--slurm-keep-successful-logs` (each job's SLURM log,
`.snakemake/slurm_logs/rule_<rule>/<wildcards>/<job id>.log`, says which job ran which rule and
wildcards). No account is given (the cluster has none) and the partition is its default.
Each job's state, CPUs, memory and time limit come from the cluster's job completion log.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
import yaml

from conftest import ROOT

PROFILE = ROOT / "config" / "profiles" / "slurm"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile")]
TEST_OPTIONS = ["--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks",
                "2", "--slurm-keep-successful-logs"]
#: Every job of the test case: one per rule except `all`, one per batch and per seed.
JOBS = {"reference": [""], "design": ["0", "1"], "simulate": ["0_0", "0_1", "1_0", "1_1"],
        "collect": ["0", "1"], "ego": ["0", "1"], "uncertainty": [""], "report": [""]}
CLUSTER = os.environ.get("GRASSEGO_SLURM_DIR")

pytestmark = pytest.mark.skipif(
    not CLUSTER, reason="no test cluster asked for: `make test-slurm` starts one and runs this")


def _without_timings(summary: dict) -> dict:
    """summary.json without the uncertainty step's wall-clock times (all else must be equal)."""
    block = summary.get("uncertainty", {})
    for key in ("wall_time_s", "evaluation_time_s"):
        block.pop(key, None)
    return summary


def _test_config(workdir: Path) -> Path:
    """.test/config/config.yaml with its reference path made absolute, in ``workdir``."""
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    legacy = cfg["reference"]["legacy"]
    legacy["path"] = str((ROOT / ".test" / legacy["path"]).resolve())
    workdir.mkdir()
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _failure(what: str, proc: subprocess.CompletedProcess | subprocess.Popen, out: str) -> str:
    return f"{what} failed ({proc.returncode}):\n{out[-6000:]}"


def _slurm_jobs(workdir: Path) -> dict[tuple[str, str], list[str]]:
    """``{(rule, wildcards): [SLURM job ids]}`` from the kept SLURM logs."""
    jobs: dict[tuple[str, str], list[str]] = {}
    for log in sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log")):
        parts = log.relative_to(workdir / ".snakemake" / "slurm_logs").parts
        rule, wildcards = parts[0].removeprefix("rule_"), "/".join(parts[1:-1])
        jobs.setdefault((rule, wildcards), []).append(log.stem)
    return jobs


def _completed_jobs(jobcomp: Path) -> dict[str, dict[str, str]]:
    """``{job id: {field: value}}`` of the job completion log (jobcomp/filetxt, one line per
    finished job: JobId=… JobState=… ProcCnt=… TimeLimit=… Tres=cpu=…,mem=…M,…)."""
    jobs = {}
    for line in jobcomp.read_text().splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        jobs[fields["JobId"]] = fields
    return jobs


def _cluster_is_up() -> None:
    proc = subprocess.run(["sinfo", "--noheader", "--format=%T"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.split() == ["idle"], (
        f"GRASSEGO_SLURM_DIR={CLUSTER} is set but its node is not idle "
        f"(sinfo: {proc.stdout.strip() or proc.stderr.strip()}); see .ci/slurm_cluster.sh")


def test_the_test_case_runs_on_slurm_as_one_job_per_batch_and_seed(tmp_path: Path):
    _cluster_is_up()
    jobcomp = Path(CLUSTER) / "log" / "jobcomp.log"
    local_dir, slurm_dir = tmp_path / "local", tmp_path / "slurm"
    local_cfg, slurm_cfg = _test_config(local_dir), _test_config(slurm_dir)
    # The local run shares the cores while the SLURM run mostly waits on its polls.
    local = subprocess.Popen([*SNAKEMAKE, "-d", str(local_dir), "--configfile", str(local_cfg),
                              "--cores", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    try:
        slurm = subprocess.run([*SNAKEMAKE, "-d", str(slurm_dir), "--configfile", str(slurm_cfg),
                                "--profile", str(PROFILE), *TEST_OPTIONS],
                               capture_output=True, text=True, timeout=900)
    finally:
        submitted = [i for ids in _slurm_jobs(slurm_dir).values() for i in ids]
        if submitted:  # nothing of this test may stay queued (a no-op for finished jobs)
            subprocess.run(["scancel", *submitted], capture_output=True)
        local_out = local.communicate(timeout=900)[0]
    assert slurm.returncode == 0, _failure("the SLURM run", slurm, slurm.stdout + slurm.stderr)
    assert local.returncode == 0, _failure("the local run", local, local_out)

    # one SLURM job per rule, batch and seed, none resubmitted
    jobs = _slurm_jobs(slurm_dir)
    assert sorted(jobs) == sorted((r, w) for r, wildcards in JOBS.items() for w in wildcards)
    assert all(len(ids) == 1 for ids in jobs.values()), jobs
    completed = _completed_jobs(jobcomp)
    ids = [ids[0] for ids in jobs.values()]
    assert len({completed[i]["Name"] for i in ids}) == 1  # all of one Snakemake run
    assert {completed[i]["JobState"] for i in ids} == {"COMPLETED"}

    # simulate and EGO jobs with the profile's CPUs, memory and time limit
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    for rule in ("simulate", "ego"):
        cpus = profile["set-threads"][rule]
        mem_mb, minutes = (profile["set-resources"][rule][k] for k in ("mem_mb", "runtime"))
        for wildcards in JOBS[rule]:
            job = completed[jobs[rule, wildcards][0]]
            assert (job["ProcCnt"], job["TimeLimit"]) == (str(cpus), str(minutes)), job
            assert f"cpu={cpus},mem={mem_mb}M" in job["Tres"], job
            # inside its allocation the job runs with the profile's threads, as many as the
            # host has cores (the test node may advertise more CPUs than the host has)
            log = next((slurm_dir / ".snakemake" / "slurm_logs" / f"rule_{rule}" / wildcards)
                       .glob("*.log")).read_text()
            assert f"threads: {min(cpus, os.cpu_count())}\n" in log, log[-3000:]

    # the same results as the local run, but for the measured wall time of each run
    local_res, slurm_res = local_dir / "results", slurm_dir / "results"
    for rel in ("summary/summary.csv", "design/seed_0/samples.csv", "design/seed_1/samples.csv"):
        assert (slurm_res / rel).read_text() == (local_res / rel).read_text(), rel
    for rel in ("training/seed_0.csv", "training/seed_1.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(slurm_res / rel).drop(columns="wall_time"),
                                      pd.read_csv(local_res / rel).drop(columns="wall_time"),
                                      check_exact=True)
    assert (_without_timings(json.loads((slurm_res / "summary/summary.json").read_text()))
            == _without_timings(json.loads((local_res / "summary/summary.json").read_text())))
    for rel in ("runs/seed_0/batch_0.nc", "runs/seed_1/batch_1.nc", "ego/seed_0/result.nc",
                "ego/seed_1/result.nc"):
        with xr.open_dataset(local_res / rel) as a, xr.open_dataset(slurm_res / rel) as b:
            xr.testing.assert_identical(a.drop_vars("wall_time").load(),
                                        b.drop_vars("wall_time").load())
