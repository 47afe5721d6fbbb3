"""Strict reading of CSV tables of numbers (parameter sets, designs, training sets), and their
atomic writing (:func:`write_table`).

``pandas.read_csv`` guesses where it should refuse: a row with one field more than the header
makes the first column the index and shifts every value one column to the left, a short row is
padded with NaN, and a repeated column name is renamed (``c0.1``). :func:`read_table` makes each
of these, and any non-numeric value in a number column, one :class:`InputError` naming the file
and the line.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Collection, Sequence

import numpy as np
import pandas as pd

from grassego.atomic import atomic_path
from grassego.errors import InputError

_INT64 = (-(2**63), 2**63 - 1)


def _number(cell: str) -> float:
    """The number in a cell (Python's float syntax, surrounding spaces ignored; empty = NaN);
    ``ValueError`` if it is not one. Digit-group underscores (``1_0``) are refused."""
    cell = cell.strip()
    if not cell:
        return math.nan
    if "_" in cell:
        raise ValueError(cell)
    return float(cell)


def _column(path: Path, name: str, cells: list[str], lines: list[int]) -> np.ndarray:
    """A number column: int64 if every cell is an integer in range, else float64 (read
    correctly rounded, empty = NaN); :class:`InputError` at the first cell that is no number."""
    values = np.empty(len(cells), dtype=np.float64)
    for k, (cell, line) in enumerate(zip(cells, lines)):
        try:
            values[k] = _number(cell)
        except ValueError:
            raise InputError(path, f"column {name!r} has a non-numeric value {cell!r}",
                             line=line) from None
    try:
        ints = [int(c) for c in cells]
    except ValueError:
        return values
    if all(_INT64[0] <= i <= _INT64[1] for i in ints):
        return np.array(ints, dtype=np.int64)
    return values


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-empty line; the first is the header."""
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:  # Excel writes a BOM
            reader = csv.reader(fh, skipinitialspace=True)
            for cells in reader:
                if cells:
                    rows.append((reader.line_num, cells))
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not a UTF-8 text file ({exc.reason} at byte {exc.start})"
                         ) from None
    except csv.Error as exc:
        raise InputError(path, f"not a readable CSV file ({exc})", line=reader.line_num) from None
    return rows


def _check_header(path: Path, names: list[str], line: int, required: Sequence[str],
                  allowed: Collection[str] | None) -> None:
    """Column names must be non-empty, unique, include ``required`` and (unless ``allowed`` is
    None) lie in ``required`` or ``allowed``."""
    for i, name in enumerate(names):
        if not name:
            raise InputError(path, f"header field {i + 1} has no column name", line=line)
        if name in names[:i]:
            raise InputError(path, f"column {name!r} appears twice in the header", line=line)
    missing = [k for k in required if k not in names]
    if missing:
        raise InputError(path, f"header lacks column(s) {missing}; need {list(required)}",
                         line=line)
    if allowed is not None:
        unknown = [k for k in names if k not in required and k not in allowed]
        if unknown:
            raise InputError(path, f"unknown column(s) {unknown}; allowed: "
                                   f"{list(required) + [k for k in allowed if k not in required]}",
                             line=line)


def read_table(path: str | Path, text: Collection[str] = (), required: Sequence[str] = (),
               allowed: Collection[str] | None = None) -> pd.DataFrame:
    """Read a CSV file with a header line, strictly.

    Column names (spaces around them dropped) must be non-empty and unique, include every
    ``required`` name and, unless ``allowed`` is None, no name outside ``required`` and
    ``allowed``. Every non-empty line must have as many fields as the header; every cell of a
    column not named in ``text`` must be a number (an empty cell, ``nan`` or ``inf`` are kept
    as NaN/±inf for the caller to judge).
    A number column of integers only is int64, any other float64 (decimal strings read
    correctly rounded, so ``%.17g`` values come back bit for bit); ``text`` columns are strings
    with surrounding spaces dropped. Raise :class:`InputError` naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    rows = _rows(path)
    if not rows:
        raise InputError(path, "empty file: no header line")
    header_line, header = rows[0]
    names = [name.strip() for name in header]
    _check_header(path, names, header_line, required, allowed)
    for line, cells in rows[1:]:
        if len(cells) != len(names):
            raise InputError(path, f"{len(cells)} fields where the header has {len(names)}",
                             line=line)
    lines = [line for line, _ in rows[1:]]
    data = {}
    for j, name in enumerate(names):
        cells = [cells[j].strip() for _, cells in rows[1:]]
        data[name] = (np.array(cells, dtype=object) if name in text
                      else _column(path, name, cells, lines))
    return pd.DataFrame(data, columns=names)


def write_table(table: pd.DataFrame, path: str | Path, float_format: str = "%.17g") -> None:
    """Write ``table`` to the CSV file ``path`` atomically (:func:`grassego.atomic.atomic_path`),
    without its index; floats as ``float_format``: by default every bit, so that
    :func:`read_table` reads them back unchanged."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, float_format=float_format)
