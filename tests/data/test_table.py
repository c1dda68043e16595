"""read_table: delimiters, BOM, encodings, missing markers, and the errors for files that are
not UTF-8 CSV text (each message names the file and says what to do)."""

from __future__ import annotations

import numpy as np
import pytest

from ffnn.data.table import NA_VALUES, TableError, _read_csv_module, read_header, read_table

TEXT = "x,color,y\n1.5,red,0\n,blue,1\n3,,0\n?,red,1\n"


def _same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        if a[name].dtype.kind == "f":
            np.testing.assert_array_equal(a[name], b[name])
        else:
            assert a[name].tolist() == b[name].tolist(), name


def test_numbers_text_and_missing_markers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(TEXT)
    table = read_table(path, na_values=["?"])
    np.testing.assert_array_equal(table["x"], [1.5, np.nan, 3.0, np.nan])
    assert table["color"].tolist() == ["red", "blue", None, "red"]
    np.testing.assert_array_equal(table["y"], [0, 1, 0, 1])
    assert table["x"].dtype == np.float64
    # without '?' as a marker the column is text
    assert read_table(path)["x"].tolist() == ["1.5", None, "3", "?"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_detected_and_bom_read(tmp_path, delimiter):
    path = tmp_path / "t.csv"
    text = TEXT.replace(",", delimiter)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    table = read_table(path, na_values=["?"])
    assert list(table) == ["x", "color", "y"]  # no BOM in the first name
    assert table["color"].tolist() == ["red", "blue", None, "red"]


def test_pandas_and_csv_module_agree(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(TEXT + "2, green ,1\n")
    fast = read_table(path, na_values=["?"])
    header = ["x", "color", "y"]
    _same(fast, _read_csv_module(str(path), header, header, ",", "utf-8-sig",
                                 [*NA_VALUES, "?"]))
    assert fast["color"].tolist()[-1] == "green"


def test_columns_subset_in_order(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(TEXT)
    assert list(read_table(path, ["y", "x"], na_values=["?"])) == ["y", "x"]
    with pytest.raises(TableError, match=r"column 'colour' not found. Did you mean 'color'\?"):
        read_table(path, ["colour"])


def test_latin1_file_needs_its_encoding(tmp_path):
    path = tmp_path / "cafés.csv"
    path.write_bytes("city,price\nZürich,3\nMünchen,4\n".encode("latin-1"))
    with pytest.raises(TableError) as info:
        read_table(path)
    message = str(info.value)
    assert str(path) in message and "is not utf-8-sig text" in message
    assert "data.encoding" in message and "latin-1" in message
    assert read_table(path, encoding="latin-1")["city"].tolist() == ["Zürich", "München"]


def test_non_utf8_byte_after_the_header(tmp_path):
    path = tmp_path / "late.csv"
    path.write_bytes(b"city,price\n" + b"a,1\n" * 2000 + "Zürich,3\n".encode("cp1252"))
    with pytest.raises(TableError, match="late.csv is not utf-8-sig text .*data.encoding"):
        read_table(path)


@pytest.mark.parametrize("magic, what", [(b"PK\x03\x04", "xlsx"),
                                         (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls")])
def test_excel_workbook_given_as_csv(tmp_path, magic, what):
    path = tmp_path / "book.csv"
    path.write_bytes(magic + bytes(100))
    with pytest.raises(TableError) as info:
        read_table(path)
    message = str(info.value)
    assert str(path) in message and f".{what}" in message
    assert "Save As" in message and "CSV UTF-8" in message


def test_utf16_file(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("a,b\n1,2\n".encode("utf-16"))
    with pytest.raises(TableError, match="UTF-16 text.*data.encoding = 'utf-16'"):
        read_table(path)
    assert read_table(path, encoding="utf-16")["b"].tolist() == [2.0]


def test_header_errors(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("")
    with pytest.raises(TableError, match="the file is empty"):
        read_header(path)
    path.write_text("1,2\n3,4\n")
    with pytest.raises(TableError, match="looks like data; a header row"):
        read_table(path)
    path.write_text("a,a,b\n1,2,3\n")
    with pytest.raises(TableError, match="must be unique and non-empty"):
        read_table(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(TableError, match="unknown encoding 'klingon'"):
        read_table(path, encoding="klingon")


def test_quoted_numbers_are_text_when_other_cells_are_bare(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('"hr","temp","city"\n"0",0.5,"Oslo"\n"13",0.7,"Rome"\n"7",0.1,"Oslo"\n')
    table = read_table(path)
    assert table["hr"].tolist() == ["0", "13", "7"]  # R's write.csv quotes categories
    np.testing.assert_array_equal(table["temp"], [0.5, 0.7, 0.1])
    header = ["hr", "temp", "city"]
    _same(table, _read_csv_module(str(path), header, header, ",", "utf-8-sig", list(NA_VALUES)))
    path.write_text('"a","b"\n"1","2"\n"3","4"\n')  # everything quoted: no information
    np.testing.assert_array_equal(read_table(path)["a"], [1.0, 3.0])


@pytest.mark.parametrize("row, what", [("3,4", r"2 cells .*\(missing cells"),
                                       ("3,4,1,7", r"4 cells .*\(extra cells")])
def test_a_ragged_row_is_an_error_naming_its_line(tmp_path, row, what):
    """pandas pads a short row with missing cells and drops a long row's extra cells."""
    path = tmp_path / "ragged.csv"
    path.write_text(f"a,b,y\n1,2,0\n\n{row}\n5,6,1\n")
    with pytest.raises(TableError, match=f"ragged.csv: line 4 has {what}"):
        read_table(path)
    with pytest.raises(TableError, match=f"ragged.csv: line 4 has {what}"):
        _read_csv_module(str(path), ["a", "b", "y"], ["a", "b", "y"], ",", "utf-8", [""])


def test_a_folder_and_an_unknown_column_are_named(tmp_path):
    with pytest.raises(TableError, match="is a folder, not a CSV file"):
        read_table(tmp_path)
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    with pytest.raises(TableError, match=r"t.csv: requested column 'zz' not found"):
        read_table(tmp_path / "t.csv", ["a", "zz"])


def test_a_string_for_columns_is_refused_and_one_for_na_values_is_one_marker(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("ab,a,b\n1,N,2\n3,4,A\n")
    with pytest.raises(TypeError, match=r"columns must be a list .* Received: columns='ab'"):
        read_table(path, "ab")
    table = read_table(path, na_values="N")  # one marker, not the letters of a string
    assert np.isnan(table["a"][0]) and table["b"].tolist() == ["2", "A"]
