"""Exception types: every user-facing error names the file (and line) at fault."""

from __future__ import annotations


class GrassegoError(Exception):
    """Base class for errors reported to the user without a traceback."""


class ConfigError(GrassegoError):
    """A configuration value is wrong; each line of the message names a key."""


class InputError(GrassegoError, ValueError):
    """Bad input data: the message names the file, the line if any, and what is wrong."""

    def __init__(self, path, problem: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


def option_error(exc: ValueError, options: dict[str, str]) -> GrassegoError:
    """A settings class's ``"key: problem"`` error as a command-line error naming the option:
    ``options`` maps keys to option names; any other key ``k`` becomes ``--k``."""
    key, _, problem = str(exc).partition(":")
    return GrassegoError(f"{options.get(key, '--' + key.replace('_', '-'))}:{problem}")
