"""g(r) first minimum and neighbour cut-offs: synthetic curves, a lattice, a real LJ liquid."""

from __future__ import annotations

import numpy as np
import pytest

from grassego.structure import first_minimum, neighbour_cutoff, rdf_first_minimum

#: A 500-atom 3-D Lennard-Jones liquid at density 0.85 σ⁻³ and T = 1.0 ε/k_B (reduced units).
LJ_LIQUID = """\
units lj
atom_style atomic
lattice fcc 0.85
region box block 0 5 0 5 0 5
create_box 1 box
create_atoms 1 box
mass 1 1.0
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0
velocity all create 1.5 4711
fix 1 all nvt temp 1.0 1.0 0.5
timestep 0.005
thermo 500
run 2000
write_dump all custom ${dir}/liquid.dump id x y z
"""


def test_minimum_of_a_smooth_curve():
    r = np.linspace(0.0, 3.0, 301)
    g = 1.0 + np.exp(-r) * np.sin(2 * np.pi * (r - 0.75)) * 8 * (r > 0.75)
    rdf = first_minimum(r, g, smooth=1)
    # extrema where tan(2π(r − 0.75)) = 2π: r = 0.75 + (atan 2π + kπ)/2π
    assert rdf.r_peak == pytest.approx(0.75 + np.arctan(2 * np.pi) / (2 * np.pi), abs=0.011)
    assert rdf.r_min == pytest.approx(1.25 + np.arctan(2 * np.pi) / (2 * np.pi), abs=0.011)
    assert rdf.g_min < 1 < rdf.g_peak


def test_flat_minimum_of_a_crystal_gives_its_middle():
    r = np.arange(0.0, 3.0, 0.01)
    g = np.zeros_like(r)
    g[100], g[141], g[200] = 50.0, 30.0, 20.0  # shells at 1, 1.41 and 2: zero between them
    assert first_minimum(r, g).r_min == pytest.approx(1.205, abs=0.011)


def test_no_minimum_below_one_is_refused():
    r = np.linspace(0.0, 3.0, 151)
    with pytest.raises(ValueError, match="no minimum below 1 after its first peak"):
        first_minimum(r, np.where(r > 1, 1.0, 0.0))  # a step: no shell structure
    with pytest.raises(ValueError, match="no minimum below 1"):
        first_minimum(r, np.exp(-((r - 1) ** 2)) * 3)  # falls to the end of the range


def test_lennard_jones_liquid(run_lammps, tmp_path):
    """The first minimum of a dense LJ liquid lies near 1.5 σ (1.53 σ on 4,000 atoms;
    1.51-1.57 σ on 500 atoms over four seeds), its first peak near 1.1 σ."""
    from ovito.io import import_file

    run_lammps(LJ_LIQUID, tmp_path)
    data = import_file(str(tmp_path / "liquid.dump")).compute(0)
    rdf = rdf_first_minimum(data)
    assert 1.03 < rdf.r_peak < 1.15 and 2.2 < rdf.g_peak < 3.2
    assert 1.45 < rdf.r_min < 1.65 and 0.4 < rdf.g_min < 0.8
    # every atom has 3 neighbours well inside the first shell
    assert 1.0 < neighbour_cutoff(data, 3) < rdf.r_min
