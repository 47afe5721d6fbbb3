"""Import the paper's legacy text format of coarse-grained MD fields into a reference dataset.

Layout of a legacy directory (the published CuZr data set):

- ``pe.MD.N`` and ``Exy.MD.N`` for N = 0 … N_max: one field per file. First line
  ``nx ny vmin vmax`` (vmin/vmax are informational and not trusted: the published files carry
  placeholders), then ``ny`` rows of ``nx`` whitespace-separated values. Row index = y.
- a stress trace (default ``stress_rand2_matlab.txt``): whitespace-separated numeric rows, evenly
  spaced in global strain from 0 to ``max_strain``; the shear stress in GPa is
  ``stress_scale × column[stress_column]`` (default −1e-4 × column 6, i.e. −pxy in bar → GPa).

Frame N sits at global shear strain ``max_strain · N / N_max``; ``Exy.MD`` is an engineering-style
shear strain (≈ γ under homogeneous shear).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from grassego import __version__
from grassego.errors import InputError
from grassego.fields import build_reference

ATTRIBUTION = (
    "CuZr metallic-glass NEMD data of Kontolati, Alberici, Hinkle, Shields, Falk et al., "
    "'Grassmannian EGO', Acta Materialia 2021; published by the authors under the MIT licence, "
    "Copyright (c) 2021 Katiana Kontolati."
)


@dataclass(frozen=True)
class LegacyLayout:
    """Where and how the legacy files are laid out (defaults: the published CuZr set)."""

    pe_prefix: str = "pe.MD."
    exy_prefix: str = "Exy.MD."
    stress_file: str = "stress_rand2_matlab.txt"
    stress_column: int = 6
    stress_scale: float = -1e-4  # bar -> GPa with the sign flip of the published scripts
    max_strain: float = 0.5
    box_length_A: float = 400.0  # square cell edge [Å]; grid points are cell centres
    coarse_graining_width_A: float = 50.0  # Gaussian window width c used upstream [Å]


def read_field_file(path: Path) -> np.ndarray:
    """Read one legacy field file; return a (ny, nx) float64 array.

    Raises :class:`InputError` naming the file and line for a bad header, a non-numeric token,
    a row of the wrong length, or a row count that does not match the header.
    """
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})") from exc
    if not lines:
        raise InputError(path, "empty file", line=1)
    header = lines[0].split()
    if len(header) < 2:
        raise InputError(path, f"header must be 'nx ny vmin vmax', got {lines[0]!r}", line=1)
    try:
        nx, ny = int(header[0]), int(header[1])
    except ValueError:
        raise InputError(path, f"header nx/ny are not integers: {lines[0]!r}", line=1) from None
    if nx < 1 or ny < 1:
        raise InputError(path, f"header gives a non-positive grid {nx} x {ny}", line=1)
    rows = [(i + 2, ln) for i, ln in enumerate(lines[1:]) if ln.strip()]
    if len(rows) != ny:
        raise InputError(path, f"header says ny={ny} rows but the file has {len(rows)} data rows",
                         line=rows[-1][0] if rows else 1)
    out = np.empty((ny, nx), dtype=np.float64)
    for r, (lineno, text) in enumerate(rows):
        tokens = text.split()
        if len(tokens) != nx:
            raise InputError(path, f"header says nx={nx} values per row but this row has "
                                   f"{len(tokens)}", line=lineno)
        try:
            out[r] = [float(t) for t in tokens]
        except ValueError:
            bad = next(t for t in tokens if not _is_float(t))
            raise InputError(path, f"non-numeric token {bad!r}", line=lineno) from None
    if not np.all(np.isfinite(out)):
        r = int(np.argwhere(~np.isfinite(out))[0][0])
        raise InputError(path, "non-finite value (nan/inf)", line=rows[r][0])
    return out


def read_stress_file(path: Path, column: int, scale: float) -> np.ndarray:
    """Read the stress trace; return ``scale * column`` per row (float64).

    Every row must have the same number of numeric columns; a short (truncated) row or a
    non-numeric token is an error naming the line.
    """
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})") from exc
    rows = [(i + 1, ln.split()) for i, ln in enumerate(lines) if ln.strip()]
    if len(rows) < 2:
        raise InputError(path, "fewer than two data rows in the stress trace")
    width = len(rows[0][1])
    if column >= width:
        raise InputError(path, f"stress column {column} requested but rows have {width} columns",
                         line=rows[0][0])
    values = np.empty(len(rows), dtype=np.float64)
    for k, (lineno, tokens) in enumerate(rows):
        if len(tokens) != width:
            raise InputError(path, f"row has {len(tokens)} columns, expected {width} "
                                   "(truncated file?)", line=lineno)
        try:
            values[k] = float(tokens[column])
        except ValueError:
            raise InputError(path, f"non-numeric token {tokens[column]!r}", line=lineno) from None
        if not np.isfinite(values[k]):
            raise InputError(path, "non-finite stress value", line=lineno)
    return scale * values


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _frame_numbers(directory: Path, prefix: str) -> list[int]:
    pattern = re.compile(re.escape(prefix) + r"(\d+)$")
    return sorted(int(m.group(1)) for p in directory.iterdir() if (m := pattern.match(p.name)))


def read_legacy(directory: str | Path, layout: LegacyLayout = LegacyLayout()) -> xr.Dataset:
    """Read a legacy directory into a validated reference dataset (see :mod:`grassego.fields`)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(directory, "not a directory")
    numbers = _frame_numbers(directory, layout.pe_prefix)
    if not numbers:
        raise InputError(directory, f"no '{layout.pe_prefix}N' files found")
    n_max = numbers[-1]
    for prefix in (layout.pe_prefix, layout.exy_prefix):
        have = set(_frame_numbers(directory, prefix))
        missing = [n for n in range(n_max + 1) if n not in have]
        if missing:
            raise InputError(directory / f"{prefix}{missing[0]}",
                             f"missing frame {missing[0]} (frames 0..{n_max} expected; "
                             f"{len(missing)} missing)")
    pe = np.stack([read_field_file(directory / f"{layout.pe_prefix}{n}") for n in range(n_max + 1)])
    exy = np.stack([read_field_file(directory / f"{layout.exy_prefix}{n}")
                    for n in range(n_max + 1)])
    if pe.shape != exy.shape:
        raise InputError(directory, f"pe fields {pe.shape[1:]} and exy fields {exy.shape[1:]} "
                                    "have different grids")
    stress = read_stress_file(directory / layout.stress_file, layout.stress_column,
                              layout.stress_scale)
    ny, nx = pe.shape[1:]
    strain = layout.max_strain * np.arange(n_max + 1) / max(n_max, 1)
    ds = build_reference(
        pe=pe.astype(np.float32),
        exy=exy.astype(np.float32),
        strain=strain,
        x=(np.arange(nx) + 0.5) * layout.box_length_A / nx,
        y=(np.arange(ny) + 0.5) * layout.box_length_A / ny,
        strain_ss=np.linspace(0.0, layout.max_strain, stress.size),
        stress_strain=stress.astype(np.float32),
        shear_convention="engineering",
        attrs={
            "title": "Coarse-grained MD reference fields (legacy text import)",
            "source": f"{directory.name}/: {layout.pe_prefix}0-{n_max}, "
                      f"{layout.exy_prefix}0-{n_max}, {layout.stress_file}",
            "source_format": "grassego legacy text (pe.MD.N / Exy.MD.N / stress trace)",
            "attribution": ATTRIBUTION,
            "license": "MIT",
            "stress_source": f"{layout.stress_file} column {layout.stress_column} "
                             f"x {layout.stress_scale} (bar -> GPa, sign of -pxy)",
            "coarse_graining_width_A": layout.coarse_graining_width_A,
            "grid": f"{nx} x {ny}",
            "box_length_A": layout.box_length_A,
            "history": f"grassego {__version__} ingest-legacy",
        },
    )
    ds["stress_strain"].attrs["long_name"] = "global shear stress (MD thermo trace)"
    return ds
