"""``ffnn.sklearn``: scikit-learn estimators (``FFNNClassifier``, ``FFNNRegressor``) whose
network is an ``ffnn.nn.Sequential`` trained by ``ffnn.optim``.

scikit-learn (1.6 or newer) is an optional dependency, needed only here.
"""

try:
    import sklearn  # noqa: F401
    from sklearn.utils.validation import validate_data  # noqa: F401 - added in 1.6
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "ffnn.sklearn needs scikit-learn 1.6 or newer: pip install 'scikit-learn>=1.6' "
        f"(or pip install 'ffnn[all]'). Import failed with: {error}"
    ) from error

from ffnn.bench.sklearn import bench_sklearn  # noqa: E402
from ffnn.sklearn.classifier import FFNNClassifier  # noqa: E402
from ffnn.sklearn.regressor import FFNNRegressor  # noqa: E402

__all__ = ["FFNNClassifier", "FFNNRegressor", "bench_sklearn"]
