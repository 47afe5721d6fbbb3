"""LAMMPS text dump files: expanding patterns, scanning a series, mapping its columns for OVITO.

A dump series is one multi-frame file or one file per frame (``.gz`` allowed), in natural
(numeric) order. :func:`scan_series` reads every file once, checks that the last frame of each
is complete and that all files have the same atom columns, and lists which file holds each frame;
:func:`column_map` says which columns OVITO reads as what. Every problem raises
:class:`~grassego.errors.InputError` naming the file.
"""

from __future__ import annotations

import glob
import gzip
import os
import re
from pathlib import Path
from typing import NamedTuple, Sequence

from grassego.errors import InputError

_POSITION_COLUMNS = {"x": "X", "y": "Y", "z": "Z", "xu": "X", "yu": "Y", "zu": "Z",
                     "xs": "X", "ys": "Y", "zs": "Z", "xsu": "X", "ysu": "Y", "zsu": "Z"}
_CHUNK = 1 << 24
#: Fewest dump frames a reference can be made of: frame 0 is the strain reference (its strain
#: field is zero) and the initial energy field, and the calibration needs a sheared frame too,
#: for the final energy field (χ∞) and the strain fields it compares.
MIN_FRAMES = 2


def expand_dumps(patterns: Sequence[str | os.PathLike]) -> list[Path]:
    """Existing files as given; other arguments as globs, matches in natural (numeric) order."""
    def natural(p: str) -> list:
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p)]

    files: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_file():
            files.append(path)
            continue
        matches = sorted(glob.glob(str(pattern)), key=natural)
        if not matches:
            raise InputError(pattern, "no such dump file (and no file matches it as a pattern)")
        files.extend(Path(m) for m in matches)
    return files


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


class DumpScan(NamedTuple):
    """What :func:`scan_dump` finds in a dump file."""

    columns: list[str]  #: atom columns of the first frame
    n_frames: int
    first_step: int  #: timestep of the first frame
    last_step: int  #: timestep of the last frame


def _timestep(lines: list[str], path: Path) -> int:
    """The timestep of the first frame in ``lines`` (the line after ``ITEM: TIMESTEP``)."""
    try:
        return int(lines[lines.index("ITEM: TIMESTEP") + 1])
    except (ValueError, IndexError) as exc:
        raise InputError(path, "a frame without a valid 'ITEM: TIMESTEP' line") from exc


def scan_dump(path: Path) -> DumpScan:
    """Columns, frame count and first and last timestep; InputError for a truncated file.

    Reads the whole file once (a few GB/s for plain text; gzip at zlib speed) and checks that
    its last frame holds ``NUMBER OF ATOMS`` complete atom lines.
    """
    marker = b"ITEM: TIMESTEP"
    n_frames, head, last = 0, b"", b""
    try:
        with _open(path) as fh:
            while chunk := fh.read(_CHUNK):
                chunk += fh.readline()  # whole lines only
                if len(head) < 65536:
                    head += chunk[:65536]
                n_frames += chunk.count(marker)
                start = chunk.rfind(marker)
                last = chunk[start:] if start >= 0 else last + chunk
    except (OSError, EOFError) as exc:
        raise InputError(path, f"cannot read the dump ({exc}); truncated or corrupt file") from exc
    lines = head.decode(errors="replace").splitlines()
    atoms = [k for k, line in enumerate(lines) if line.startswith("ITEM: ATOMS")]
    if not n_frames or not atoms:
        raise InputError(path, "not a LAMMPS text dump (no 'ITEM: TIMESTEP' / 'ITEM: ATOMS')")
    columns = lines[atoms[0]].split()[2:]
    tail = last.decode(errors="replace").splitlines()
    try:
        n_atoms = int(tail[tail.index("ITEM: NUMBER OF ATOMS") + 1])
        body = [t for t in tail[next(k for k, t in enumerate(tail)
                                     if t.startswith("ITEM: ATOMS")) + 1:] if t.strip()]
    except (ValueError, IndexError, StopIteration):
        body, n_atoms = [], -1
    if n_atoms < 0 or len(body) != n_atoms or len(body[-1].split()) != len(columns):
        raise InputError(path, f"the last frame (frame {n_frames - 1} of this file) is truncated: "
                               f"{len(body)} complete atom lines of {max(n_atoms, 0)} expected")
    return DumpScan(columns, n_frames, _timestep(lines, path), _timestep(tail, path))


def column_map(columns: list[str], path: Path, pe_column: str,
                stress_column: str | None) -> list[str | None]:
    """OVITO ``columns=`` mapping: id, positions, pe -> 'pe', stress -> 'sxy', rest skipped."""
    if stress_column == pe_column:
        raise ValueError("the pe and stress columns must differ")
    wanted = {"id": "Particle Identifier", pe_column: "pe"}
    if stress_column:
        wanted[stress_column] = "sxy"
    for name, what in (("id", "atom ids"), (pe_column, "the per-atom potential energy"),
                       (stress_column, "the per-atom stress")):
        if name and name not in columns:
            raise InputError(path, f"no column {name!r} ({what}) in the dump; its columns are: "
                                   f"{' '.join(columns)}")
    mapping: list[str | None] = []
    seen_axes: set[str] = set()
    for name in columns:
        axis = _POSITION_COLUMNS.get(name)
        if name in wanted:
            mapping.append(wanted[name])
        elif axis and axis not in seen_axes:
            seen_axes.add(axis)
            mapping.append(f"Position.{axis}")
        else:
            mapping.append(None)
    if seen_axes != {"X", "Y", "Z"}:
        raise InputError(path, f"dump lacks x, y, z positions; its columns are: {' '.join(columns)}")
    return mapping


class DumpSeries(NamedTuple):
    """A scanned dump series: its files, their atom columns, which file holds each frame and
    the timesteps of the first and last frame."""

    files: list[Path]
    columns: list[str]
    frame_file: list[Path]
    steps: tuple[int, int]


def scan_series(dumps: Sequence[str | os.PathLike]) -> DumpSeries:
    """Expand and scan ``dumps`` (:func:`expand_dumps`, :func:`scan_dump`); InputError for
    files whose columns differ from the first's or a series of fewer than :data:`MIN_FRAMES`
    frames."""
    files = expand_dumps(dumps)
    scans = [scan_dump(f) for f in files]
    for f, scan in zip(files, scans):
        if scan.columns != scans[0].columns:
            raise InputError(f, f"dump columns {' '.join(scan.columns)} differ from those of "
                                f"{files[0]} ({' '.join(scans[0].columns)})")
    frame_file = [f for f, scan in zip(files, scans) for _ in range(scan.n_frames)]
    if len(frame_file) < MIN_FRAMES:
        raise InputError(files[0], f"only {len(frame_file)} frame; a reference needs at least "
                                   f"{MIN_FRAMES}: frame 0 is the strain reference (zero strain) "
                                   f"and later frames give the strain fields and the final "
                                   f"energy field the calibration compares")
    return DumpSeries(files, scans[0].columns, frame_file,
                      (scans[0].first_step, scans[-1].last_step))
