"""No command writes over one of its own inputs: one check for every ``grassego`` subcommand.

A subcommand declares which of its parsed arguments name files it reads and which name files
it writes (``set_defaults(reads=..., writes=...)``, attribute names of the namespace; a value
may be a path, a list of paths or None). :func:`refuse_overwriting_inputs` runs before the
command reads anything and refuses an output that resolves to an input: the same path, a
symbolic link to it, or a hard link (same device and inode). A directory input stands for the
files in it; a dump pattern for the files it matches.
"""

from __future__ import annotations

import argparse
import glob
import os
from pathlib import Path
from typing import Iterable, Iterator

from grassego.errors import InputError


def _paths(value) -> Iterator[str]:
    """The path strings of one argument value (None, a path, or a list of paths)."""
    if value is None:
        return
    for item in (value if isinstance(value, (list, tuple)) else [value]):
        yield os.fspath(item)


def _files(path: str) -> Iterator[Path]:
    """What the input ``path`` stands for: itself, the files in it (a directory) or the files a
    glob pattern matches."""
    p = Path(path)
    if p.is_dir():
        yield p
        yield from (c for c in p.iterdir() if c.is_file())
    elif p.exists():
        yield p
    else:
        yield from (Path(m) for m in glob.glob(path))


def _same(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name the same file: equal resolved paths, or, where both exist,
    one inode (a symbolic or hard link)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def overwritten_input(inputs: Iterable[str], outputs: Iterable[str]) -> tuple[str, Path] | None:
    """The first ``(output, input file)`` pair where writing the output would replace the
    input, or None."""
    files = [f for path in inputs for f in _files(path)]
    for out in outputs:
        for f in files:
            if _same(Path(out), f):
                return out, f
    return None


def refuse_overwriting_inputs(args: argparse.Namespace) -> None:
    """Raise :class:`InputError` naming the output if it is a directory or resolves to one of
    the command's inputs (declared by its ``reads`` / ``writes`` defaults: files; a command
    whose output is a directory declares none)."""
    inputs = [p for name in getattr(args, "reads", ()) for p in _paths(getattr(args, name))]
    outputs = [p for name in getattr(args, "writes", ()) for p in _paths(getattr(args, name))]
    for out in outputs:
        if Path(out).is_dir():
            raise InputError(out, "is a directory; give the path of a file to write")
    clash = overwritten_input(inputs, outputs)
    if clash is not None:
        out, found = clash
        same = "is" if os.fspath(found) == out else f"resolves to the input {found}:"
        raise InputError(out, f"{same} one of this command's inputs; writing it would destroy "
                              "the input. Choose another output path")
