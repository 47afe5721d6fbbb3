"""Neighbour-shell length scales of one frame (an OVITO DataCollection), for the strain cut-off.

The atomic-strain neighbour cut-off should take in the first neighbour shell: the first
minimum of the radial distribution function g(r) after its first peak (≈ 1.5 σ for a dense
Lennard-Jones liquid, ≈ 3.6–3.9 Å for a CuZr metallic glass). g(r) is computed by OVITO's
``CoordinationAnalysisModifier`` up to :data:`RDF_RANGE` mean atomic spacings
a = (V/N)^(1/d) (V the cell volume, the area in 2-D), in bins of a/:data:`RDF_BINS_PER_SPACING`,
then smoothed by a running mean over :data:`RDF_SMOOTH_BINS` bins against the noise of small
systems. Lengths are in the dump's unit (Å for metal and real units, σ for lj).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: g(r) is computed up to this many mean atomic spacings (the first minimum lies near 1.4–1.6).
RDF_RANGE = 3.0
#: Histogram bins per mean atomic spacing.
RDF_BINS_PER_SPACING = 50
#: Width of the running mean smoothing g(r), in bins (0.18 mean spacings): it steadies the first
#: minimum of a 500-atom liquid to about ±0.03 σ.
RDF_SMOOTH_BINS = 9


@dataclass(frozen=True)
class RdfMinimum:
    """First peak and first minimum after it of a smoothed g(r); radii in the dump's unit."""

    r_peak: float
    g_peak: float
    r_min: float
    g_min: float


def mean_spacing(data) -> float:
    """Mean atomic spacing a = (V/N)^(1/d): V the cell volume (its area for a 2-D cell)."""
    if data.cell.is2D:
        return float(np.sqrt(data.cell.volume2D / data.particles.count))
    return float(np.cbrt(data.cell.volume / data.particles.count))


def first_minimum(r: np.ndarray, g: np.ndarray, smooth: int = RDF_SMOOTH_BINS) -> RdfMinimum:
    """First peak (the maximum) of g(r) and the minimum after it, on the running mean of
    ``smooth`` bins; a flat minimum (g = 0 between the shells of a crystal) gives its middle.
    Raises ValueError when g has no minimum below 1 that g rises from again within ``r``."""
    kernel = np.ones(smooth) / smooth
    gs = np.convolve(g, kernel, mode="valid")
    rs = r[smooth // 2: smooth // 2 + gs.size]
    peak = int(np.argmax(gs))
    low = peak + int(np.argmin(gs[peak:]))
    flat = low + int(np.argmax(np.append(gs[low:] != gs[low], True)))  # end of a flat minimum
    if gs[low] >= 1.0 or flat >= gs.size:
        raise ValueError(f"g(r) has no minimum below 1 after its first peak at "
                         f"{rs[peak]:.4g} within r <= {r[-1]:.4g}")
    middle = (low + flat - 1) // 2
    return RdfMinimum(r_peak=float(rs[peak]), g_peak=float(gs[peak]), r_min=float(rs[middle]),
                      g_min=float(gs[low]))


def rdf_first_minimum(data) -> RdfMinimum:
    """:func:`first_minimum` of the total g(r) of ``data`` (2-D when its cell is), computed by
    OVITO up to :data:`RDF_RANGE` mean atomic spacings. ``data`` is not modified."""
    from ovito.modifiers import CoordinationAnalysisModifier

    spacing = mean_spacing(data)
    bins = int(RDF_RANGE * RDF_BINS_PER_SPACING)
    result = data.clone()
    result.apply(CoordinationAnalysisModifier(cutoff=RDF_RANGE * spacing, number_of_bins=bins))
    table = np.asarray(result.tables["coordination-rdf"].xy())
    return first_minimum(table[:, 0], table[:, 1])


def neighbour_cutoff(data, count: int) -> float:
    """The smallest cut-off within which every atom of ``data`` has ``count`` neighbours: the
    largest distance of an atom to its ``count``-th nearest neighbour (periodic images
    included)."""
    from ovito.data import NearestNeighborFinder

    _, vectors = NearestNeighborFinder(count, data).find_all()
    return float(np.linalg.norm(vectors[:, count - 1], axis=1).max())
