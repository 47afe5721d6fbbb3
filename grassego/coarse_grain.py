"""Gaussian coarse-graining of per-atom values onto a grid in a periodic, sheared cell.

Paper eqs. 36–37: the coarse value at grid point α is the normalised Gaussian average

    F_α = Σ_n g_n f_n / Σ_n g_n,   g_n = exp(-r_n² / (2 c²)) / (√(2π) c),   r_n ≤ r_cut,

over the atoms n within the cut-off, where r_n is the minimum-image distance in the plane of
shear (x, y; the thin z dimension is averaged out). The prefactor cancels in the ratio, so a
uniform per-atom field coarse-grains to exactly that value.

Geometry. A LAMMPS restricted triclinic cell has edge vectors a = (lx, 0), b = (xy, ly) in the
plane (xz = yz = 0 is required). It is used in its Lees–Edwards form: the rectangle
[0, lx) × [0, ly) from the cell origin, periodic in x, and an atom leaving through the top
re-enters at the bottom shifted by −xy in x. The grid points are the rectangle's cell centres
x_i = (i + ½) lx/nx, y_j = (j + ½) ly/ny (lengths in the dump's units: Å for metal units, σ for
LJ), fixed in the laboratory frame. Minimum-image distances are exact when
r_cut < min(lx, ly)/2, whatever the tilt (the tilt may exceed lx/2 when the box is not flipped).

Algorithm (no loop over atoms or grid points; one short loop over the ny grid rows):
atoms are sorted by y and padded with their images through the top and bottom edges, so the
atoms within r_cut in y of a grid row form one contiguous slice; the x factor
exp(-dx²/2c²) (minimum image in x) is evaluated once per atom and grid column, the circular
cut-off dx² + dy² ≤ r_cut² becomes a per-atom threshold on that factor, and the weighted sums
of all fields and of the weights are one matrix product per row. Cost ~ nx·ny·N·(2 r_cut/ly)
multiply-adds; memory ~ 4·nx·N·(1 + 2 r_cut/ly) bytes. Weights and sums are float32 (the output
is stored as float32); the values are centred on their mean first, so a uniform field comes back
exactly and the relative error is ~1e-6 of the field's spread. Frames are independent: call once
per frame.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

try:  # keeps BLAS to one thread for the many skinny products (threads only add waiting there)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional; then BLAS uses its default thread count
    threadpool_limits = None


@dataclass(frozen=True)
class PlaneCell:
    """The periodic cell in the shear plane: a = (lx, 0), b = (xy, ly), origin (x0, y0)."""

    lx: float
    ly: float
    xy: float = 0.0
    x0: float = 0.0
    y0: float = 0.0

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> "PlaneCell":
        """From an OVITO-style 3×4 cell matrix (columns a, b, c, origin).

        Raises ``ValueError`` unless the cell is a restricted triclinic one with only an xy tilt.
        """
        m = np.asarray(matrix, dtype=np.float64)
        if m.shape != (3, 4):
            raise ValueError(f"cell matrix must be 3x4, got {m.shape}")
        a, b, c, origin = m.T
        if abs(a[1]) > 1e-9 * a[0] or abs(c[0]) > 1e-9 * abs(c[2]) or abs(c[1]) > 1e-9 * abs(c[2]):
            raise ValueError("only cells with a along x and an xy tilt (xz = yz = 0) are supported")
        return cls(lx=float(a[0]), ly=float(b[1]), xy=float(b[0]), x0=float(origin[0]),
                   y0=float(origin[1]))


def grid_centres(cell: PlaneCell, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Grid-point coordinates (x of length nx, y of length ny) relative to the cell origin."""
    nx, ny = grid
    return (np.arange(nx) + 0.5) * (cell.lx / nx), (np.arange(ny) + 0.5) * (cell.ly / ny)


@dataclass(frozen=True)
class CoarseFields:
    """Result of :func:`coarse_grain` for one frame."""

    values: np.ndarray  #: (k, ny, nx) coarse-grained fields, in the order given
    counts: np.ndarray | None  #: (ny, nx) atoms within r_cut of each grid point (if counted)


def _lees_edwards(positions: np.ndarray, cell: PlaneCell) -> tuple[np.ndarray, np.ndarray]:
    """In-plane positions -> (x, y) in the Lees–Edwards rectangle, y wrapped into [0, ly)."""
    x = positions[:, 0] - cell.x0
    y = positions[:, 1] - cell.y0
    shift = np.floor(y / cell.ly)
    return x - shift * cell.xy, y - shift * cell.ly


def _x_factor(x: np.ndarray, xg: np.ndarray, lx: float, inv2c2: float,
              cutoff: float) -> np.ndarray:
    """exp(-dx²/2c²) for every grid column and atom, dx the minimum image in x (float32).

    Beyond the cut-off the factor is set to exactly 0: tiny values would become float32
    denormals, which make every later operation on them an order of magnitude slower.
    """
    out = np.empty((xg.size, x.size), dtype=np.float32)
    for i, xi in enumerate(xg):  # nx short iterations over contiguous rows of atoms
        dx = x - xi
        dx -= lx * np.rint(dx * (1.0 / lx))
        dx *= dx
        dx[dx > cutoff * cutoff] = np.inf
        np.exp(-inv2c2 * dx, out=out[i], casting="same_kind")
    return out


