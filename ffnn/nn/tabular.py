"""``TabularModel``: one learned embedding per categorical column, concatenated with the
continuous inputs, then an MLP."""

from __future__ import annotations

import numpy as np

from ffnn import ops
from ffnn.nn.container import ModuleList, Sequential
from ffnn.nn.embedding import Embedding
from ffnn.nn.module import Module
from ffnn.nn.traits import declare, restore
from ffnn.tensor import Tensor

RESERVED_ROWS = 2
"""Rows 0 (other / unseen) and 1 (missing) of each table start at zero, so a category never
seen in training adds nothing until training teaches the row something."""


class TabularModel(Module):
    """y = mlp(concat(x_cont, E_1[c_1], …, E_k[c_k])).

    x [n, num_continuous + k] (float): the continuous columns first, then k columns holding
    category indices (whole numbers; ``TabularPreprocessor`` writes this layout), or
    ``forward(x_cont, categories)`` with categories [n, k] integers.
    E_j [cardinalities[j], embedding_dims[j]]; mlp takes num_continuous + Σ embedding_dims
    features (default: Linear-ReLU per ``hidden_sizes``, then Linear to ``out_features``).
    """

    def __init__(self, num_continuous: int, cardinalities, embedding_dims, mlp: Module | None
                 = None, hidden_sizes=(128, 64), out_features: int = 1, dtype=None):
        super().__init__()
        cardinalities, embedding_dims = list(cardinalities), list(embedding_dims)
        if len(cardinalities) != len(embedding_dims) or int(num_continuous) < 0:
            raise ValueError(
                "TabularModel: one embedding dim per categorical column and num_continuous >= 0."
                f" Received: num_continuous={num_continuous}, cardinalities={cardinalities}, "
                f"embedding_dims={embedding_dims}")
        self.num_continuous = int(num_continuous)
        self.cardinalities = [int(c) for c in cardinalities]
        self.embedding_dims = [int(d) for d in embedding_dims]
        self.embeddings = ModuleList([Embedding(c, d, dtype=dtype)
                                      for c, d in zip(self.cardinalities, self.embedding_dims)])
        for table in self.embeddings:
            table.weight.numpy()[:RESERVED_ROWS] = 0
        if mlp is None:
            from ffnn.nn.activation import ReLU
            from ffnn.nn.linear import Linear

            layers, width = [], self.mlp_in_features
            for size in hidden_sizes:
                layers += [Linear(width, size, dtype=dtype), ReLU()]
                width = size
            mlp = Sequential(*layers, Linear(width, out_features, dtype=dtype))
        self.mlp = mlp

    @property
    def mlp_in_features(self) -> int:
        return self.num_continuous + sum(self.embedding_dims)

    @property
    def in_features(self) -> int:
        """Columns of the single-matrix input: continuous + one index column per embedding."""
        return self.num_continuous + len(self.cardinalities)

    @classmethod
    def from_preprocessor(cls, preprocessor, mlp: Module | None = None, hidden_sizes=(128, 64),
                          out_features: int = 1, dtype=None) -> TabularModel:
        """The model for the columns a fitted ``TabularPreprocessor`` produces."""
        return cls(preprocessor.num_continuous, preprocessor.cardinalities,
                   preprocessor.embedding_dims, mlp, hidden_sizes, out_features, dtype)

    def forward(self, x, categories=None) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor._of(np.asarray(x))
        k = len(self.cardinalities)
        if categories is None:
            if x.ndim != 2 or x.shape[1] != self.in_features:
                raise ValueError(
                    f"TabularModel expects input [n, {self.in_features}] ({self.num_continuous} "
                    f"continuous + {k} category index columns). Received: shape {tuple(x.shape)}")
            index = x.numpy()[:, self.num_continuous:]
            if not np.array_equal(index, np.round(index)):
                raise ValueError("TabularModel: the category index columns must hold whole "
                                 "numbers")
            categories = index.astype(np.int64)
            x = x[:, :self.num_continuous] if k else x
        else:
            categories = np.asarray(categories.numpy() if isinstance(categories, Tensor)
                                    else categories)
            if categories.ndim != 2 or categories.shape[1] != k:
                raise ValueError(f"TabularModel: categories must be [n, {k}] integers. "
                                 f"Received: shape {categories.shape}")
        parts = [x] if self.num_continuous else []
        for j, table in enumerate(self.embeddings):
            parts.append(table(Tensor._of(np.ascontiguousarray(categories[:, j]))))
        if not parts:
            raise ValueError("TabularModel has neither continuous nor categorical inputs")
        h = parts[0] if len(parts) == 1 else ops.concatenate(parts, 1)
        return self.mlp(h)

    def get_config(self) -> dict:
        return {"num_continuous": self.num_continuous, "cardinalities": self.cardinalities,
                "embedding_dims": self.embedding_dims}

    def extra_repr(self) -> str:
        return (f"num_continuous={self.num_continuous}, cardinalities={self.cardinalities}, "
                f"embedding_dims={self.embedding_dims}")


def _onnx_tabular(g, m, x, path):
    """Slice the continuous columns; per categorical column: Slice, Cast to int64, Squeeze,
    Gather its embedding row; Concat; then the MLP."""
    n = m.num_continuous
    axes = g.const([1], f"{path}.axes", dtype=np.int64)

    def columns(start: int, stop: int, hint: str) -> str:
        bounds = [g.const([b], f"{hint}.{w}", dtype=np.int64) for b, w in ((start, "start"),
                                                                          (stop, "stop"))]
        return g.node("Slice", [x, *bounds, axes], hint)

    parts = [columns(0, n, f"{path}.continuous")] if n else []
    for j, table in enumerate(m.embeddings):
        hint = f"{path}.embeddings.{j}"
        index = g.node("Cast", [columns(n + j, n + j + 1, hint)], hint,
                       to=g.onnx.TensorProto.INT64)
        index = g.node("Squeeze", [index, axes], hint)
        parts.append(g.node("Gather", [g.const(table.weight.numpy(), f"{hint}.weight"), index],
                            hint, axis=0))
    h = parts[0] if len(parts) == 1 else g.node("Concat", parts, path or "tabular", axis=1)
    return g.convert(m.mlp, h, f"{path}.mlp" if path else "mlp")


declare(TabularModel, config=TabularModel.get_config, from_config=restore(TabularModel),
        onnx=_onnx_tabular)
