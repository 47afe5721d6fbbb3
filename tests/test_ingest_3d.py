"""3-D dumps reduced to the 2-D grid: a thickness average (grassego.ingest module doc)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grassego.coarse_grain import PlaneCell, coarse_grain
from grassego.ingest import ingest_dumps

SIDE, NZ = 12, 4  # a simple cubic lattice of spacing 1 Å, 12 x 12 in the plane, 4 layers thick
CG = dict(width=1.5, cutoff=4.0, grid=(6, 6), strain_cutoff=1.2, units="metal",
          stress_column="c_sxy")


def _slab_frames(gammas: list[float]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Dump lines of the slab affinely sheared by each γ; the in-plane positions of frame 0, the
    per-atom energy's in-plane part a(x) and its depth part h(z), which sums to zero over the
    layers of every column."""
    i, j, k = np.meshgrid(np.arange(SIDE), np.arange(SIDE), np.arange(NZ), indexing="ij")
    pos = np.stack([i.ravel() + 0.5, j.ravel() + 0.5, k.ravel() + 0.5], axis=1)
    a = -3.0 + 0.02 * np.sin(2 * np.pi * pos[:, 0] / SIDE)
    h = 0.05 * np.cos(2 * np.pi * pos[:, 2] / NZ)  # layers at z = 0.5 ... 3.5: sum 0
    lines = []
    for step, g in enumerate(gammas):
        xy = g * SIDE
        lines += ["ITEM: TIMESTEP", str(100 * step), "ITEM: NUMBER OF ATOMS", str(len(pos)),
                  "ITEM: BOX BOUNDS xy xz yz pp pp pp",
                  f"{min(0.0, xy):.12g} {SIDE + max(0.0, xy):.12g} {xy:.12g}",
                  f"0 {SIDE} 0.0", f"0 {NZ} 0.0", "ITEM: ATOMS id type x y z c_pe c_sxy"]
        lines += [f"{n + 1} 1 {x + g * y:.12g} {y:.12g} {z:.12g} {e:.10g} 0"
                  for n, ((x, y, z), e) in enumerate(zip(pos, a + h))]
    return lines, pos[:, :2], a, h


def test_a_slab_is_averaged_over_its_thickness(tmp_path: Path):
    lines, plane, a, h = _slab_frames([0.0, 0.02])
    assert np.allclose(np.bincount(np.arange(len(h)) // NZ, weights=h), 0.0)
    dump = tmp_path / "slab.dump"
    dump.write_text("\n".join(lines) + "\n")
    ds = ingest_dumps([dump], tmp_path / "slab.nc", **CG)
    # the depth variation h(z) averages out in every column; what remains is the 2-D
    # coarse-graining of a(x) at the atoms' in-plane positions
    expected = coarse_grain(plane, a, PlaneCell(SIDE, SIDE), width=CG["width"],
                            cutoff=CG["cutoff"], grid=CG["grid"]).values[0]
    np.testing.assert_allclose(ds["pe"][0], expected, atol=2e-6)
    assert np.ptp(expected) > 0.02  # the in-plane variation survives the average
    np.testing.assert_allclose(ds["exy"][1], 0.01, atol=2e-6)  # affine γ = 0.02: E_xy = γ/2
    assert ds.attrs["dimension"] == 3
    assert (ds.attrs["cell_lx"], ds.attrs["cell_ly"], ds.attrs["cell_lz"]) == (SIDE, SIDE, NZ)
    assert ds.attrs["cell_xy"] == 0.0 and ds.attrs["length_unit"] == "angstrom"
    assert "whole thickness" in ds.attrs["thickness_average"]


def test_the_depth_variation_alone_would_show_without_the_average(tmp_path: Path):
    """The check above can fail: one layer only (no average over h) shifts the field by h."""
    lines, plane, a, h = _slab_frames([0.0, 0.02])
    top = [n for n in range(len(h)) if n % NZ == 0]  # the z = 0.5 layer: h = 0.05 cos(π/4)
    expected = coarse_grain(plane[top], (a + h)[top], PlaneCell(SIDE, SIDE), width=CG["width"],
                            cutoff=CG["cutoff"], grid=CG["grid"]).values[0]
    full = coarse_grain(plane, a, PlaneCell(SIDE, SIDE), width=CG["width"],
                        cutoff=CG["cutoff"], grid=CG["grid"]).values[0]
    np.testing.assert_allclose(expected - full, 0.05 * np.cos(np.pi / 4), atol=1e-5)
