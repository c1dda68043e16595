"""``Tensor``: an n-d array that remembers the op that made it, so gradients can flow back.

The math lives in ``ffnn.ops``; this file holds the user-facing object, its operators and
methods (thin calls into the ops), and torch's dtype rules for converting data: Python floats
become float32 (the default floating dtype), Python ints become int64, NumPy arrays keep
their dtype. The factory functions (``ffnn.tensor``, ``zeros``, ``randn`` …) are in
``ffnn.creation``.
"""

from __future__ import annotations

import warnings

import numpy as np

from ffnn import autograd, dtypes, return_types, tensor_str
from ffnn.errors import RuntimeValueError
from ffnn.indexing import torch_index
from ffnn.memory_format import memory_format
from ffnn.size import Size, shape_of
from ffnn.tensor_aliases import AliasTensorMethods
from ffnn.tensor_arrays import ArrayTensorMethods
from ffnn.tensor_compositions import CompositionTensorMethods
from ffnn.tensor_extras import ExtraTensorMethods
from ffnn.tensor_inplace import InPlaceMethods, _torch_name
from ffnn.tensor_inplace_more import MoreInPlaceMethods
from ffnn.tensor_linalg import LinalgTensorMethods
from ffnn.tensor_math import MathTensorMethods
from ffnn.tensor_more import MoreTensorMethods
from ffnn.tensor_sampling import SamplingTensorMethods
from ffnn.tensor_scatter import ScatterTensorMethods
from ffnn.tensor_statistics import StatisticsTensorMethods
from ffnn.tensor_writes import WriteTensorMethods

MaxResult, MinResult = return_types.max, return_types.min
SortResult, TopKResult = return_types.sort, return_types.topk


