"""Dumps -> reference NetCDF through OVITO: affine shear (analytic), a real LJ NEMD run, bad input."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pytest

from grassego import cli
from grassego.errors import InputError
from grassego.fields import read_reference
from grassego.ingest import ingest_dumps
from grassego.lammps_log import read_log
from grassego.units import Units, case_units

LJ_CG = dict(units="lj", width=2.0, cutoff=6.0, grid=(8, 8), strain_cutoff=3.0)


@pytest.fixture(scope="session")
def lj_frames(lj_dir) -> list[list[str]]:
    """The dump as a list of frames, each a list of text lines."""
    text = gzip.open(lj_dir / "shear.dump.gz", "rt").read()
    return [("ITEM: TIMESTEP" + block).splitlines()
            for block in text.split("ITEM: TIMESTEP")[1:]]


def _write(path: Path, frames: list[list[str]]) -> Path:
    path.write_text("\n".join(line for frame in frames for line in frame) + "\n")
    return path


def _frame(step: int, ids, types, pos, pe, box) -> list[str]:
    """One dump frame in LAMMPS's triclinic format; box = (xlo, xhi, ylo, yhi, xy)."""
    xlo, xhi, ylo, yhi, xy = box
    lines = ["ITEM: TIMESTEP", str(step), "ITEM: NUMBER OF ATOMS", str(len(ids)),
             "ITEM: BOX BOUNDS xy xz yz pp pp pp",
             f"{xlo + min(0.0, xy):.12g} {xhi + max(0.0, xy):.12g} {xy:.12g}",
             f"{ylo:.12g} {yhi:.12g} 0.0", "-0.5 0.5 0.0",
             "ITEM: ATOMS id type x y z c_pe c_sxy"]
    lines += [f"{i} {t} {x:.12g} {y:.12g} 0 {e:.8g} 1"
              for i, t, (x, y), e in zip(ids, types, pos, pe)]
    return lines


def _frame0(lj_frames):
    atoms = np.array([line.split() for line in lj_frames[0][9:]], dtype=float)
    box = np.array([line.split() for line in lj_frames[0][5:8]], dtype=float)
    return atoms[:, 0].astype(int), atoms[:, 1].astype(int), atoms[:, 2:4], atoms[:, 5], box


def _no_output(out: Path) -> None:
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


# ----------------------------------------------------------------------------------------------
# analytic: a homogeneous affine shear
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tilt0, flip", [(0.0, False), (0.3, False), (0.0, True)])
def test_affine_shear_gives_uniform_tensor_strain(lj_frames, tmp_path, tilt0, flip):
    """x += γ·(y − ylo) on frame 0 (a real glass), in a cell tilted by tilt0·ly to start with;
    with ``flip`` the cell is written the way LAMMPS's flip would (xy − lx beyond lx/2)."""
    ids, types, pos, pe, box = _frame0(lj_frames)
    lx, ly = box[0, 1] - box[0, 0], box[1, 1] - box[1, 0]
    pos = pos + np.c_[tilt0 * (pos[:, 1] - box[1, 0]), np.zeros(len(ids))]
    gammas = [0.0, 0.05, 0.2, 0.45, 0.7] if flip else [0.0, 0.05, 0.2, 0.45]
    frames = []
    for k, gamma in enumerate(gammas):
        moved = pos + np.c_[gamma * (pos[:, 1] - box[1, 0]), np.zeros(len(ids))]
        xy = (tilt0 + gamma) * ly
        if flip and xy > lx / 2:
            xy -= lx
        frames.append(_frame(k * 100, ids, types, moved, pe, (0.0, lx, box[1, 0], box[1, 1], xy)))
    dump = _write(tmp_path / "affine.dump", frames)
    out = tmp_path / "affine.nc"
    ds = ingest_dumps([dump], out, stress_column="c_sxy", **LJ_CG)
    np.testing.assert_allclose(ds["strain"], gammas, atol=1e-9)
    assert ds["exy"].attrs["shear_convention"] == "tensor"
    for k, gamma in enumerate(gammas):
        np.testing.assert_allclose(ds["exy"][k], gamma / 2, atol=2e-6)  # E_xy = γ/2 exactly
    np.testing.assert_allclose(float(ds["pe"].mean()), pe.mean(), atol=0.01)
    again = read_reference(out)
    assert again.attrs["coarse_graining_width"] == 2.0 and again.attrs["grid"] == "8 x 8"
    assert "tensor" in again.attrs["strain_convention"] and "ovito" in again.attrs["software"]


