"""What the tests share: the paths of the project root, the shipped resources and the test
data (tests/data), imported by test modules as ``from conftest import ROOT``; the one skip
marker (a test that needs what this installation may lack); fixtures of small real inputs; a
process holding the lock of a results directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grassego.md import lammps_potential

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CUZR_REFERENCE = ROOT / "resources" / "cuzr" / "reference.nc"


#: Mendelev's CuZr EAM potential as shipped with LAMMPS (None where this LAMMPS lacks it).
CUZR_POTENTIAL = lammps_potential("CuZr_mm.eam.fs")


def replica(reference, rows: int, stress_factor: float):
    """A second realisation of a reference for the joint-calibration tests: its fields shifted
    by ``rows`` grid rows (the weak region, and so the band, elsewhere) and its stress curve
    scaled by ``stress_factor``."""
    fields = {name: reference[name].roll(y=rows) for name in ("pe", "exy")}
    return reference.assign(**fields, stress_strain=reference["stress_strain"] * stress_factor)


def needs(what: object, reason: str) -> pytest.MarkDecorator:
    """The one skip marker: skip the test where ``what`` is missing (None or False), saying
    ``reason``; e.g. ``@needs(CUZR_POTENTIAL, "CuZr_mm.eam.fs is not shipped with this LAMMPS")``."""
    return pytest.mark.skipif(what is None or what is False, reason=reason)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cuzr_reference_path() -> Path:
    return CUZR_REFERENCE


@pytest.fixture(scope="session")
def cuzr_legacy_dir() -> Path:
    """A few files of the published CuZr data in their legacy text format (README there)."""
    return DATA / "cuzr_legacy"


@pytest.fixture(scope="session")
def golden_stz_dir() -> Path:
    """Golden outputs of the original C++ STZ solver (README there)."""
    return DATA / "golden_stz"


@pytest.fixture(scope="session")
def cuzr_fields_16() -> tuple[np.ndarray, np.ndarray]:
    """The CuZr MD energy fields of the first and last frame (the shipped reference), subsampled
    to 16 × 16 [eV/atom]: small, fast solver inputs with the real data's structure."""
    from grassego.fields import read_reference

    pe = read_reference(CUZR_REFERENCE)["pe"].values.astype(np.float64)
    return pe[0, ::2, ::2], pe[-1, ::2, ::2]


#: The tiny real LAMMPS run (2-D Kob-Andersen glass sheared to 50 %) shared by the ingest and md
#: tests: run once per test session.
LJ_RUN = dict(n_atoms=1024, max_strain=0.5, erate=1e-2, dump_strain=0.005, seed=1,
              quench_time=100.0, t_shear=0.05, stress_atom=True)


@pytest.fixture(scope="session")
def lj_dir(tmp_path_factory) -> Path:
    """Directory of the session's LJ NEMD run: shear.dump.gz, log.lammps, run.json."""
    from grassego.md import run_shear_md

    out = tmp_path_factory.getbasetemp() / "lj2d_shear"
    manifest = out / "run.json"
    if not manifest.is_file() or json.loads(manifest.read_text())["parameters"]["side"] != 32:
        run_shear_md(out, **LJ_RUN)
    return out


@pytest.fixture(scope="session")
def run_lammps():
    """A function running a LAMMPS input deck ``deck`` (text) with ``-var`` ``variables`` (and
    ``dir``, the output directory ``out_dir``): it writes ``out_dir/in.lammps`` and the log
    ``out_dir/log.lammps``, which it returns."""
    from grassego.md import load_lammps

    def run(deck: str, out_dir: Path, **variables) -> Path:
        lammps = load_lammps()
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "in.lammps").write_text(deck)
        args = ["-nocite", "-screen", "none", "-log", str(out_dir / "log.lammps")]
        for name, value in {"dir": out_dir, **variables}.items():
            args += ["-var", name, str(value)]
        lmp = lammps(cmdargs=args)
        try:
            lmp.file(str(out_dir / "in.lammps"))
        finally:
            lmp.close()
        return out_dir / "log.lammps"

    return run


_HOLD_LOCK = ("import sys; sys.path.insert(0, {root!r}); from grassego.lock import lock_results; "
              "lock_results(sys.argv[1]); print('held', flush=True); sys.stdin.read()")


@pytest.fixture
def lock_holder():
    """Start a process holding the lock of a results directory (as a workflow run does); returns
    its Popen once the lock is held. It holds it until killed, at the latest when the test ends."""
    procs = []

    def hold(results: Path) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK.format(root=str(ROOT)),
                                 str(results)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        procs.append(proc)
        assert proc.stdout.readline() == "held\n"
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.communicate()
