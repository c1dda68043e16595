"""Constraints: the region where a parameter or a sample is valid, as torch's
``torch.distributions.constraints`` (``positive``, ``unit_interval``, ``simplex`` …).

``check(value)`` returns a bool tensor of ``value``'s shape less ``event_dim`` dimensions;
the checks read the values (NumPy), never record a graph.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ffnn.tensor import Tensor

__all__ = [
    "Constraint", "MixtureSameFamilyConstraint", "boolean", "cat", "corr_cholesky", "dependent",
    "dependent_property", "greater_than", "greater_than_eq", "independent", "integer_interval",
    "interval", "half_open_interval", "is_dependent", "less_than", "lower_cholesky",
    "lower_triangular", "multinomial", "nonnegative", "nonnegative_integer", "one_hot", "positive",
    "positive_definite", "positive_semidefinite", "positive_integer", "real", "real_vector",
    "simplex", "square", "stack", "symmetric", "unit_interval",
]


def _array(value) -> np.ndarray:
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


def _result(valid) -> Tensor:
    return Tensor._make(np.asarray(valid, dtype=bool), False, None)


class Constraint:
    """A region over which a variable is valid; ``event_dim`` rightmost dims form one event."""

    is_discrete = False
    event_dim = 0

    def check(self, value) -> Tensor:
        """A bool tensor: which events of ``value`` satisfy the constraint."""
        return _result(self._check(_array(value)))

    def _check(self, value: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__[1:] + "()"


class _Dependent(Constraint):
    """A placeholder for a variable whose support depends on other variables."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete, self._event_dim = is_discrete, event_dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        return _Dependent(
            is_discrete=self._is_discrete if is_discrete is NotImplemented else is_discrete,
            event_dim=self._event_dim if event_dim is NotImplemented else event_dim)

    def check(self, value) -> Tensor:
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint) -> bool:
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """``@dependent_property``: a property on an instance, a dependent constraint on the
    class (so argument validation skips it)."""

    def __init__(self, fn: Callable | None = None, *, is_discrete=NotImplemented,
                 event_dim=NotImplemented) -> None:
        property.__init__(self, fn)
        self._is_discrete, self._event_dim = is_discrete, event_dim

    def __call__(self, fn: Callable) -> _DependentProperty:  # type: ignore[override]
        return _DependentProperty(fn, is_discrete=self._is_discrete,
                                  event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """``base_constraint`` with ``reinterpreted_batch_ndims`` more dims in each event: an
    event is valid when all of its entries are."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int):
        if reinterpreted_batch_ndims < 0:
            raise ValueError("reinterpreted_batch_ndims must be >= 0. Received: "
                             f"{reinterpreted_batch_ndims}")
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value) -> Tensor:
        result = self.base_constraint.check(value).numpy()
        n = self.reinterpreted_batch_ndims
        if result.ndim < n:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got "
                             f"{_array(value).ndim}")
        return _result(result.reshape(result.shape[:result.ndim - n] + (-1,)).all(-1))

    def __repr__(self) -> str:
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class MixtureSameFamilyConstraint(Constraint):
    """A mixture's support: the component's ``base_constraint`` checked with the component
    dimension put back (-1 - event_dim), all of it valid per event."""

    def __init__(self, base_constraint: Constraint):
        self.base_constraint = base_constraint

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim

    def check(self, value) -> Tensor:
        array = _array(value)
        if array.ndim < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {array.ndim}")
        result = self.base_constraint.check(np.expand_dims(array, -1 - self.event_dim)).numpy()
        keep = array.ndim - self.event_dim
        return _result(result.reshape(result.shape[:keep] + (-1,)).all(-1))

    def __repr__(self) -> str:
        return f"MixtureSameFamilyConstraint({self.base_constraint!r})"


class _Boolean(Constraint):
    is_discrete = True

    def _check(self, value):
        return (value == 0) | (value == 1)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def _check(self, value):
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


class _Real(Constraint):
    """The extended real line [-inf, inf] (NaN is outside)."""

    def _check(self, value):
        return value == value  # noqa: PLR0124 - false for NaN


class _Bounds(Constraint):
    """A region given by a lower and/or an upper bound (numbers or tensors)."""

    def __init__(self, lower_bound=None, upper_bound=None):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _bounds(self) -> tuple:
        return _array(self.lower_bound), _array(self.upper_bound)

    def __repr__(self) -> str:
        parts = [f"{n}={getattr(self, n)}" for n in ("lower_bound", "upper_bound")
                 if getattr(self, n) is not None]
        return f"{type(self).__name__[1:]}({', '.join(parts)})"


class _GreaterThan(_Bounds):
    def _check(self, value):
        return self._bounds()[0] < value


class _GreaterThanEq(_Bounds):
    def _check(self, value):
        return self._bounds()[0] <= value


class _LessThan(_Bounds):
    def __init__(self, upper_bound):
        super().__init__(None, upper_bound)

    def _check(self, value):
        return value < self._bounds()[1]


class _Interval(_Bounds):
    def _check(self, value):
        low, high = self._bounds()
        return (low <= value) & (value <= high)


class _HalfOpenInterval(_Bounds):
    def _check(self, value):
        low, high = self._bounds()
        return (low <= value) & (value < high)


class _IntegerInterval(_Bounds):
    is_discrete = True

    def _check(self, value):
        low, high = self._bounds()
        return (value % 1 == 0) & (low <= value) & (value <= high)


class _IntegerGreaterThan(_Bounds):
    is_discrete = True

    def _check(self, value):
        return (value % 1 == 0) & (value >= self._bounds()[0])


class _Multinomial(Constraint):
    """Non-negative counts summing to at most ``upper_bound`` (torch's weaker check)."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def _check(self, value):
        return (value >= 0).all(-1) & (value.sum(-1) <= _array(self.upper_bound))


class _Simplex(Constraint):
    """x ≥ 0 and Σx = 1 (within 1e-6) over the last dimension."""

    event_dim = 1

    def _check(self, value):
        return (value >= 0).all(-1) & (np.abs(value.sum(-1) - 1) < 1e-6)


class _LowerTriangular(Constraint):
    event_dim = 2

    def _check(self, value):
        return (np.tril(value) == value).all((-2, -1))


class _LowerCholesky(Constraint):
    """Lower-triangular with a positive diagonal."""

    event_dim = 2

    def _check(self, value):
        diagonal = np.diagonal(value, axis1=-2, axis2=-1)
        return (np.tril(value) == value).all((-2, -1)) & (diagonal > 0).all(-1)


class _CorrCholesky(Constraint):
    """Lower-Cholesky matrices whose rows have unit length (|norm - 1| ≤ 10·n·ε)."""

    event_dim = 2

    def check(self, value) -> Tensor:
        array = _array(value)
        tol = float(np.finfo(array.dtype).eps) * array.shape[-1] * 10
        unit_rows = (np.abs(np.linalg.norm(array, axis=-1) - 1.0) <= tol).all(-1)
        return _result(lower_cholesky.check(array).numpy() & unit_rows)


class _Square(Constraint):
    event_dim = 2

    def _check(self, value):
        return np.full(value.shape[:-2], value.shape[-2] == value.shape[-1])


class _Symmetric(_Square):
    def _check(self, value):
        square = super()._check(value)
        if not square.all():
            return square
        return np.isclose(value, np.swapaxes(value, -2, -1), atol=1e-6).all((-2, -1))


class _PositiveSemidefinite(_Symmetric):
    """Symmetric, with no negative eigenvalue."""

    def _check(self, value):
        symmetric = super()._check(value)
        if not symmetric.all():
            return symmetric
        return (np.linalg.eigvalsh(value) >= 0).all(-1)


class _PositiveDefinite(_Symmetric):
    """Symmetric, with a Cholesky factorisation."""

    def _check(self, value):
        symmetric = super()._check(value)
        if not symmetric.all():
            return symmetric
        matrices = value.reshape((-1,) + value.shape[-2:])
        return np.array([_has_cholesky(m) for m in matrices]).reshape(value.shape[:-2])


def _has_cholesky(matrix: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
multinomial = _Multinomial
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_definite = _PositiveDefinite()
positive_semidefinite = _PositiveSemidefinite()

# torch's cat and stack constraints, under this module's names (they use the helpers above)
from ffnn.distributions.constraints_joined import cat, stack  # noqa: E402, F401