class Tensor(InPlaceMethods, MoreInPlaceMethods, MoreTensorMethods, MathTensorMethods,
             SamplingTensorMethods, ArrayTensorMethods, ScatterTensorMethods,
             StatisticsTensorMethods, LinalgTensorMethods, WriteTensorMethods,
             AliasTensorMethods, CompositionTensorMethods, ExtraTensorMethods):
    """An n-d array with an optional gradient, with torch's semantics.

    ``.data`` is a tensor sharing this one's memory, cut from the graph; ``.grad`` a tensor of
    the same shape (or None); ``.numpy()`` the ndarray itself. Shapes follow NumPy
    broadcasting. ``requires_grad=True`` makes ops record the graph; ``backward()`` then fills
    ``.grad`` of every leaf that requires it. In-place methods (``add_``, ``+=``,
    ``x[i] = v`` …) change the memory and bump a version counter that backward checks.
    """

    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__
    retains_grad = False  # an intermediate keeps its .grad after backward (retain_grad())
    _view_of = None  # (base tensor, index or None) when this tensor's memory is base's
    _view_made = None  # (op class, options) that made this view of its base
    _view_seen = 0  # the shared version count this view's graph was made at
    _made_in_inference = False  # made inside inference_mode() (is_inference())

    def __init__(self, *args, requires_grad: bool = False, dtype=None):
        """torch's legacy constructor: ``Tensor(data)`` the data in the default float dtype
        (an ndarray of ints, bools or float64 too: ``torch.Tensor(X_train)`` is float32; a
        tensor keeps its dtype), ``Tensor(2, 3)`` or ``Tensor(5)`` a default-float tensor of
        that shape (zeros; torch leaves it uninitialised), ``Tensor()`` an empty one.
        (``Tensor._of(array)`` wraps an array keeping its dtype, for ffnn's own code.)"""
        legacy = len(args) != 1 or (type(args[0]) is int)  # Tensor(5): a shape, as torch
        data = _legacy_data(args) if legacy else args[0]
        if dtype is None and not isinstance(data, Tensor):
            dtype = dtypes.get_default_dtype()
        self._setup(data, dtype, requires_grad)

    @classmethod
    def _of(cls, data, dtype=None, requires_grad: bool = False) -> Tensor:
        """``data`` as a tensor, for ffnn's own code: an ndarray keeps its dtype, a Python
        list of numbers takes the default float dtype (the legacy constructor's rule)."""
        out = object.__new__(cls)
        if dtype is None and isinstance(data, (list, tuple)):
            dtype = _legacy_dtype(data)
        out._setup(data, dtype, requires_grad)
        return out

    def _setup(self, data, dtype, requires_grad: bool) -> None:
        self._data = _to_array(data, dtype)
        self._grad = None
        self._ctx = None
        self._version_box = [0, 0]  # [times changed in place, clock tick of the last change]
        self.requires_grad = False
        if autograd._inference:
            self._made_in_inference = True
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad: bool, ctx) -> Tensor:
        """Wrap an op's output array without conversion (the fast internal path)."""
        out = object.__new__(Tensor)
        if type(data) is not np.ndarray and isinstance(data, (np.generic, bool, int, float)):
            data = np.asarray(data)  # NumPy gives scalars for 0-d results; keep arrays
        out._data = data
        out._grad = None
        out.requires_grad = requires_grad
        out._ctx = ctx
        out._version_box = [0, 0]
        return out

    @classmethod
    def _make_in_inference(cls, data, requires_grad: bool, ctx) -> Tensor:
        """``_make`` while an ``inference_mode()`` is on (``autograd`` swaps it in, so the fast
        path pays nothing outside): the tensor is an inference tensor, as torch's."""
        out = Tensor._plain_make(data, requires_grad, ctx)
        out._made_in_inference = True
        return out

    # ----- data and grad, as torch's ---------------------------------------------------
    @property
    def data(self) -> Tensor:
        """This tensor's values as a tensor sharing its memory, outside the graph (changes
        through it are not tracked by the version counter, as in torch)."""
        return Tensor._make(self._data, False, None)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else _to_array(value)

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a tensor sharing the gradient's memory) or None; None with
        torch's warning for an intermediate result that does not ``retain_grad()``."""
        if self._grad is None:
            if self._ctx is not None and not self.retains_grad:
                _warn_non_leaf_grad()
            return None
        graph = self.__dict__.get("_grad_graph")  # from backward(create_graph=True)
        if graph is not None and graph._data is self._grad:
            return graph
        return Tensor._make(self._grad, False, None)

    @grad.setter
    def grad(self, value) -> None:
        if value is None:
            self._grad = None
            return
        array = value._data if isinstance(value, Tensor) else np.asarray(value)
        if array.shape != self._data.shape:
            raise RuntimeError(
                f"assigned grad has data of a different size: {list(array.shape)} for a tensor "
                f"of shape {list(self._data.shape)}"
            )
        if array.dtype != self._data.dtype:
            raise RuntimeError(
                f"assigned grad has data of a different type: {array.dtype} for a tensor of "
                f"dtype {self._data.dtype}"
            )
        self._grad = array

    @property
    def _version(self) -> int:
        return self._version_box[0]

    # ----- identity -------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return shape_of(self._data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def device(self):
        from ffnn.device import CPU, device

        return CPU if type(self._data).__module__.startswith("numpy") else device("cuda")

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    def size(self, dim: int | None = None):
        return shape_of(self._data.shape) if dim is None else self._data.shape[dim]

    def numel(self) -> int:
        return int(self._data.size)

    def dim(self) -> int:
        return self._data.ndim

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __repr__(self) -> str:
        """torch's text for a tensor (see ffnn.tensor_str)."""
        values, default = np.asarray(self._data), dtypes.get_default_dtype()
        hidden = (default,) if values.size == 0 else (default, dtypes.int64, dtypes.bool_)
        shown = None if values.dtype in hidden else f"torch.{values.dtype.name}"
        grad = None
        if self.requires_grad:
            grad = "requires_grad=True" if self._ctx is None else f"grad_fn=<{self._ctx.name()}>"
        return tensor_str.tensor_repr(values, shown, grad)

    __hash__ = object.__hash__  # identity, in C (optimizer state is keyed by tensor)

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """A NumPy ufunc of a tensor gives a tensor, as torch's (``np.exp(t)``), outside any
        graph; a bool result is uint8, as torch's."""
        array = np.asarray(array)
        return Tensor._make(array.astype(np.uint8) if array.dtype == bool else array, False,
                            None)

    # ----- conversion -----------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeValueError(
                f"item() needs a tensor with one element. Received: shape={self._data.shape}"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        """The ndarray itself (shared memory)."""
        return self._data

    def __float__(self) -> float:
        """``float(t)`` (also ``complex(t)``, ``math.floor(t)``): torch warns, once per
        process, for a tensor that requires grad while grad mode is on."""
        if self.requires_grad and not _scalar_warning_shown[0] and autograd.is_grad_enabled():
            _warn_scalar_of_grad_tensor()
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (shape "
                f"{list(self._data.shape)}); use .any() or .all()"
            )
        return bool(self.item())

    def __index__(self) -> int:
        return int(self.item())

    def detach(self) -> Tensor:
        """The same memory, cut from the graph (no gradient flows back through it)."""
        out = Tensor._make(self._data, False, None)
        out._version_box = self._version_box
        return out

    def detach_(self) -> Tensor:
        self._ctx, self.requires_grad = None, False
        return self

    def clone(self, memory_format=None) -> Tensor:
        """A copy in memory of its own (differentiable); any ``memory_format`` is the one
        layout ffnn has (ffnn.memory_format)."""
        from ffnn.ops.elementwise import Clone

        return Clone.apply(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                "only tensors of floating dtype can require gradients. "
                f"Received: dtype={self._data.dtype}"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad can only be turned off on leaf tensors; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, *args, **kwargs) -> Tensor:
        """A copy cast to a dtype, as ``tensor.to(torch.float64)`` (differentiable to a
        floating dtype; an integer or bool result carries no gradient, as torch's); a device
        (``'cpu'``, ``ffnn.device('cpu')``) is accepted, a GPU raises (see ``ffnn.device``);
        ``t.to(other)`` takes ``other``'s dtype; ``copy=True`` (or the third positional
        argument, after ``non_blocking``) copies even where nothing changes."""
        from ffnn.device import check_device, is_device

        dtype = kwargs.get("dtype")
        check_device(kwargs.get("device"))
        flags = []  # non_blocking, copy: torch's positional order after the dtype
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, bool):
                flags.append(arg)
            elif is_device(arg):
                check_device(arg)
            elif isinstance(arg, memory_format):
                continue  # one layout (ffnn.memory_format)
            else:
                dtype = arg
        copy = kwargs.get("copy", flags[1] if len(flags) > 1 else False)
        result = self._cast(dtype)
        return result.clone() if copy and result is self else result

    def _cast(self, dtype) -> Tensor:
        """This tensor as ``dtype`` (itself where it has it; None: itself)."""
        if dtype is None:
            return self
        from ffnn.ops.elementwise import Cast

        dtype = dtypes.to_dtype(dtype)
        if dtype == self._data.dtype:
            return self
        if dtype.kind not in "fc" and self.requires_grad:  # no gradient (torch's rule)
            with autograd.no_grad():  # the op is still applied (recorded by a tracer)
                return Cast.apply(self, dtype=dtype)
        return Cast.apply(self, dtype=dtype)

    def type(self, dtype=None, non_blocking: bool = False):
        """Without an argument, torch's type name (``'torch.FloatTensor'``); otherwise a cast
        to ``dtype`` (a dtype, ``ffnn.LongTensor`` or ``'torch.LongTensor'``)."""
        from ffnn.tensor_types import type_name

        return type_name(self.dtype) if dtype is None else self.to(dtype)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def cpu(self, memory_format=None) -> Tensor:
        return self

    def contiguous(self, memory_format=None) -> Tensor:
        """This tensor when its memory is in row-major order, else a row-major copy (so
        writing into it leaves this one as it was, as torch's)."""
        return self if self._data.flags.c_contiguous else self.clone()

    # ----- gradient -------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Backpropagate: add d(self)/d(leaf) · gradient to ``.grad`` of every leaf (of the
        tensors in ``inputs`` only, where given: leaves or not, as torch's).

        ``gradient`` defaults to 1 for a one-element tensor and is required otherwise.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: no "
                "input of the computation had requires_grad=True (or it ran under no_grad())."
            )
        chosen = None if inputs is None else _chosen_inputs(inputs)
        if create_graph:
            from ffnn import graph_backward  # noqa: PLC0415 - only for higher-order gradients

            found = graph_backward.propagate(self, self._gradient_tensor(gradient))
            graph_backward.store_leaf_grads(_only(found, chosen))
            return
        root_gradient = self._initial_gradient(gradient)
        if chosen is None:
            autograd.run_backward(self, root_gradient, retain_graph=bool(retain_graph))
            return
        found = autograd._propagate(self, root_gradient, bool(retain_graph))
        autograd._store_leaf_grads(_only(found, chosen), root_gradient)

    def _gradient_tensor(self, gradient) -> Tensor:
        """The gradient a backward with ``create_graph`` starts with: ``gradient`` itself
        where it is a tensor of this shape (its graph kept), else ``_initial_gradient``'s."""
        if isinstance(gradient, Tensor) and gradient.shape == self.shape and \
                gradient.dtype == self.dtype:
            return gradient
        return Tensor._make(self._initial_gradient(gradient), False, None)

    def _initial_gradient(self, gradient) -> np.ndarray:
        """The gradient a backward from this tensor starts with, checked against its shape."""
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs: backward() on a "
                    "non-scalar tensor needs an explicit gradient of the same shape. "
                    f"Received: tensor of shape {self._data.shape} and gradient=None"
                )
            return np.array(1, dtype=self._data.dtype).reshape(self._data.shape)
        gradient = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient)
        if gradient.shape != self._data.shape:
            raise RuntimeError(
                f"backward(): gradient has shape {gradient.shape} but the tensor has shape "
                f"{self._data.shape}"
            )
        return gradient.astype(self._data.dtype, copy=False)

    def register_hook(self, hook):
        """Call ``hook(grad)`` each time this tensor's gradient is computed; a tensor it
        returns replaces the gradient (for a leaf, before it is added to ``.grad``). Returns a
        handle whose ``remove()`` takes the hook off."""
        return _registered(self, self if self._ctx is None else self._ctx, "_grad_hooks", hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` each time a backward has added to this leaf's ``.grad`` (after
        its ``register_hook`` hooks; the hook must return None). Returns a handle whose
        ``remove()`` takes the hook off; RuntimeError on a non-leaf or a tensor that does not
        require grad."""
        if self.requires_grad and self._ctx is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors")
        return _registered(self, self, "_post_accumulate_grad_hooks", hook)

    def retain_grad(self) -> None:
        """Keep this intermediate's gradient in ``.grad`` after backward (leaves always do)."""
        if self._ctx is not None:
            self.retains_grad = True
            self._ctx.retained_by = self

    # ----- arithmetic -----------------------------------------------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(_operand(other, self), self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(_operand(other, self), self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(_operand(other, self), self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(_operand(other, self), self)

    def __pow__(self, exponent):
        return ops.pow(self, exponent)

    def __rpow__(self, base):
        return ops.pow(_operand(base, self), self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(_operand(other, self), self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def add(self, other, *, alpha=1):
        """self + alpha · other."""
        return ops.add(self, other if alpha == 1 else _operand(other, self) * alpha)

    def sub(self, other, *, alpha=1):
        """self − alpha · other."""
        ops.check_subtraction(self, other)
        return ops.sub(self, other if alpha == 1 else _operand(other, self) * alpha)

    def mul(self, other):
        return ops.mul(self, other)

    def div(self, other, *, rounding_mode: str | None = None):
        """self / other; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient (``divide``)."""
        if rounding_mode is None:
            return ops.div(self, other)
        return self.divide(other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def matmul(self, other):
        return ops.matmul(self, other)

    def mm(self, mat2):
        from ffnn.functions import mm

        return mm(self, mat2)

    # ----- comparisons (no gradient) --------------------------------------------------
    def __lt__(self, other):
        a, b = _compared(self, other)
        return Tensor._make(a < b, False, None)

    def __le__(self, other):
        a, b = _compared(self, other)
        return Tensor._make(a <= b, False, None)

    def __gt__(self, other):
        a, b = _compared(self, other)
        return Tensor._make(a > b, False, None)

    def __ge__(self, other):
        a, b = _compared(self, other)
        return Tensor._make(a >= b, False, None)

    def __eq__(self, other):
        a, b = _compared(self, other)
        return Tensor._make(a == b, False, None)

    def __ne__(self, other):
        a, b = _compared(self, other)
        return Tensor._make(a != b, False, None)

    def eq(self, other):
        return self == other

    def all(self, dim=None, keepdim: bool = False, axis=None, **numpy_kwargs):
        axes = _logic_axes(_dim(dim, axis), self.ndim)
        return Tensor._make(np.all(self._data, axis=axes, keepdims=keepdim), False, None)

    def any(self, dim=None, keepdim: bool = False, axis=None, **numpy_kwargs):
        axes = _logic_axes(_dim(dim, axis), self.ndim)
        return Tensor._make(np.any(self._data, axis=axes, keepdims=keepdim), False, None)

    def __invert__(self):
        return Tensor._make(~self._data, False, None)

    def __and__(self, other):
        return self.bitwise_and(other)  # in torch's result dtype (int32 & np.int64: int32)

    def __or__(self, other):
        return self.bitwise_or(other)

    # ----- element-wise functions -----------------------------------------------------
    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def square(self):
        """x·x (of bools: int64, as torch's)."""
        x = self.long() if self._data.dtype == np.bool_ else self
        return ops.mul(x, x)

    def clamp(self, min=None, max=None):  # noqa: A002 - torch's argument names
        return ops.clamp(self, min, max)

    clip = clamp

    def relu(self):
        return ops.relu(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def tanh(self):
        return ops.tanh(self)

    def softmax(self, dim: int = -1, dtype=None):
        return ops.softmax(self, dim, dtype)

    def log_softmax(self, dim: int = -1, dtype=None):
        return ops.log_softmax(self, dim, dtype)

    # ----- reductions -----------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False, axis=None, *, dtype=None):
        """Σ over ``dim`` (all elements by default), computed in ``dtype`` when given (an
        integer ``dtype`` wraps as torch's: int8 100 + 100 is -56)."""
        x = self if dtype is None else self.to(dtype)
        return in_dtype(ops.sum(x, _dim(dim, axis), keepdim), dtype)

    def mean(self, dim=None, keepdim: bool = False, axis=None, *, dtype=None):
        """The mean over ``dim`` (all elements by default), computed in ``dtype`` when given;
        of integers or bools without a ``dtype``, torch's RuntimeError (no truncated mean)."""
        if dtype is None and self._data.dtype.kind not in "fc":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be "
                               "either a floating point or complex dtype. Got: "
                               f"{_torch_name(self._data.dtype)}")
        return ops.mean(self if dtype is None else self.to(dtype), _dim(dim, axis), keepdim)

    def var(self, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None,
            axis=None):
        """Σ (x − mean)² / (n − correction) over ``dim``; torch's argument order
        (``x.var(0, False)`` is unbiased=False; ``x.var(False)`` all elements, biased)."""
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        correction = (1 if unbiased else 0) if correction is None else correction
        return ops.var(self, _dim(dim, axis), keepdim, correction)

    def std(self, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None,
            axis=None):
        """√var over ``dim`` (``var``'s arguments); its gradient is 0 where it is 0."""
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        correction = (1 if unbiased else 0) if correction is None else correction
        return ops.std(self, _dim(dim, axis), keepdim, correction)

    def max(self, dim=None, keepdim: bool = False, axis=None, *, other=None):
        dim = _dim(dim, axis) if other is None else other
        if isinstance(dim, Tensor):
            return ops.maximum(self, dim)
        if dim is None:
            return ops.reductions.Extremum.apply(self, largest=True)  # NaN: its own share
        values, indices = self._extremum(dim, keepdim, largest=True)
        return MaxResult(values, indices)

    def min(self, dim=None, keepdim: bool = False, axis=None, *, other=None):
        dim = _dim(dim, axis) if other is None else other
        if isinstance(dim, Tensor):
            return ops.minimum(self, dim)
        if dim is None:
            return ops.reductions.Extremum.apply(self, largest=False)
        values, indices = self._extremum(dim, keepdim, largest=False)
        return MinResult(values, indices)

    def _extremum(self, dim: int, keepdim: bool, largest: bool) -> tuple:
        """(values, int64 indices) of max(dim) / min(dim): one search for the first extreme
        index, its values read there (so the two agree, NaN included)."""
        axis, index = self._first_extreme(dim, largest)
        values = ops.reductions.Extremum.apply(self, dim=dim, keepdim=keepdim, largest=largest,
                                               index=index)
        return values, Tensor._make(index if keepdim else index.squeeze(axis), False, None)

    def amax(self, dim=None, keepdim: bool = False, axis=None):
        return ops.amax(self, _dim(dim, axis), keepdim)

    def amin(self, dim=None, keepdim: bool = False, axis=None):
        return ops.amin(self, _dim(dim, axis), keepdim)

    def argmax(self, dim=None, keepdim: bool = False, axis=None):
        axis = _dim(dim, axis)
        if axis is None:
            out = np.argmax(self._data, axis=None, keepdims=keepdim)
            return Tensor._make(np.asarray(out, dtype=np.int64), False, None)
        return self._extreme_index(axis, keepdim, largest=True)

    def argmin(self, dim=None, keepdim: bool = False, axis=None):
        axis = _dim(dim, axis)
        if axis is None:
            out = np.argmin(self._data, axis=None, keepdims=keepdim)
            return Tensor._make(np.asarray(out, dtype=np.int64), False, None)
        return self._extreme_index(axis, keepdim, largest=False)

    def _extreme_index(self, dim: int, keepdim: bool, largest: bool):
        axis, index = self._first_extreme(dim, largest)
        return Tensor._make(index if keepdim else index.squeeze(axis), False, None)

    def _first_extreme(self, dim: int, largest: bool) -> tuple[int, np.ndarray]:
        """(the axis, the first index of its largest or smallest entries, keepdims, int64)."""
        axis = ops.reductions.normalize_dim(dim, self._data.ndim)
        found = ops.reductions.arg_extremum(self._data, axis, largest)
        return axis, found.astype(np.int64, copy=False)

    def norm(self, p=2, dim=None, keepdim: bool = False, dtype=None):
        """(Σ |x|ᵖ)^(1/p) over ``dim`` (all elements by default); p='fro' or None is p=2,
        p=inf the largest |x|, p=-inf the smallest, p=0 the count of non-zeros
        (``linalg.vector_norm``)."""
        from ffnn import linalg

        if isinstance(p, str) and p != "fro":
            raise NotImplementedError(f"norm: p={p!r} is not available in ffnn; use p='fro' or "
                                      "a number")
        return linalg.vector_norm(self, 2 if p in ("fro", None) else p, dim, keepdim,
                                  dtype=dtype)

    # ----- shape ----------------------------------------------------------------------
    def reshape(self, *args, shape=None):
        return ops.reshape(self, _shape_args(args, shape))

    def view(self, *args, size=None):
        return ops.reshape(self, _shape_args(args, size))

    def view_as(self, other):
        return ops.reshape(self, other.shape)

    def expand(self, *args, size=None):
        return ops.expand(self, _shape_args(args, size))

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return ops.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim: int):
        return ops.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return ops.squeeze(self, dim)

    def transpose(self, dim0: int, dim1: int):
        return ops.transpose(self, dim0, dim1)

    def permute(self, *args, dims=None):
        dims = tuple(ops.reductions.normalize_dim(d, self.ndim) for d in _shape_args(args, dims))
        if len(set(dims)) != len(dims) or len(dims) != self.ndim:
            raise RuntimeError(f"permute(): dims must list each of the {self.ndim} dimensions "
                               f"once (duplicate dims are not allowed). Received: dims={dims}")
        return ops.permute(self, dims)

    def t(self):
        return ops.transpose(self, 0, 1) if self.ndim == 2 else self

    @property
    def T(self):  # noqa: N802 - torch's name
        return ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):  # noqa: N802 - torch's name
        return ops.transpose(self, -2, -1)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __setitem__(self, index, value):
        index, first = torch_index(index)  # torch's reading (``ffnn.indexing``)
        target = self if first is None else self[first]
        target._setitem(index, value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ===== torch's function surface: more methods, devices, formatting ===================
    # (kept together here; they read the array with ``self.numpy()``)
    def sin(self):
        return ops.sin(self)

    def cos(self):
        return ops.cos(self)

    def round(self, decimals: int = 0):
        """Round half to even, as torch; its gradient is zero, as torch's."""
        return _staircase(self, lambda a: np.round(a, decimals))

    def sign(self):
        """-1, 0 or 1 (0 for NaN, as torch); its gradient is zero."""
        return _staircase(self, _sign)

    def isnan(self):
        return Tensor._make(np.isnan(self.numpy()), False, None)

    def isinf(self):
        return Tensor._make(np.isinf(self.numpy()), False, None)

    def isfinite(self):
        return Tensor._make(np.isfinite(self.numpy()), False, None)

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    def neg(self):
        return ops.neg(self)

    def log1p(self):
        return ops.log1p(self)

    def expm1(self):
        return ops.expm1(self)

    def cumsum(self, dim: int, *, dtype=None):
        """Running sums along ``dim``, in ``dtype`` when given (integers and bools: int64,
        as torch's)."""
        if dtype is None and self._data.dtype.kind in "iub":
            dtype = np.int64
        x = self if dtype is None else self.to(dtype)
        if x.ndim == 0:  # the value itself
            ops.reductions.normalize_dim(dim, 0)  # 0 or -1, else IndexError
            return x.clone()
        if x._data.dtype == np.float16:  # summed in float32, as torch's
            return ops.cumsum(x.to(np.float32), dim, wide=False).to(np.float16)
        return in_dtype(ops.cumsum(x, dim), dtype)

    def logsumexp(self, dim, keepdim: bool = False):
        return ops.logsumexp(self, dim, keepdim)

    def floor(self):
        """Largest integer ≤ x, element-wise; its gradient is zero, as torch's."""
        return _staircase(self, np.floor)

    def ceil(self):
        """Smallest integer ≥ x, element-wise; its gradient is zero, as torch's."""
        return _staircase(self, np.ceil)

    def __floordiv__(self, other):
        """⌊a / b⌋ (torch's floor_divide) in torch's result dtype of the two; not
        differentiable. An integer zero divisor raises torch's RuntimeError."""
        from ffnn.ops.rounded_division import floor_divide

        a, b = ops._pair(self, other)
        return Tensor._make(floor_divide(a._data, b._data), False, None)

    def __rfloordiv__(self, other):
        return _operand(other, self).__floordiv__(self)

    def __mod__(self, other):
        """a - b·⌊a / b⌋ (b's sign, as torch.remainder: -1 % ∞ = ∞); for floating tensors
        the gradient is 1 for a and -⌊a / b⌋ for b. An integer zero divisor raises torch's
        RuntimeError."""
        from ffnn.ops import rounded_division

        a, b = ops._pair(self, other)
        if a._data.dtype.kind in "iub":
            return Tensor._make(rounded_division.integer_remainder(a._data, b._data, "floor"),
                                False, None)
        return rounded_division.Remainder.apply(a, b)

    def __rmod__(self, other):
        return _operand(other, self).__mod__(self)

    remainder = __mod__

    def bmm(self, mat2):
        """Batched product of [B, n, m] and [B, m, p] tensors."""
        if self.ndim != 3 or mat2.ndim != 3 or self.shape[0] != mat2.shape[0]:
            raise RuntimeError(f"bmm: expected 3-D tensors with the same batch size. Received: "
                               f"shapes {tuple(self.shape)} and {tuple(mat2.shape)}")
        return ops.matmul(self, mat2)

    def dot(self, tensor):
        from ffnn.functions import dot

        return dot(self, tensor)

    def where(self, condition, other):
        return ops.where(condition, self, other)

    def masked_fill(self, mask, value):
        """``value`` (cast to this tensor's dtype, as torch's) where ``mask`` is true, else
        this tensor (differentiable in both)."""
        return ops.where(mask, _fill_value(value, self), self)

    def expand_as(self, other):
        return ops.expand(self, other.shape)

    def chunk(self, chunks: int, dim: int = 0):
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        size = -(-self.shape[dim] // chunks)
        return self.split(size, dim)

    def split(self, split_size, dim: int = 0):
        """Pieces along ``dim`` of ``split_size`` each (the last may be shorter), or of the
        listed sizes."""
        n = self.shape[dim]
        if isinstance(split_size, int):
            if split_size < 0 or (split_size == 0 and n > 0):
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, and "
                                   f"must be non-negative. Received: split_size={split_size} "
                                   f"for a dimension of size {n}")
            if n == 0:
                return (self,)
            sizes = [min(split_size, n - start) for start in range(0, n, split_size)]
        else:
            sizes = list(split_size)
            if sum(sizes) != n:
                raise RuntimeError(f"split: sizes {sizes} do not add up to {n} along dim {dim}")
        pieces, start = [], 0
        lead = (slice(None),) * (dim % self.ndim)
        for size in sizes:
            pieces.append(self[lead + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False):
        from ffnn.creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=device,
                      requires_grad=requires_grad)

    def new_zeros(self, *args, size=None, dtype=None, device=None, requires_grad: bool = False):
        from ffnn.creation import zeros

        return zeros(_shape_args(args, size), dtype=dtype or self.dtype, device=device,
                     requires_grad=requires_grad)

    def new_ones(self, *args, size=None, dtype=None, device=None, requires_grad: bool = False):
        from ffnn.creation import ones

        return ones(_shape_args(args, size), dtype=dtype or self.dtype, device=device,
                    requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad: bool = False):
        from ffnn.creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, device=device,
                    requires_grad=requires_grad)

    def is_floating_point(self) -> bool:
        return self.numpy().dtype.kind == "f"

    def element_size(self) -> int:
        return self.numpy().itemsize

    @property
    def is_cuda(self) -> bool:
        return False

    def cuda(self, device=None, non_blocking: bool = False):
        """Raises: ffnn runs on the CPU (torch's error when built without CUDA)."""
        from ffnn.device import check_device

        check_device("cuda" if device is None else device, "cuda")

    def pin_memory(self):
        return self

    def random_(self, from_=None, to=None, *, generator=None):
        """Fill in place with integers uniform on [from_, to) (``random_(n)``: [0, n)); the
        values are stored in this tensor's dtype. Without bounds, torch's range of the dtype:
        [0, 2^mantissa] for a float (2²⁴ float32, 2⁵³ float64), [0, max] for an integer, both
        values for a bool."""
        if from_ is None:
            from_, to = 0, _random_top(self._data.dtype)
        elif to is None:
            from_, to = 0, from_
        from ffnn import torch_stream

        dtype = self._data.dtype
        self._fill_drawn(lambda shape: torch_stream.integers(generator, shape, dtype, from_, to))
        return self

    def gather(self, dim: int, index, *, sparse_grad: bool = False):
        """Values picked along ``dim`` by an int64 ``index`` of the same number of dims
        (``sparse_grad``: accepted, the gradient is dense)."""
        return ops.gather(self, dim, index)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """``(values, indices)`` sorted along ``dim`` (a stable sort, so ties keep their
        order); the values are differentiable."""
        if self.ndim == 0:  # torch: the value itself, index 0
            ops.reductions.normalize_dim(dim, 0)  # 0 or -1, else IndexError
            return SortResult(self.clone(), Tensor._make(np.zeros((), np.int64), False, None))
        indices = self.argsort(dim, descending)
        return SortResult(ops.gather(self, dim, indices), indices)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        if self.ndim == 0:
            ops.reductions.normalize_dim(dim, 0)  # 0 or -1, else IndexError
            return Tensor._make(np.zeros((), np.int64), False, None)
        array = self.numpy()
        if array.dtype.kind in "ub":
            array = array.astype(np.int64)
        order = np.argsort(-array if descending else array, axis=dim, kind="stable")
        if descending and array.dtype.kind == "f":  # NaN is the largest, as torch counts it
            nan_last = np.isnan(np.take_along_axis(array, order, axis=dim))
            order = np.take_along_axis(order, np.argsort(~nan_last, axis=dim, kind="stable"),
                                       axis=dim)
        return Tensor._make(order.astype(np.int64), False, None)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        """``(values, indices)`` of the ``k`` largest (or smallest) entries along ``dim``
        (NaN counted the largest, as torch counts it)."""
        if self.ndim == 0 and k == 1:
            ops.reductions.normalize_dim(dim, 0)  # 0 or -1, else IndexError
            values, indices = self.reshape(1).topk(1, 0, largest, sorted)
            return TopKResult(values.reshape(()), indices.reshape(()))
        if not 0 <= k <= self.shape[dim]:
            raise RuntimeError(f"topk: k={k} is out of range for dimension {dim} of size "
                               f"{self.shape[dim]}")
        from ffnn.ops.top_k import top_k_indices

        array = self.numpy()
        if array.dtype.kind in "ub":
            array = array.astype(np.int64)
        key = -array if largest else array
        if largest and array.dtype.kind == "f":
            key = np.where(np.isnan(array), -np.inf, key)  # NaN first, as torch's
        indices = Tensor._make(top_k_indices(key, k, dim), False, None)
        return TopKResult(ops.gather(self, dim, indices), indices)

    def repeat(self, *args, repeats=None):
        """Tile the tensor ``sizes[i]`` times along each axis (leading new axes allowed);
        differentiable (the gradient sums over the copies)."""
        sizes = _shape_args(args, repeats)
        if len(sizes) < self.ndim:
            raise RuntimeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller "
                               f"than the number of tensor dims ({self.ndim})")
        shape = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
        interleaved = tuple(n for s in shape for n in (1, s))
        expanded = tuple(n for r, s in zip(sizes, shape) for n in (r, s))
        tiled = tuple(r * s for r, s in zip(sizes, shape))
        out = self.reshape(interleaved).expand(expanded).reshape(tiled)
        # torch's repeat copies: a result still viewing this memory (the broadcast) is copied
        return out.clone() if np.may_share_memory(out._data, self._data) else out

    def __format__(self, format_spec: str) -> str:
        """``f"{loss:.4f}"`` formats a 0-d tensor's value, as torch does."""
        if self.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)


Tensor._plain_make = Tensor.__dict__["_make"]
"""``Tensor._make`` outside ``inference_mode()``; ``autograd.mark_inference_tensors`` swaps."""


# ----- helpers ------------------------------------------------------------------------
def _legacy_data(args: tuple) -> np.ndarray:
    """``Tensor(*sizes)`` / ``Tensor()``: zeros of the default floating dtype."""
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in args):
        raise TypeError("Tensor() takes one data argument or integer sizes, as "
                        f"torch.Tensor(2, 3). Received: {args!r}")
    return np.zeros(tuple(int(n) for n in args) if args else (0,), dtypes.get_default_dtype())


def _legacy_dtype(data):
    """The default float for a Python sequence of numbers (torch.Tensor's rule), None
    (inferred) for one holding tensors, arrays or booleans."""
    flat = np.asarray(data, dtype=object).ravel() if len(data) else ()
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
           for v in flat):
        return dtypes.get_default_dtype()
    return None


_scalar_warning_shown = [False]
"""Whether ``float()`` of a tensor requiring grad has warned (torch's TORCH_WARN_ONCE)."""


def _warn_scalar_of_grad_tensor() -> None:
    warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                  "behavior.\nConsider using tensor.detach() first.", UserWarning, stacklevel=3)
    _scalar_warning_shown[0] = True


def _warn_non_leaf_grad() -> None:
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
        "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf "
        "Tensor. If you access the non-leaf Tensor by mistake, make sure you access the leaf "
        "Tensor instead.", UserWarning, stacklevel=3)


def _dim(dim, axis):
    return axis if dim is None else dim


def in_dtype(result: Tensor, dtype) -> Tensor:
    """``result`` cast to the ``dtype`` a reduction was asked for (NumPy widens integer sums
    to int64; torch gives the dtype asked, wrapping)."""
    if dtype is None or result._data.dtype == dtypes.to_dtype(dtype):
        return result
    return result.to(dtype)


def _logic_axes(dim, ndim: int):
    """all/any's NumPy axes: None (every axis), one, or a tuple of them; an empty tuple or
    list reduces none, as torch's ``any(dim=())`` (unlike its sum's)."""
    if dim is None or ndim == 0:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(ops.reductions.normalize_dim(d, ndim) for d in dim)
    return ops.reductions.normalize_dim(dim, ndim)


def _staircase(x: Tensor, f) -> Tensor:
    """``f`` of x's array, a zero-gradient op when x requires a gradient."""
    if not x.requires_grad:
        return Tensor._make(f(x.numpy()), False, None)
    return ops.elementwise.Staircase.apply(x, f=f)


def _sign(array):
    """-1, 0 or 1, and 0 for NaN (torch's sign), without a branch per element."""
    if array.dtype.kind == "b":
        return array.copy()
    return (array > 0).astype(array.dtype) - (array < 0).astype(array.dtype)


def _shape_args(shape: tuple, keyword=None) -> tuple:
    """The sizes given as ``f(2, 3)``, ``f((2, 3))`` or by torch's keyword (``keyword``:
    ``view(size=(2, 3))``, ``permute(dims=…)``)."""
    if keyword is not None:
        if shape:
            raise TypeError("the sizes were given both positionally and by keyword. Received: "
                            f"{shape} and {keyword}")
        return tuple(keyword) if isinstance(keyword, (tuple, list)) else (keyword,)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _registered(tensor: Tensor, owner, registry_name: str, hook):
    """``hook`` added to the ordered registry ``registry_name`` of ``owner`` (the tensor or
    its graph node); its removable handle. RuntimeError, as torch's, where ``tensor`` does
    not require grad."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    from collections import OrderedDict

    from ffnn.nn.hooks import RemovableHandle

    registry = owner.__dict__.setdefault(registry_name, OrderedDict())
    handle = RemovableHandle(registry)
    registry[handle.id] = hook
    return handle


def _compared(x: Tensor, other) -> tuple:
    """x's array and ``other`` as torch compares them: in the pair's result dtype. An int
    beyond an integer tensor's dtype wraps into it (uint8 < 300 compares with 44), a
    float64 0-d tensor is cast to a float32 tensor's dtype, an integer tensor meets a float
    in the default float dtype; anything else is NumPy's (a float tensor with a number)."""
    a = x._data
    if isinstance(other, Tensor):
        if other._data.dtype == a.dtype:
            return a, other._data
    elif a.dtype.kind in "fc" or not isinstance(other, (int, float)) or type(other) is int and (
            0 <= other < 128 or a.dtype == np.int64 and -(1 << 63) <= other < 1 << 63):
        return a, other  # NumPy compares as torch: a float tensor, an int the dtype holds
    from ffnn.type_promotion import result_dtype, wrapped_int  # noqa: PLC0415 - imports Tensor

    dtype = result_dtype(x, other)
    if isinstance(other, Tensor):
        return a.astype(dtype, copy=False), other._data.astype(dtype, copy=False)
    if type(other) is int and dtype.kind in "iu":
        other = wrapped_int(other, dtype)
    return a.astype(dtype, copy=False), other


def _data_of(x):
    return x._data if isinstance(x, Tensor) else x


def _to_array(data, dtype=None) -> np.ndarray:
    """Convert data to an array with torch's dtype rules (see the module docstring)."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        array = _check_numeric(_as_rectangular(data), data)
        if not isinstance(data, (np.ndarray, np.generic)) and not hasattr(data, "__array__"):
            _check_python_numbers_fit(array, np.dtype(dtypes.to_dtype(dtype)))
        try:
            with np.errstate(over="ignore"):  # a float beyond float16's range: inf, silently
                return np.array(array, dtype=dtypes.to_dtype(dtype))
        except ValueError as error:
            raise TypeError(f"can't convert {type(data).__name__} to a tensor: {error}") from None
    if type(data).__module__ == "torch":
        return data.detach().cpu().numpy().copy()
    if isinstance(data, (np.ndarray, np.generic)) or type(data).__module__.startswith("cupy") \
            or (hasattr(data, "__array__") and hasattr(data, "dtype")):  # a pandas Series
        return _check_numeric(np.asarray(data), data)
    array = _check_numeric(_as_rectangular(data), data)
    if array.dtype == np.int64 or array.dtype == np.bool_:
        return array  # ints and bools, however given: torch's dtype too (no walk needed)
    inferred = _inferred_dtype(data)
    if inferred is None:  # no element (``[]``), or one of another kind: NumPy's, by kind
        inferred = {"f": dtypes.get_default_dtype(), "i": np.int64, "u": np.int64}.get(
            array.dtype.kind, array.dtype)
    if np.dtype(inferred) == np.int64 and array.dtype.kind in "uf" and array.size and (
            array.max() >= 2.0**63 or array.min() < -2.0**63):
        raise ValueError("Overflow when unpacking long long")  # Python ints beyond int64
    return array.astype(inferred, copy=False)


def _check_python_numbers_fit(values: np.ndarray, dtype: np.dtype | None,
                              c_name: bool = False) -> None:
    """torch's check of the Python numbers ``values`` holds, stored in ``dtype`` (an integer
    dtype; None or another: no check): ValueError for an int beyond int64, which torch cannot
    unpack (but into uint64); RuntimeError for a number the dtype cannot hold, as torch's
    ``checked_convert`` (``torch.tensor([300], dtype=torch.int8)``): an int outside the
    dtype's range (an unsigned one also takes negatives down to -max, wrapping them), a
    float below its lowest or above its largest value, NaN. ``c_name``: the message names
    the dtype as C does (``int8_t``, as torch's ``fill_`` and ``full``)."""
    if dtype is None or dtype.kind not in "iu" or values.size == 0:
        return
    if values.dtype == np.uint64 and dtype != np.uint64 and values.max() > np.iinfo(np.int64).max:
        raise ValueError("Overflow when unpacking long long")
    limits = np.iinfo(dtype)
    if values.dtype.kind in "iu":
        lowest = -int(limits.max) if dtype.kind == "u" else int(limits.min)
        fits = int(values.min()) >= lowest and int(values.max()) <= int(limits.max)
    elif values.dtype.kind == "f":
        fits = not np.isnan(values).any() and float(values.min()) >= float(limits.min) and \
            float(values.max()) <= float(limits.max)
    else:
        return
    if not fits:
        name = f"{dtype.name}_t" if c_name else dtype.name
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def _as_rectangular(data) -> np.ndarray:
    """``np.asarray(data)``; a ragged nested list is torch's ValueError, naming the first
    dimension where a sequence's length differs."""
    try:
        return np.asarray(data)
    except ValueError:
        if not isinstance(data, (list, tuple)):
            raise
    level, expected = [data], None
    for dim in range(1, 64):
        items = [item for seq in level for item in seq]
        lengths = [len(item) if isinstance(item, (list, tuple)) else None for item in items]
        expected = lengths[0] if lengths else None
        for length in lengths:
            if length != expected:
                want, got = (("a number" if n is None else f"sequence of length {n}")
                             for n in (expected, length))
                raise ValueError(f"expected {want} at dim {dim} (got {got}): a tensor needs "
                                 "rectangular nested lists. Received: a ragged nested "
                                 "list") from None
        if expected is None:
            break
        level = items
    return np.asarray(data)


def _leaf_dtype(item) -> np.dtype | None:
    """torch's dtype of one element of a nested list: a tensor's, an array's or a NumPy
    scalar's own; bool, int64, the default float or its complex for Python numbers."""
    if isinstance(item, Tensor):
        return item._data.dtype
    if isinstance(item, (np.ndarray, np.generic)):
        return item.dtype
    if isinstance(item, bool):
        return np.dtype(bool)
    if isinstance(item, int):
        return np.dtype(np.int64)
    if isinstance(item, float):
        return dtypes.get_default_dtype()
    if isinstance(item, complex):
        return np.dtype(np.complex64 if dtypes.get_default_dtype() == np.float32
                        else np.complex128)
    return None


def _inferred_dtype(data) -> np.dtype | None:
    """torch's dtype for nested lists: its elements' dtypes (``_leaf_dtype``) promoted by
    ``torch.promote_types`` (``tensor([np.uint8(3)])`` is uint8, a list of 0-d float64
    tensors float64, ``[np.float16(2), 1.5]`` float32); None where an element has none."""
    from ffnn.type_promotion import promote_types

    found, stack = None, [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        dtype = _leaf_dtype(item)
        if dtype is None or dtype.kind not in "biufc":
            return None
        if found is None or dtype != found:
            found = dtype if found is None else promote_types(found, dtype)
    return found


def _check_numeric(array, data):
    """Refuse strings and Python objects (a mixed DataFrame's ``.values``) as torch does."""
    if array.dtype.kind in "biufc":
        return array
    what = {"U": "strings", "S": "bytes", "O": "Python objects (e.g. a mixed DataFrame's "
            ".values)", "M": "datetimes", "m": "timedeltas"}.get(array.dtype.kind, "values")
    raise TypeError(
        f"can't convert {type(data).__name__} of {what} (dtype {array.dtype}) to a tensor: "
        "a tensor holds numbers or booleans; encode text or categories as numbers first"
    )


def _chosen_inputs(inputs) -> tuple:
    """``backward``'s ``inputs`` as a tuple of tensors (torch's errors for none or others)."""
    chosen = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not chosen:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    for t in chosen:
        if not isinstance(t, Tensor):
            raise TypeError(f"backward(): inputs must be tensors. Received: {type(t).__name__}")
        t.retain_grad()  # an intermediate's gradient kept, in later backwards too (torch's)
    return chosen


def _only(found: dict, chosen: tuple | None) -> list:
    """The [leaf, gradient] entries of ``found`` for the leaves in ``chosen`` (all where None;
    an intermediate's gradient is kept by ``retain_grad``)."""
    if chosen is None:
        return list(found.values())
    keep = {id(t) for t in chosen}
    return [entry for entry in found.values() if id(entry[0]) in keep]


def _fill_value(value, like: Tensor) -> Tensor:
    """A fill value in ``like``'s dtype (``masked_fill``'s): a number cast, a 0-d tensor
    converted (the gradient reaching it); an infinite or NaN value for an integer tensor
    raises, as torch's."""
    dtype = like._data.dtype
    if isinstance(value, Tensor):
        return value if value._data.dtype == dtype else value.to(dtype)
    if dtype.kind in "iub" and isinstance(value, float) and not np.isfinite(value):
        raise RuntimeError(f"value cannot be converted to type {dtype} without overflow")
    return Tensor._make(np.asarray(value).astype(dtype), False, None)


def _random_top(dtype: np.dtype) -> int:
    """``random_()``'s exclusive upper bound for ``dtype`` (torch's)."""
    if dtype.kind == "f":
        return (1 << (np.finfo(dtype).nmant + 1)) + 1
    if dtype.kind == "b":
        return 2
    return int(np.iinfo(dtype).max) + 1


def _operand(other, like: Tensor) -> Tensor:
    """A Python number or array as a constant tensor; a number takes the dtype torch gives
    it with ``like`` (``like``'s own for a floating tensor; an int with a bool tensor
    int64, a float with an integer one the default float dtype)."""
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (bool, int, float)):
        dtype = like._data.dtype
        if dtype.kind not in "fc":
            from ffnn.type_promotion import result_dtype  # noqa: PLC0415 - it imports Tensor

            dtype = result_dtype(like, other)
        if dtype.kind in "iu" and type(other) is int and not \
                np.iinfo(dtype).min <= other <= np.iinfo(dtype).max:  # torch wraps it
            return Tensor._make(np.asarray(other).astype(dtype), False, None)
        return Tensor._make(np.asarray(other, dtype=dtype), False, None)
    return Tensor._make(np.asarray(other), False, None)


from ffnn import ops  # noqa: E402 - ops import Tensor from this module
