"""The config's documentation and test case stay true: config/README.md lists every key of the
schema with the default the schema fills in, .test/config/config.yaml is a valid config
where Snakemake reads it (in .test/), every relative link of the README, config/README.md and
docs/ resolves, and the workflow catalog's file states how the workflow is deployed."""

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


TEST_CASES = sorted(p.name for p in (ROOT / ".test" / "config").glob("*.yaml"))


@pytest.mark.parametrize("case", TEST_CASES)
def test_the_test_configs_are_valid_in_their_directory(case):
    """`snakemake --directory .test` reads .test/config/config.yaml (or the --configfile given:
    forward.yaml, md.yaml) with paths relative to .test."""
    cfg = yaml.safe_load((ROOT / ".test" / "config" / case).read_text())
    validate_schema(cfg, SCHEMA)
    check_config(cfg, ROOT / ".test")


#: The pages a reader follows links through: the README, the config's and the docs/ pages.
PAGES = [ROOT / "README.md", README, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, inline code marks and punctuation dropped,
    spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _broken_links(page: Path, text: str) -> list[str]:
    """The relative links of ``text`` (a markdown page at ``page``) whose file, or whose
    ``#anchor`` among that file's headings, does not exist."""
    broken = []
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", FENCE.sub("", linked.read_text()), re.M)
            if anchor not in {_anchor(h) for h in headings}:
                broken.append(target)
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert _broken_links(page, page.read_text()) == [], page.name


def test_a_broken_link_is_caught():
    page = ROOT / "README.md"
    text = page.read_text()
    assert _broken_links(page, text + "\n[gone](docs/no_such_page.md)\n") == ["docs/no_such_page.md"]
    assert _broken_links(page, text + "\n[gone](docs/science.md#no-such-section)\n") == \
        ["docs/science.md#no-such-section"]


def test_the_catalog_file_states_the_deployment():
    """.snakemake-workflow-catalog.yml: the catalog reads ``usage``'s ``mandatory-flags``,
    ``software-stack-deployment`` (true/false per method) and ``report``; conda is false because
    the rules' environment file cannot be built by ``--sdm conda`` (docs/workflow.md)."""
    usage = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert set(usage) == {"mandatory-flags", "software-stack-deployment", "report"}
    assert set(usage["mandatory-flags"]) == {"desc", "flags"}
    deployment = usage["software-stack-deployment"]
    assert all(isinstance(v, bool) for v in [*deployment.values(), usage["report"]])
    assert deployment["conda"] is False
