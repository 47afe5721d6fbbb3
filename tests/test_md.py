"""The small LAMMPS 2-D Kob–Andersen glass: melt, quench, SLLOD shear without a box flip."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import CUZR_POTENTIAL, needs
from grassego import cli
from grassego.errors import GrassegoError, InputError
from grassego.lammps_log import read_log
from grassego.md import run_shear_md

def _dump_frames(path: Path) -> list[list[str]]:
    text = gzip.open(path, "rt").read()
    return [block.splitlines() for block in text.split("ITEM: TIMESTEP\n")[1:]]


def test_dump_frames_every_half_percent_strain(lj_dir):
    frames = _dump_frames(lj_dir / "shear.dump.gz")
    assert len(frames) == 101
    assert [int(f[0]) for f in frames] == list(range(0, 10001, 100))  # 0.5 % strain apart
    assert frames[0][7] == "ITEM: ATOMS id type x y z c_pe c_stress[4]"
    atoms = np.array([line.split() for line in frames[0][8:]], dtype=float)
    assert atoms.shape == (1024, 7)
    assert np.count_nonzero(atoms[:, 1] == 2) == round(0.35 * 1024)  # Kob–Andersen 65:35
    assert np.all(atoms[:, 4] == 0.0)  # 2-D
    assert -4.0 < atoms[:, 5].mean() < -2.5  # pe per atom of a KA glass, ε
    tilt, ly = (float(frames[-1][k].split()[j]) for k, j in ((4, 2), (5, 1)))
    np.testing.assert_allclose(tilt / ly, 0.5, rtol=1e-6)  # the last frame is at γ = 0.5


def test_log_has_all_runs_and_a_thermostatted_shear(lj_dir):
    runs = read_log(lj_dir / "log.lammps")
    assert len(runs) == 4 and all(r.completed for r in runs)  # melt, quench, hold, shear
    shear = runs[-1]
    assert shear.has("f_pxy_avg") and shear.has("pxy")
    gamma = shear.column("xy") / shear.column("ly")
    np.testing.assert_allclose(gamma, np.arange(501) * 0.001, atol=1e-9)
    np.testing.assert_allclose(shear.column("temp")[50:].mean(), 0.05, rtol=0.05)
    manifest = json.loads((lj_dir / "run.json").read_text())
    assert manifest["n_atoms"] == 1024 and manifest["wall_time_s"] > 0
    assert manifest["parameters"]["n_dump"] == 100


def test_cli_shears_past_half_the_box_without_a_flip(tmp_path, capsys):
    out = tmp_path / "md"
    assert cli.main(["md", "--out-dir", str(out), "--n-atoms", "250", "--max-strain", "0.75",
                     "--erate", "0.02", "--dump-strain", "0.05", "--seed", "3",
                     "--melt-time", "5", "--quench-time", "5", "--hold-time", "5"]) == 0
    assert "256 atoms, 16 frames" in capsys.readouterr().out  # 16 x 16 lattice
    shear = read_log(out / "log.lammps")[-1]
    xy, lx = shear.column("xy"), shear.column("lx")
    assert np.all(np.diff(xy) > 0) and xy[-1] > 0.7 * lx[-1]  # LAMMPS would flip at lx/2
    assert not list(out.glob(".part-*"))


def test_bad_parameters(tmp_path):
    with pytest.raises(ValueError, match="whole number of steps"):
        run_shear_md(tmp_path, erate=3e-3, dump_strain=0.001)
    with pytest.raises(ValueError, match="multiple"):
        run_shear_md(tmp_path, max_strain=0.5, dump_strain=0.003)
    with pytest.raises(GrassegoError, match="input deck not found"):
        run_shear_md(tmp_path, deck=tmp_path / "missing.in")
    assert cli.main(["md", "--out-dir", str(tmp_path), "--erate", "3e-3"]) == 2


@pytest.mark.parametrize("name", ["my runs", "run$1", "run*", "r%", "it's", "a`b", "tab\there"])
def test_paths_lammps_would_mangle_are_refused_before_it_starts(tmp_path, name, capsys):
    out = tmp_path / name / "md"
    with pytest.raises(InputError, match="LAMMPS would mangle a dump path"):
        run_shear_md(out)
    assert cli.main(["md", "--out-dir", str(out)]) == 2
    assert str(out) in capsys.readouterr().err
    assert not (tmp_path / name).exists()


def test_a_failed_lammps_run_leaves_no_partial_file(tmp_path):
    deck = tmp_path / "broken.in"
    deck.write_text("units lj\ndimension 2\nregion box block 0 4 0 4 -0.5 0.5\n"
                    "create_box 1 box\ncreate_atoms 1 single 1 1 0\nmass 1 1\n"
                    "pair_style lj/cut 2.5\npair_coeff * * 1 1\n"
                    "dump frames all custom 1 ${dumpfile} id type x y z\nrun 1\n"
                    "no_such_command\n")
    out = tmp_path / "md"
    with pytest.raises(GrassegoError, match="no_such_command"):
        run_shear_md(out, deck=deck)
    assert sorted(p.name for p in out.iterdir()) == []


@needs(CUZR_POTENTIAL, "CuZr_mm.eam.fs is not shipped with this LAMMPS")
def test_the_shipped_cuzr_deck_makes_a_3d_glass_that_ingests(tmp_path):
    """The cuzr3d system, scaled down: a random start relaxed, melted, quenched and sheared in
    metal units; a log of five runs; the dumps ingest with the defaults but the window."""
    from grassego.ingest import ingest_dumps

    out = tmp_path / "cuzr"
    run = run_shear_md(out, system="cuzr3d", n_atoms=250, max_strain=0.04, erate=0.1,
                       dump_strain=0.02, thermo_strain=0.002, melt_time=0.1, quench_time=0.1,
                       hold_time=0.05)
    assert (run.n_atoms, run.n_frames) == (250, 3)  # 5 x 5 x 5 B2 cells' worth of atoms
    runs = read_log(run.log)
    assert len(runs) == 5 and all(r.completed for r in runs)  # minimise, melt, quench, hold, shear
    assert runs[-1].has("pxy") and not runs[1].has("pxy")
    frames = _dump_frames(run.dump)
    atoms = np.array([line.split() for line in frames[0][8:]], dtype=float)
    assert np.count_nonzero(atoms[:, 1] == 1) == np.count_nonzero(atoms[:, 1] == 2) == 125
    assert np.ptp(atoms[:, 4]) > 10.0  # 3-D: the slab is ~16 Å thick
    assert -5.5 < atoms[:, 5].mean() < -4.0  # eV/atom of a CuZr glass
    ds = ingest_dumps([run.dump], out / "ref.nc", log_file=run.log, width=3.0, cutoff=7.0,
                      grid=(4, 4))
    assert ds.attrs["dimension"] == 3 and 14 < ds.attrs["cell_lz"] < 18
    assert ds.attrs["md_shear_rate"] == pytest.approx(1e11, rel=1e-6)  # 0.1 / ps
    np.testing.assert_allclose(ds["strain"], [0.0, 0.02, 0.04], atol=1e-6)
    manifest = json.loads((out / "run.json").read_text())
    assert (manifest["system"], manifest["units"]) == ("cuzr3d", "metal")
    assert manifest["settings"]["t_melt"] == 2000.0  # the system's default
