"""How sure is the calibration: the objective's noise, the global sensitivity of Δ, the
near-optimal region with per-parameter intervals and profiles, and a plain-words verdict per
parameter, from every seed's EGO history plus a small, stated budget of real evaluations.

Modules: :mod:`~grassego.uncertainty.settings` (budget and thresholds),
:mod:`~grassego.uncertainty.analysis` (the pipeline: :func:`~grassego.uncertainty.analysis.
analyze`), :mod:`~grassego.uncertainty.noise` (near-replicates),
:mod:`~grassego.uncertainty.model` (the pooled GP), :mod:`~grassego.uncertainty.sobol` (Sobol'
indices), :mod:`~grassego.uncertainty.region` (the near-optimal region),
:mod:`~grassego.uncertainty.profiles`, :mod:`~grassego.uncertainty.verdict`,
:mod:`~grassego.uncertainty.io` (its files) and :mod:`~grassego.uncertainty.plots` (figures and
the report's table). The package import stays light (the workflow's config check imports the
settings); import the pipeline from its module.
"""

#: Report figures of the step (``figures/<name>.png``): profiles, near-optimal pairs, Sobol'.
FIGURES = ("uncertainty_profiles", "uncertainty_pairs", "uncertainty_sobol")
