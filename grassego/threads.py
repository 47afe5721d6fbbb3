"""Thread control for batches of small linear-algebra problems on the CPU.

Torch runs each small LAPACK call (a 32 x 32 SVD, a small Cholesky) inside OpenMP parallel
regions; on a 2-core machine whose other core is busy (a second Snakemake job, another process)
the threads wait on each other and a batch of 3,600 32 x 32 SVDs took 43 s on 2 threads against
0.4 s on 1 (measured here). Such work runs single-threaded inside :func:`torch_threads`.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from threadpoolctl import threadpool_limits


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run torch with ``n`` intra-op threads inside the block, restoring the previous count."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Run the BLAS that NumPy and SciPy call (OpenBLAS) with ``n`` threads inside the block.
    SciPy's L-BFGS-B makes many tiny BLAS calls per iteration; with the default thread pool
    on a busy 2-core machine the classifier's hyper-parameter fit took 0.8-0.9 s of CPU against
    0.26-0.34 s on one thread (measured here; the same numbers to the last bit)."""
    with threadpool_limits(limits=n, user_api="blas"):
        yield
