"""The science does not import the workflow's config checker: only the modules that read a
workflow config (the checker itself, init-config and the commands) import grassego.config."""

from __future__ import annotations

import ast

from conftest import ROOT

#: Modules (paths under grassego/) that may import grassego.config.
CONFIG_READERS = ("config.py", "init_config.py", "commands/")


def _imports(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_only_the_config_readers_import_the_config_checker():
    package = ROOT / "grassego"
    importers = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                       if "grassego.config" in _imports(p))
    assert importers and all(p.startswith(CONFIG_READERS) for p in importers), importers
