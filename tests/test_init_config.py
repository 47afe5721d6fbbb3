"""``grassego init-config REF.nc --out CONFIG.yaml``: a config derived from the data, commented,
valid, and runnable as it is (Snakemake dry run); clear errors for unusable references."""

from __future__ import annotations

import copy
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from conftest import ROOT
from grassego.cli import main
from grassego.config import check_config, validate_schema
from grassego.fields import build_reference, read_reference, write_reference
from grassego import init_config
from grassego.init_config import SCHEMA, choose_strains, mean_chi_bounds
from grassego.objective import ObjectiveConfig
from grassego.stz import ModelConstants

#: The paper's published CuZr optimum (section 5.4) and its validation target (section 5.3).
PAPER_POINTS = {"optimum": {"c0": 0.164, "s_y": 0.906, "beta": 6.882, "E0": -3.369},
                "validation": {"c0": 0.55, "s_y": 1.006, "beta": 8.277, "E0": -3.368}}


@pytest.fixture(scope="module")
def cuzr_case(tmp_path_factory, cuzr_reference_path) -> tuple[Path, str]:
    """A case directory holding the CuZr reference as ``ref.nc`` and the config generated for
    it, ``config/my_case.yaml``; returns the directory and the config's text."""
    case = tmp_path_factory.mktemp("case")
    shutil.copy2(cuzr_reference_path, case / "ref.nc")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(case)
        assert main(["init-config", "ref.nc", "--out", "config/my_case.yaml"]) == 0
    return case, (case / "config" / "my_case.yaml").read_text()


def _synthetic(path: Path, *, strains=np.linspace(0.0, 0.5, 11), mu=20.0, peak=1.2,
               low_cell=None, n_frames=None) -> Path:
    """A small reference: 8 × 8 PE field (mean −3.36, std ~5e-4 eV; ``low_cell``: the value of
    one outlying cell), a strain field γ (1 + 0.1 noise) per frame, stress τ = 0.01 + μγ capped at
    ``peak`` [GPa] on 101 points to γ = 0.5."""
    rng = np.random.default_rng(5)
    pe0 = -3.36 + 5e-4 * rng.standard_normal((8, 8))
    if low_cell is not None:
        pe0[0, 0] = low_cell
    strains = np.asarray(strains if n_frames is None else strains[:n_frames])
    pe = np.stack([pe0 + 2e-3 * s for s in strains])
    gamma = np.linspace(0.0, 0.5, 101)
    x = (np.arange(8) + 0.5) * 50.0
    exy = np.stack([s * (1 + 0.1 * rng.standard_normal((8, 8))) for s in strains])
    ds = build_reference(pe=pe, exy=exy, strain=strains, x=x, y=x,
                         strain_ss=gamma, stress_strain=np.minimum(0.01 + mu * gamma, peak),
                         shear_convention="engineering")
    return write_reference(ds, path)


def _generate(tmp_path, monkeypatch, ref: Path) -> dict:
    monkeypatch.chdir(tmp_path)
    assert main(["init-config", str(ref), "--out", "case.yaml"]) == 0
    return yaml.safe_load((tmp_path / "case.yaml").read_text())


def test_cuzr_values_contain_the_paper_points(cuzr_case, cuzr_reference_path):
    case, text = cuzr_case
    cfg = yaml.safe_load(text)
    assert cfg["results"] == "results/my_case"
    assert cfg["reference"] == {"source": "legacy", "legacy": {"path": "ref.nc"}}
    assert 22.0 < cfg["solver"]["constants"]["mu_GPa"] < 24.5  # MD elastic slope; paper: 20
    params = cfg["parameters"]
    for label, point in PAPER_POINTS.items():
        for name, value in point.items():
            lo, hi = params[name]
            assert lo < value < hi, f"{label} {name} = {value} outside [{lo}, {hi}]"
    assert params["s_y"] == pytest.approx([0.4 * 1.5411, 0.8 * 1.5411], abs=1e-3)
    pe0 = read_reference(cuzr_reference_path)["pe"].values[0]
    assert params["E0"][1] < pe0.min()  # chi > 0 everywhere at every point of the box
    assert cfg["objective"]["snapshot_strains"] == [0.02, 0.04, 0.06, 0.08, 0.09, 0.1, 0.2,
                                                    0.35, 0.5]
    assert cfg["report"]["field_strains"] == [0.1, 0.2, 0.35, 0.5]
    # the peak (γ 0.088) gives back the authors' window 0.075-0.14 to a thousandth
    assert cfg["objective"]["overshoot_window"] == pytest.approx([0.075, 0.14], abs=1.1e-3)
    assert "solver" in cfg and "lx_A" not in cfg["solver"]["constants"]  # the reference's cell
    assert "400 x 400 angstrom" in text


