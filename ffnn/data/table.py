"""Reading a CSV table into named columns: pandas when installed (fast), else the csv module.

A table is a ``dict`` of column name → 1-D array, in file order: a numeric column is float64
with NaN for a missing cell; any other column is an object array of stripped strings with
None for a missing cell. The delimiter (``,`` ``;`` or tab) is detected from the header row,
UTF-8 is read with or without a byte-order mark, and the cells in ``NA_VALUES`` (plus
``na_values``) are missing. A column the file quotes throughout (``"7"``) while other cells
are bare is text: writers such as R's ``write.csv`` quote categories and not numbers.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import os

import numpy as np

NA_VALUES = ("", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "None",
             "<NA>", "#N/A", "#NA", "-1.#IND", "1.#IND", "-1.#QNAN", "1.#QNAN", "#N/A N/A")
"""Cells read as missing values in every file (pandas' default list)."""

DELIMITERS = (",", ";", "\t")

_SIGNATURES = {
    b"PK\x03\x04": "a zip archive (an Excel .xlsx or OpenDocument .ods workbook)",
    b"\xd0\xcf\x11\xe0": "an Excel workbook (.xls)",
    b"%PDF": "a PDF document",
    b"\xef\xbb\xbf\xd0\xcf": "an Excel workbook (.xls)",
}


class TableError(ValueError):
    """A CSV that cannot be read as a table: the message names the file and what to do."""


def _check_file(path: str) -> None:
    if os.path.isdir(path):
        raise TableError(f"{path} is a folder, not a CSV file: give the path of a CSV file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path!r}")


def _check_kind(path: str, encoding: str | None) -> None:
    with open(path, "rb") as f:
        head = f.read(8)
    for magic, what in _SIGNATURES.items():
        if head.startswith(magic):
            raise TableError(f"{path} is {what}, not a CSV text file: save it as CSV (in Excel: "
                             "File > Save As > 'CSV UTF-8'), or convert it with pandas: "
                             "pandas.read_excel(path).to_csv('data.csv', index=False)")
    if encoding is None and head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise TableError(f"{path} is UTF-16 text, not UTF-8: set data.encoding = 'utf-16' (or "
                         "encoding='utf-16'), or save the file as UTF-8")


def _decode_error(path: str, error: UnicodeDecodeError, encoding: str) -> TableError:
    byte = error.object[error.start:error.start + 1].hex() if error.object else "?"
    return TableError(f"{path} is not {encoding} text (byte 0x{byte} at offset {error.start}): "
                      "name its encoding with data.encoding (e.g. 'latin-1' or 'cp1252'; "
                      "encoding= in Python), or save the file as UTF-8")


def read_header(path: str | os.PathLike, encoding: str | None = None) -> list[str]:
    """The column names of the CSV at ``path`` (TableError as ``read_table``)."""
    path = os.fspath(path)
    _check_file(path)
    _check_kind(path, encoding)
    return _header(path, encoding or "utf-8-sig")[0]


def _header(path: str, encoding: str) -> tuple[list[str], str]:
    """The header row's names and the delimiter (the one of , ; tab it holds most of)."""
    try:
        with open(path, newline="", encoding=encoding) as f:
            line = ""
            for line in f:
                if line.strip():
                    break
    except UnicodeDecodeError as error:
        raise _decode_error(path, error, encoding) from None
    except LookupError:
        raise TableError(f"unknown encoding {encoding!r} for {path} (data.encoding)") from None
    if not line.strip():
        raise TableError(f"{path}: the file is empty; a header row with column names is "
                         "required")
    delimiter = max(DELIMITERS, key=line.count)
    if line.count(delimiter) == 0:
        delimiter = ","
    header = [c.strip() for c in next(csv.reader([line], delimiter=delimiter))]
    problem = header_problem(header)
    if problem:
        raise TableError(f"{path}: {problem}")
    return header, delimiter


def header_problem(header: list[str]) -> str | None:
    """What is wrong with a CSV's first row as a header (numbers only, names repeated or
    empty), or None; shared by ``read_table`` and ``load_csv``."""
    if all(_is_number(c) for c in header):
        return (f"the first row {header[:8]} looks like data; a header row with column names "
                "is required")
    if len(set(header)) != len(header) or "" in header:
        return f"header names must be unique and non-empty. Received: header {header}"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def column_error(path: str, name: str, columns: list[str], role: str) -> TableError:
    """'<role> column 'x' not found. Did you mean …? Columns: […]' (role: 'target' …)."""
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return TableError(f"{path}: {role} column {name!r} not found.{hint} Columns: {columns}")


def read_table(path: str | os.PathLike, columns: list[str] | None = None,
               encoding: str | None = None, na_values: list[str] | tuple = (),
               ) -> dict[str, np.ndarray]:
    """The CSV at ``path`` as ``{name: column}`` (see the module docstring).

    columns: read only these (in this order; default: all). encoding: the file's text encoding
    (default UTF-8, with or without BOM). na_values: more cells that mean "missing" (``?``).
    Raises FileNotFoundError, or TableError naming the file: not text (Excel, PDF), not in
    the encoding, no header, duplicate names, a ragged row, an unknown column.
    """
    path = os.fspath(path)
    if isinstance(columns, str):
        raise TypeError(f"read_table: columns must be a list of column names. Received: "
                        f"columns={columns!r} (write [{columns!r}] for one column)")
    if isinstance(na_values, str):
        na_values = [na_values]
    _check_file(path)
    _check_kind(path, encoding)
    encoding_used = encoding or "utf-8-sig"
    header, delimiter = _header(path, encoding_used)
    wanted = list(header) if columns is None else list(columns)
    for name in wanted:
        if name not in header:
            raise column_error(path, name, header, "requested")
    markers = list(dict.fromkeys([*NA_VALUES, *(str(v).strip() for v in na_values)]))
    try:
        import pandas  # noqa: F401
    except ImportError:
        table = _read_csv_module(path, header, wanted, delimiter, encoding_used, markers)
    else:
        table = _read_pandas(path, header, wanted, delimiter, encoding_used, markers)
    return _checked_finite(path, table)


def _checked_finite(path: str, table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The table; TableError naming the first infinite cell of a numeric column (``inf``, or
    a number beyond float64's range such as 1e400): neither a value to learn from nor a
    missing one, unless listed in ``na_values``."""
    for name, values in table.items():
        if values.dtype.kind == "f" and np.isinf(values).any():
            row = int(np.flatnonzero(np.isinf(values))[0])
            raise TableError(
                f"{path}: row {row + 1}, column {name!r} holds {values[row]} (an infinite "
                "number, or one beyond float64's range such as 1e400): fix the cell, or list "
                "it in na_values (data.na_values) if it marks a missing value")
    return table


CHUNK_ROWS = 65_536


def quoted_columns(path: str, header: list[str], delimiter: str, encoding: str,
                   sample: int = 200) -> list[str]:
    """Columns whose cells are all quoted in the first ``sample`` rows, in a file that leaves
    some cells unquoted: the writer (R's write.csv, for one) marked them as text, so
    ``"7"`` there is the category '7', not the number 7."""
    quoted = [True] * len(header)
    some_bare = False
    with open(path, newline="", encoding=encoding) as f:
        next(f, None)
        for _, line in zip(range(sample), f):
            cells = line.rstrip("\r\n").split(delimiter)
            if len(cells) != len(header):  # a delimiter inside quotes: no simple answer here
                return []
            for j, cell in enumerate(cells):
                cell = cell.strip()
                if cell and not cell.startswith('"'):
                    quoted[j] = False
                    some_bare = True
    if not some_bare:
        return []
    return [name for name, q in zip(header, quoted) if q]


def _check_row_widths(path: str, delimiter: str, width: int, encoding: str) -> None:
    """TableError at the first line whose cell count differs from the header's ``width``
    (pandas pads a short row with missing cells and drops the extra cells of a long one).
    Counted on the bytes; a file with quotes (a delimiter may sit inside them) is left to
    the parser, and so is an encoding whose newline is not the byte 0x0a (UTF-16)."""
    name = codecs.lookup(encoding).name
    ascii_bytes = b"\n,;\t\""
    if name.startswith(("utf-16", "utf-32")) or (
            not name.startswith("utf-8") and "\n,;\t\"".encode(name) != ascii_bytes):
        return
    if os.path.getsize(path) == 0:
        return
    data = np.memmap(path, dtype=np.uint8, mode="r")
    pos, first_line, size = 0, 0, data.shape[0]
    while pos < size:  # blocks of whole lines keep the index arrays small
        end = min(pos + (1 << 24), size)
        if end < size:
            back = np.flatnonzero(data[pos:end] == ord("\n"))
            ahead = np.flatnonzero(data[end:] == ord("\n")) if not back.size else back
            end = (pos + int(back[-1]) + 1 if back.size
                   else end + int(ahead[0]) + 1 if ahead.size else size)
        block = data[pos:end]
        if np.any(block == ord('"')):
            return
        _check_block(path, block, delimiter, width, first_line)
        first_line += int(np.count_nonzero(block == ord("\n")))
        pos = end


def _check_block(path: str, block: np.ndarray, delimiter: str, width: int, first_line: int):
    newlines = np.flatnonzero(block == ord("\n"))
    starts = np.concatenate([[0], newlines + 1])
    ends = np.concatenate([newlines, [block.shape[0]]])
    delimiters = np.flatnonzero(block == ord(delimiter))
    cells = np.searchsorted(delimiters, ends) - np.searchsorted(delimiters, starts) + 1
    for line in np.flatnonzero(cells != width).tolist():  # usually none; blank lines pass
        text = bytes(block[starts[line]:ends[line]]).strip()
        if text:
            seen = int(cells[line])
            kind = "missing" if seen < width else "extra"
            raise TableError(f"{path}: line {first_line + line + 1} has {seen} cells but the "
                             f"header has {width} columns ({kind} cells: every row needs one "
                             "cell per column, empty for a missing value)")


def _line_bound(path: str) -> int:
    """An upper bound on the data rows: the newlines in the file, plus one."""
    count = 1
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            count += block.count(b"\n")
    return count


def _read_pandas(path, header, wanted, delimiter, encoding, markers):
    """Chunk by chunk into preallocated float64 columns, so the peak memory stays near the
    size of the result (pandas' whole-file parse holds several copies)."""
    import pandas as pd

    _check_row_widths(path, delimiter, len(header), encoding)
    bound = _line_bound(path)
    as_text = {name: str for name in quoted_columns(path, header, delimiter, encoding)
               if name in wanted}
    numeric: dict[str, np.ndarray] = {}
    text: dict[str, list] = {name: [] for name in wanted}
    rows = 0
    try:
        chunks = pd.read_csv(path, sep=delimiter, header=0, names=header, index_col=False,
                             # every column: with usecols, a row with extra cells passes
                             encoding=encoding, na_values=markers, keep_default_na=False,
                             skipinitialspace=True, skip_blank_lines=True,
                             chunksize=CHUNK_ROWS, dtype=as_text or None)
        for frame in chunks:
            n = len(frame)
            for name in wanted:
                series = frame[name]
                if series.dtype.kind in "biuf" and not text[name]:
                    column = numeric.get(name)
                    if column is None:
                        column = numeric[name] = np.empty(bound, dtype=np.float64)
                        column[:rows] = np.nan  # (no earlier chunk had this column)
                    column[rows:rows + n] = series.to_numpy(dtype=np.float64, na_value=np.nan)
                    continue
                if name in numeric:  # text after numbers: the numbers so far become text
                    text[name].append(_number_text(numeric.pop(name)[:rows]))
                text[name].append(_number_text(series.to_numpy(dtype=np.float64,
                                                               na_value=np.nan))
                                  if series.dtype.kind in "biuf"
                                  else series.to_numpy(dtype=object, na_value=None))
            rows += n
    except UnicodeDecodeError as error:
        raise _decode_error(path, error, encoding) from None
    except (pd.errors.ParserError, ValueError) as error:
        message = " ".join(str(error).split())
        raise TableError(f"{path}: not a well-formed CSV table ({message})") from None
    table = {}
    for name in wanted:
        if name in numeric:
            table[name] = numeric.pop(name)[:rows]
        else:
            parts = text[name]
            values = np.concatenate(parts) if parts else np.empty(0, dtype=object)
            table[name] = _clean_text(values, markers)
    return table


def _number_text(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.shape[0], dtype=object)
    for i, v in enumerate(values.tolist()):  # the cells of one column, once
        if v == v:
            out[i] = str(int(v)) if float(v).is_integer() else repr(v)
    return out


def _clean_text(values: np.ndarray, markers: list[str]) -> np.ndarray:
    """Stripped strings, None for missing (a marker with surrounding spaces counts)."""
    missing = set(markers)
    out = np.empty(values.shape[0], dtype=object)
    for i, v in enumerate(values.tolist()):  # a loop over the cells of one text column
        if v is None:
            continue
        text = str(v).strip()
        out[i] = None if text in missing else text
    return out


def _read_csv_module(path, header, wanted, delimiter, encoding, markers):
    _check_row_widths(path, delimiter, len(header), encoding)
    try:
        with open(path, newline="", encoding=encoding) as f:
            rows = [r for r in csv.reader(f, delimiter=delimiter) if any(c.strip() for c in r)]
    except UnicodeDecodeError as error:
        raise _decode_error(path, error, encoding) from None
    rows = rows[1:]
    for r, cells in enumerate(rows, start=1):
        if len(cells) != len(header):
            raise TableError(f"{path}: row {r} has {len(cells)} cells but the header has "
                             f"{len(header)} columns")
    table = {}
    missing = set(markers)
    text = set(quoted_columns(path, header, delimiter, encoding))
    for name in wanted:
        c = header.index(name)
        cells = [None if row[c].strip() in missing else row[c].strip() for row in rows]
        present = [v for v in cells if v is not None]
        if name not in text and all(_is_number(v) for v in present):
            table[name] = np.array([np.nan if v is None else float(v) for v in cells],
                                   dtype=np.float64)
        else:
            table[name] = np.array(cells, dtype=object)
    return table


def table_from_frame(frame) -> dict[str, np.ndarray]:
    """A pandas DataFrame (or a dict of columns) as a table: numeric → float64 with NaN,
    the rest → object arrays of stripped strings with None."""
    table = {}
    for name in list(frame.keys()):
        column = frame[name]
        values = column.to_numpy() if hasattr(column, "to_numpy") else np.asarray(column)
        if values.dtype.kind in "biuf":
            table[str(name)] = values.astype(np.float64)
            continue
        cleaned = np.empty(values.shape[0], dtype=object)
        for i, v in enumerate(values.tolist()):  # one text column's cells
            if v is None or (isinstance(v, float) and v != v) or type(v).__name__ in _NA_TYPES:
                continue
            cleaned[i] = str(v).strip()
        table[str(name)] = cleaned
    return table


_NA_TYPES = ("NAType", "NaTType")


def num_rows(table: dict[str, np.ndarray]) -> int:
    return next(iter(table.values())).shape[0] if table else 0


__all__ = ["read_table", "read_header", "quoted_columns", "table_from_frame", "TableError",
           "NA_VALUES", "column_error", "num_rows"]
