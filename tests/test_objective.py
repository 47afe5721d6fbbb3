"""The objective Δ (eqs. 39-41) and the ``grassego distance`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import xarray as xr
import yaml

from conftest import ROOT
from grassego.cli import main
from grassego.config import SCHEMA, calibration_sections, validate_schema
from grassego.errors import InputError
from grassego.fields import (build_reference, coarse_graining_rows, engineering_shear,
                             read_reference, write_netcdf, write_reference)
from grassego.objective import (OVERSHOOT_WINDOW, ObjectiveConfig, PAPER_SNAPSHOT_STRAINS,
                                evaluate, nearest_frames)
from grassego.problem import Problem
from grassego.status import RUN_STATUS
from grassego.threads import torch_threads


def _runs_from_reference(ref: xr.Dataset, factors: list[float], stress_shift: list[float],
                         tensor: bool = True) -> xr.Dataset:
    """A runs-style dataset: run i = reference fields scaled by factors[i] (as tensor strain),
    stress curve shifted by stress_shift[i] GPa, on a coarser stress grid (every 5th point)."""
    n = len(factors)
    exy = np.stack([f * ref["exy"].values.astype(np.float64) for f in factors]) * (0.5 if tensor else 1.0)
    ss = ref["strain_ss"].values[::5]
    tau = np.stack([np.interp(ss, ref["strain_ss"].values, ref["stress_strain"].values) + s
                    for s in stress_shift])
    ds = xr.Dataset(
        {"exy": (("run", "frame", "y", "x"), exy,
                 {"shear_convention": "tensor" if tensor else "engineering"}),
         "tau_mean": (("run", "strain_ss"), tau, {"units": "GPa"}),
         "status": ("run", np.zeros(n, dtype=np.int8)),
         "wall_time": ("run", np.ones(n))},
        coords={"strain": ("frame", ref["strain"].values), "strain_ss": ss,
                "x": ref["x"].values, "y": ref["y"].values},
    )
    return ds


@pytest.fixture(scope="module")
def cuzr(cuzr_reference_path):
    return read_reference(cuzr_reference_path)


def test_nearest_frames_and_range_check():
    strain = np.linspace(0, 0.5, 101)
    idx = nearest_frames(strain, PAPER_SNAPSHOT_STRAINS)
    assert idx.tolist() == [4, 8, 12, 16, 18, 20, 40, 70, 100]
    with pytest.raises(InputError, match="outside"):
        nearest_frames(strain, [0.8], "ref.nc")


def test_self_distance_is_zero_and_scale_free(cuzr):
    runs = _runs_from_reference(cuzr, [1.0, 3.0], [0.0, 0.0])
    res = evaluate(cuzr, runs)
    np.testing.assert_allclose(res["d_field"].values, 0.0, atol=1e-7)
    np.testing.assert_allclose(res["d_stress"].values, 0.0, atol=1e-6)


def test_weights_and_stress_term(cuzr):
    runs = _runs_from_reference(cuzr, [1.0, 1.0], [0.1, -0.3])
    cfg = ObjectiveConfig(weights=(0.25, 0.75), variant="paper")
    res = evaluate(cuzr, runs, cfg)
    np.testing.assert_allclose(res["d_stress"].values, [0.1, 0.3], atol=1e-6)
    np.testing.assert_allclose(res["delta"].values, 0.75 * np.array([0.1, 0.3]), atol=1e-6)


def test_overshoot_variant_weights_the_stress_error_on_the_overshoot_window(cuzr):
    runs = _runs_from_reference(cuzr, [1.0], [0.0])
    ss = runs["strain_ss"].values
    window = (ss >= OVERSHOOT_WINDOW[0]) & (ss < OVERSHOOT_WINDOW[1])
    runs["tau_mean"].values[0, window] += 0.2  # the model misses only the overshoot
    runs["tau_mean"].values[0, ~window] += 0.1
    paper = evaluate(cuzr, runs, ObjectiveConfig(variant="paper"))["d_stress"].values[0]
    over = evaluate(cuzr, runs, ObjectiveConfig(variant="overshoot"))["d_stress"].values[0]
    grid = (ss > 0) & (ss <= cuzr["strain_ss"].values.max())
    n_win, n = int((window & grid).sum()), int(grid.sum())
    assert paper == pytest.approx((0.2 * n_win + 0.1 * (n - n_win)) / n, abs=1e-6)
    assert over == pytest.approx((5 * 0.2 * n_win + 0.1 * (n - n_win)) / n, abs=1e-6)


def test_overshoot_window_is_a_setting(cuzr):
    runs = _runs_from_reference(cuzr, [1.0], [0.0])
    ss = runs["strain_ss"].values
    moved = (0.2, 0.3)  # a later peak's window: the default window's errors count once
    window = (ss >= moved[0]) & (ss < moved[1])
    runs["tau_mean"].values[0, window] += 0.2
    cfg = ObjectiveConfig.from_config({"variant": "overshoot", "overshoot_window": list(moved)})
    assert cfg.overshoot_window == moved
    grid = (ss > 0) & (ss <= cuzr["strain_ss"].values.max())
    n_win, n = int((window & grid).sum()), int(grid.sum())
    d = evaluate(cuzr, runs, cfg)["d_stress"].values[0]
    assert d == pytest.approx(5 * 0.2 * n_win / n, abs=1e-6)
    default = evaluate(cuzr, runs, ObjectiveConfig(variant="overshoot"))["d_stress"].values[0]
    assert default == pytest.approx(0.2 * n_win / n, abs=1e-6)
    for bad in ([0.14, 0.075], [0.1], [-0.1, 0.1], [0.1, float("nan")]):
        with pytest.raises(ValueError, match="overshoot_window"):
            ObjectiveConfig.from_config({"overshoot_window": bad})


def test_aligned_variant_forgives_a_band_offset_of_a_few_rows_only(cuzr):
    runs = _runs_from_reference(cuzr, [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    exy = runs["exy"].values
    exy[1] = np.roll(exy[1], 3, axis=-2)  # the same band three rows off
    exy[2] = np.roll(exy[2], 10, axis=-2)  # ten rows off: beyond the allowed shift
    paper = evaluate(cuzr, runs, ObjectiveConfig(variant="paper"))["d_field"].values
    aligned = evaluate(cuzr, runs, ObjectiveConfig(variant="aligned"))["d_field"].values
    assert paper[1] > 0.1 and paper[2] > paper[1]
    np.testing.assert_allclose(aligned[:2], 0.0, atol=1e-6)
    assert aligned[2] > 0.1
    with pytest.raises(ValueError, match="variant"):
        ObjectiveConfig(variant="mine")


def test_failed_runs_give_nan_without_touching_others(cuzr):
    runs = _runs_from_reference(cuzr, [1.0, 1.0, 1.0], [0.0, 0.2, 0.0])
    runs["exy"].values[1, 40] = np.nan
    runs["status"].values[2] = RUN_STATUS["diverged"]
    res = evaluate(cuzr, runs)
    assert np.isfinite(res["delta"].values[0])
    assert np.isnan(res["delta"].values[1]) and np.isnan(res["delta"].values[2])


def test_field_distance_grows_with_perturbation(cuzr):
    rng = np.random.default_rng(0)
    runs = _runs_from_reference(cuzr, [1.0, 1.0, 1.0], [0, 0, 0])
    for i, eps in enumerate([0.0, 0.01, 0.1]):
        runs["exy"].values[i] += eps * rng.standard_normal(runs["exy"].shape[1:])
    d = evaluate(cuzr, runs)["d_field"].values
    assert d[0] < d[1] < d[2]


def test_frobenius_metric_converts_conventions(cuzr):
    runs = _runs_from_reference(cuzr, [1.0, 1.1], [0, 0], tensor=True)
    res = evaluate(cuzr, runs, ObjectiveConfig(metric="frobenius"))
    np.testing.assert_allclose(res["d_field"].values, [0.0, 0.1], atol=1e-6)


def test_per_snapshot_ranks(cuzr):
    cfg = ObjectiveConfig(rank=(2, 4, 5, 5, 10, 10, 14, 15, 16))
    runs = _runs_from_reference(cuzr, [1.0], [0.0])
    res = evaluate(cuzr, runs, cfg)
    assert res["rank_reference"].values.tolist() == [2, 4, 5, 5, 10, 10, 14, 15, 16]


def test_objective_from_config_rejects_unknown_keys():
    cfg = ObjectiveConfig.from_config({"weights": [1, 3], "rank": "energy:0.99"})
    assert cfg.weights == (1.0, 3.0)
    with pytest.raises(ValueError, match="unknown objective settings"):
        ObjectiveConfig.from_config({"wieghts": [1, 3]})


def test_distance_cli_json(cuzr_reference_path, tmp_path, capsys):
    ref = read_reference(cuzr_reference_path)
    shifted = build_reference(
        pe=ref["pe"].values, exy=np.roll(ref["exy"].values, 5, axis=1),
        strain=ref["strain"].values, x=ref["x"].values, y=ref["y"].values,
        strain_ss=ref["strain_ss"].values, stress_strain=ref["stress_strain"].values + 0.05,
        shear_convention="engineering")
    other = tmp_path / "shifted.nc"
    write_reference(shifted, other)
    rc = main(["distance", str(cuzr_reference_path), str(other), "--json", "--variant", "paper"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["strains"] == list(PAPER_SNAPSHOT_STRAINS)
    assert len(out["per_snapshot"]) == 9 and out["d_field"] > 0.01
    assert out["d_field"] == pytest.approx(np.mean(out["per_snapshot"]))
    assert out["d_stress"] == pytest.approx(0.05, abs=1e-5)
    assert out["total"] == pytest.approx(0.25 * out["d_field"] + 0.75 * 0.05, abs=1e-6)
    rc = main(["distance", str(cuzr_reference_path), str(other), "--metric", "chordal",
               "--rank", "energy:0.99"])
    assert rc == 0 and "d_field" in capsys.readouterr().out


def test_distance_cli_zero_field_is_farthest_not_nearest(cuzr_reference_path, tmp_path, capsys):
    """An all-zero strain field spans no subspace: π/2 per reference direction, 0 to itself."""
    ref = read_reference(cuzr_reference_path)
    zero = build_reference(
        pe=ref["pe"].values, exy=np.zeros_like(ref["exy"].values), strain=ref["strain"].values,
        x=ref["x"].values, y=ref["y"].values, strain_ss=ref["strain_ss"].values,
        stress_strain=ref["stress_strain"].values, shear_convention="engineering")
    path = tmp_path / "zero.nc"
    write_reference(zero, path)
    assert main(["distance", str(cuzr_reference_path), str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(out["per_snapshot"], np.pi / 2 * np.sqrt(out["ranks_a"]),
                               atol=1e-12)
    assert min(out["ranks_a"]) >= 1
    assert main(["distance", str(path), str(path), "--json", "--unequal", "min"]) == 2
    assert "zero everywhere" in capsys.readouterr().err  # as a reference: implausible
    assert main(["distance", str(path), str(path), "--json", "--unequal", "min",
                 "--accept-unusual"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["d_field"] == 0.0 and out["ranks_a"] == [0] * 9


def test_distance_cli_json_gives_a_failed_runs_distances_as_null(cuzr, cuzr_reference_path,
                                                                 tmp_path, capsys):
    runs = _runs_from_reference(cuzr, [1.0, 1.0], [0.0, 0.0])
    runs["status"].values[1] = RUN_STATUS["diverged"]
    write_netcdf(runs, tmp_path / "runs.nc")
    assert main(["distance", str(cuzr_reference_path), str(tmp_path / "runs.nc"), "--json"]) == 0

    def strict(name):
        raise ValueError(f"{name} is not JSON")

    out = json.loads(capsys.readouterr().out, parse_constant=strict)
    assert out["total"][1] is None and out["d_field"][1] is None
    assert out["per_snapshot"][1] == [None] * 9 and out["total"][0] == pytest.approx(0.0)


def test_distance_cli_bad_file(tmp_path, cuzr_reference_path, capsys):
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf")
    assert main(["distance", str(cuzr_reference_path), str(bad)]) == 2
    assert "bad.nc" in capsys.readouterr().err


#: The example case whose Δ the command must reproduce (its objective sets an overshoot window).
CUZR3D = ROOT / "config" / "examples" / "cuzr3d.yaml"
#: Objective sections put in CUZR3D's place: the other variants' settings.
OBJECTIVES = {"overshoot": {"variant": "overshoot", "overshoot_window": [0.1, 0.2],
                            "weights": [0.5, 0.5], "rank": "rtol:1e-2"},
              "band_shift": {"band_shift_widths": 2.0, "metric": "chordal"}}
#: Two parameter sets (c0, s_y [GPa], beta [1/eV], E0 [eV]) on the CuZr reference.
RUNS = [[0.164, 0.906, 6.882, -3.369], [0.5, 1.0, 10.0, -3.375]]


def _case(tmp_path, objective: str | None):
    """CUZR3D, or a copy with ``OBJECTIVES[objective]`` as its objective section."""
    if objective is None:
        return CUZR3D
    config = yaml.safe_load(CUZR3D.read_text()) | {"objective": OBJECTIVES[objective]}
    path = tmp_path / f"{objective}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _workflow_runs(config_path, reference_path, out):
    """The runs of :data:`RUNS` scored as the workflow's simulate step scores them
    (scripts/simulate.py): the config as Snakemake passes it to the rule (schema defaults
    filled, the calibration sections through JSON), :class:`grassego.problem.Problem`, the runs
    written to ``out``; returns their Δ."""
    config = yaml.safe_load(config_path.read_text())
    validate_schema(config, SCHEMA)
    with torch_threads(torch.get_num_threads()):  # from_config sets the job's thread count
        problem = Problem.from_config(read_reference(reference_path),
                                      json.loads(json.dumps(calibration_sections(config))))
    calib = problem.calibration
    runs = calib.runs_dataset(calib.parameter_table(np.array(RUNS)))
    write_netcdf(runs, out)
    return runs["delta"].values.tolist()


@pytest.mark.parametrize("objective", [None, *OBJECTIVES])
def test_distance_with_the_config_is_the_workflows_delta(objective, cuzr_reference_path,
                                                         tmp_path, capsys):
    """``grassego distance --config CASE REF RUNS`` gives the workflow's Δ for the same runs,
    to the last bit: the example case as shipped (its overshoot window), and with the other
    variants' settings; without the config the command gives another Δ (the case's settings
    count)."""
    case = _case(tmp_path, objective)
    runs = tmp_path / "runs.nc"
    workflow = _workflow_runs(case, cuzr_reference_path, runs)
    assert all(np.isfinite(workflow))

    def cli(*options) -> list[float]:
        assert main(["distance", *options, str(cuzr_reference_path), str(runs), "--json"]) == 0
        return json.loads(capsys.readouterr().out)["total"]

    assert cli("--config", str(case)) == workflow
    assert cli() != workflow


def test_distance_options_replace_the_configs_values(cuzr_reference_path, tmp_path, capsys):
    """CUZR3D differs from the defaults in its overshoot window only: with the default window
    given as an option, the command gives the default settings' distances."""
    runs = tmp_path / "runs.nc"
    _workflow_runs(CUZR3D, cuzr_reference_path, runs)
    outputs = []
    for options in (["--config", str(CUZR3D), "--overshoot-window", *map(str, OVERSHOOT_WINDOW)],
                    [], ["--config", str(CUZR3D)]):
        assert main(["distance", *options, str(cuzr_reference_path), str(runs), "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] != outputs[2]


@pytest.mark.parametrize("objective,line", [
    ({"overshoot_window": [0.3, 0.1]},
     "case.yaml: objective.overshoot_window: need two finite strains 0 <= lo < hi"),
    ({"metric": "taxicab"}, "case.yaml: objective.metric: 'taxicab' is not one of"),
    ({"band_shift_widths": -1.0}, "case.yaml: objective.band_shift_widths: -1.0 is less than"),
])
def test_a_bad_config_value_is_one_line_naming_the_file_and_key(objective, line,
                                                                cuzr_reference_path, tmp_path,
                                                                capsys):
    config = yaml.safe_load(CUZR3D.read_text())
    config["objective"].update(objective)
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(config))
    assert main(["distance", "--config", str(case), str(cuzr_reference_path),
                 str(cuzr_reference_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and line in err[0], err


def test_an_option_that_clashes_with_the_configs_value_names_the_key(cuzr_reference_path,
                                                                     tmp_path, capsys):
    """Two snapshot strains given, and the config's nine ranks: the config's key is named."""
    config = yaml.safe_load(CUZR3D.read_text())
    config["objective"]["rank"] = [5] * 9
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(config))
    assert main(["distance", "--config", str(case), str(cuzr_reference_path),
                 str(cuzr_reference_path), "--snapshots", "0.1", "0.2"]) == 2
    assert f"{case}: objective.rank: [5, 5, 5, 5, 5, 5, 5, 5, 5] is not a rank rule" \
        in capsys.readouterr().err


def _finer(ref: xr.Dataset, factor: int) -> xr.Dataset:
    """``ref`` on a grid ``factor`` times finer along y (each row repeated; the same cell, the
    same coarse-graining width attribute)."""
    y = ref["y"].values
    dy = float(y[1] - y[0]) / factor
    fine_y = y[0] - (factor - 1) * dy / 2 + dy * np.arange(factor * y.size)
    return build_reference(
        pe=np.repeat(ref["pe"].values, factor, axis=1),
        exy=np.repeat(engineering_shear(ref["exy"]).values, factor, axis=1),
        strain=ref["strain"].values, x=ref["x"].values, y=fine_y,
        strain_ss=ref["strain_ss"].values, stress_strain=ref["stress_strain"].values,
        shear_convention="engineering", attrs=dict(ref.attrs))


def test_band_shift_is_a_physical_length_the_same_on_every_grid(cuzr):
    """One coarse-graining width (50 Å): 4 rows of the CuZr grid, 8 rows of one twice as fine;
    a band three CuZr rows (37.5 Å) off is forgiven on both grids, ten rows (125 Å) off on
    neither."""
    cfg = ObjectiveConfig()
    assert coarse_graining_rows(cuzr) == 4.0
    assert cfg.band_shift_rows(coarse_graining_rows(cuzr), cuzr.sizes["y"]) == 4
    fine = _finer(cuzr, 2)
    assert fine["y"].values[1] - fine["y"].values[0] == 6.25
    assert cfg.band_shift_rows(coarse_graining_rows(fine), fine.sizes["y"]) == 8
    assert ObjectiveConfig(band_shift_widths=0.5).band_shift_rows(
        coarse_graining_rows(fine), fine.sizes["y"]) == 4
    for ref, rows in ((cuzr, 1), (fine, 2)):
        runs = _runs_from_reference(ref, [1.0, 1.0], [0.0, 0.0])
        exy = runs["exy"].values
        exy[0] = np.roll(exy[0], 3 * rows, axis=-2)
        exy[1] = np.roll(exy[1], 10 * rows, axis=-2)
        d = evaluate(ref, runs, cfg)["d_field"].values
        assert d[0] < 1e-6 and d[1] > 0.1


def test_a_reference_without_a_coarse_graining_width_is_compared_unshifted(cuzr, caplog):
    from grassego.calibration import Calibration

    bare = cuzr.copy()
    bare.attrs = {k: v for k, v in cuzr.attrs.items() if k != "coarse_graining_width_A"}
    assert coarse_graining_rows(bare) is None
    runs = _runs_from_reference(cuzr, [1.0], [0.0])
    runs["exy"].values[0] = np.roll(runs["exy"].values[0], 3, axis=-2)
    unshifted = evaluate(cuzr, runs, ObjectiveConfig(variant="overshoot"))["d_field"].values
    assert evaluate(cuzr, runs)["d_field"].values[0] < 1e-6 < unshifted[0]
    assert evaluate(bare, runs)["d_field"].values == pytest.approx(unshifted, abs=0)
    with caplog.at_level("WARNING", logger="grassego.calibration"):
        Calibration(bare, ["c0", "s_y", "beta", "E0"], ObjectiveConfig())
    assert "states no coarse-graining width" in caplog.text
    with pytest.raises(ValueError, match="band_shift_widths"):
        ObjectiveConfig(band_shift_widths=-1.0)
