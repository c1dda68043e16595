"""``ScatterAdd``: y = x with src added at positions, repeated positions adding up
(``scatter_add``, ``index_add``); the transpose of indexing, so its gradient is an index."""

from __future__ import annotations

from ffnn.autograd import Op
from ffnn.ops import scatter
from ffnn.ops.shape import GetItem


class ScatterAdd(Op):
    """y = x;  y[index] += src (``np.add.at``: each repeat adds once more).

    dL/dx = dL/dy,  dL/dsrc = dL/dy[index]. ``index`` is a NumPy index (a tuple of integer
    arrays and slices) whose selection has ``src``'s shape."""

    def forward(self, x, src, index):
        self.index = index
        out = x.copy()
        scatter.add_at(out, index, src)
        return out

    def backward(self, grad):
        grad_src = grad[self.index] if self.needs_input_grad[1] else None
        return grad, grad_src

    def backward_graph(self, grad, x, src):
        grad_src = GetItem.apply(grad, index=self.index) if self.needs_input_grad[1] else None
        return grad, grad_src
