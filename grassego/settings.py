"""Helpers shared by the settings dataclasses of every package section."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping, TypeVar

Settings = TypeVar("Settings")


def reject_unknown_keys(settings_class: type, cfg: Mapping[str, Any], what: str) -> None:
    """Raise ``ValueError`` naming the keys of ``cfg`` that are not fields of the dataclass."""
    unknown = set(cfg) - {f.name for f in fields(settings_class)}
    if unknown:
        raise ValueError(f"unknown {what} settings: {sorted(unknown)}")


def settings_from(settings_class: type[Settings], cfg: Mapping[str, Any], what: str) -> Settings:
    """The dataclass ``settings_class`` built from the config section ``cfg`` (named ``what`` in
    the error); unknown keys are a ``ValueError`` (:func:`reject_unknown_keys`)."""
    reject_unknown_keys(settings_class, cfg, what)
    return settings_class(**cfg)
