"""LAMMPS log parsing: several runs, interleaved warnings, timestep resets, flips, bad logs."""

from __future__ import annotations

import numpy as np
import pytest

from grassego.errors import InputError
from grassego.lammps_log import join_runs, read_log, shear_rate, stress_strain, unflip_tilt

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


def test_stress_strain_lj_units_stay_reduced_and_dump_steps(log_path):
    gamma, tau = stress_strain(log_path, stress_column="Pxy", units="lj", steps=(20, 30))
    np.testing.assert_allclose(gamma, [0.0, 0.01])  # strain relative to step 20, up to step 30
    np.testing.assert_allclose(tau, [2000.0, 2500.0])


def test_shear_rate_from_the_tilt_and_the_timestep(log_path, tmp_path):
    # no timestep command: LAMMPS's metal default, 1 fs; 0.04 strain in 40 steps = 40 fs
    assert shear_rate(log_path, units="metal") == (pytest.approx(1e12), 0.001)
    # a timestep set before the shear runs, echoed after variable substitution as LAMMPS does
    # (the raw line with the variable is not a number and is passed over)
    text = LOG.replace("reset_timestep 0\n", "reset_timestep 0\ntimestep ${dt}\ntimestep 0.002\n")
    path = tmp_path / "dt.lammps"
    path.write_text(text)
    assert [r.timestep for r in read_log(path)] == [None, 0.002, 0.002]
    assert shear_rate(path, units="metal") == (pytest.approx(5e11), 0.002)
    assert shear_rate(path, units="lj", steps=(20, 30)) == (pytest.approx(0.5), 0.002)  # per tau


def test_missing_stress_column_lists_the_runs(log_path):
    with pytest.raises(InputError) as err:
        stress_strain(log_path, stress_column="f_pxy_avg")
    assert str(err.value) == (
        f"{log_path}: no run has all the thermo columns xy, ly, f_pxy_avg; runs found: "
        "line 4: steps 0-100, columns Step Temp E_pair Pxy Xy Ly, lacks f_pxy_avg; "
        "line 10: steps 0-20, columns Step Temp E_pair Pxy Xy Lx Ly, lacks f_pxy_avg; "
        "line 17: steps 20-40, columns Step Temp E_pair Pxy Xy Lx Ly, lacks f_pxy_avg")


def test_missing_tilt_column_says_what_to_add(tmp_path):
    path = tmp_path / "log.lammps"
    path.write_text("Step Temp Pxy\n0 1 2\n10 1 3\nLoop time of 1 on 1 procs\n")
    with pytest.raises(InputError, match=r"thermo_style needs xy and ly\); runs found: line 1: "
                                         r"steps 0-10, columns Step Temp Pxy, lacks xy ly$"):
        stress_strain(path)


def _table(steps, xy, header="Step Temp Pxy Xy Ly") -> str:
    """A thermo table of LAMMPS's shape: rows at ``steps`` with tilt ``xy``, pxy = -10·step."""
    rows = "".join(f"{s} 1.0 {-10.0 * s} {x} 100.0\n" for s, x in zip(steps, xy))
    return f"{header}\n{rows}Loop time of 1.0 on 1 procs for 10 steps with 10 atoms\n"


def test_runs_of_a_deck_with_resets_pick_the_shear_covering_the_dumps(tmp_path):
    """melt, reset, shear split in two runs, reset, relax: the melt and the relax hold the
    columns and cover the dump steps 0-200 too, but only the shear's tilt grows."""
    path = tmp_path / "log.lammps"
    path.write_text(_table([0, 100, 200], [0, 0, 0]) + "reset_timestep 0\n"
                    + _table([0, 100], [0, 1]) + _table([100, 200, 300], [1, 2, 3])
                    + "reset_timestep 0\n" + _table([0, 100, 200, 300], [3, 3, 3, 3]))
    gamma, tau = stress_strain(path, steps=(0, 200), units="lj")
    np.testing.assert_allclose(gamma, [0.0, 0.01, 0.02])  # step 100 once, rows up to step 200
    np.testing.assert_allclose(tau, [0.0, 1000.0, 2000.0])
    chains = join_runs(read_log(path), ("xy", "ly", "pxy"))
    assert [[run.header_line for run in chain] for chain in chains] == [[1], [7, 11], [17]]


def test_a_run_without_the_columns_breaks_a_chain(tmp_path):
    path = tmp_path / "log.lammps"
    path.write_text(_table([0, 100], [0, 1]) + _table([100, 200], [1, 2], "Step Temp PotEng Press Volume")
                    + _table([200, 300], [2, 3]))
    with pytest.raises(InputError) as err:
        stress_strain(path, steps=(0, 300))
    assert str(err.value) == (
        f"{path}: no run with the thermo columns xy, ly, pxy covers the dump timesteps 0-300: "
        "runs with them (joined where one continues another) span steps 0-100 (line 1); "
        "steps 200-300 (line 9); runs found: line 1: steps 0-100, columns Step Temp Pxy Xy Ly; "
        "line 5: steps 100-200, columns Step Temp PotEng Press Volume, lacks xy ly pxy; "
        "line 9: steps 200-300, columns Step Temp Pxy Xy Ly")


def test_dumps_beyond_the_log_are_refused(log_path):
    with pytest.raises(InputError, match="covers the dump timesteps 20-200: runs with them .* "
                                         r"span steps 0-100 \(line 4\); steps 0-40 \(lines 10-17\)"):
        stress_strain(log_path, steps=(20, 200))


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
