"""Strict CSV tables: every row as wide as the header, numbers exact, errors name file and line."""

from __future__ import annotations

import numpy as np
import pytest

from grassego.errors import InputError
from grassego.tables import read_table, write_table


def test_numbers_come_back_bit_for_bit_with_integer_and_text_columns(tmp_path):
    values = np.random.default_rng(0).random(50) * 1e-3
    path = tmp_path / "t.csv"
    lines = ["sample, x ,status"] + [f"{i}, {v:.17g},ok" for i, v in enumerate(values)]
    path.write_text("\n".join(lines[:3] + [""] + lines[3:]) + "\n\n")  # blank lines are skipped
    df = read_table(path, text=("status",))
    assert list(df.columns) == ["sample", "x", "status"]
    assert df["sample"].dtype == np.int64 and df["x"].dtype == np.float64
    np.testing.assert_array_equal(df["x"].to_numpy(), values)
    assert set(df["status"]) == {"ok"}


def test_a_byte_order_mark_is_not_part_of_the_first_column_name(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("c0,s_y\n1,2\n".encode("utf-8-sig"))
    assert list(read_table(path, required=["c0"]).columns) == ["c0", "s_y"]


def test_empty_cells_and_non_finite_numbers_are_kept(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,\nnan,-inf\n")
    df = read_table(path)
    assert df["a"].dtype == np.float64 and np.isnan(df["a"][1]) and df["b"][1] == -np.inf
    assert np.isnan(df["b"][0])


@pytest.mark.parametrize("text,message", [
    ("", ": empty file"),
    ("a,b\n1,2\n3,4,5\n", ":3: 3 fields where the header has 2"),
    ("a,b\n1\n", ":2: 1 fields where the header has 2"),
    ("a, a\n1,2\n", ":1: column 'a' appears twice"),
    ("a,,b\n1,2,3\n", ":1: header field 2 has no column name"),
    ("a,b\n1,2\n\n1,x\n", ":4: column 'b' has a non-numeric value 'x'"),
    ("b,c\n1,2\n", ":1: header lacks column(s) ['a']"),
    ("a,d\nx,2\n", ":1: unknown column(s) ['d']"),
])
def test_malformed_tables_are_one_error_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_table(path, required=["a"], allowed=["b", "c"])
    assert str(err.value).startswith(f"{path}{message}")


def test_workflow_tables_read_back_as_written(tmp_path):
    """The design and training CSVs as the workflow writes them (:func:`write_table`: %.17g, NaN
    as an empty cell) come back equal, dtypes included."""
    import pandas as pd

    rng = np.random.default_rng(1)
    table = pd.DataFrame({"sample": np.arange(6), "seed": [0, 0, 0, 1, 1, 1],
                          "c0": rng.random(6), "E0": -3.4 + 1e-3 * rng.random(6),
                          "delta": [0.1, np.nan, 0.3, 0.2, np.nan, 0.25],
                          "status": ["ok", "diverged", "ok", "ok", "rejected_input", "ok"]})
    path = tmp_path / "training.csv"
    write_table(table, path)
    back = read_table(path, text=["status"], required=["seed", "c0", "delta", "status"])
    pd.testing.assert_frame_equal(back, table, check_exact=True)
