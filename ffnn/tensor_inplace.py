"""In-place tensor methods with torch's semantics (``add_``, ``+=``, ``x[i] = v``, ``zero_`` …).

Outside the graph (under ``no_grad``, or when nothing involved requires grad) the new values
are written into the tensor's memory, so every alias sees them (``p -= lr * p.grad`` under
``no_grad`` trains the parameter ``p``). When the graph is on, the op is recorded as if
written ``x = op(x, …)`` and its result is then written into ``x``'s memory, so ``x`` keeps
its identity and memory but now has the op as its ``grad_fn``; a leaf that requires grad
refuses this, as in torch. Each change bumps the tensor's version counter, which makes a
backward through an op that had saved the old values raise instead of using wrong ones.
A view made by indexing (``v = x[0]``) changed in place re-records its base as
``x = x with x[0] = v`` (torch's CopySlices), so gradients flow through both.
"""

from __future__ import annotations

import numpy as np

from ffnn import autograd, torch_stream
from ffnn.errors import RuntimeValueError


def _ops():
    from ffnn import ops  # noqa: PLC0415 - ops import the Tensor, which imports this module

    return ops


def _tensor_cls():
    from ffnn.tensor import Tensor  # noqa: PLC0415 - see _ops

    return Tensor


class InPlaceMethods:
    """The in-place half of ``Tensor`` (see the module docstring)."""

    # ----- the mechanism ----------------------------------------------------------------
    def _needs_graph(self, *others) -> bool:
        if not autograd.is_grad_enabled():
            return False
        Tensor = _tensor_cls()
        return self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad
                                         for o in others)

    def _check_may_change(self, what: str = "operation") -> None:
        """Raise torch's error for an in-place change of a leaf (or a view of one) that
        requires grad; a view whose base changed since it was taken gets its graph again
        first (``autograd._regenerate``), as the change builds on it."""
        if self._view_of is not None and self._version_box[0] != self._view_seen:
            autograd._regenerate(self)
        if self.requires_grad and self._ctx is None:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place {what}. "
                "Wrap parameter updates in `with torch.no_grad():` (or change `.data`)."
            )
        base = self._view_of[0] if self._view_of is not None else None
        if base is not None and base.requires_grad and base._ctx is None:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )

    def _inplace(self, op, *args):
        """``self ← op(self, *args)`` in place (``op`` computes out of place)."""
        Tensor = _tensor_cls()
        if not self._needs_graph(*args):
            with autograd.no_grad():
                result = op(self, *args)
            self._write(result._data)
            return self
        self._check_may_change()
        old = Tensor._make(self._data.copy(), self.requires_grad, self._ctx)
        result = op(old, *args)
        self._write(result._data)
        self._take_graph(result)
        return self

    def _write(self, values) -> None:
        """Copy ``values`` into this tensor's memory with torch's shape and dtype rules."""
        target = self._data
        if values.shape != target.shape:
            raise RuntimeError(
                f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                f"{list(values.shape)}"
            )
        if target.dtype.kind in "iub" and values.dtype.kind not in "iub" or (
                target.dtype.kind == "b" and values.dtype.kind != "b"):
            raise RuntimeError(
                f"result type {_torch_name(values.dtype)} can't be cast to the desired output "
                f"type {_torch_name(target.dtype)}"
            )
        if not target.flags.writeable:
            raise RuntimeError(
                "unsupported operation: this tensor's memory is read-only (a broadcast view, "
                "e.g. from expand()); clone() it first"
            )
        np.copyto(target, values, casting="unsafe")
        autograd.bump_version(self)

    def _take_graph(self, result) -> None:
        """Make ``self`` the output of ``result``'s op; re-record the base of an index view."""
        self._ctx, self.requires_grad = result._ctx, True
        view, view_of = self, self._view_of
        shape = _ops().shape
        while view_of is not None:
            base, index = view_of
            view._view_seen = view._version_box[0]  # its own change: its graph holds it
            if index is not None:  # x[index] = v
                old_base = _tensor_cls()._make(base._data, base.requires_grad, base._ctx)
                rebased = shape.SetItem.apply(old_base, view, index=index, write=False)
            elif view._view_made is not None and view._view_made[0] in (shape.Reshape,
                                                                        shape.Permute):
                rebased = shape.ViewBase.apply(view, made=view._view_made, base=base._data)
            else:
                raise RuntimeError(
                    "an in-place operation on a view made by expand of a tensor in the graph "
                    "is not supported by ffnn; write it out of place (y = y * 2)")
            base._ctx, base.requires_grad = rebased._ctx, True
            view, view_of = base, base._view_of

    def _overwrite(self, values) -> None:
        """Replace every value (fill_, normal_ …; ``values`` broadcast, a tensor or an array):
        the old values get no gradient, as torch's; in the graph (the tensor requires a
        gradient, or a value does) as ``self[...] = values``, so that a view's base sees it
        (``h[:, 0].zero_()``) and a value that requires a gradient gets one."""
        Tensor = _tensor_cls()
        if autograd.is_grad_enabled() and (self.requires_grad or getattr(
                values, "requires_grad", False)):
            if not isinstance(values, Tensor):
                values = Tensor._make(np.asarray(values, dtype=self._data.dtype), False, None)
            self._setitem(Ellipsis, values)
            return
        values = values._data if isinstance(values, Tensor) else values
        self._write(np.broadcast_to(np.asarray(values, dtype=self._data.dtype), self.shape))

    def _setitem(self, index, value) -> None:
        """``self[index] = value``, in place."""
        Tensor = _tensor_cls()
        if not self._needs_graph(value):
            _assign(self._data, index, value._data if isinstance(value, Tensor) else value)
            autograd.bump_version(self)
            return
        self._check_may_change("assignment (x[i] = v)")
        if not isinstance(value, Tensor):
            value = Tensor._make(np.asarray(value, dtype=self._data.dtype), False, None)
        old = Tensor._make(self._data, self.requires_grad, self._ctx)
        result = _ops().shape.SetItem.apply(old, value, index=index, write=False)
        _assign(self._data, index, value._data)
        autograd.bump_version(self)
        self._take_graph(result)

    # ----- operators ----------------------------------------------------------------------
    def __iadd__(self, other):
        return self._inplace(_binary("add"), other)

    def __isub__(self, other):
        return self._inplace(_binary("sub"), other)

    def __imul__(self, other):
        return self._inplace(_binary("mul"), other)

    def __itruediv__(self, other):
        return self._inplace(_binary("div"), other)

    def __ipow__(self, exponent):
        return self._inplace(_binary("pow"), exponent)

    def __imod__(self, other):
        return self._inplace(lambda x, o: x % o, other)

    def __ifloordiv__(self, other):
        return self._inplace(lambda x, o: x // o, other)

    def __imatmul__(self, other):
        raise RuntimeError("In-place matmul is not supported. Use 'a = a @ b' instead.")

    # ----- arithmetic -----------------------------------------------------------------------
    def add_(self, other, alpha=1):
        return self._inplace(_binary("add"), other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace(_binary("sub"), other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace(_binary("mul"), other)

    def div_(self, other, *, rounding_mode: str | None = None):
        if rounding_mode is not None:
            return self._inplace(lambda x, o: x.divide(o, rounding_mode=rounding_mode), other)
        return self._inplace(_binary("div"), other)

    def pow_(self, exponent):
        return self._inplace(_binary("pow"), exponent)

    def addcmul_(self, tensor1, tensor2, value=1):
        """self += value · tensor1 · tensor2."""
        return self._inplace(lambda x, a, b: x + a * b * value, tensor1, tensor2)

    def addcdiv_(self, tensor1, tensor2, value=1):
        """self += value · tensor1 / tensor2."""
        return self._inplace(lambda x, a, b: x + a / b * value, tensor1, tensor2)

    def neg_(self):
        return self._inplace(lambda x: -x)

    def clamp_(self, min=None, max=None):  # noqa: A002 - torch's argument names
        return self._inplace(lambda x: _ops().clamp(x, min, max))

    clip_ = clamp_

    def clamp_min_(self, min):  # noqa: A002
        return self.clamp_(min=min)

    def clamp_max_(self, max):  # noqa: A002
        return self.clamp_(max=max)

    def exp_(self):
        return self._inplace(lambda x: _ops().exp(x))

    def log_(self):
        return self._inplace(lambda x: _ops().log(x))

    def sqrt_(self):
        return self._inplace(lambda x: _ops().sqrt(x))

    def abs_(self):
        return self._inplace(lambda x: _ops().abs(x))

    def relu_(self):
        return self._inplace(lambda x: _ops().relu(x))

    def sigmoid_(self):
        return self._inplace(lambda x: _ops().sigmoid(x))

    def tanh_(self):
        return self._inplace(lambda x: _ops().tanh(x))

    def masked_fill_(self, mask, value):
        """self[mask] = value (mask broadcast to self's shape)."""
        from ffnn.tensor import _fill_value  # noqa: PLC0415 - see _ops

        mask = np.asarray(getattr(mask, "_data", mask), dtype=bool)
        fill = _fill_value(value, self)
        return self._inplace(lambda x, v: _ops().where(~mask, x, v), fill)

    # ----- overwriting ----------------------------------------------------------------------
    def zero_(self):
        self._overwrite(0)
        return self

    def fill_(self, value):
        if isinstance(value, (int, float)):
            from ffnn.tensor import _check_python_numbers_fit  # noqa: PLC0415 - tensor imports us

            _check_python_numbers_fit(np.asarray(value), self._data.dtype, c_name=True)
        self._overwrite(value)
        return self

    def copy_(self, other, non_blocking: bool = False):
        """Copy ``other``'s values (broadcast to this shape) into this tensor; differentiable
        with respect to ``other`` (torch's name for it)."""
        src = other
        Tensor = _tensor_cls()
        if isinstance(src, Tensor) and src.requires_grad and autograd.is_grad_enabled():
            self._setitem(Ellipsis, src)
            return self
        src = np.asarray(src._data if isinstance(src, Tensor) else src)
        self._overwrite(src.astype(self._data.dtype, copy=False))
        return self

    def _fill_drawn(self, draw, *alongside) -> None:
        """Overwrite with ``draw(shape, *alongside)``'s values, drawn in this tensor's memory
        order as torch's in-place random fills are (``torch_stream.in_memory_order``)."""
        self._overwrite(torch_stream.in_memory_order(self._data, draw, *alongside))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None):
        dtype, serial = self._data.dtype, not self._data.flags.c_contiguous
        self._fill_drawn(lambda shape: torch_stream.normal(generator, shape, dtype, mean, std,
                                                           serial))
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None, **kwargs):
        a, b = kwargs.get("from", a), kwargs.get("to", b)
        dtype = self._data.dtype
        self._fill_drawn(lambda shape: torch_stream.uniform(generator, shape, dtype, a, b))
        return self

    def bernoulli_(self, p: float = 0.5, generator=None):
        p = p._data if hasattr(p, "_data") else p
        if isinstance(p, np.ndarray):
            self._fill_drawn(lambda shape, q: torch_stream.bernoulli(generator, shape, q), p)
        else:
            self._fill_drawn(lambda shape: torch_stream.bernoulli(generator, shape, p))
        return self

def _assign(target: np.ndarray, index, value) -> None:
    """``target[index] = value``, a value with more dims than the slot taken without its
    leading dims of length 1 (torch's: ``p[i] = torch.tensor([[0.7]])``)."""
    try:
        target[index] = value
    except ValueError as error:
        value = np.asarray(value)
        slot = target[index].ndim if np.ndim(target[index]) else 0
        if value.ndim <= slot or any(n != 1 for n in value.shape[:value.ndim - slot]):
            raise RuntimeValueError(str(error)) from error  # torch's RuntimeError
        target[index] = value.reshape(value.shape[value.ndim - slot:])


def _binary(name: str):
    return lambda x, other: getattr(_ops(), name)(x, other)


def _torch_name(dtype) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "bool": "Bool", "int16": "Short", "int8": "Char",
            "uint8": "Byte"}.get(np.dtype(dtype).name, str(dtype))
