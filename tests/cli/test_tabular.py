"""``ffnn train / eval / predict`` on raw tables: text columns, gaps, embeddings; columns
matched by name; targets with gaps; one-class targets; files that are not UTF-8 CSV."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ffnn.cli import main

from .test_errors import error_of


def _table(n: int, seed: int, gaps: bool = True) -> tuple[list[str], list[list[str]]]:
    """risk = high when income is low or the city is in the first third; with gaps."""
    rng = np.random.default_rng(seed)
    income = rng.uniform(10, 100, n)
    city = rng.integers(0, 24, n)
    color = rng.choice(["red", "green", "blue"], n)
    age = rng.uniform(20, 70, n)
    risk = np.where((income < 40) | (city < 8), "high", "low")
    rows = []
    for i in range(n):
        row = [f"{age[i]:.1f}", f"{income[i]:.2f}", f"city{city[i]}", color[i], risk[i]]
        if gaps and i % 7 == 3:
            row[0] = "NA"
        if gaps and i % 11 == 5:
            row[3] = ""
        rows.append(row)
    return ["age", "income", "city", "color", "risk"], rows


def _write(path, header, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _train(tmp_path, path, *extra, target="risk"):
    out = tmp_path / "run"
    status = main(["train", "--set", f"data.csv='{path}'", "--set", f"data.target={target}",
                   "--set", "model.hidden_sizes=[32]", "--epochs", "40", "--lr", "0.01",
                   "--set", "data.onehot_max=8", "--out", str(out), *map(str, extra)])
    assert status == 0
    return out


@pytest.fixture
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("tabular")
    header, rows = _table(400, seed=0)
    path = _write(tmp_path / "train.csv", header, rows)
    return _train(tmp_path, path, "-q"), header, tmp_path


def test_text_columns_and_gaps_train_and_predict(trained, capsys, tmp_path):
    run, header, _ = trained
    summary = json.loads((run / "summary.json").read_text())
    assert summary["task"] == "classification" and summary["test"]["accuracy"] >= 0.85
    from ffnn.cli._model_io import load_model

    model, pre, _ = load_model(str(run))
    assert type(model).__name__ == "TabularModel"  # the 24 cities are an embedding
    kinds = {c["name"]: c.get("encoding", "numeric") for c in pre["tabular"]["columns"]}
    assert kinds == {"age": "numeric", "income": "numeric", "city": "embedding",
                     "color": "onehot"}
    # new rows: columns in another order, an unseen city, gaps, the target blank or unseen
    _, rows = _table(60, seed=1)
    order = [1, 3, 4, 2, 0]
    new = [[r[i] for i in order] for r in rows]
    new[0][3] = "atlantis"
    new[1][2], new[2][2] = "", "medium"
    path = _write(tmp_path / "new.csv", [header[i] for i in order], new)
    capsys.readouterr()
    assert main(["predict", str(run), str(path)]) == 0
    predicted = capsys.readouterr().out.split()[1:]
    assert len(predicted) == 60
    truth = [r[4] for r in rows]
    assert np.mean([p == t for p, t in zip(predicted[3:], truth[3:])]) >= 0.8


def test_run_reports_filled_and_dropped(tmp_path, capsys):
    header, rows = _table(200, seed=2)
    rows[4][4] = ""  # one row without a target
    path = _write(tmp_path / "d.csv", header, rows)
    _train(tmp_path, path, "--epochs", "1")
    out = capsys.readouterr().out
    assert "dropped 1 of 200 rows with a missing target 'risk'" in out
    assert "filled" in out and "missing cells" in out and "age" in out


def test_columns_matched_by_name(trained, capsys, tmp_path):
    run, header, _ = trained
    _, rows = _table(20, seed=3)
    with_id = _write(tmp_path / "id.csv", ["id", *header], [[str(i), *r] for i, r in
                                                             enumerate(rows)])
    for command in ("predict", "eval"):
        line = error_of(capsys, command, run, with_id)
        assert "missing [], unexpected ['id']" in line
        assert "['age', 'income', 'city', 'color']" in line
    renamed = _write(tmp_path / "renamed.csv", ["AGE", *header[1:]], rows)
    line = error_of(capsys, "predict", run, renamed)
    assert "missing ['age'], unexpected ['AGE']" in line


def test_eval_leaves_out_rows_without_target(trained, capsys, tmp_path):
    run, header, _ = trained
    _, rows = _table(50, seed=4, gaps=False)
    rows[0][4] = "NA"
    path = _write(tmp_path / "e.csv", header, rows)
    capsys.readouterr()
    assert main(["eval", str(run), str(path), "--log-format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["rows"] == 49
    assert "left out 1 of 50 rows with a missing target 'risk'" in captured.err


def test_numeric_target_with_na_stays_regression(tmp_path, capsys):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(80)
    y = [f"{3 * v + 1:.4f}" for v in x]
    y[7], y[9] = "NA", ""
    path = _write(tmp_path / "r.csv", ["x", "y"], [[f"{a:.4f}", b] for a, b in zip(x, y)])
    out = tmp_path / "run"
    assert main(["train", "--set", f"data.csv='{path}'", "--set", "data.target=y",
                 "--epochs", "1", "--out", str(out)]) == 0
    assert "dropped 2 of 80 rows with a missing target 'y'" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"] == "regression" and summary["classes"] is None
    line = error_of(capsys, "train", "--set", f"data.csv='{path}'", "--set", "data.target=y",
                    "--set", "data.missing=error", "--out", tmp_path / "run2")
    assert "row 8, target column 'y' is empty" in line


def test_one_class_target_is_refused(tmp_path, capsys):
    path = _write(tmp_path / "one.csv", ["x", "label"], [[str(i), "yes"] for i in range(20)])
    line = error_of(capsys, "train", "--set", f"data.csv='{path}'", "--set",
                    "data.target=label", "--out", tmp_path / "run")
    assert "the target 'label' has one class ('yes') in 20 rows" in line
    assert "at least two" in line
    assert not (tmp_path / "run").exists()


def test_drop_mode_and_integer_codes(tmp_path, capsys):
    header, rows = _table(120, seed=6)
    path = _write(tmp_path / "d.csv", header, rows)
    out = _train(tmp_path, path, "--epochs", "1", "--set", "data.missing=drop",
                 "--set", "data.categorical=['age']")
    text = capsys.readouterr().out
    assert "rows with missing cells (data.missing = 'drop')" in text and "filled" not in text
    from ffnn.cli._model_io import load_model

    _, pre, _ = load_model(str(out))
    kinds = {c["name"]: c["kind"] for c in pre["tabular"]["columns"]}
    assert kinds["age"] == "categorical"


def test_not_utf8_and_excel_files(tmp_path, capsys):
    header, rows = _table(40, seed=7, gaps=False)
    rows = [[*r[:2], "Zürich" if i % 2 else "Genève", *r[3:]] for i, r in enumerate(rows)]
    latin = _write(tmp_path / "latin.csv", header, rows, encoding="latin-1")
    args = ("train", "--set", f"data.csv='{latin}'", "--set", "data.target=risk")
    line = error_of(capsys, *args, "--out", tmp_path / "r1")
    assert str(latin) in line and "data.encoding" in line
    out = _train(tmp_path, latin, "--epochs", "1", "--set", "data.encoding=latin-1")
    assert main(["predict", str(out), str(latin), "-q"]) == 0  # the encoding is remembered
    book = tmp_path / "book.csv"
    book.write_bytes(b"PK\x03\x04" + bytes(200))
    line = error_of(capsys, "train", "--set", f"data.csv='{book}'", "--set", "data.target=y")
    assert str(book) in line and "Excel" in line and "CSV UTF-8" in line
    line = error_of(capsys, "predict", out, book)
    assert str(book) in line and "Excel" in line


def test_semicolon_file_with_question_marks(tmp_path, capsys):
    header, rows = _table(100, seed=8, gaps=False)
    rows[3][1] = "?"
    path = tmp_path / "semi.csv"
    path.write_text(";".join(header) + "\n" + "\n".join(";".join(r) for r in rows) + "\n")
    line = error_of(capsys, "train", "--set", f"data.csv='{path}'", "--set", "data.target=risk")
    assert "row 4, column 'income': cannot convert '?'" in line and "data.na_values" in line
    _train(tmp_path, path, "--epochs", "1", "--set", "data.na_values=['?']")
    assert "filled 1 missing cells (income 1)" in capsys.readouterr().out


def test_header_without_rows(tmp_path, capsys):
    path = tmp_path / "h.csv"
    path.write_text("a,b,y\n")
    line = error_of(capsys, "train", "--set", f"data.csv='{path}'", "--set", "data.target=y")
    assert line.startswith(f"ffnn: error: {path} has a header but no data rows")


def _regression_csv(path, y: list[str]):
    x = np.linspace(-2, 2, len(y))
    return _write(path, ["x", "price"], [[f"{a:.4f}", b] for a, b in zip(x, y)])


def test_a_target_outlier_that_sets_its_scale_is_one_warning_line(tmp_path, capsys):
    y = [f"{3 * v + 1:.4f}" for v in np.linspace(-2, 2, 60)]
    y[41] = "1e12"
    path = _regression_csv(tmp_path / "r.csv", y)
    args = ["train", "--set", f"data.csv='{path}'", "--set", "data.target=price", "--set",
            "data.test_split=0", "--set", "data.val_split=0", "--epochs", "1", "-q"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines()
                if line.startswith("ffnn: warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"ffnn: warning: {path}: row 42, target column 'price' holds "
                                  "1e+12, an outlier that sets the target's scale (std 1.28e+11)")
    assert (tmp_path / "run" / "best.safetensors").exists()  # trained all the same
    heavy = [f"{v:.4f}" for v in np.exp(np.linspace(-3, 3, 60))]  # skewed, not dominated
    path = _regression_csv(tmp_path / "heavy.csv", heavy)
    args[2] = f"data.csv='{path}'"
    assert main([*args, "--out", str(tmp_path / "run2")]) == 0
    assert "ffnn: warning" not in capsys.readouterr().err
