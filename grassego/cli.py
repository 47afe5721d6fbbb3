"""Command-line entry point ``grassego``.

Each subcommand lives in its own module under :mod:`grassego.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (called with the parsed
namespace; its return value is the exit code) and ``reads`` / ``writes``, the names of its
arguments that are input and output files (no command may write over one of its inputs:
:mod:`grassego.inputs_outputs`). Modules are discovered automatically, so adding a
command never edits this file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from grassego import __version__, commands
from grassego.errors import GrassegoError
from grassego.inputs_outputs import refuse_overwriting_inputs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grassego",
        description="Calibrate continuum STZ plasticity models against coarse-grained MD "
        "by Grassmannian EGO.",
    )
    parser.add_argument("--version", action="version", version=f"grassego {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        refuse_overwriting_inputs(args)  # before the command reads anything
        return int(args.func(args) or 0)
    except GrassegoError as exc:
        print(f"grassego {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
