"""Grassmann-manifold projection of field snapshots and distances between them (paper §2.1).

A field matrix ``A`` (n × m, e.g. a 32 × 32 strain field, rows = y) is projected onto the
Grassmann manifold G(p, n) by a thin SVD ``A = U Σ Vᵀ`` truncated to rank p (eqs. 2, 6): the
point is span(U[:, :p]) (column space; the row space uses V). Distances between two points come
from their principal angles θ_i (eq. 3):

- ``geodesic``      sqrt(Σ θ_i²)                         (eq. 4, arc length)
- ``chordal``       sqrt(Σ sin² θ_i)                     (projection F-norm / √2)
- ``procrustes``    2 sqrt(Σ sin²(θ_i / 2))
- ``binet_cauchy``  sqrt(1 − Π cos² θ_i)
- ``asimov``        max θ_i

When the two ranks differ (rA ≠ rB) the ``unequal`` policy decides:

- ``"max"`` (paper §3.3, default): both subspaces are taken at p̂ = max(rA, rB);
- ``"min"``: both at min(rA, rB);
- ``"infinite"`` (eq. 8): each keeps its own rank, and the |rA − rB| missing directions count as
  orthogonal (θ = π/2), which for the geodesic adds |rA − rB|·π²/4 under the root.

Fields without energy: directions a field does not have are not part of its subspace. A field's
*available* rank is its numerical rank, the count of σ_i > max(n, m)·ε·σ_1 (as
``numpy.linalg.matrix_rank``), and 0 when σ_1 is below the smallest normal float64 (an all-zero
field); every rank rule is clipped to it. Where a policy compares a subspace at more directions
than it has, the missing ones count as orthogonal (θ = π/2), as in eq. 8. Hence:

- an all-zero field spans no subspace: its distance to another zero field is 0, and to a field
  of rank p (compared at p directions under every policy, ``"min"`` included) it is the largest
  any metric gives for p angles of π/2: geodesic π/2·√p, chordal √p, procrustes √(2p),
  binet_cauchy 1, asimov π/2;
- a uniform (constant, non-zero) field has rank 1, its subspace spanned by the uniform vector;
  at distance 0 from any other uniform field, and, compared with a field of rank p under
  ``"max"``, one principal angle plus p − 1 orthogonal directions.

Numerics: angles are ``atan2(sin θ, cos θ)`` with cosines from the SVD of U_Aᵀ U_B and sines from
the SVD of (I − U_A U_Aᵀ) U_B, so nearly identical subspaces give ~1e-8, not ~1e-4 (arccos alone
loses half the digits near θ = 0). Everything is batched over leading dimensions in torch;
distances are invariant to scaling a field (eq. 5) and to sign flips of singular vectors.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import torch

from grassego.threads import torch_threads

METRICS = ("geodesic", "chordal", "procrustes", "binet_cauchy", "asimov")
SPACES = ("column", "row", "both")
UNEQUAL = ("max", "min", "infinite")


@dataclass(frozen=True)
class RankRule:
    """How to truncate a thin SVD.

    ``kind``: ``"fixed"`` (keep ``value`` singular vectors), ``"rtol"`` (keep σ_i > value·σ_1), or
    ``"energy"`` (smallest p with Σ_{i≤p} σ_i² ≥ value·Σ σ_i²). Ranks are clipped to
    [1, min(n, m)]; :func:`project` clips them further to the field's available rank.
    """

    kind: Literal["fixed", "rtol", "energy"] = "fixed"
    value: float = 5

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "rtol", "energy"):
            raise ValueError(f"unknown rank rule {self.kind!r}; use fixed, rtol or energy")
        if self.kind == "fixed" and (self.value < 1 or int(self.value) != self.value):
            raise ValueError(f"a fixed rank must be a positive integer, got {self.value}")
        if self.kind == "rtol" and not 0 < self.value < 1:
            raise ValueError(f"rtol must lie in (0, 1), got {self.value}")
        if self.kind == "energy" and not 0 < self.value <= 1:
            raise ValueError(f"energy fraction must lie in (0, 1], got {self.value}")

    @classmethod
    def parse(cls, spec: "RankRule | int | str | dict") -> "RankRule":
        """Accept ``5``, ``"fixed:5"``, ``"rtol:1e-2"``, ``"energy:0.99"`` or ``{"kind":…, "value":…}``."""
        if isinstance(spec, RankRule):
            return spec
        if isinstance(spec, (int, np.integer)):
            return cls("fixed", int(spec))
        if isinstance(spec, dict):
            return cls(spec["kind"], float(spec["value"]) if spec["kind"] != "fixed"
                       else int(spec["value"]))
        if isinstance(spec, str):
            kind, _, value = spec.partition(":")
            if not value:
                return cls("fixed", int(kind))
            return cls(kind, int(value) if kind == "fixed" else float(value))
        raise TypeError(f"cannot read a rank rule from {spec!r}")

    def ranks(self, s: torch.Tensor) -> torch.Tensor:
        """Ranks (int64, shape ``s.shape[:-1]``) for singular values ``s`` sorted descending."""
        k = s.shape[-1]
        if self.kind == "fixed":
            r = torch.full(s.shape[:-1], int(self.value), dtype=torch.int64, device=s.device)
        elif self.kind == "rtol":
            r = (s > self.value * s[..., :1]).sum(-1)
        else:
            e = torch.cumsum(s * s, dim=-1)
            total = e[..., -1:].clamp_min(torch.finfo(s.dtype).tiny)
            # smallest p with e_p >= value*total; a small slack keeps value=1 exact
            r = (e < (self.value - 1e-12) * total).sum(-1) + 1
        return r.clamp(1, k)


@dataclass
class GrassmannPoints:
    """A batch of truncated subspaces: full thin-SVD bases plus the rank kept for each."""

    basis: torch.Tensor  # (..., n, k) orthonormal columns, descending singular values
    singular_values: torch.Tensor  # (..., k)
    rank: torch.Tensor  # (...,) int64, the rule's rank clipped to ``available``
    available: torch.Tensor  # (...,) int64, directions with energy (numerical rank)


def available_rank(s: torch.Tensor, size: int) -> torch.Tensor:
    """Numerical rank (int64, shape ``s.shape[:-1]``) of matrices with largest dimension ``size``
    and singular values ``s`` sorted descending: the count of σ_i > size·ε·σ_1, 0 where σ_1 is
    below the smallest normal float (no energy, e.g. an all-zero field)."""
    info = torch.finfo(s.dtype)
    count = (s > size * info.eps * s[..., :1]).sum(-1)
    return torch.where(s[..., 0] < info.tiny, torch.zeros_like(count), count)


def project(fields: torch.Tensor, rule: RankRule | int | str = 5,
            space: Literal["column", "row"] = "column") -> GrassmannPoints:
    """Project field matrices ``(..., n, m)`` onto the Grassmann manifold (thin SVD, eq. 2).

    The rank kept is the rule's, clipped to the field's available rank (0 for a field without
    energy: see the module doc)."""
    rule = RankRule.parse(rule)
    u, s, vh = torch.linalg.svd(fields, full_matrices=False)
    basis = u if space == "column" else vh.transpose(-1, -2)
    available = available_rank(s, max(fields.shape[-2:]))
    return GrassmannPoints(basis, s, torch.minimum(rule.ranks(s), available), available)


def _mask(basis: torch.Tensor, rank: torch.Tensor) -> torch.Tensor:
    k = basis.shape[-1]
    keep = torch.arange(k, device=basis.device) < rank[..., None]
    return basis * keep[..., None, :].to(basis.dtype)


def principal_angles(a: GrassmannPoints, b: GrassmannPoints,
                     unequal: str = "max") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Principal angles between two batches of subspaces.

    Returns ``(theta, n_angles, n_missing)``: ``theta`` is ``(..., k)`` ascending, valid in its
    first ``n_angles`` entries (zero beyond), and ``n_missing`` is the count of compared
    directions one subspace lacks, to be counted as orthogonal: the extra directions of the
    larger subspace for ``unequal="infinite"``, and under every policy those a field without
    enough energy does not have (module doc).
    """
    if unequal not in UNEQUAL:
        raise ValueError(f"unknown unequal-rank policy {unequal!r}; use one of {UNEQUAL}")
    ra, rb = torch.broadcast_tensors(a.rank, b.rank)
    if unequal == "max":
        ra = rb = torch.maximum(ra, rb)
    elif unequal == "min":
        # a field without energy is compared at the other field's rank, not at none
        low = torch.minimum(ra, rb)
        ra = rb = torch.where(low == 0, torch.maximum(ra, rb), low)
    wanted = torch.maximum(ra, rb)
    ra, rb = torch.minimum(ra, a.available), torch.minimum(rb, b.available)
    ua, ub = _mask(a.basis, ra), _mask(b.basis, rb)
    r = torch.minimum(ra, rb)
    cos = torch.linalg.svdvals(ua.transpose(-1, -2) @ ub).clamp(0.0, 1.0)  # descending
    # sines: project the smaller subspace out of the larger one (its rank bounds the count)
    a_small = (ra <= rb)[..., None, None]
    small = torch.where(a_small, ua, ub)
    big = torch.where(a_small, ub, ua)
    sin = torch.linalg.svdvals(small - big @ (big.transpose(-1, -2) @ small)).clamp(0.0, 1.0)
    k = cos.shape[-1]
    idx = torch.arange(k, device=cos.device)
    valid = idx < r[..., None]
    # cos descending pairs with sin ascending: sin index r-1-i among the top r sines
    sin_idx = (r[..., None] - 1 - idx).clamp(0, k - 1)
    sin_paired = torch.gather(sin, -1, sin_idx.expand_as(sin))
    theta = torch.where(valid, torch.atan2(sin_paired, cos), torch.zeros_like(cos))
    return theta, r, wanted - r