# ----------------------------------------------------------------------------------------------
# the real LJ NEMD run
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def lj_reference(lj_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("lj_ingest") / "reference.nc"
    return ingest_dumps([lj_dir / "shear.dump.gz"], out, log_file=lj_dir / "log.lammps",
                        stress_column="f_pxy_avg", d2min=True, **LJ_CG), out


def test_lj_coarse_strain_follows_global_strain(lj_reference):
    ds, out = lj_reference
    assert ds.sizes == {"frame": 101, "y": 8, "x": 8, "strain_ss": 501}
    np.testing.assert_allclose(ds["strain"][-1], 0.5, rtol=1e-6)
    mean = ds["exy"].mean(("y", "x")).values
    # tensor convention: the mean local strain is ~ γ/2 (plastic flow makes it only ~)
    np.testing.assert_allclose(2 * mean[-1], 0.5, rtol=0.05)
    np.testing.assert_allclose(2 * mean[20], ds["strain"][20], rtol=0.05)
    # plastic strain localises: the field is far from uniform at 50 % strain
    assert float(ds["exy"][-1].std()) > 0.02
    assert float(ds["d2min"][-1].mean()) > float(ds["d2min"][10].mean()) > 0
    assert ds["pe"].attrs["lj_units"] == "epsilon per atom"
    # 2-D LJ data: stresses in epsilon/sigma^2, and the case's units say so (grassego.units)
    assert ds["stress_strain"].attrs["lj_units"] == "epsilon/sigma^2"
    assert case_units(ds) == Units("lj", 2)
    assert read_reference(out).sizes["frame"] == 101


def test_lj_stress_strain_has_elastic_rise_peak_and_plateau(lj_reference):
    """Shape only (a 1,024-atom glass is noisy): thresholds hold with margin over seeds 1-4."""
    ds, _ = lj_reference
    gamma, tau = ds["strain_ss"].values, ds["stress_strain"].values.astype(float)
    smooth = np.convolve(tau, np.ones(11) / 11, mode="same")  # running mean over Δγ = 0.01
    elastic = gamma <= 0.02
    slope = np.polyfit(gamma[elastic], tau[elastic], 1)[0]
    early = (gamma >= 0.02) & (gamma <= 0.2)
    peak, at = smooth[early].max(), gamma[early][np.argmax(smooth[early])]
    first = (gamma >= 0.25) & (gamma < 0.375)
    second = (gamma >= 0.375) & (gamma <= 0.495)
    flow = smooth[first | second].mean()
    # elastic rise: linear, stiff, and still well below the peak at γ = 0.01
    assert slope > 10 * peak and smooth[np.searchsorted(gamma, 0.01)] < 0.5 * peak
    # a peak (stress overshoot) after the elastic part ...
    assert 0.03 < at < 0.195 and peak > 1.15 * flow
    # ... then a plateau: a flow stress without a trend between its two halves
    assert flow > 0.5 * peak
    assert abs(smooth[first].mean() - smooth[second].mean()) < 0.2 * peak


def test_per_atom_stress_column_matches_the_log(lj_dir, tmp_path):
    """τ = Σ s_xy / V from c_stress[4] equals −pxy from the thermo output at the dump steps."""
    ds = ingest_dumps([lj_dir / "shear.dump.gz"], tmp_path / "s.nc",
                      stress_column="c_stress[4]", **LJ_CG)
    run = read_log(lj_dir / "log.lammps")[-1]
    steps = run.column("step")
    on_dump = np.isin(steps, np.arange(0, 10001, 100))
    np.testing.assert_allclose(ds["stress_strain"], -run.column("pxy")[on_dump], rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_array_equal(ds["strain_ss"], ds["strain"])


# ----------------------------------------------------------------------------------------------
# bad input: one clear error naming the file, no NetCDF written
# ----------------------------------------------------------------------------------------------
def test_missing_pe_column(lj_dir, tmp_path):
    out = tmp_path / "out.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([lj_dir / "shear.dump.gz"], out, log_file=lj_dir / "log.lammps",
                     pe_column="v_pe", **LJ_CG)
    assert str(lj_dir / "shear.dump.gz") in str(err.value)
    assert "no column 'v_pe'" in str(err.value) and "c_pe" in str(err.value)
    _no_output(out)


def test_atom_count_changing_between_frames(lj_frames, tmp_path):
    frames = [list(f) for f in lj_frames[:4]]
    frames[2][3] = str(int(frames[2][3]) - 1)
    del frames[2][-1]
    for k, frame in enumerate(frames):
        _write(tmp_path / f"dump.{k * 100}.txt", [frame])
    out = tmp_path / "out.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([str(tmp_path / "dump.*.txt")], out, stress_column="c_stress[4]", **LJ_CG)
    assert err.value.path == str(tmp_path / "dump.200.txt")
    assert "frame 2 has 1023 atoms, frame 0 has 1024" in str(err.value)
    _no_output(out)


def test_truncated_last_frame(lj_frames, tmp_path):
    frames = [list(f) for f in lj_frames[:4]]
    frames[-1] = frames[-1][:500] + [frames[-1][500][:7]]
    with gzip.open(tmp_path / "cut.dump.gz", "wt") as fh:
        fh.write("\n".join(line for frame in frames for line in frame))
    out = tmp_path / "out.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([tmp_path / "cut.dump.gz"], out, stress_column="c_stress[4]", **LJ_CG)
    assert err.value.path == str(tmp_path / "cut.dump.gz")
    assert "last frame (frame 3 of this file) is truncated" in str(err.value)
    _no_output(out)


def test_log_without_the_stress_column(lj_dir, lj_frames, tmp_path):
    dump = _write(tmp_path / "few.dump", lj_frames[:3])
    out = tmp_path / "out.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([dump], out, log_file=lj_dir / "log.lammps", stress_column="c_sxy",
                     **LJ_CG)
    assert err.value.path == str(lj_dir / "log.lammps")
    assert "no run has all the thermo columns xy, ly, c_sxy; runs found: line " in str(err.value)
    _no_output(out)


