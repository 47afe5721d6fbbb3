"""Grassmannian EGO: calibrate continuum plasticity (STZ) models against coarse-grained MD.

Modules, one idea each: ``fields`` (NetCDF schema), ``grassmann`` (projection and distances),
``objective`` (snapshot selection and weighted distance), ``legacy`` (text import of the paper's
CuZr data), ``stz`` (batched continuum solver), ``coarse_grain`` and ``ingest`` (OVITO pipeline),
``design`` (space-filling designs), ``surrogate`` and ``ego`` (GPyTorch surrogate and the EGO loop),
``plots``.
"""

__version__ = "0.1.0"

from grassego import cpu_paths  # noqa: E402  (before numpy, scipy and torch load)

cpu_paths.pin()
