"""The results-directory lock: a second run on a held directory is refused with the holder's
pid and host; the lock goes when its holder exits, even killed."""

from __future__ import annotations

import errno
import fcntl
import logging
import socket
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from grassego.lock import LOCK_NAME, lock_results


def _lock_in_a_new_process(results: Path) -> subprocess.CompletedProcess:
    """Take the lock twice (the second call keeps it), print the process id."""
    code = (f"import os, sys; sys.path.insert(0, {str(ROOT)!r}); "
            "from grassego.lock import lock_results; "
            "lock_results(sys.argv[1]); lock_results(sys.argv[1]); print(os.getpid())")
    return subprocess.run([sys.executable, "-c", code, str(results)], capture_output=True,
                          text=True, timeout=60)


def test_a_held_results_directory_is_refused_until_its_holder_exits(tmp_path, lock_holder):
    results = tmp_path / "new" / "results"  # created by the lock
    holder = lock_holder(results)
    who = f"pid {holder.pid} on host {socket.gethostname()} since "
    assert (results / LOCK_NAME).read_text().startswith(who)
    refused = _lock_in_a_new_process(results)
    assert refused.returncode != 0
    assert (f"ConfigError: results: {results} is in use by another run ({who}"
            in refused.stderr), refused.stderr
    holder.kill()
    holder.wait()
    taken = _lock_in_a_new_process(results)
    assert taken.returncode == 0, taken.stderr
    assert (results / LOCK_NAME).read_text().startswith(f"pid {taken.stdout.strip()} on host ")


def test_a_file_system_without_locks_gets_a_warning_not_an_error(tmp_path, monkeypatch, caplog):
    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with caplog.at_level(logging.WARNING, logger="grassego.lock"):
        lock_results(tmp_path / "results")
    assert "results: cannot lock" in caplog.text and "No locks available" in caplog.text
