"""Creating tensors, with torch's names, keywords and dtype rules (``ffnn.tensor``, ``zeros``,
``randn``, ``full_like`` …).

Every factory takes ``dtype=``, ``device=`` (``'cpu'``; a GPU raises, see ``ffnn.device``) and
``requires_grad=``. Random factories draw from ``generator`` or the global seeded generator
(``ffnn.manual_seed``); they give torch's numbers for the same seed (``ffnn.torch_stream``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ffnn import dtypes, ops, torch_stream
from ffnn.device import check_device
from ffnn.spacing import linspace_values
from ffnn.tensor import Tensor, _check_python_numbers_fit, _data_of, _shape_args, _to_array


def _new(array: np.ndarray, requires_grad: bool, device) -> Tensor:
    check_device(device)
    return Tensor._of(array, requires_grad=requires_grad)


def tensor(data: Any, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (list, number, ndarray, Tensor; of a tensor
    with torch's warning to prefer ``clone().detach()``)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.clone().detach() or sourceTensor.clone().detach()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    array = _to_array(data, dtype)
    source = data._data if isinstance(data, Tensor) else data
    if isinstance(source, np.ndarray) and np.may_share_memory(array, source):
        array = array.copy()
    return _new(array, requires_grad, device)


def as_tensor(data: Any, dtype=None, device=None) -> Tensor:
    """A tensor sharing memory with ``data`` where possible (a tensor or an array of the
    dtype asked); other data converted as ``tensor`` converts it (a list of ints: int64)."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        return Tensor._of(data if dtype is None else np.asarray(data, dtypes.to_dtype(dtype)))
    return Tensor._of(_to_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray. Received: {type(array).__name__}")
    return Tensor._of(array)


def asarray(obj: Any, *, dtype=None, device=None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """``obj`` as a tensor: a tensor or ndarray of the dtype asked shares its memory unless
    ``copy=True``; ``copy=False`` raises where it cannot share (another dtype, a list)."""
    check_device(device)
    wanted = None if dtype is None else dtypes.to_dtype(dtype)
    if isinstance(obj, Tensor):
        shares = wanted is None or wanted == obj.dtype
        if copy is False and not shares:
            raise ValueError(f"asarray: copy=False, but obj of dtype {obj.dtype} cannot be "
                             f"shared as dtype {wanted}")
        result = obj if shares and not copy else obj.detach().to(wanted or obj.dtype).clone()
    else:
        array = obj if isinstance(obj, np.ndarray) else None
        if copy is False and (array is None or wanted not in (None, array.dtype)):
            raise ValueError(f"asarray: copy=False, but obj ({type(obj).__name__}) cannot be "
                             "shared without a copy")
        result = Tensor._of(_to_array(obj, dtype) if array is None or copy else
                        np.asarray(array, wanted))
        if copy and array is not None and np.shares_memory(result.numpy(), array):
            result = Tensor._of(result.numpy().copy())
    if requires_grad:
        result.requires_grad_(True)
    return result


def frombuffer(buffer: Any, *, dtype, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-d tensor over the bytes of an object of the buffer protocol (no copy): ``count``
    entries of ``dtype`` (-1: all) from byte ``offset``."""
    view = memoryview(buffer)
    if view.readonly:
        import warnings

        warnings.warn("The given buffer is not writable: the tensor is read-only (writing "
                      "to it raises).", UserWarning, stacklevel=2)
    array = np.frombuffer(buffer, dtypes.to_dtype(dtype), count, offset)
    return Tensor._of(array, requires_grad=requires_grad)


def _sizes(size, keyword=None) -> tuple:
    """The shape of ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))`` (``keyword``);
    an integer tensor of one element counts as its value."""
    shape = _shape_args(size) if keyword is None else _shape_args((keyword,))
    shape = tuple(int(n) if isinstance(n, Tensor) and n.numel() == 1 and n.dtype.kind in "iu"
                  else n for n in shape)
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in shape):
        raise TypeError(f"sizes must be integers. Received: size={shape!r}")
    shape = tuple(int(n) for n in shape)
    if any(n < 0 for n in shape):
        negative = next(n for n in shape if n < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative}: "
                           f"{list(shape)}. Received: size={shape}")
    return shape


def zeros(*sizes, size=None, out=None, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(_sizes(sizes, size), dtypes.to_dtype(dtype)), requires_grad, device)


def ones(*sizes, size=None, out=None, dtype=None, device=None,
         requires_grad: bool = False) -> Tensor:
    return _new(np.ones(_sizes(sizes, size), dtypes.to_dtype(dtype)), requires_grad, device)


def empty(*sizes, size=None, out=None, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of the given shape (zeros here; torch leaves it uninitialised)."""
    return zeros(*sizes, size=size, dtype=dtype, device=device, requires_grad=requires_grad)


def _fill_dtype(fill_value, dtype):
    if dtype is not None:
        return dtypes.to_dtype(dtype)
    if isinstance(fill_value, (bool, np.bool_)):
        return dtypes.bool_
    if isinstance(fill_value, (int, np.integer)):
        return dtypes.int64
    return dtypes.get_default_dtype()


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (int64 for an int, bool for a bool, else float)."""
    fill_value = _data_of(fill_value)
    if isinstance(fill_value, (int, float)) and dtype is not None:
        _check_python_numbers_fit(np.asarray(fill_value), np.dtype(dtypes.to_dtype(dtype)),
                                  c_name=True)
    array = np.full(_sizes((size,) if isinstance(size, int) else size), fill_value,
                    _fill_dtype(np.asarray(fill_value).item() if np.ndim(fill_value) == 0
                                else fill_value, dtype))
    return _new(array, requires_grad, device)


def _like_dtype(t, dtype) -> np.dtype:
    return dtypes.to_dtype(dtype) if dtype is not None else np.asarray(_data_of(t)).dtype


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    return _new(np.zeros(np.shape(_data_of(input)), _like_dtype(input, dtype)), requires_grad,
                device)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    return _new(np.ones(np.shape(_data_of(input)), _like_dtype(input, dtype)), requires_grad,
                device)


empty_like = zeros_like


def full_like(input: Tensor, fill_value, dtype=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    return _new(np.full(np.shape(_data_of(input)), fill_value, _like_dtype(input, dtype)),
                requires_grad, device)


def _float_like(input, dtype) -> np.dtype:
    dtype = _like_dtype(input, dtype)
    if dtype.kind != "f":
        raise TypeError(f"random floats need a floating dtype. Received: dtype={dtype}")
    return dtype


def rand_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False,
              generator=None, memory_format=None) -> Tensor:
    return rand(*np.shape(_data_of(input)), generator=generator,
                dtype=_float_like(input, dtype), device=device, requires_grad=requires_grad)


def randn_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False,
               generator=None, memory_format=None) -> Tensor:
    return randn(*np.shape(_data_of(input)), generator=generator,
                 dtype=_float_like(input, dtype), device=device, requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, dtype=None, device=None,
                 generator=None, memory_format=None) -> Tensor:
    return randint(low, high, np.shape(_data_of(input)), generator=generator,
                   dtype=_like_dtype(input, dtype), device=device)


def eye(n: int, m: int | None = None, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    return _new(np.eye(n, m, dtype=dtypes.to_dtype(dtype)), requires_grad, device)


def arange(start=None, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """``[start, end)`` in steps: int64 for integer arguments, the default float otherwise
    (``arange(5)``, ``arange(end=5)``, ``arange(1, 5)``)."""
    start, end, step = (_data_of(v) for v in (start, end, step))
    if end is None:
        start, end = 0, start
    elif start is None:
        start = 0
    if end is None:
        raise TypeError("arange() missing required argument 'end' (pos 1)")
    if dtype is not None and dtypes.to_dtype(dtype).kind in "iu":  # torch truncates each
        start, end, step = (int(v) for v in (start, end, step))
    if step == 0:
        raise RuntimeError(f"arange: step must be nonzero. Received: step={step}")
    array = np.arange(start, end, step)
    if dtype is not None:
        array = array.astype(dtypes.to_dtype(dtype))
    elif array.dtype.kind == "f":
        array = array.astype(dtypes.get_default_dtype())
    else:
        array = array.astype(np.int64)
    return _new(array, requires_grad, device)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` points evenly spaced from start to end, as torch's kernel computes them
    (``ffnn.spacing``)."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    values = linspace_values(_data_of(start), _data_of(end), int(steps), dtypes.to_dtype(dtype))
    return _new(values, requires_grad, device)


def randn(*sizes, size=None, generator=None, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the seeded generator (torch's: ``torch_stream``)."""
    array = torch_stream.normal(generator, _sizes(sizes, size), dtypes.to_dtype(dtype))
    return _new(array, requires_grad, device)


def rand(*sizes, size=None, generator=None, dtype=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from the seeded generator (torch's: ``torch_stream``)."""
    array = torch_stream.uniform(generator, _sizes(sizes, size), dtypes.to_dtype(dtype))
    return _new(array, requires_grad, device)


def randint(low, high=None, size=(), *, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform on ``[low, high)`` (``randint(high, size)`` starts at 0)."""
    if high is None:
        low, high = 0, low
    elif isinstance(high, (tuple, list)) and size == ():  # randint(high, (n,))
        low, high, size = 0, low, high
    array = torch_stream.integers(generator, _sizes((size,) if isinstance(size, int) else size),
                                  dtypes.to_dtype(dtype or "int64"), low, high)
    return _new(array, requires_grad, device)


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    array = torch_stream.permutation(generator, n).astype(dtypes.to_dtype(dtype or "int64"))
    return _new(array, requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(mean, std, size)`` with numbers, or element-wise means and
    standard deviations given as tensors (the shape then comes from them)."""
    mean_a, std_a = np.asarray(_data_of(mean)), np.asarray(_data_of(std))
    if size is None:
        shape = np.broadcast_shapes(mean_a.shape, std_a.shape)
    else:
        shape = _sizes((size,) if isinstance(size, int) else size)
    if dtype is None:
        tensors = [a.dtype for a, v in ((mean_a, mean), (std_a, std)) if isinstance(v, Tensor)]
        dtype = tensors[0] if tensors else None
    dtype = dtypes.to_dtype(dtype)
    mean_given, std_given = (isinstance(v, Tensor) or np.ndim(a) for v, a in
                             ((mean, mean_a), (std, std_a)))
    if not std_given:  # torch's: normal_(mean, std), or normal_(0, std) + mean
        shift = 0.0 if mean_given else float(mean_a)
        array = torch_stream.normal(generator, shape, dtype, shift, float(std_a))
        if mean_given:
            array = array + mean_a.astype(dtype)
        return _new(array, requires_grad, device)
    array = torch_stream.normal(generator, shape, dtype) * std_a.astype(dtype)  # then + mean
    return _new(array + mean_a.astype(dtype), requires_grad, device)


def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """The tensors joined along ``dim`` (``axis``: NumPy's name, as torch accepts it)."""
    return ops.concatenate(tensors, dim if axis is None else axis)


concatenate = concat = cat


def stack(tensors, dim: int = 0) -> Tensor:
    return ops.stack(tensors, dim)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)