def test_pxy_log_uses_the_shear_run_of_the_deck(lj_frames, lj_dir, tmp_path):
    """With pxy, the melt, quench and hold runs of the log hold the columns and cover the dump
    steps 0-200 too (the shear follows a reset_timestep), but only the shear shears; its rows
    are used up to the last dump step."""
    dump = _write(tmp_path / "few.dump", lj_frames[:3])
    ds = ingest_dumps([dump], tmp_path / "pxy.nc", log_file=lj_dir / "log.lammps",
                      stress_column="pxy", **LJ_CG)
    np.testing.assert_allclose(ds["strain_ss"], np.arange(11) * 0.001, atol=1e-9)
    shear = read_log(lj_dir / "log.lammps")[-1]
    np.testing.assert_allclose(ds["stress_strain"], -shear.column("pxy")[:11], rtol=1e-6)
    assert ds.attrs["stress_source"].endswith("steps 0-200")


def test_default_strain_cutoff_of_the_2d_glass(lj_frames, tmp_path):
    """The first minimum of g(r) of the Kob-Andersen glass: 1.29 σ measured, in a broad, shallow
    trough (g ≈ 0.3-0.4 from 1.2 to 1.6 σ) between the split first peak (AB at 0.88 σ, AA at
    1.07 σ) and the second at 1.72 σ."""
    dump = _write(tmp_path / "few.dump", lj_frames[:2])
    ds = ingest_dumps([dump], tmp_path / "glass.nc", stress_column="c_stress[4]",
                      **{**LJ_CG, "strain_cutoff": None})
    assert 1.2 < ds.attrs["strain_cutoff"] < 1.6 and ds.attrs["strain_cutoff_units"] == "sigma"


