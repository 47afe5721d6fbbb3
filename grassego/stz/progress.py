"""Progress lines for long batches of STZ runs (:func:`grassego.stz.simulate_batch`).

A :class:`RunProgress` gives the solver both of its hooks: ``frame`` (its ``progress``) and
``chunk`` (its ``chunk_done``). Each finished chunk logs one INFO line with the runs solved of
the total, the rate [runs/s] and the time left at that rate; within a chunk, a line with the
frame reached and the chunk's own time left comes at most every ``every_s`` seconds, so a batch
solved as one chunk shows its progress from the first frames on. A clock read per frame is the
whole cost.
"""

from __future__ import annotations

import logging
import time
from typing import Callable


def duration(seconds: float) -> str:
    """``seconds`` as ``"42 s"``, ``"3 min 05 s"`` or ``"2 h 07 min"`` (rounded down)."""
    s = int(max(seconds, 0.0))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class RunProgress:
    """Logs the progress of one :func:`grassego.stz.simulate_batch` call to ``logger`` (INFO).

    Create it right before the call (its clock starts then) and pass ``progress=p.frame,
    chunk_done=p.chunk``. ``clock`` returns seconds (default ``time.perf_counter``).
    """

    def __init__(self, logger: logging.Logger, every_s: float = 10.0,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.logger = logger
        self.every_s = every_s
        self.clock = clock
        self.start = self.chunk_start = self.last = clock()
        self.n_chunk = 1

    def frame(self, frame: int, n_frames: int) -> None:
        """After ``frame`` of ``n_frames`` of the current chunk: a line if ``every_s`` passed
        (none for the last frame: the chunk's line follows)."""
        now = self.clock()
        if frame < n_frames and now - self.last >= self.every_s:
            self.last = now
            elapsed = now - self.chunk_start
            self.logger.info("chunk %d: frame %d/%d after %s, chunk ETA %s", self.n_chunk, frame,
                             n_frames, duration(elapsed), duration(elapsed * (n_frames - frame)
                                                                   / frame))

    def chunk(self, done: int, total: int) -> None:
        """After a chunk: ``done`` of ``total`` runs solved; one line with rate and ETA."""
        now = self.clock()
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else float("inf")
        self.logger.info("runs %d/%d solved in %s: %.3g runs/s, ETA %s", done, total,
                         duration(elapsed), rate, duration((total - done) / rate))
        self.chunk_start = self.last = now
        self.n_chunk += 1