def _from_angles(theta: torch.Tensor, n_angles: torch.Tensor, n_missing: torch.Tensor,
                 metric: str) -> torch.Tensor:
    half_pi = math.pi / 2
    m = n_missing.to(theta.dtype)
    if metric == "geodesic":
        return torch.sqrt((theta * theta).sum(-1) + m * half_pi**2)
    if metric == "chordal":
        return torch.sqrt((torch.sin(theta) ** 2).sum(-1) + m)
    if metric == "procrustes":
        return 2.0 * torch.sqrt((torch.sin(theta / 2) ** 2).sum(-1) + m * math.sin(half_pi / 2) ** 2)
    if metric == "binet_cauchy":
        prod = torch.prod(torch.cos(theta) ** 2, dim=-1) * (n_missing == 0).to(theta.dtype)
        return torch.sqrt((1.0 - prod).clamp_min(0.0))
    if metric == "asimov":
        worst = theta.max(dim=-1).values
        return torch.where(n_missing > 0, torch.full_like(worst, half_pi), worst)
    raise ValueError(f"unknown metric {metric!r}; use one of {METRICS}")


@dataclass
class DistanceResult:
    """Distances (shape ``batch``) with the ranks that produced them (per space)."""

    distance: torch.Tensor
    rank_a: torch.Tensor
    rank_b: torch.Tensor


