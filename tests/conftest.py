"""Shared fixtures: paths to the project root, shipped resources and the ../shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CUZR_REFERENCE = ROOT / "resources" / "cuzr" / "reference.nc"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cuzr_reference_path() -> Path:
    return CUZR_REFERENCE


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED
