"""StandardScaler and MinMaxScaler against scikit-learn (the oracle)."""

import json

import numpy as np
import pytest
from sklearn import preprocessing

from ffnn.data import MinMaxScaler, StandardScaler


def _data(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(3.0, 2.0, size=(50, 4)) * np.array([1.0, 10.0, 0.01, 1.0])
    X[:, 3] = 7.0  # a constant feature
    return X.astype(dtype)


@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_standard_scaler_matches_sklearn(with_mean, with_std):
    X = _data()
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    ref = preprocessing.StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.mean_, np.mean(X, axis=0), rtol=1e-12)
    if with_std:
        np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-12)
        assert ours.scale_[3] == 1.0  # zero variance -> scale 1


def test_standard_scaler_float32_keeps_dtype_and_matches():
    X = _data(np.float32)
    out = StandardScaler().fit_transform(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, preprocessing.StandardScaler().fit_transform(X), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("feature_range", [(0, 1), (-1, 1), (2, 5)])
def test_minmax_scaler_matches_sklearn(feature_range):
    X = _data()
    ours = MinMaxScaler(feature_range).fit(X)
    ref = preprocessing.MinMaxScaler(feature_range=feature_range).fit(X)
    X_new = _data(seed=1)
    np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=1e-12,
                               atol=1e-12)
    for name in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-12)


def test_minmax_clip():
    ours = MinMaxScaler(clip=True).fit(np.array([[0.0], [1.0]]))
    assert np.array_equal(ours.transform(np.array([[-1.0], [0.5], [3.0]])), [[0], [0.5], [1]])


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_inverse_transform_round_trip_2d_and_1d(cls):
    X = _data()
    scaler = cls().fit(X)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, rtol=1e-12,
                               atol=1e-12)
    y = X[:, 1]  # a regression target
    target = cls().fit(y)
    z = target.transform(y)
    assert z.shape == y.shape
    np.testing.assert_allclose(z, cls().fit(y[:, None]).transform(y[:, None])[:, 0])
    np.testing.assert_allclose(target.inverse_transform(z), y, rtol=1e-12)


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_state_dict_round_trip(cls):
    X = _data()
    scaler = cls().fit(X)
    state = scaler.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    config = json.loads(json.dumps(scaler.get_config()))
    restored = cls.from_config(config)
    restored.load_state_dict(state)
    assert np.array_equal(restored.transform(X), scaler.transform(X))
    with pytest.raises(KeyError, match=r"missing keys \['scale'\]"):
        cls().load_state_dict({k: v for k, v in state.items() if k != "scale"})


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_errors(cls):
    name = cls.__name__
    with pytest.raises(RuntimeError, match=rf"{name} is not fitted yet"):
        cls().transform(np.zeros((2, 3)))
    scaler = cls().fit(np.random.default_rng(0).normal(size=(5, 3)))
    with pytest.raises(ValueError, match=rf"X has 2 features, but {name} was fitted with 3 "
                                         r"features"):
        scaler.transform(np.zeros((4, 2)))
    bad = np.zeros((4, 3))
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"X must contain only finite values .* at row 1, "
                                         r"column 2"):
        cls().fit(bad)
    with pytest.raises(ValueError, match=r"X must be a 1-D or 2-D array. Received: X with shape "
                                         r"\(2, 2, 2\)"):
        scaler.transform(np.zeros((2, 2, 2)))


def test_minmax_bad_feature_range():
    with pytest.raises(ValueError, match=r"min must be smaller than max. Received: "
                                         r"feature_range=\(1, 0\)"):
        MinMaxScaler((1, 0))
