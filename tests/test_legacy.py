"""Legacy text import (``grassego ingest-legacy``): round trip of the CuZr data and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from grassego.cli import main
from grassego.errors import InputError
from grassego.fields import read_reference
from grassego.legacy import LegacyLayout, read_legacy


def _write_field(path: Path, values: np.ndarray, header: str | None = None) -> None:
    ny, nx = values.shape
    lines = [header or f"{nx} {ny} {values.min():.5g} {values.max():.5g}"]
    lines += [" ".join(f"{v:.8f}" for v in row) for row in values]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def legacy_dir(tmp_path: Path) -> Path:
    """A small synthetic legacy data set: 5 frames of 4 x 6 (ny x nx), 21 stress rows."""
    d = tmp_path / "legacy"
    d.mkdir()
    rng = np.random.default_rng(1)
    for n in range(5):
        _write_field(d / f"pe.MD.{n}", -3.36 + 1e-3 * rng.standard_normal((4, 6)))
        _write_field(d / f"Exy.MD.{n}", 0.1 * n + 0.01 * rng.standard_normal((4, 6)))
    rows = [f"{1000 * i}\t100\t0\t{-2000.0 * i}\t5\t6\t{-500.0 * i:.1f}" for i in range(21)]
    (d / "stress.txt").write_text("\n".join(rows) + "\n")
    return d


LAYOUT = LegacyLayout(stress_file="stress.txt", max_strain=0.4, box_length_A=60.0)


def test_synthetic_round_trip(legacy_dir: Path):
    ds = read_legacy(legacy_dir, LAYOUT)
    assert ds.sizes == {"frame": 5, "y": 4, "x": 6, "strain_ss": 21}
    np.testing.assert_allclose(ds["strain"].values, [0, 0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(ds["stress_strain"].values, 0.05 * np.arange(21), rtol=1e-6)
    np.testing.assert_allclose(ds["x"].values, (np.arange(6) + 0.5) * 10.0)
    assert ds["exy"].attrs["shear_convention"] == "engineering"
    assert ds["pe"].attrs["units"] == "eV/atom" and ds["stress_strain"].attrs["units"] == "GPa"


def test_cuzr_shipped_file_equals_source_text(cuzr_reference_path: Path, cuzr_legacy_dir: Path):
    """The shipped resources/cuzr/reference.nc equals the published text to float32 precision."""
    src = cuzr_legacy_dir
    ds = read_reference(cuzr_reference_path)
    assert ds.sizes == {"frame": 101, "y": 32, "x": 32, "strain_ss": 501}
    assert ds["pe"].dtype == np.float32 and ds["exy"].dtype == np.float32
    for n in (0, 1, 37, 100):
        for name, prefix in (("pe", "pe.MD."), ("exy", "Exy.MD.")):
            text = np.loadtxt(src / f"{prefix}{n}", skiprows=1)
            np.testing.assert_array_equal(ds[name].values[n], text.astype(np.float32))
    stress = -np.loadtxt(src / "stress_rand2_matlab.txt")[:, 6] / 1e4
    np.testing.assert_array_equal(ds["stress_strain"].values, stress.astype(np.float32))
    assert ds["strain"].values[-1] == pytest.approx(0.5)
    assert "MIT" in ds.attrs["license"] and "Kontolati" in ds.attrs["attribution"]
    assert (src / "LICENSE").read_text() == (cuzr_reference_path.parent / "LICENSE").read_text()
    # the coarse-grained MD strain is engineering-style: its mean follows the global strain
    assert float(ds["exy"].values[100].mean()) == pytest.approx(0.5, abs=0.01)


def test_cli_writes_file(legacy_dir: Path, tmp_path: Path):
    out = tmp_path / "sub" / "ref.nc"
    rc = main(["ingest-legacy", str(legacy_dir), str(out), "--stress-file", "stress.txt",
               "--max-strain", "0.4", "--box-length", "60"])
    assert rc == 0
    with xr.open_dataset(out) as ds:
        assert ds.sizes["frame"] == 5


def _expect_error(legacy_dir: Path, tmp_path: Path, capsys, needle_file: str, needle: str,
                  line: int | None = None):
    out = tmp_path / "out.nc"
    with pytest.raises(InputError) as err:
        read_legacy(legacy_dir, LAYOUT)
    msg = str(err.value)
    assert needle_file in msg and needle in msg
    if line is not None:
        assert f":{line}:" in msg
    # the CLI reports the same error, exits 2 and leaves no output file (not even a temp file)
    rc = main(["ingest-legacy", str(legacy_dir), str(out), "--stress-file", "stress.txt",
               "--max-strain", "0.4"])
    assert rc == 2
    assert needle_file in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".out.nc*"))


def test_missing_frame(legacy_dir, tmp_path, capsys):
    (legacy_dir / "Exy.MD.3").unlink()
    _expect_error(legacy_dir, tmp_path, capsys, "Exy.MD.3", "missing frame 3")


def test_header_row_count_mismatch(legacy_dir, tmp_path, capsys):
    vals = np.zeros((4, 6))
    _write_field(legacy_dir / "pe.MD.2", vals, header="6 5 0 1")
    _expect_error(legacy_dir, tmp_path, capsys, "pe.MD.2", "ny=5 rows")


def test_header_column_count_mismatch(legacy_dir, tmp_path, capsys):
    _write_field(legacy_dir / "Exy.MD.1", np.zeros((4, 6)), header="7 4 0 1")
    _expect_error(legacy_dir, tmp_path, capsys, "Exy.MD.1", "nx=7", line=2)


def test_non_numeric_token(legacy_dir, tmp_path, capsys):
    path = legacy_dir / "pe.MD.4"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(lines[3].split()[2], "abc", 1)
    path.write_text("\n".join(lines) + "\n")
    _expect_error(legacy_dir, tmp_path, capsys, "pe.MD.4", "'abc'", line=4)


def test_truncated_stress_file(legacy_dir, tmp_path, capsys):
    path = legacy_dir / "stress.txt"
    text = path.read_text()
    path.write_text(text[: len(text) - 12])  # cut the last row short
    _expect_error(legacy_dir, tmp_path, capsys, "stress.txt", "truncated", line=21)


def test_not_a_directory(tmp_path):
    with pytest.raises(InputError, match="not a directory"):
        read_legacy(tmp_path / "nope")
