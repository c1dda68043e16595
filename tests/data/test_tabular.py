"""TabularPreprocessor: imputation fitted on training rows, the 'missing' and 'other'
categories, one-hot vs embedding, the JSON state, and its errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ffnn.data import TableError, TabularPreprocessor, embedding_dim


def _train():
    return {"x": np.array([1.0, 2.0, np.nan, 4.0, 10.0]),
            "n": np.array([5.0, 6.0, 7.0, 8.0, 9.0]),
            "color": np.array(["red", "blue", None, "red", "blue"], dtype=object)}


def test_numeric_median_indicator_and_scale_from_training_rows():
    pre = TabularPreprocessor().fit(_train())
    assert pre.output_names == ["x", "x_na", "n", "color=<missing>", "color=blue", "color=red"]
    new = {"x": np.array([np.nan, 4.0]), "n": np.array([5.0, np.inf]),
           "color": np.array(["blue", None], dtype=object)}
    X = pre.transform(new)
    filled_x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])  # the gap took the median, 3
    mean, std = filled_x.mean(), filled_x.std()
    n = np.arange(5.0, 10.0)
    np.testing.assert_allclose(X[:, 0], (np.array([3.0, 4.0]) - mean) / std, rtol=1e-6)
    np.testing.assert_array_equal(X[:, 1], [1, 0])  # the indicator
    np.testing.assert_allclose(X[:, 2], (np.array([5.0, 7.0]) - n.mean()) / n.std(), rtol=1e-6)
    np.testing.assert_array_equal(X[:, 3:], [[0, 1, 0], [1, 0, 0]])
    assert pre.filled == {"x": 1, "n": 1, "color": 1}
    assert X.dtype == np.float32


def test_no_indicator_without_gaps_in_training():
    train = _train()
    train["x"][2] = 3.0
    pre = TabularPreprocessor().fit(train)
    assert "x_na" not in pre.output_names
    X = pre.transform({**train, "x": np.array([np.nan] * 5)})  # a gap later is still filled
    assert np.isfinite(X).all()


def test_unseen_and_rare_categories_share_other():
    train = {"city": np.array(["a", "a", "b", "b", "c"], dtype=object)}
    pre = TabularPreprocessor(onehot_max=0).fit(train)  # min_frequency 2: 'c' is rare
    assert pre.cardinalities == [4] and pre.embedding_dims == [embedding_dim(4)]
    X = pre.transform({"city": np.array(["b", "zzz", "c", None, "a"], dtype=object)})
    np.testing.assert_array_equal(X[:, 0], [3, 0, 0, 1, 2])  # b, other, other, missing, a
    one_hot = TabularPreprocessor().fit(train)
    assert one_hot.output_names == ["city=<other>", "city=a", "city=b"]
    X = one_hot.transform({"city": np.array(["zzz", None], dtype=object)})
    np.testing.assert_array_equal(X, [[1, 0, 0], [0, 0, 0]])  # missing never seen: zeros


def test_onehot_threshold_and_integer_codes():
    codes = np.arange(40.0) % 20  # 20 codes, each twice
    table = {"code": codes, "v": np.arange(40.0)}
    assert TabularPreprocessor().fit(table).output_names == ["code", "v"]  # numeric
    pre = TabularPreprocessor(categorical=["code"], onehot_max=16).fit(table)
    assert pre.num_continuous == 1 and pre.cardinalities == [22]
    assert pre.output_names == ["v", "code"]  # embedded columns come last
    X = pre.transform({"code": np.array([3.0, 99.0]), "v": np.array([0.0, 1.0])})
    position = sorted(str(i) for i in range(20)).index("3")  # text order: '0' '1' '10' …
    np.testing.assert_array_equal(X[:, 1], [2 + position, 0])  # 99 never seen: other


def test_default_onehots_hour_of_day_and_embeds_wider_columns():
    hours = np.array([f"{h}" for h in range(24)] * 3, dtype=object)
    days = np.array([f"d{d}" for d in range(36)] * 2, dtype=object)
    pre = TabularPreprocessor().fit({"hr": hours, "day": days})
    assert pre.num_continuous == 24 and pre.cardinalities == [2 + 36]
    assert pre.output_names[:2] == ["hr=0", "hr=1"] and pre.output_names[-1] == "day"


def test_state_dict_is_json_and_round_trips():
    pre = TabularPreprocessor(onehot_max=1).fit(_train())
    state = json.loads(json.dumps(pre.state_dict()))
    again = TabularPreprocessor.from_state_dict(state)
    table = _train()
    np.testing.assert_array_equal(again.transform(table), pre.transform(table))
    assert again.output_names == pre.output_names
    with pytest.raises(ValueError, match="malformed state"):
        TabularPreprocessor.from_state_dict({"columns": []})


def test_columns_matched_by_name():
    pre = TabularPreprocessor().fit(_train())
    table = _train()
    reordered = {k: table[k] for k in ("color", "n", "x")}
    np.testing.assert_array_equal(pre.transform(reordered), pre.transform(table))
    with pytest.raises(ValueError, match=r"columns \['n'\] are missing"):
        pre.transform({"x": table["x"], "color": table["color"]})


def test_errors_name_row_and_column():
    with pytest.raises(TableError, match=r"row 3, column 'x' is empty .*data.missing = 'error'"):
        TabularPreprocessor(missing="error").fit(_train())
    stray = {"x": np.array(["1", "2", "oops", "4"], dtype=object)}
    with pytest.raises(TableError, match=r"row 3, column 'x': cannot convert 'oops'.*na_values"):
        TabularPreprocessor().fit(stray)
    pre = TabularPreprocessor().fit({"x": np.array([1.0, 2.0])})
    with pytest.raises(TableError, match=r"row 2, column 'x': cannot convert 'two'"):
        pre.transform({"x": np.array(["1", "two"], dtype=object)})
    with pytest.raises(ValueError, match="missing must be one of"):
        TabularPreprocessor(missing="fill")
    with pytest.raises(RuntimeError, match="not fitted"):
        TabularPreprocessor().transform({"x": np.array([1.0])})


def test_complete_rows_and_dataframe_input():
    import pandas as pd

    frame = pd.DataFrame({"x": [1.0, None, 3.0], "s": ["a", "b", None]})
    pre = TabularPreprocessor()
    np.testing.assert_array_equal(pre.complete_rows(frame), [True, False, False])
    X = pre.fit_transform(frame)
    assert pre.output_names == ["x", "x_na", "s=<other>", "s=<missing>"]  # 'a', 'b' are rare
    assert X.shape == (3, 4) and pre.filled == {"x": 1, "s": 1}


def test_embedding_dim_rule():
    assert [embedding_dim(n) for n in (2, 4, 24, 1000, 10**6)] == [
        2, 3, int(round(1.6 * 24 ** 0.56)), 32, 32]


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match=r"one length. Received: lengths \{'a': 3, 'b': 2\}"):
        TabularPreprocessor().fit({"a": np.ones(3), "b": np.ones(2)})


def test_huge_values_are_standardized_without_overflow(recwarn):
    """(the variance of 1e300-scale values overflowed: NumPy warnings, then -inf in X)"""
    a = np.array([1e300, -2e300, 3e300, 0.5])
    table = {"a": a, "b": np.array([1.0, 2.0, 3.0, 4.0])}
    X = TabularPreprocessor().fit_transform(table)
    unit = a / 1e300
    np.testing.assert_allclose(X[:, 0], (unit - unit.mean()) / unit.std(), rtol=1e-6)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_value_that_cannot_be_scaled_into_float32_names_row_and_column():
    pre = TabularPreprocessor().fit({"a": np.array([1.0, 2.0, 3.0])})
    with pytest.raises(ValueError, match=r"new.csv: row 2, column 'a': value 1e\+300 is too far "
                                         r"from the training data"):
        pre.transform({"a": np.array([1.0, 1e300])}, "new.csv")
