"""Helpers shared by the settings dataclasses of every package section."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping


def reject_unknown_keys(settings_class: type, cfg: Mapping[str, Any], what: str) -> None:
    """Raise ``ValueError`` naming the keys of ``cfg`` that are not fields of the dataclass."""
    unknown = set(cfg) - {f.name for f in fields(settings_class)}
    if unknown:
        raise ValueError(f"unknown {what} settings: {sorted(unknown)}")
