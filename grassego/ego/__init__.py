"""Efficient global optimisation of a batched black-box objective (paper §2.3, §3.5,
Algorithm 1), with a trust region, noise-aware and failure-aware acquisition.

Modules: :mod:`~grassego.ego.problem` (what is minimised and from which runs),
:mod:`~grassego.ego.settings` (what can be tuned), :mod:`~grassego.ego.history` (the
resumable on-disk record), :mod:`~grassego.ego.trust_region` (where to search),
:mod:`~grassego.ego.propose` (what to evaluate next), :mod:`~grassego.ego.space` (in which
coordinates), :mod:`~grassego.ego.loop` (the loop) and
:mod:`~grassego.ego.results` (outcome and seed summaries). The surrogates live in
:mod:`grassego.surrogate`.
"""

from grassego.ego.history import HISTORY_FORMAT, History, read_history
from grassego.ego.loop import minimize
from grassego.ego.problem import InitialRuns, SearchProblem
from grassego.ego.propose import Proposal, propose
from grassego.ego.results import EGOResult, result_from_history, summarize_seeds
from grassego.ego.settings import EGOLoop, EGOSettings
from grassego.ego.space import MeanChiSpace, SearchSpace, search_space
from grassego.ego.trust_region import TrustRegion, replay

__all__ = ["EGOLoop", "EGOResult", "EGOSettings", "HISTORY_FORMAT", "History", "InitialRuns",
           "MeanChiSpace", "Proposal", "SearchProblem", "SearchSpace", "TrustRegion", "minimize",
           "propose", "read_history", "replay", "result_from_history", "search_space",
           "summarize_seeds"]
