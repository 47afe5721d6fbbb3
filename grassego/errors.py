"""Exception types: every user-facing error names the file (and line) at fault."""

from __future__ import annotations


class GrassegoError(Exception):
    """Base class for errors reported to the user without a traceback."""


class InputError(GrassegoError, ValueError):
    """Bad input data: the message names the file, the line if any, and what is wrong."""

    def __init__(self, path, problem: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")
