"""Logging for workflow scripts: one log file per rule (Snakemake ``log:``) plus stderr."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from grassego.errors import GrassegoError


def setup_logging(log_path: str | Path | None, level: int = logging.INFO) -> logging.Logger:
    """Send the ``grassego`` loggers to ``log_path`` (created) and stderr; return the root one."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(level=level, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)
    sys.excepthook = _report_user_errors
    return logging.getLogger("grassego")


def _report_user_errors(exc_type, exc, tb) -> None:
    """Uncaught :class:`GrassegoError` (bad input, named in its message): one ERROR line in the
    rule's log and exit status 1; anything else: the usual traceback."""
    if issubclass(exc_type, GrassegoError):
        logging.getLogger("grassego").error("%s", exc)
        sys.exit(1)
    sys.__excepthook__(exc_type, exc, tb)