def test_grid_finer_than_the_atoms_warns(lj_frames, tmp_path):
    dump = _write(tmp_path / "few.dump", lj_frames[:2])
    out = tmp_path / "fine.nc"
    with pytest.warns(UserWarning, match="grid is finer than the atoms allow") as record:
        ingest_dumps([dump], out, stress_column="c_stress[4]",
                     **{**LJ_CG, "grid": (40, 40), "width": 0.7, "cutoff": 2.0})
    assert str(dump) in str(record[0].message)
    assert out.is_file()  # a warning, not an error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ingest_dumps([dump], tmp_path / "ok.nc", stress_column="c_stress[4]", **LJ_CG)


@pytest.mark.filterwarnings("ignore:.*grid is finer")
def test_grid_point_without_atoms_is_an_error(lj_frames, tmp_path):
    dump = _write(tmp_path / "few.dump", lj_frames[:2])
    out = tmp_path / "out.nc"
    with pytest.raises(InputError, match="no atom within the cut-off"):
        ingest_dumps([dump], out, stress_column="c_stress[4]",
                     **{**LJ_CG, "grid": (40, 40), "width": 0.2, "cutoff": 0.4})
    _no_output(out)


def test_cutoff_beyond_half_the_cell(lj_frames, tmp_path):
    dump = _write(tmp_path / "few.dump", lj_frames[:2])
    out = tmp_path / "out.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([dump], out, stress_column="c_stress[4]", **{**LJ_CG, "cutoff": 15.0})
    assert err.value.path == str(dump) and "cutoff < min(lx, ly)/2" in str(err.value)
    _no_output(out)


def test_cli_ingest(lj_frames, lj_dir, tmp_path, capsys):
    for k, frame in enumerate(lj_frames[:3]):
        _write(tmp_path / f"f.{k}.dump", [frame])
    out = tmp_path / "cli.nc"
    args = ["ingest", str(tmp_path / "f.*.dump"), "--log", str(lj_dir / "log.lammps"),
            "--out", str(out), "--units", "lj", "--width", "2", "--cutoff", "6",
            "--grid", "8", "6", "--strain-cutoff", "3", "--stress-column", "f_pxy_avg"]
    assert cli.main(args) == 0
    ds = read_reference(out)
    assert ds.sizes["frame"] == 3 and ds.sizes["x"] == 8 and ds.sizes["y"] == 6
    assert ds.attrs["strain_cutoff"] == 3.0 and ds.attrs["strain_cutoff_source"].startswith("given")
    assert cli.main(args[:-1] + ["nope"]) == 2
    assert "log.lammps" in capsys.readouterr().err
    assert cli.main(["ingest", str(tmp_path / "missing.*"), "--out", str(out)]) == 2
    assert "missing.*: no such dump file" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# a small square lattice (no LAMMPS run needed)
# ----------------------------------------------------------------------------------------------
def _lattice_frames(gammas: list[float], side: int = 16) -> tuple[list[list[str]], np.ndarray]:
    """A ``side`` × ``side`` square lattice (spacing 1) affinely sheared by each γ: the dump
    frames (timesteps 0, 100, …) and the per-atom energies."""
    ids = np.arange(1, side * side + 1)
    pos = np.stack(np.meshgrid(np.arange(side) + 0.5, np.arange(side) + 0.5), -1).reshape(-1, 2)
    pe = -3.0 + 0.01 * np.sin(pos[:, 0])
    frames = [_frame(100 * k, ids, np.ones_like(ids), pos + np.c_[g * pos[:, 1], 0 * ids], pe,
                     (0.0, side, 0.0, side, g * side)) for k, g in enumerate(gammas)]
    return frames, pe


