"""The config's documentation and test case stay true: config/README.md lists every key of the
schema with the default the schema fills in, and .test/config/config.yaml is a valid config
where Snakemake reads it (in .test/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from grassego.config import check_config, validate_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
ROW = re.compile(r"^\| `(?P<key>[\w.]+)` \| `(?P<default>[^`]*)` \|", re.M)


def _schema_keys(node: dict, path: tuple[str, ...] = ()) -> list[str]:
    """Dotted names of the schema's keys: an object with named properties is a section, anything
    else (a number, a list, a free mapping such as ``parameters``) is one key."""
    if "properties" not in node:
        return [".".join(path)]
    return [k for name, sub in node["properties"].items()
            for k in _schema_keys(sub, (*path, name))]


README = ROOT / "config" / "README.md"


def _documented(text: str) -> dict[str, str]:
    """``{key: default as written}`` of the README's tables."""
    rows = [(m["key"], m["default"]) for m in ROW.finditer(text)]
    keys = [k for k, _ in rows]
    assert len(keys) == len(set(keys)), "a key documented twice"
    return dict(rows)


def test_readme_documents_every_key_and_no_other():
    keys = _schema_keys(yaml.safe_load(SCHEMA.read_text()))
    documented = _documented(README.read_text())
    assert sorted(set(keys) - set(documented)) == [], "keys missing in config/README.md"
    assert sorted(set(documented) - set(keys)) == [], "config/README.md names unknown keys"


def _check_defaults(text: str) -> None:
    """Each default in ``text`` is the value the schema fills into an empty config."""
    filled: dict = {}
    validate_schema(filled, SCHEMA)
    for key, written in _documented(text).items():
        value = filled
        for name in key.split("."):
            value = value[name]
        assert yaml.safe_load(written) == value, key


def test_readme_defaults_are_the_schemas():
    _check_defaults(README.read_text())


def test_a_wrong_default_in_the_readme_is_caught():
    text = README.read_text()
    wrong = text.replace("| `ego.n_local` | `200` |", "| `ego.n_local` | `100` |")
    assert wrong != text
    with pytest.raises(AssertionError, match="ego.n_local"):
        _check_defaults(wrong)


def test_the_test_config_is_valid_in_its_directory():
    """`snakemake --directory .test` reads .test/config/config.yaml with paths relative to .test."""
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    validate_schema(cfg, SCHEMA)
    check_config(cfg, ROOT / ".test")
