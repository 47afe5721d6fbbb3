"""The install path stays consistent: conda env file vs pyproject, every dependency pinned in
envs/constraints.txt (what ``make setup`` installs with ``pip install -c``) and installed at its
pin, the CLI present."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import ROOT


def _name(req: str) -> str:
    return re.split(r"[<>=\[;! ]", req, maxsplit=1)[0].lower()


def _requirements() -> list[Requirement]:
    """pyproject's dependencies and those of every extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in project["dependencies"] + extras]


def _pins() -> dict[str, list[str]]:
    """envs/constraints.txt: package name → every version pinned for it."""
    pins: dict[str, list[str]] = {}
    for n, line in enumerate((ROOT / "envs" / "constraints.txt").read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"constraints.txt:{n}: {line!r} is not NAME==VERSION"
            pins.setdefault(canonicalize_name(name), []).append(version)
    return pins


def test_conda_env_lists_every_dependency():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = (ROOT / "envs" / "grassego.yaml").read_text().lower()
    listed = {_name(line.strip()[2:]) for line in env.splitlines() if line.strip().startswith("- ")}
    missing = [d for d in deps if _name(d) not in listed]
    assert not missing, f"envs/grassego.yaml lacks {missing}"


def test_every_dependency_is_pinned_once_within_its_range():
    pins = _pins()
    assert {k: v for k, v in pins.items() if len(v) > 1} == {}
    for req in _requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in envs/constraints.txt"
        assert req.specifier.contains(pins[name][0], prereleases=True), \
            f"{req.name}=={pins[name][0]} is outside pyproject's {req.specifier}"
    assert pins["torch"] == ["2.13.0"]  # the CPU build make setup installs first


def test_the_environment_has_the_pinned_versions():
    """What ``make setup`` leaves: each dependency at its pin (a local label such as +cpu
    aside). Run ``make setup`` again if this fails after a pin changed."""
    pins = _pins()
    for req in _requirements():
        installed = Version(metadata.version(req.name))
        assert installed.public == Version(pins[canonicalize_name(req.name)][0]).public, \
            f"{req.name} {installed} is installed, envs/constraints.txt pins another version"


def test_cli_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "grassego.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("ingest-legacy", "distance", "simulate", "init-config"):
        assert command in out
