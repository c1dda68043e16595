"""Embedding lookup: rows of a weight table picked by integer indices."""

from __future__ import annotations

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.errors import RuntimeTypeError
from ffnn.ops import scatter


class Embedding(Op):
    """y[..., :] = W[idx[...], :] for idx of any shape (integers), W [num_embeddings, dim].

    dL/dW[k] = Σ over positions p with idx[p] = k of dL/dy[p]  (a scatter-add);
    the row ``padding_idx`` gets no gradient. The indices get none (they are not continuous).
    """

    def forward(self, indices, weight, padding_idx=None):
        if indices.dtype.kind not in "iu":
            raise RuntimeTypeError(
                "embedding: indices must be integers (a LongTensor). "
                f"Received: dtype={indices.dtype}"
            )
        num = weight.shape[0]
        if indices.size and (indices.min() < -num or indices.max() >= num):
            bad = indices.max() if indices.max() >= num else indices.min()
            raise IndexError(
                f"embedding: index {int(bad)} is out of range for num_embeddings={num} "
                f"(valid: 0..{num - 1})"
            )
        self.indices, self.num_embeddings, self.padding_idx = indices, num, padding_idx
        return weight[indices]

    def backward(self, grad):
        if not self.needs_input_grad[1]:
            return None, None
        m = xp(grad)
        dim = grad.shape[-1]
        grad_weight = m.zeros((self.num_embeddings, dim), dtype=grad.dtype)
        scatter.add_at(grad_weight, self.indices.reshape(-1), grad.reshape(-1, dim))
        if self.padding_idx is not None:
            grad_weight[self.padding_idx] = 0
        return None, grad_weight

    def backward_graph(self, grad, indices, weight):
        """The scatter-add as a recorded ``ScatterAdd`` into zeros (the padding row's share
        left out first), so the weight's gradient can be differentiated again."""
        from ffnn.ops.elementwise import constant_like  # noqa: PLC0415
        from ffnn.ops.scatter_more import ScatterAdd  # noqa: PLC0415

        if not self.needs_input_grad[1]:
            return None, None
        rows = self.indices.reshape(-1) % self.num_embeddings
        dim = grad.shape[-1]
        flat = grad.reshape(-1, dim)
        if self.padding_idx is not None:
            kept = (rows != self.padding_idx % self.num_embeddings).astype(grad.dtype)
            flat = flat * constant_like(flat, kept[:, None])
        zeros = constant_like(weight, xp(weight._data).zeros(tuple(weight.shape), weight.dtype))
        return None, ScatterAdd.apply(zeros, flat, index=(rows,))
