"""The install path stays consistent: conda env file vs pyproject, torch pinned, CLI present."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=\[;! ]", req, maxsplit=1)[0].lower()


def test_conda_env_lists_every_dependency():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = (ROOT / "envs" / "grassego.yaml").read_text().lower()
    listed = {_name(line.strip()[2:]) for line in env.splitlines() if line.strip().startswith("- ")}
    missing = [d for d in deps if _name(d) not in listed]
    assert not missing, f"envs/grassego.yaml lacks {missing}"


def test_install_path_pins_cpu_torch():
    make = (ROOT / "Makefile").read_text()
    assert "torch==2.13.0" in make
    constraints = (ROOT / "envs" / "constraints.txt").read_text()
    assert re.search(r"^torch==2\.13\.0$", constraints, re.M)


def test_cli_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "grassego.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("ingest-legacy", "distance", "simulate", "init-config"):
        assert command in out
