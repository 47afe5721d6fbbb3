"""Progress lines of a batch of STZ runs: frames within a chunk, rate and ETA per chunk."""

from __future__ import annotations

import logging

from grassego.stz.progress import RunProgress, duration


def test_duration_formats():
    assert [duration(s) for s in (0, 42.9, 185, 7620, -3)] == [
        "0 s", "42 s", "3 min 05 s", "2 h 07 min", "0 s"]


def test_lines_per_chunk_and_at_most_every_interval_within_one(caplog):
    now = [100.0]
    p = RunProgress(logging.getLogger("grassego.test"), every_s=10.0, clock=lambda: now[0])
    with caplog.at_level("INFO", logger="grassego.test"):
        for frame in range(1, 11):  # chunk 1: 10 frames of 3 s
            now[0] += 3.0
            p.frame(frame, 10)
        p.chunk(4, 12)
        now[0] += 1.0
        p.frame(1, 10)  # within every_s of the chunk line: silent
    assert [r.getMessage() for r in caplog.records] == [
        "chunk 1: frame 4/10 after 12 s, chunk ETA 18 s",
        "chunk 1: frame 8/10 after 24 s, chunk ETA 6 s",
        "runs 4/12 solved in 30 s: 0.133 runs/s, ETA 1 min 00 s",
    ]
