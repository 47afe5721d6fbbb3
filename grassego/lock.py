"""One workflow run per results directory: an exclusive lock on ``<results>/.grassego.lock``.

Snakemake locks its working directory only, so two runs started from different working
directories with the same absolute ``results:`` would both run, and two EGO jobs would write one
history. :func:`lock_results` takes an exclusive, non-blocking ``flock`` on a file in the
results directory and holds it until the process exits: the kernel releases it even after a
kill, so a leftover lock file never blocks a later run. The file records the holder (pid, host,
start time) for the message the next run gets. Over NFS, Linux turns ``flock`` into a lock the
server keeps, so runs on different hosts see each other; on a file system without locks the
run goes on with a warning.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from pathlib import Path

from grassego.errors import ConfigError

log = logging.getLogger(__name__)

LOCK_NAME = ".grassego.lock"

#: Descriptors of the locks this process holds, by results directory; open until it exits.
_held: dict[Path, int] = {}


def lock_results(results: str | os.PathLike) -> None:
    """Hold the lock of the directory ``results`` (created if missing) until this process exits.

    A second call in the same process keeps the lock it holds. Raises :class:`ConfigError`
    naming the directory and the holder (pid, host, start time) if another process holds it.
    """
    directory = Path(os.path.abspath(results))
    if directory in _held:
        return
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 200).decode(errors="replace").strip() or "holder unknown"
        os.close(fd)
        raise ConfigError(f"results: {directory} is in use by another run ({holder}); wait for "
                          "it to end or give another results directory") from None
    except OSError as exc:
        os.close(fd)
        log.warning("results: cannot lock %s (%s); a second run on it would not be stopped",
                    directory, exc)
        return
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on host {socket.gethostname()} since "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
    _held[directory] = fd