def test_cuzr_config_is_valid_and_commented(cuzr_case):
    case, text = cuzr_case
    cfg = yaml.safe_load(text)
    assert set(cfg) == {"results", "reference", "parameters", "objective", "solver", "report"}
    filled = copy.deepcopy(cfg)
    validate_schema(filled, SCHEMA)
    check_config(filled, case)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s*\w+: \S", line) and line.strip() != "source: legacy":
            assert "#" in line or lines[i - 1].lstrip().startswith("#"), line


def test_cuzr_config_runs_as_it_is(cuzr_case):
    """A Snakemake dry run with the generated file alone plans the whole workflow."""
    case, _ = cuzr_case
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(case),
         "--configfile", str(case / "config" / "my_case.yaml"), "--cores", "1", "--dry-run"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "results/my_case/summary/summary.csv" in proc.stdout + proc.stderr


def test_synthetic_modulus_and_stress_box(tmp_path, monkeypatch):
    cfg = _generate(tmp_path, monkeypatch, _synthetic(tmp_path / "ref.nc", mu=20.0, peak=1.2))
    assert cfg["solver"]["constants"]["mu_GPa"] == 20.0
    assert cfg["parameters"]["s_y"] == [0.48, 0.96]


def test_overshoot_window_follows_the_peak_strain(tmp_path, monkeypatch):
    # τ = 0.01 + 20 γ capped at 3.2 GPa peaks at γ = 0.1595 (first point at the cap: 0.16)
    cfg = _generate(tmp_path, monkeypatch, _synthetic(tmp_path / "ref.nc", mu=20.0, peak=3.2))
    assert cfg["objective"]["overshoot_window"] == [0.136, 0.256]
    cal = ObjectiveConfig.from_config(cfg["objective"])
    assert cal.overshoot_window == (0.136, 0.256)


def test_low_outlier_caps_e0_below_the_lowest_energy(tmp_path, monkeypatch):
    ref = _synthetic(tmp_path / "ref.nc", low_cell=-3.37)
    cfg = _generate(tmp_path, monkeypatch, ref)
    (beta_lo, beta_hi), (e0_lo, e0_hi) = cfg["parameters"]["beta"], cfg["parameters"]["E0"]
    chi_lo, _ = mean_chi_bounds(ModelConstants())
    assert e0_hi == pytest.approx(-3.37 - chi_lo / (2 * beta_hi), abs=1e-3)  # rounding step
    assert e0_hi < -3.37 - 0.5 * chi_lo / (2 * beta_hi)
    assert "capped" in (tmp_path / "case.yaml").read_text()


def test_short_reference_gets_evenly_spaced_frame_strains(tmp_path, monkeypatch):
    ref = _synthetic(tmp_path / "ref.nc", strains=np.linspace(0.0, 0.03, 7))
    cfg = _generate(tmp_path, monkeypatch, ref)
    assert cfg["objective"]["snapshot_strains"] == [0.005, 0.01, 0.015, 0.02, 0.025, 0.03]
    assert cfg["report"]["field_strains"] == [0.005, 0.015, 0.02, 0.03]
    assert "evenly spaced" in (tmp_path / "case.yaml").read_text()


def test_strains_beyond_the_model_are_not_chosen():
    frames = np.linspace(0.0, 1.0, 21)
    chosen = choose_strains(frames, [0.1, 0.6, 0.8, 1.0], max_strain=0.5)
    assert chosen.values == (0.05, 0.2, 0.35, 0.5) and not chosen.defaults
    assert choose_strains(frames, [0.1, 0.5], max_strain=0.5).values == (0.1, 0.5)
    # dumps every 0.05: 0.04 and 0.06 are the frame 0.05, 0.09 and 0.1 the frame 0.1, 0.02 none
    coarse = choose_strains(np.linspace(0.0, 0.5, 11), [0.02, 0.04, 0.06, 0.08, 0.09, 0.1, 0.2,
                                                        0.35, 0.5], max_strain=0.5)
    assert coarse.values == (0.05, 0.1, 0.2, 0.35, 0.5) and coarse.defaults
    with pytest.raises(ValueError, match="no frame past the first"):
        choose_strains(np.array([0.0, 0.6, 0.7]), [0.1, 0.5], max_strain=0.5)


def test_mean_chi_needs_room_above_the_shear_rate():
    with pytest.raises(ValueError, match="no mean chi"):
        mean_chi_bounds(ModelConstants(strain_rate_per_s=1e13))