def grassmann_distance(
    a: torch.Tensor | np.ndarray,
    b: torch.Tensor | np.ndarray,
    *,
    metric: str = "geodesic",
    rank: RankRule | int | str | dict = 5,
    space: str = "column",
    unequal: str = "max",
) -> DistanceResult:
    """Grassmann distance between field matrices ``a`` and ``b`` of shape ``(..., n, m)``.

    Leading dimensions broadcast (e.g. a reference ``(S, n, m)`` against runs ``(N, S, n, m)``).
    ``space="both"`` combines column- and row-space distances as sqrt(d_col² + d_row²); the ranks
    returned are then those of the column space. Inputs are promoted to float64.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {METRICS}")
    if space not in SPACES:
        raise ValueError(f"unknown space {space!r}; use one of {SPACES}")
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64, device=a.device)
    if a.shape[-2:] != b.shape[-2:]:
        raise ValueError(f"field shapes differ: {tuple(a.shape[-2:])} vs {tuple(b.shape[-2:])}")
    shape = torch.broadcast_shapes(a.shape, b.shape)
    a, b = a.expand(shape), b.expand(shape)
    rule = RankRule.parse(rank)
    spaces = ("column", "row") if space == "both" else (space,)
    total = None
    # many tiny SVDs: one thread is faster, and far faster on a busy machine (grassego.threads)
    with torch_threads(1) if a.device.type == "cpu" else contextlib.nullcontext():
        for sp in spaces:
            pa, pb = project(a, rule, sp), project(b, rule, sp)
            d = _from_angles(*principal_angles(pa, pb, unequal), metric)
            total = d * d if total is None else total + d * d
            if sp == spaces[0]:
                rank_a, rank_b = pa.rank, pb.rank
    return DistanceResult(torch.sqrt(total), rank_a, rank_b)


def frobenius_distance(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray,
                       relative: bool = False) -> torch.Tensor:
    """Euclidean (Frobenius) distance ‖a − b‖_F over the last two dims; relative to ‖a‖_F if asked."""
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64, device=a.device)
    d = torch.linalg.matrix_norm(a - b)
    return d / torch.linalg.matrix_norm(a).clamp_min(1e-300) if relative else d


def per_snapshot_ranks(spec: RankRule | int | str | dict | Sequence, n_snapshots: int
                       ) -> list[RankRule]:
    """Expand a rank spec to one rule per snapshot (a list gives one per snapshot, e.g. the
    hand-set ranks of the paper's published script)."""
    if isinstance(spec, (list, tuple)):
        if len(spec) != n_snapshots:
            raise ValueError(f"{len(spec)} ranks given for {n_snapshots} snapshots")
        return [RankRule.parse(s) for s in spec]
    return [RankRule.parse(spec)] * n_snapshots
