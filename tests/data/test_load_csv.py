"""load_csv: parsing, class labels, and every error message."""

import numpy as np
import pytest

from ffnn.data import infer_task, load_csv


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_numeric_regression_target(tmp_path):
    path = _write(tmp_path, "a,b,price\n1,2,3.5\n4,5.5,6\n\n7,8,9.25\n")
    data = load_csv(path, target="price")
    assert data.X.dtype == np.float32 and data.X.shape == (3, 2)
    assert np.array_equal(data.X, [[1, 2], [4, 5.5], [7, 8]])
    assert np.array_equal(data.y, [3.5, 6, 9.25]) and data.y.dtype == np.float32
    assert data.feature_names == ["a", "b"] and data.target_name == "price"
    assert data.classes is None and infer_task(data.y) == "regression"


def test_integer_target_is_int64_labels(tmp_path):
    data = load_csv(_write(tmp_path, "x,label\n0.5,1\n0.1,0\n0.2,2\n"), target="label")
    assert data.y.dtype == np.int64 and np.array_equal(data.y, [1, 0, 2])
    assert infer_task(data.y) == "classification"


def test_text_target_becomes_classes(tmp_path):
    path = _write(tmp_path, "x1,species,x2\n1,setosa,2\n3,virginica,4\n5,setosa,6\n")
    data = load_csv(path, target="species", features=["x2", "x1"], dtype="float64")
    assert data.classes == ["setosa", "virginica"]
    assert np.array_equal(data.y, [0, 1, 0]) and data.y.dtype == np.int64
    assert [data.classes[i] for i in data.y] == ["setosa", "virginica", "setosa"]
    assert data.X.dtype == np.float64 and np.array_equal(data.X, [[2, 1], [4, 3], [6, 5]])


def test_no_target(tmp_path):
    data = load_csv(_write(tmp_path, "a,b\n1,2\n"), target=None)
    assert data.y is None and data.X.shape == (1, 2)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no such file: '.*nope.csv'"):
        load_csv(tmp_path / "nope.csv", target="y")


def test_missing_column_suggests_closest(tmp_path):
    path = _write(tmp_path, "age,income,target\n1,2,3\n")
    with pytest.raises(ValueError, match=r"data.csv'\): target column 'tagret' not found. "
                                         r"Did you mean 'target'\? Columns: \['age', "):
        load_csv(path, target="tagret")
    with pytest.raises(ValueError, match=r"feature column 'incme' not found. Did you mean "
                                         r"'income'\?"):
        load_csv(path, target="target", features=["age", "incme"])


def test_non_numeric_cell_names_row_column_value(tmp_path):
    path = _write(tmp_path, "a,b,y\n1,2,0\n3,abc,1\n")
    with pytest.raises(ValueError, match=r"data.csv'\): row 2, column 'b': cannot convert "
                                         r"'abc' to a number"):
        load_csv(path, target="y")


def test_empty_cell_and_short_row(tmp_path):
    path = _write(tmp_path, "a,b,y\n1,,0\n")
    with pytest.raises(ValueError, match=r"row 1, column 'b' is empty \(missing value\)"):
        load_csv(path, target="y")
    path = _write(tmp_path, "a,b,y\n1,2,0\n1,2\n", name="short.csv")
    with pytest.raises(ValueError, match=r"short.csv'\): row 2 has 2 cells but the header has 3 "
                                         r"columns \(missing value at column 'y'\)"):
        load_csv(path, target="y")
    path = _write(tmp_path, "a,y\n1,\n", name="t.csv")
    with pytest.raises(ValueError, match=r"row 1, column 'y' is empty"):
        load_csv(path, target="y")


def test_na_in_a_numeric_target_is_missing_not_a_class(tmp_path):
    path = _write(tmp_path, "a,y\n1,2.5\n2,NA\n3,1.5\n", name="na.csv")
    with pytest.raises(ValueError, match=r"row 2, column 'y' is 'NA' \(missing value; read the "
                                         r"file with ffnn.data.read_table"):
        load_csv(path, target="y")


def test_nan_cell_is_rejected(tmp_path):
    path = _write(tmp_path, "a,y\nnan,1\n")
    with pytest.raises(ValueError, match=r"row 1, column 'a': value 'nan' is not finite"):
        load_csv(path, target="y")


def test_header_required(tmp_path):
    with pytest.raises(ValueError, match=r"looks like data; a header row with column names is "
                                         r"required"):
        load_csv(_write(tmp_path, "1,2,3\n4,5,6\n"), target="y")
    with pytest.raises(ValueError, match=r"the file is empty; a header row is required"):
        load_csv(_write(tmp_path, "", name="empty.csv"), target="y")
    with pytest.raises(ValueError, match=r"header names must be unique and non-empty. "
                                         r"Received: header \['a', 'a', 'y'\]"):
        load_csv(_write(tmp_path, "a,a,y\n1,2,3\n", name="dup.csv"), target="y")


def test_target_listed_as_feature(tmp_path):
    with pytest.raises(ValueError, match=r"target column 'y' is also listed in features"):
        load_csv(_write(tmp_path, "a,y\n1,2\n"), target="y", features=["a", "y"])


def test_load_csv_header_only_encoding_and_excel_name_the_file(tmp_path):
    (tmp_path / "h.csv").write_text("a,b,y\n")
    with pytest.raises(ValueError, match=r"h.csv'\): the file has a header but no data rows"):
        load_csv(tmp_path / "h.csv", "y")
    (tmp_path / "l.csv").write_bytes("a,b,y\n1,2,0\n\xe9,4,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"l.csv is not utf-8-sig text .*encoding"):
        load_csv(tmp_path / "l.csv", "y")
    (tmp_path / "x.csv").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(ValueError, match=r"x.csv is a zip archive .*not a CSV text file"):
        load_csv(tmp_path / "x.csv", "y")