def test_non_finite_per_atom_energy_names_frame_file_and_count(tmp_path):
    frames, _ = _lattice_frames([0.0, 0.01, 0.02])
    for k in (12, 40, 77):  # atom lines: id type x y z c_pe c_sxy
        fields = frames[1][k].split()
        frames[1][k] = " ".join(fields[:5] + ["nan"] + fields[6:])
    dump = _write(tmp_path / "nan.dump", frames)
    out = tmp_path / "out.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([dump], out, stress_column="c_sxy", **LJ_CG)
    assert str(err.value) == (f"{dump}: frame 1 (timestep 100): 3 of 256 atoms have a non-finite "
                              "per-atom potential energy (column 'c_pe')")
    _no_output(out)


def test_a_single_frame_is_refused_before_ovito_reads_it(tmp_path):
    frames, _ = _lattice_frames([0.0])
    dump = _write(tmp_path / "one.dump", frames)
    out = tmp_path / "out.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([dump], out, stress_column="c_sxy", **LJ_CG)
    assert str(err.value).startswith(f"{dump}: only 1 frame; a reference needs at least 2")
    _no_output(out)


def test_default_strain_cutoff_of_a_square_lattice(tmp_path):
    """Unit spacing: g(r) is zero between the shells at 1 and √2, the cut-off is in the middle."""
    frames, _ = _lattice_frames([0.0, 0.02])
    ds = ingest_dumps([_write(tmp_path / "two.dump", frames)], tmp_path / "two.nc",
                      stress_column="c_sxy", **{**LJ_CG, "strain_cutoff": None})
    assert ds.attrs["strain_cutoff"] == pytest.approx((1 + np.sqrt(2)) / 2, abs=0.02)
    assert ds.attrs["strain_cutoff_units"] == "sigma"
    assert ds.attrs["strain_cutoff_source"].startswith(
        "first minimum of the radial distribution function g(r) of frame 0 after its first peak")
    np.testing.assert_allclose(ds["exy"][1], 0.01, atol=2e-6)


def test_too_small_a_strain_cutoff_names_one_that_works(tmp_path):
    frames, _ = _lattice_frames([0.0, 0.02])
    dump = _write(tmp_path / "two.dump", frames)
    out = tmp_path / "out.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([dump], out, stress_column="c_sxy", **{**LJ_CG, "strain_cutoff": 0.9})
    assert str(err.value) == (
        f"{dump}: frame 0: 256 atoms have too few neighbours within the strain cut-off 0.9; every "
        "atom of frame 0 has 2 neighbours (the fewest the 2-D strain needs) within 1; the first "
        "minimum of g(r) of frame 0 is at 1.21: use a strain cut-off of 1.01 or more "
        "(--strain-cutoff / strain_cutoff)")
    _no_output(out)
    ds = ingest_dumps([dump], out, stress_column="c_sxy", **{**LJ_CG, "strain_cutoff": 1.01})
    np.testing.assert_allclose(ds["exy"][1], 0.01, atol=2e-6)


def test_no_minimum_of_g_of_r_asks_for_a_strain_cutoff(tmp_path, monkeypatch):
    def no_minimum(data):
        raise ValueError("g(r) has no minimum below 1 after its first peak at 1 within r <= 3")

    monkeypatch.setattr("grassego.ingest.rdf_first_minimum", no_minimum)
    frames, _ = _lattice_frames([0.0, 0.02])
    dump = _write(tmp_path / "two.dump", frames)
    out = tmp_path / "out.nc"
    with pytest.raises(InputError) as err:
        ingest_dumps([dump], out, stress_column="c_sxy", **{**LJ_CG, "strain_cutoff": None})
    assert str(err.value) == (f"{dump}: frame 0: no strain cut-off from the structure (g(r) has "
                              "no minimum below 1 after its first peak at 1 within r <= 3); give "
                              "one with --strain-cutoff / strain_cutoff")
    _no_output(out)


def test_lattice_of_two_frames_ingests(tmp_path):
    frames, pe = _lattice_frames([0.0, 0.02])
    ds = ingest_dumps([_write(tmp_path / "two.dump", frames)], tmp_path / "two.nc",
                      stress_column="c_sxy", **LJ_CG)
    np.testing.assert_allclose(ds["exy"][1], 0.01, atol=2e-6)
    np.testing.assert_allclose(float(ds["pe"].mean()), pe.mean(), atol=1e-3)
