"""``SlopeProduct``: an activation's first-order gradient g · f'(x) as one op of a graph, for
higher-order gradients (``create_graph=True``, ``ffnn.graph_backward``).

Written with tensor operations, tanh's gradient g (1 - tanh² x) is four ops (tanh, a square,
a difference, a product), each with a backward of its own; a physics-informed network takes
it three times per layer and step, then differentiates all of them again. As one op it is
the activation's compiled forward and backward loops (the eager backward's values, bit for
bit), and its own derivatives are closed forms:

    z = g · f'(x),   ∂z/∂g = f'(x),   ∂z/∂x = g · f''(x),

f'' by the activation's curvature op (``ffnn.ops.curvatures``): its compiled loop, and as
an op of the graph for a third derivative.
"""

from __future__ import annotations

import numpy as np

from ffnn import accel
from ffnn.autograd import Op
from ffnn.ops import curvatures


def curvature_of(op) -> type | None:
    """The curvature op of the activation op ``op`` (applied: its options known), or None
    where its second derivative has none."""
    return curvatures.curvature_of(type(op), op.options)


class SlopeProduct(Op):
    """z = g · f'(x) for the element-wise activation ``activation`` (a ``PointwiseOp``
    class with a curvature op) and its ``options``; inputs g (dL/dy) and x."""

    def forward(self, grad, x, activation=None, options=None):
        self.activation, self.options_of = activation(), dict(options or {})
        self.activation.needs_input_grad = (True,)
        self.activation.forward(np.ascontiguousarray(x), **self.options_of)
        self.x, self.grad = x, grad
        return self._times_slope(grad)

    def _times_slope(self, grad: np.ndarray) -> np.ndarray:
        """grad · f'(x), by the activation's backward (the values its forward kept)."""
        grad = accel.dense(np.ascontiguousarray(grad), self.x.shape, self.x.dtype)
        return self.activation.backward(grad)[0]

    def backward(self, grad):
        need_grad, need_x = self.needs_input_grad
        curvature = curvatures.curvature_of(type(self.activation), self.options_of)
        second = curvatures.second_slope(curvature, self.x, **self._scalars(curvature)) \
            if need_x else None
        return (self._times_slope(grad) if need_grad else None,
                (grad * self.grad * second).astype(self.x.dtype, copy=False) if need_x
                else None)

    def backward_graph(self, grad, g, x):
        activation, options = type(self.activation), self.options_of
        curvature = curvatures.curvature_of(activation, options)
        second = curvature.apply(x, **self._scalars(curvature))
        return (SlopeProduct.apply(grad, x, activation=activation, options=options),
                grad * g * second)

    def _scalars(self, curvature) -> dict:
        """The activation's options its curvature op takes (softplus's β and threshold)."""
        return {} if curvature is not curvatures.SoftplusCurvature else self.options_of

    @property
    def op_name(self) -> str:
        activation = self.__dict__.get("activation")
        return "SlopeProduct" if activation is None else f"{type(activation).__name__}Backward"
