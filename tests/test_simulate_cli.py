"""``grassego simulate``: CSV + reference NetCDF in, runs NetCDF out; clear errors for bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr
import yaml

from grassego.cli import main
from grassego.fields import build_reference, read_runs, write_reference
from grassego.status import RUN_STATUS
from grassego.units import PHYSICAL, Units


def _small_reference(path, units: Units = PHYSICAL):
    """A small reference file at ``path``: a 8 × 8 energy field, initial and final frames, in
    the unit system ``units``."""
    rng = np.random.default_rng(3)
    pe0 = -3.362 + 1e-3 * rng.random((8, 8))
    pe = np.stack([pe0, pe0 + 2e-3])
    x = (np.arange(8) + 0.5) * 50.0
    ds = build_reference(pe=pe, exy=np.zeros_like(pe), strain=np.array([0.0, 0.5]), x=x, y=x,
                         strain_ss=np.linspace(0, 0.5, 6), stress_strain=np.zeros(6),
                         shear_convention="engineering", units=units)
    return write_reference(ds, path)


@pytest.fixture()
def reference(tmp_path):
    return _small_reference(tmp_path / "ref.nc")


def test_simulate_writes_runs_file(reference, tmp_path, caplog):
    """A run that yields (ok), one that stays elastic to the end as the workflow marks it (its
    final stress at least 0.9 μγ), and one without β (rejected, never solved)."""
    params = tmp_path / "params.csv"
    params.write_text("c0,s_y,beta,E0\n0.3,1.0,20.0,-3.368\n0.3,1.0,8.0,-3.368\n"
                      "0.3,1.0,,-3.368\n")
    out = tmp_path / "runs.nc"
    with caplog.at_level("INFO", logger="grassego.simulate"):
        code = main(["simulate", "--reference", str(reference), "--params", str(params),
                     "--out", str(out), "--frames", "snapshots", "--dtype", "float32",
                     "--batch-size", "1", "--threads", "1", "--constant", "max_strain=0.1",
                     "--constant", "n_frames=20", "--snapshot-strains", "0.02", "0.05", "0.1"])
    assert code == 0
    ds = read_runs(out)
    assert ds.sizes == {"run": 3, "frame": 3, "y": 8, "x": 8, "strain_ss": 21}
    np.testing.assert_allclose(ds["strain"].values, [0.02, 0.05, 0.1])
    assert list(ds["status"].values) == [RUN_STATUS["ok"], RUN_STATUS["elastic"],
                                         RUN_STATUS["rejected_input"]]
    tau = ds["tau_mean"].values
    assert tau[0, 4] == pytest.approx(20.0 * 0.02, rel=1e-5)  # elastic start: mu * gamma
    assert np.nanmax(tau[0]) == pytest.approx(1.0, abs=0.01)  # flows at the yield stress
    assert tau[1, -1] >= 0.9 * 20.0 * 0.1
    assert np.all(np.isnan(tau[2]))
    np.testing.assert_allclose(ds["x"].values, (np.arange(8) + 0.5) * 50.0)
    assert "runs 2/2 solved" in caplog.text  # the rejected run is not solved


def test_simulate_logs_rate_and_eta_after_every_chunk(reference, tmp_path, caplog):
    params = tmp_path / "params.csv"
    params.write_text("c0,s_y,beta,E0\n" + "0.3,1.0,8.0,-3.368\n" * 3)
    with caplog.at_level("INFO", logger="grassego.simulate"):
        code = main(["simulate", "--reference", str(reference), "--params", str(params),
                     "--out", str(tmp_path / "runs.nc"), "--dtype", "float32",
                     "--batch-size", "1", "--threads", "1", "--constant", "max_strain=0.1",
                     "--constant", "n_frames=20", "--snapshot-strains", "0.1"])
    assert code == 0
    lines = [r.getMessage() for r in caplog.records if "solved in" in r.getMessage()]
    assert [line.split(" solved")[0] for line in lines] == ["runs 1/3", "runs 2/3", "runs 3/3"]
    assert all(re.search(r"[0-9.e+]+ runs/s, ETA \d+ s$", line) for line in lines)


def test_backends_agree_from_the_command_line(reference, tmp_path):
    params = tmp_path / "params.csv"
    params.write_text("c0,s_y,beta,E0\n0.3,1.0,8.0,-3.368\n0.5,1.1,9.0,-3.368\n")
    taus = {}
    for backend in ("fused", "torch"):
        out = tmp_path / f"runs_{backend}.nc"
        code = main(["simulate", "--reference", str(reference), "--params", str(params),
                     "--out", str(out), "--backend", backend, "--dtype", "float64",
                     "--threads", "1",
                     "--constant", "max_strain=0.1", "--constant", "n_frames=20",
                     "--snapshot-strains", "0.05", "0.1"])
        assert code == 0
        taus[backend] = read_runs(out)["tau_mean"].values
    assert np.all(np.isfinite(taus["fused"]))
    np.testing.assert_allclose(taus["fused"], taus["torch"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("csv,message", [
    ("c0,s_y,beta\n0.3,1.0,8.0\n", "lacks column"),
    ("c0,s_y,beta,E0,colour\n0.3,1.0,8.0,-3.368,red\n", "unknown column"),
    ("c0,s_y,beta,E0\n0.3,1.0,eight,-3.368\n", "params.csv:2: column 'beta'"),
    ("c0,s_y,beta,E0\n", "no parameter rows"),
    # one field too many: pandas took c0 as the index and shifted s_y's value into c0
    ("c0,s_y,beta,E0\n0.3,1.0,8.0,-3.368\n0.3,1.0,8.0,-3.368,7\n",
     "params.csv:3: 5 fields where the header has 4"),
    ("c0,s_y,beta,E0\n0.3,1.0,8.0\n", "params.csv:2: 3 fields where the header has 4"),
    ("c0,s_y,beta,E0,c0\n0.3,1.0,8.0,-3.368,0.4\n", "params.csv:1: column 'c0' appears twice"),
    ("c0,s_y,beta,E0\n0.3,1_0,8.0,-3.368\n", "params.csv:2: column 's_y'"),
])
def test_bad_params_file_is_a_clear_error(reference, tmp_path, capsys, csv, message):
    params = tmp_path / "params.csv"
    params.write_text(csv)
    out = tmp_path / "runs.nc"
    code = main(["simulate", "--reference", str(reference), "--params", str(params),
                 "--out", str(out)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_constant_is_a_clear_error(reference, tmp_path, capsys):
    params = tmp_path / "params.csv"
    params.write_text("c0,s_y,beta,E0\n0.3,1.0,8.0,-3.368\n")
    code = main(["simulate", "--reference", str(reference), "--params", str(params),
                 "--out", str(tmp_path / "runs.nc"), "--constant", "n_frames=-3"])
    assert code == 2
    assert "n_frames" in capsys.readouterr().err


def test_the_cell_is_the_reference_s_unless_a_constant_contradicts_it(reference, tmp_path,
                                                                     capsys):
    """The 8 x 8 reference of 50 A cells spans 400 A: lx_A=200 contradicts it, lx_A=400 agrees."""
    params = tmp_path / "params.csv"
    params.write_text("c0,s_y,beta,E0\n0.3,1.0,8.0,-3.368\n")
    args = ["simulate", "--reference", str(reference), "--params", str(params), "--out",
            str(tmp_path / "runs.nc"), "--constant", "n_frames=2", "--constant",
            "steps_per_frame=2"]
    assert main([*args, "--constant", "lx_A=200"]) == 2
    err = capsys.readouterr().err
    assert "lx_A: 200 Å, but the reference grid (8 cells of 50 Å along x in --reference) spans " \
           "400 Å" in err
    assert not (tmp_path / "runs.nc").exists()
    assert main([*args, "--constant", "lx_A=400"]) == 0


def test_bad_reference_is_a_clear_error(tmp_path, capsys):
    params = tmp_path / "params.csv"
    params.write_text("c0,s_y,beta,E0\n0.3,1.0,8.0,-3.368\n")
    bad = tmp_path / "ref.nc"
    xr.Dataset({"pe": (("frame", "y", "x"), np.zeros((2, 4, 4)))}).to_netcdf(bad)
    code = main(["simulate", "--reference", str(bad), "--params", str(params),
                 "--out", str(tmp_path / "runs.nc")])
    assert code == 2
    assert "ref.nc" in capsys.readouterr().err


@pytest.fixture()
def lj_reference(tmp_path):
    """The small reference's values labelled as a 2-D reduced-LJ reference, as `grassego
    ingest --units lj` labels one."""
    return _small_reference(tmp_path / "lj_ref.nc", Units("lj", 2))


#: An LJ case's workflow config: its units, the dimensional constants in them, a short run, the
#: snapshots kept and E0 held fixed.
LJ_CASE = {"results": "results", "solver": {
    "units": "lj", "constants": {"mu_GPa": 20.0, "chi_len_A": 2.0, "strain_rate_per_s": 1e11,
                                 "max_strain": 0.1, "n_frames": 20}},
    "parameters": {"c0": [0.1, 0.5], "s_y": [0.5, 1.5], "beta": [5.0, 30.0]},
    "fixed": {"E0": -3.368}, "objective": {"snapshot_strains": [0.05, 0.1]},
    "report": {"field_strains": [0.1]}}


def test_simulate_takes_the_configs_units_constants_snapshots_and_fixed_values(lj_reference,
                                                                              tmp_path, capsys):
    """`--config` with `solver.units: lj` on an LJ reference runs (the CSV leaves out E0, which
    the config holds fixed); without it the unit system is the default's and the error names
    the option; `--units` replaces the config's value."""
    params = tmp_path / "params.csv"
    params.write_text("c0,s_y,beta\n0.3,1.0,20.0\n")
    case = tmp_path / "lj.yaml"
    case.write_text(yaml.safe_dump(LJ_CASE))
    out = tmp_path / "runs.nc"
    args = ["simulate", "--reference", str(lj_reference), "--params", str(params),
            "--out", str(out), "--threads", "1"]
    assert main([*args, "--config", str(case)]) == 0
    ds = read_runs(out)
    np.testing.assert_allclose(ds["strain"].values, [0.05, 0.1])
    assert ds["E0"].values.tolist() == [-3.368] and ds["status"].values.tolist() == [0]
    assert ds["tau_mean"].attrs["lj_units"] == "epsilon/sigma^2"
    assert ds["tau_mean"].values[0, 1] == pytest.approx(20.0 * 0.005, rel=1e-5)  # mu gamma
    out.unlink()
    for options in ([], ["--config", str(case), "--units", "physical"]):
        assert main([*args, *options, "--constant", "max_strain=0.1"]) == 2
        err = capsys.readouterr().err
        assert "--units: physical, but " in err and "pass --units lj" in err, err
        assert "solver.units" not in err and not out.exists()
    assert main([*args, "--units", "lj", "--constant", "mu_GPa=20"]) == 2
    assert "--constant: --units is lj, so give chi_len_A, strain_rate_per_s" in \
        capsys.readouterr().err


def test_simulate_options_replace_the_configs_values(reference, tmp_path):
    """The config's dtype, snapshots and a constant, each replaced by its option (a workflow
    config whose report strains the short run reaches)."""
    params = tmp_path / "params.csv"
    params.write_text("c0,s_y,beta,E0\n0.3,1.0,20.0,-3.368\n")
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump({
        "solver": {"dtype": "float64", "constants": {"max_strain": 0.1, "n_frames": 20}},
        "objective": {"snapshot_strains": [0.05, 0.1]}, "report": {"field_strains": [0.1]}}))
    out = tmp_path / "runs.nc"
    assert main(["simulate", "--reference", str(reference), "--params", str(params),
                 "--out", str(out), "--threads", "1", "--config", str(case), "--dtype",
                 "float32", "--snapshot-strains", "0.02", "0.04", "--constant",
                 "max_strain=0.04"]) == 0
    ds = read_runs(out)
    assert ds["exy"].dtype == np.float32  # a runs file keeps the solver's precision
    np.testing.assert_allclose(ds["strain"].values, [0.02, 0.04])
    assert ds["strain_ss"].values[-1] == pytest.approx(0.04)  # n_frames from the config
    assert ds.sizes["strain_ss"] == 21


def test_a_bad_config_value_is_one_line_naming_the_file_and_key(reference, tmp_path, capsys):
    params = tmp_path / "params.csv"
    params.write_text("c0,s_y,beta,E0\n0.3,1.0,20.0,-3.368\n")
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump({"solver": {"dtype": "float16"}}))
    assert main(["simulate", "--reference", str(reference), "--params", str(params),
                 "--out", str(tmp_path / "runs.nc"), "--config", str(case)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{case}: solver.dtype: 'float16' is not one of" in err[0], err
