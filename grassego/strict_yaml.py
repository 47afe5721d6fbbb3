"""YAML read strictly: a key repeated in one mapping (a second ``ego:`` section, ``n_samples``
twice) is an error naming the file and line, not a silent last-one-wins.

Snakemake reads the workflow's ``--configfile`` itself (last one wins); the Snakefile reads the
same files again with :func:`load_yaml` (:func:`grassego.config.check_workflow_config`) before
it validates the config. Merge keys (``<<: *anchor``) may be overridden, as YAML intends.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from grassego.errors import InputError


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses a key repeated in one mapping."""

    source = "<yaml>"

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # "<<: *anchor": its keys may be overridden on purpose
                try:
                    key = self.construct_object(key_node, deep=True)
                    hash(key)
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise InputError(self.source, f"key {key!r} appears twice in one mapping "
                                                  f"(first on line {seen[key]}); YAML would "
                                                  "silently keep only the last", line=line)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | os.PathLike) -> Any:
    """The YAML document in ``path``; raises :class:`InputError` naming the file (and line) if
    it is missing, unreadable, not YAML, or repeats a key."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot be read as text ({exc})") from None
    loader = _StrictLoader(text)
    loader.source = str(path)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise InputError(path, f"not valid YAML ({problem})",
                         line=None if mark is None else mark.line + 1) from None
    finally:
        loader.dispose()