def _rows(gx: np.ndarray, f: np.ndarray, y: np.ndarray, yg: np.ndarray, starts: np.ndarray,
          stops: np.ndarray, cutoff: float, inv2c2: float, sums: np.ndarray,
          counts: np.ndarray | None) -> None:
    """Fill ``sums[j]`` (and ``counts[j]``) for every grid row j (see the module docstring)."""
    nx = gx.shape[0]
    band = int(np.max(stops - starts))
    inside_buf = np.empty((nx, band), dtype=bool)  # reused: fresh big arrays cost page faults
    w_buf = np.empty((nx, band), dtype=np.float32)
    for j in range(yg.size):  # rows: ny short iterations, each vectorised over atoms, columns
        sl = slice(starts[j], stops[j])
        m = stops[j] - starts[j]
        inside, w = inside_buf[:, :m], w_buf[:, :m]
        dy2 = (y[sl] - yg[j]) ** 2
        # dx² ≤ r_cut² - dy²  <=>  exp(-dx²/2c²) ≥ exp(-(r_cut² - dy²)/2c²)
        threshold = np.exp(-inv2c2 * (cutoff * cutoff - dy2)).astype(np.float32)
        np.greater_equal(gx[:, sl], threshold, out=inside)
        if counts is not None:
            counts[j] = np.count_nonzero(inside, axis=1)
        np.multiply(gx[:, sl], inside, out=w)
        sums[j] = w @ (f[sl] * np.exp(-inv2c2 * dy2)[:, None]).astype(np.float32)


def coarse_grain(
    positions: np.ndarray,
    values: np.ndarray,
    cell: PlaneCell,
    *,
    width: float,
    cutoff: float,
    grid: tuple[int, int],
    count: bool = True,
) -> CoarseFields:
    """Gaussian-average per-atom ``values`` (N or N×k) onto the ``grid = (nx, ny)`` points.

    ``positions`` is N×2 or N×3 (only x, y are used), in the cell's length unit; ``width`` is the
    Gaussian standard deviation c and ``cutoff`` the radius r_cut, both in that unit. Grid points
    with no atom within ``cutoff`` get NaN (see :func:`sparse_grid_message`).
    """
    positions = np.asarray(positions, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    vals = vals[:, None] if vals.ndim == 1 else vals
    if positions.ndim != 2 or positions.shape[1] < 2 or vals.shape[0] != positions.shape[0]:
        raise ValueError("positions must be N×2 or N×3 and values N or N×k with the same N")
    if width <= 0 or not 0 < cutoff < 0.5 * min(cell.lx, cell.ly):
        raise ValueError(f"need width > 0 and 0 < cutoff < min(lx, ly)/2 = "
                         f"{0.5 * min(cell.lx, cell.ly):.4g}; got width={width}, cutoff={cutoff}")
    nx, ny = grid
    xg, yg = grid_centres(cell, grid)
    x, y = _lees_edwards(positions, cell)
    order = np.argsort(y, kind="stable")
    x, y, vals = x[order], y[order], vals[order]
    # images through the bottom (shift -b) and top (shift +b) edges, keeping y sorted
    lo = np.searchsorted(y, cell.ly - cutoff, side="left")
    hi = np.searchsorted(y, cutoff, side="right")
    x = np.concatenate([x[lo:] - cell.xy, x, x[:hi] + cell.xy])
    y = np.concatenate([y[lo:] - cell.ly, y, y[:hi] + cell.ly])
    # centred values (better float precision) plus a column of ones for the normaliser
    mean = vals.mean(axis=0)
    centred = vals - mean
    f = np.concatenate([centred[lo:], centred, centred[:hi]])
    f = np.concatenate([f, np.ones((f.shape[0], 1))], axis=1)
    inv2c2 = 0.5 / width**2
    gx = _x_factor(x, xg, cell.lx, inv2c2, cutoff)  # (nx, N_ext) float32
    sums = np.empty((ny, nx, f.shape[1]))
    counts = np.empty((ny, nx), dtype=np.int64)
    starts = np.searchsorted(y, yg - cutoff, side="left")
    stops = np.searchsorted(y, yg + cutoff, side="right")
    with threadpool_limits(1, user_api="blas") if threadpool_limits else contextlib.nullcontext():
        _rows(gx, f, y, yg, starts, stops, cutoff, inv2c2, sums, counts if count else None)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = sums[..., :-1] / sums[..., -1:] + mean
    out[sums[..., -1] <= 0] = np.nan
    return CoarseFields(values=np.moveaxis(out, -1, 0), counts=counts if count else None)


def sparse_grid_message(
    counts: np.ndarray, n_atoms: int, cell: PlaneCell, grid: tuple[int, int], min_atoms: int = 10
) -> str | None:
    """Describe why the grid is too fine for the atoms, or return None when it is fine.

    Too fine means: some grid point has fewer than ``min_atoms`` atoms within r_cut (its value
    rests on a handful of atoms), or the grid spacing is below the mean in-plane atom spacing
    √(lx·ly/N) (neighbouring grid points then resolve single atoms, not a continuum field).
    """
    nx, ny = grid
    spacing = min(cell.lx / nx, cell.ly / ny)
    atom_spacing = float(np.sqrt(cell.lx * cell.ly / n_atoms))
    problems = []
    sparse = int(np.count_nonzero(counts < min_atoms))
    if sparse:
        problems.append(f"{sparse} of {counts.size} grid points have fewer than {min_atoms} atoms "
                        f"within the cut-off (minimum {int(counts.min())})")
    if spacing < atom_spacing:
        problems.append(f"the grid spacing {spacing:.3g} is below the mean atom spacing "
                        f"{atom_spacing:.3g}")
    if not problems:
        return None
    return ("grid is finer than the atoms allow: " + "; ".join(problems)
            + "; use a coarser grid or a larger width/cut-off")
