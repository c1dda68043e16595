"""torch's function forms of the writes into positions (``torch.index_put(x, …)`` is
``x.index_put(…)``; the methods: ``ffnn.tensor_writes``) and of the in-place element-wise
functions (``torch.relu_(x)`` is ``x.relu_()``)."""

from __future__ import annotations

from ffnn.functions_more import _method_form

METHOD_FORMS = (
    "index_put", "index_put_", "masked_scatter", "scatter_reduce", "put", "slice_scatter",
    "select_scatter", "diagonal_scatter", "relu_", "sigmoid_", "tanh_", "exp_", "sqrt_",
    "abs_", "clamp_", "neg_", "log_", "cos_", "sin_", "ceil_", "floor_", "round_", "trunc_",
    "resize_as_",
)

__all__ = [*METHOD_FORMS]

for _name in METHOD_FORMS:
    globals()[_name] = _method_form(_name)
