"""Feature scalers with scikit-learn's numbers: ``StandardScaler`` and ``MinMaxScaler``.

Statistics are computed in float64; ``transform`` returns the input's float dtype (integer
input gives float64). 1-D input is accepted as a single feature (handy for regression targets)
and comes back 1-D. State is plain numpy arrays (``state_dict`` / ``load_state_dict``) so it
goes into a safetensors checkpoint; ``get_config`` / ``from_config`` hold the options.
"""

from __future__ import annotations

import numpy as np

from ffnn.data._checks import as_float_matrix

_EPS = np.finfo(np.float64).eps


class _Scaler:
    """Shared plumbing: input checks, fit state, state_dict, 1-D handling."""

    _state_keys: tuple[str, ...] = ()

    def _check(self, X, name: str = "X", fitting: bool = False) -> tuple[np.ndarray, bool]:
        owner = type(self).__name__
        if not fitting and not self.is_fitted:
            raise RuntimeError(f"{owner} is not fitted yet; call fit(X) before transforming.")
        array = as_float_matrix(X, name, owner, allow_1d=True)
        one_d = array.ndim == 1
        if one_d:
            array = array[:, None]
        if not fitting and array.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{owner}: {name} has {array.shape[1]} features, but {owner} was fitted with "
                f"{self.n_features_in_} features. Received: {name} with shape {np.shape(X)}"
            )
        if fitting and array.shape[0] == 0:
            raise ValueError(f"{owner}: cannot fit on 0 samples. Received: {name} with shape "
                             f"{np.shape(X)}")
        return array, one_d

    @property
    def is_fitted(self) -> bool:
        return getattr(self, "n_features_in_", None) is not None

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The fitted statistics as numpy arrays (copies)."""
        if not self.is_fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; nothing to save.")
        return {k: np.array(getattr(self, k + "_")) for k in self._state_keys}

    def load_state_dict(self, state: dict) -> None:
        """Restore statistics saved by ``state_dict`` (array-likes of matching shapes)."""
        owner = type(self).__name__
        missing = [k for k in self._state_keys if k not in state]
        unexpected = [k for k in state if k not in self._state_keys]
        if missing or unexpected:
            raise KeyError(f"{owner}.load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected}. Received: keys {sorted(state)}")
        values = {k: np.asarray(state[k], dtype=np.float64) for k in self._state_keys}
        shapes = {v.shape for k, v in values.items() if k != "n_samples_seen"}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            got = {k: v.shape for k, v in values.items()}
            raise ValueError(f"{owner}.load_state_dict: statistics must be 1-D arrays of one "
                             f"length. Received: shapes {got}")
        for k, v in values.items():
            setattr(self, k + "_", v)
        self.n_features_in_ = next(iter(shapes))[0]

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class StandardScaler(_Scaler):
    """z = (x - mean) / scale, scale = sqrt(var) (population variance); constant features get
    scale 1 (scikit-learn's rule). Input [n, d] or [n] (one feature)."""

    _state_keys = ("mean", "var", "scale", "n_samples_seen")

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = bool(with_mean)
        self.with_std = bool(with_std)
        self.n_features_in_ = None

    def get_config(self) -> dict:
        return {"with_mean": self.with_mean, "with_std": self.with_std}

    def fit(self, X) -> StandardScaler:
        """Compute per-feature mean_, var_, scale_ from X [n, d]."""
        X, _ = self._check(X, fitting=True)
        n = X.shape[0]
        mean = X.mean(axis=0, dtype=np.float64)
        var = np.square(X - mean, dtype=np.float64).mean(axis=0)
        # scikit-learn's _is_constant_feature: variance within round-off of zero -> scale 1
        constant = var <= n * _EPS * var + (n * mean * _EPS) ** 2
        scale = np.sqrt(var)
        scale[constant] = 1.0
        self.mean_, self.var_, self.scale_ = mean, var, scale
        self.n_samples_seen_ = np.array(n, dtype=np.float64)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        """z = (x - mean_) / scale_ (each part only if with_mean / with_std)."""
        array, one_d = self._check(X)
        out = array.astype(array.dtype, copy=True)
        if self.with_mean:
            out -= self.mean_
        if self.with_std:
            out /= self.scale_
        return out[:, 0] if one_d else out

    def inverse_transform(self, X) -> np.ndarray:
        """x = z · scale_ + mean_."""
        array, one_d = self._check(X)
        out = array.astype(array.dtype, copy=True)
        if self.with_std:
            out *= self.scale_
        if self.with_mean:
            out += self.mean_
        return out[:, 0] if one_d else out


class MinMaxScaler(_Scaler):
    """x' = x · scale_ + min_, scale_ = (hi - lo) / (max - min), min_ = lo - min · scale_;
    features with max == min get range 1 (scikit-learn's rule). Input [n, d] or [n]."""

    _state_keys = ("data_min", "data_max", "data_range", "scale", "min", "n_samples_seen")

    def __init__(self, feature_range: tuple[float, float] = (0, 1), clip: bool = False):
        try:
            lo, hi = (float(v) for v in feature_range)
        except (TypeError, ValueError):
            raise ValueError("MinMaxScaler: feature_range must be a pair (min, max) of numbers. "
                             f"Received: feature_range={feature_range!r}") from None
        if not lo < hi:
            raise ValueError("MinMaxScaler: feature_range min must be smaller than max. "
                             f"Received: feature_range={tuple(feature_range)!r}")
        self.feature_range = (lo, hi)
        self.clip = bool(clip)
        self.n_features_in_ = None

    def get_config(self) -> dict:
        return {"feature_range": self.feature_range, "clip": self.clip}

    def fit(self, X) -> MinMaxScaler:
        """Compute per-feature data_min_, data_max_, scale_, min_ from X [n, d]."""
        X, _ = self._check(X, fitting=True)
        lo, hi = self.feature_range
        data_min = X.min(axis=0).astype(np.float64)
        data_max = X.max(axis=0).astype(np.float64)
        data_range = data_max - data_min
        safe_range = np.where(data_range < 10 * _EPS, 1.0, data_range)
        self.data_min_, self.data_max_, self.data_range_ = data_min, data_max, data_range
        self.scale_ = (hi - lo) / safe_range
        self.min_ = lo - data_min * self.scale_
        self.n_samples_seen_ = np.array(X.shape[0], dtype=np.float64)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        """x' = x · scale_ + min_ (clipped to feature_range if clip)."""
        array, one_d = self._check(X)
        out = array.astype(array.dtype, copy=True)
        out *= self.scale_
        out += self.min_
        if self.clip:
            np.clip(out, *self.feature_range, out=out)
        return out[:, 0] if one_d else out

    def inverse_transform(self, X) -> np.ndarray:
        """x = (x' - min_) / scale_."""
        array, one_d = self._check(X)
        out = array.astype(array.dtype, copy=True)
        out -= self.min_
        out /= self.scale_
        return out[:, 0] if one_d else out
