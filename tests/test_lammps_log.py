"""LAMMPS log parsing: several runs, interleaved warnings, timestep resets, flips, bad logs."""

from __future__ import annotations

import numpy as np
import pytest

from grassego.errors import InputError
from grassego.lammps_log import read_log, stress_strain, unflip_tilt

# A log in the shape LAMMPS writes: an equilibration run, a timestep reset, then the shear in
# two runs (the second repeats the last row of the first), a WARNING inside a table, and an
# old-style header without padding in the first run.
LOG = """\
LAMMPS (22 Jul 2025 - Update 4)
units metal
Per MPI rank memory allocation (min/avg/max) = 3.1 | 3.1 | 3.1 Mbytes
Step Temp E_pair Pxy Xy Ly
       0   300   -3.40   120.0   0.0   400.0
     100   301   -3.41   -80.0   0.0   400.0
Loop time of 1.0 on 1 procs for 100 steps with 10 atoms

reset_timestep 0
   Step          Temp          E_pair          Pxy             Xy             Lx             Ly
         0   300           -3.41          -80.0           0.0            400.0          400.0
        10   300           -3.41          -1000.0         4.0            400.0          400.0
WARNING: Bond/angle/dihedral extent > half of periodic box length (src/domain.cpp:1234)
        20   300           -3.41          -2000.0         8.0            400.0          400.0
Loop time of 1.0 on 1 procs for 20 steps with 10 atoms

   Step          Temp          E_pair          Pxy             Xy             Lx             Ly
        20   300           -3.41          -2000.0         8.0            400.0          400.0
        30   300           -3.41          -2500.0         12.0           400.0          400.0
        40   300           -3.41          -2400.0         16.0           400.0          400.0
Loop time of 1.0 on 1 procs for 20 steps with 10 atoms
Total wall time: 0:00:03
"""


@pytest.fixture
def log_path(tmp_path):
    path = tmp_path / "log.lammps"
    path.write_text(LOG)
    return path


def test_read_log_finds_every_run_and_skips_warnings(log_path):
    runs = read_log(log_path)
    assert [len(r.columns["Step"]) for r in runs] == [2, 3, 3]
    assert all(r.completed for r in runs)
    assert runs[0].names == ("Step", "Temp", "E_pair", "Pxy", "Xy", "Ly")
    np.testing.assert_array_equal(runs[1].column("pxy"), [-80.0, -1000.0, -2000.0])
    assert runs[1].skipped == [13]  # the WARNING line, 1-based


def test_stress_strain_uses_shear_segment_metal_units(log_path):
    gamma, tau = stress_strain(log_path, stress_column="pxy", units="metal")
    # rows after the reset, the repeated step-20 row once: xy = 0, 4, 8, 12, 16 over ly = 400
    np.testing.assert_allclose(gamma, [0.0, 0.01, 0.02, 0.03, 0.04])
    # tau = -pxy [bar] * 1e-4 -> GPa
    np.testing.assert_allclose(tau, [0.008, 0.1, 0.2, 0.25, 0.24])


def test_stress_strain_lj_units_stay_reduced_and_start_step(log_path):
    gamma, tau = stress_strain(log_path, stress_column="Pxy", units="lj", start_step=20)
    np.testing.assert_allclose(gamma, [0.0, 0.01, 0.02])  # strain relative to step 20
    np.testing.assert_allclose(tau, [2000.0, 2500.0, 2400.0])


def test_missing_stress_column_names_file_and_line(log_path):
    with pytest.raises(InputError) as err:
        stress_strain(log_path, stress_column="f_pxy_avg")
    assert str(log_path) in str(err.value) and "f_pxy_avg" in str(err.value)
    assert err.value.line == 10  # header of the first shear run


def test_missing_tilt_column_says_what_to_add(tmp_path):
    path = tmp_path / "log.lammps"
    path.write_text("Step Temp Pxy\n0 1 2\n10 1 3\nLoop time of 1 on 1 procs\n")
    with pytest.raises(InputError, match="no thermo column 'xy'.*thermo_style"):
        stress_strain(path)


def test_crashed_run_keeps_complete_rows(tmp_path):
    path = tmp_path / "log.lammps"
    path.write_text(LOG.split("Loop time of 1.0 on 1 procs for 20 steps", 1)[0]
                    .replace("WARNING", "ERROR") + "        30   300   -3.4\n")
    runs = read_log(path)
    assert not runs[-1].completed
    np.testing.assert_array_equal(runs[-1].columns["Step"], [0, 10, 20])


def test_no_thermo_table(tmp_path):
    path = tmp_path / "log.lammps"
    path.write_text("LAMMPS (22 Jul 2025)\nunits lj\n")
    with pytest.raises(InputError, match="no thermo table"):
        read_log(path)


def test_header_without_rows_names_its_line(tmp_path):
    path = tmp_path / "log.lammps"
    path.write_text("LAMMPS (22 Jul 2025)\nunits lj\nrun 100\n"
                    "   Step          Temp          E_pair\n"
                    "ERROR: Lost atoms: original 10 current 9 (src/thermo.cpp:488)\n")
    with pytest.raises(InputError) as err:
        read_log(path)
    assert err.value.line == 4
    assert str(err.value).startswith(f"{path}:4: the run at this line has a thermo header but "
                                     "no rows")


def test_tilt_flip_is_undone():
    lx = np.full(6, 10.0)
    flipped = np.array([0.0, 2.0, 4.0, -4.0, -2.0, 0.0])  # LAMMPS flipped at xy > lx/2
    np.testing.assert_allclose(unflip_tilt(flipped, lx), [0, 2, 4, 6, 8, 10])