def _without_stress(path: Path) -> Path:
    _synthetic(path)
    ds = xr.open_dataset(path).load().drop_vars("stress_strain")
    path.unlink()
    ds.to_netcdf(path)
    return path


@pytest.mark.parametrize("make,message", [
    (lambda p: p, "no such file"),
    (lambda p: (p.write_text("not netcdf\n"), p)[1], "not a readable NetCDF"),
    (_without_stress, "missing variable 'stress_strain'"),
    (lambda p: _synthetic(p, n_frames=1), "1 frame"),
    (lambda p: _synthetic(p, mu=-20.0, peak=-0.5), "never rises above zero"),
    (lambda p: _synthetic(p, mu=2000.0), "only 1 stress-strain point"),
])
def test_unusable_reference_is_a_clear_error(tmp_path, monkeypatch, capsys, make, message):
    ref = make(tmp_path / "ref.nc")
    monkeypatch.chdir(tmp_path)
    assert main(["init-config", str(ref), "--out", "case.yaml"]) == 2
    err = capsys.readouterr().err
    assert "ref.nc" in err and message in err, err
    assert not (tmp_path / "case.yaml").exists()


def test_uniform_energy_is_a_clear_error(tmp_path, monkeypatch, capsys):
    ref = tmp_path / "ref.nc"
    _synthetic(ref)
    ds = xr.open_dataset(ref).load()
    ds["pe"][:] = -3.36
    write_reference(ds, ref)
    monkeypatch.chdir(tmp_path)
    assert main(["init-config", "ref.nc", "--out", "case.yaml"]) == 2
    assert "uniform" in capsys.readouterr().err


def test_existing_config_is_kept_unless_forced(tmp_path, monkeypatch, capsys):
    ref = _synthetic(tmp_path / "ref.nc")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "case.yaml").write_text("mine\n")
    assert main(["init-config", "ref.nc", "--out", "case.yaml"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "case.yaml").read_text() == "mine\n"
    assert main(["init-config", str(ref.name), "--out", "case.yaml", "--force"]) == 0
    assert math.isclose(yaml.safe_load((tmp_path / "case.yaml").read_text())
                        ["solver"]["constants"]["mu_GPa"], 20.0)


def test_missing_schema_is_a_clear_error(tmp_path, monkeypatch, capsys):
    _synthetic(tmp_path / "ref.nc")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(init_config, "SCHEMA", tmp_path / "schema.yaml")
    assert main(["init-config", "ref.nc", "--out", "case.yaml"]) == 2
    assert "no config schema" in capsys.readouterr().err


def test_dynamics_follow_the_secant_modulus_at_the_peak(cuzr_reference_path):
    """The shipped CuZr MD stays near its elastic line up to its peak (secant 0.75 μ):
    athermal, no θ/Δ; a rounded rise to a late peak (secant well below 0.65 μ) gets the
    thermally activated law with θ and Δ bounds from Ω ε0 and the curve's stresses."""
    ref = read_reference(cuzr_reference_path)
    constants = ModelConstants()
    cuzr = init_config.choose_dynamics(ref["strain_ss"].values,
                                       ref["stress_strain"].values.astype(float), constants, "r")
    assert cuzr.name == "athermal" and cuzr.theta is None and 0.7 < cuzr.secant < 0.8
    gamma = np.linspace(0.0, 0.5, 201)
    rounded = 1.8 * np.tanh(20.0 * gamma / 1.8) - 0.4 * np.clip(gamma - 0.3, 0, None)
    thermal = init_config.choose_dynamics(gamma, rounded, constants, "r")
    assert thermal.name == "linear" and thermal.secant < init_config.PEAK_SECANT_LIMIT
    per_gpa = 1e9 * 75e-30 * 0.3 / 1.3806503e-23  # K per GPa of Ω ε0 τ / k_B
    tau_e, tau_p = thermal.stresses
    assert thermal.delta == pytest.approx((0.6 * per_gpa * tau_p, 1.4 * per_gpa * tau_p))
    assert thermal.theta == pytest.approx((per_gpa * (tau_p - tau_e) / 10,
                                           per_gpa * (tau_p - tau_e) / 2))


def test_cuzr_config_writes_the_athermal_law(cuzr_case):
    """The CuZr config names its law and says why; no thermal parameters."""
    _, text = cuzr_case
    config = yaml.safe_load(text)
    assert config["solver"]["dynamics"] == "athermal"
    assert "theta_K" not in config["parameters"] and "secant modulus at its peak" in text
