"""The references of a workflow config and how a joint calibration scores a run on several.

A config names one reference (``reference:``, the paper's form: one MD run) or several
(``references:``, name → the same keys plus a ``role`` and a ``weight``). Each ``calibrate``
reference is a realisation of the same material: a parameter set is run on each, from that
reference's own initial energy field, cell and shear rate, and scored by the weighted mean of
the per-reference Δ (:func:`grassego.joint.joint_scores`). Each ``holdout`` reference is only predicted, after
the calibration (:mod:`grassego.prediction`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

#: A reference's roles: calibrated against (its Δ enters the joint Δ) or only predicted.
ROLES = ("calibrate", "holdout")
#: Keys of a ``references`` entry that are not the reference's own settings.
ENTRY_KEYS = ("role", "weight")


@dataclass(frozen=True)
class ReferenceEntry:
    """One reference of a config: ``name`` (None for the single ``reference:`` form, whose
    files keep their unnamed paths), ``role`` (:data:`ROLES`), ``weight`` of its Δ in the joint
    Δ, and ``section``: its settings (``source`` and the source's keys, ``accept_unusual``), as
    the ``reference`` section holds them."""

    name: str | None
    role: str
    weight: float
    section: Mapping[str, Any]

    @property
    def key(self) -> str:
        """Its config key, for messages: ``reference`` or ``references.<name>``."""
        return "reference" if self.name is None else f"references.{self.name}"


def is_joint(config: Mapping[str, Any]) -> bool:
    """Whether a schema-valid config names its references under ``references``."""
    return bool(config.get("references"))


def reference_entries(config: Mapping[str, Any]) -> list[ReferenceEntry]:
    """Every reference of a schema-valid config, in the config's order."""
    if not is_joint(config):
        return [ReferenceEntry(None, "calibrate", 1.0, config["reference"])]
    return [ReferenceEntry(name, entry["role"], float(entry["weight"]),
                           {k: v for k, v in entry.items() if k not in ENTRY_KEYS})
            for name, entry in config["references"].items()]


def calibration_entries(config: Mapping[str, Any]) -> list[ReferenceEntry]:
    """The references a parameter set is scored on (role ``calibrate``)."""
    return [e for e in reference_entries(config) if e.role == "calibrate"]


def holdout_entries(config: Mapping[str, Any]) -> list[ReferenceEntry]:
    """The references only predicted (role ``holdout``)."""
    return [e for e in reference_entries(config) if e.role == "holdout"]


def calibration_weights(config: Mapping[str, Any]) -> dict[str, float] | None:
    """Name → weight of the calibrate references of a joint config, None for a single
    reference (part of the calibration sections: a changed weight or set of references
    reruns the calibration; a holdout does not)."""
    if not is_joint(config):
        return None
    return {e.name: e.weight for e in calibration_entries(config)}
