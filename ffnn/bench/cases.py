"""The benchmark cases: the same model, data, loss and optimizer in ffnn and in PyTorch.

Each case gives one callable per library that runs one step (a training step: zero_grad,
forward, loss, backward, optimizer step; or, for ``predict``, one inference pass), plus a
NumPy callable that runs only the step's matrix products on the same shapes — the floor that
everything else (element-wise work, the optimizer, the framework) is measured against.
Both libraries start from the same weights (ffnn's initialisation copied into torch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from ffnn.bench import layout, optimizers

TRAIN_CASES = ("mlp", "ffn", "tiny")
ARRAY_CASES = TRAIN_CASES + ("predict",)
GROUP_CASES = ("shapes", "sweep")
ALL_CASES = ARRAY_CASES + GROUP_CASES + ("sklearn", "distributed", "encode")

DESCRIPTIONS = {
    "mlp": "784-512-256-10 MLP, ReLU, batch 128, cross-entropy, Adam: one training step",
    "ffn": "FFN block 1024→4096→1024, GELU, 256 rows, MSE, AdamW: one training step",
    "tiny": "2-3-1 MLP, tanh, batch 1, MSE, SGD: one training step (framework overhead)",
    "predict": "inference of the mlp model over 100,000 rows",
    "shapes": "five other MLP shapes (ffnn.bench.sweep.shape_specs)",
    "sweep": "every activation x optimizer, norms, dropout, float64 (ffnn.bench.sweep)",
    "sklearn": "FFNNClassifier vs scikit-learn MLPClassifier, fit on digits and breast cancer",
    "distributed": "ffn step data-parallel over MPI ranks (ffnn.distributed)",
    "encode": "all-MiniLM-L6-v2 encode() of varied sentences vs sentence-transformers",
}


@dataclass
class Spec:
    """What a case is made of: layer sizes, activation, rows, loss, optimizer (a name in
    ``ffnn.bench.optimizers.OPTIMIZERS``), learning rate, norm, dropout and dtype."""

    sizes: tuple[int, ...]
    activation: str
    rows: int
    loss: str
    optimizer: str
    train: bool = True
    lr: float = 1e-3
    norm: str = "none"
    dropout: float = 0.0
    dtype: str = "float32"
    form: str = "sequential"
    """How the network is written: 'sequential' (``nn.Sequential``) or 'module' (a
    ``Module`` subclass calling its layers in its own ``forward``, as PyTorch programs
    write it; ``ffnn.compile`` reads it from its first call)."""

    def to_dict(self) -> dict:
        """A JSON-ready dict (what the peer processes receive)."""
        return dict(asdict(self), sizes=list(self.sizes))

    @classmethod
    def from_dict(cls, d: dict) -> Spec:
        return cls(**dict(d, sizes=tuple(int(s) for s in d["sizes"])))

    def plan(self) -> list[tuple]:
        """The layers (``ffnn.bench.layout.layers``)."""
        return layout.layers(self.sizes, self.activation, self.norm, self.dropout)


SPECS = {
    "mlp": Spec((784, 512, 256, 10), "relu", 128, "cross_entropy", "adam"),
    "ffn": Spec((1024, 4096, 1024), "gelu", 256, "mse", "adamw"),
    "tiny": Spec((2, 3, 1), "tanh", 1, "mse", "sgd", lr=1e-2),
    "predict": Spec((784, 512, 256, 10), "relu", 100_000, "none", "none", train=False),
}


@dataclass
class Built:
    """A built case: ``steps`` maps a library name to its one-step callable."""

    name: str
    spec: Spec
    steps: dict[str, Callable[[], object]] = field(default_factory=dict)
    matmul: Callable[[], object] | None = None
    flops: float = 0.0
    notes: list[str] = field(default_factory=list)


def matmul_shapes(spec: Spec) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The step's matrix products as (left shape, right shape), in the layouts ffnn uses.

    Per Linear (in → out) on n rows: forward x @ Wᵀ, [n, in] @ [in, out]; training adds
    dL/dW = gᵀ @ x, [out, n] @ [n, in], and, for every layer but the first (the input needs
    no gradient, in any of the libraries), dL/dx = g @ W, [n, out] @ [out, in].
    """
    n, shapes = spec.rows, []
    for i, (a, b) in enumerate(layout.linear_shapes(spec.plan())):
        shapes.append(((n, a), (a, b)))
        if spec.train:
            shapes.append(((b, n), (n, a)))
            if i > 0:
                shapes.append(((n, b), (b, a)))
    return shapes


def matmul_flops(spec: Spec) -> float:
    """FLOPs of the step's matrix products (``matmul_shapes``): 2·m·k·n per product."""
    return float(sum(2.0 * m * k * right[1] for (m, k), right in matmul_shapes(spec)))


def make_data(spec: Spec, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs [rows, in] of ``spec.dtype`` and targets (class indices int64 or float rows)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((spec.rows, spec.sizes[0])).astype(spec.dtype)
    if spec.loss == "cross_entropy":
        return x, rng.integers(0, spec.sizes[-1], spec.rows).astype(np.int64)
    if spec.loss == "mse":
        return x, rng.standard_normal((spec.rows, spec.sizes[-1])).astype(spec.dtype)
    return x, None


_MODULES = {"relu": "ReLU", "gelu": "GELU", "silu": "SiLU", "tanh": "Tanh",
            "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "elu": "ELU", "selu": "SELU",
            "softplus": "Softplus", "celu": "CELU", "softsign": "Softsign", "mish": "Mish",
            "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid", "hardtanh": "Hardtanh",
            "relu6": "ReLU6", "logsigmoid": "LogSigmoid"}


def _module(nn, layer: tuple):
    kind = layer[0]
    if kind == "linear":
        return nn.Linear(layer[1], layer[2])
    if kind == "batch_norm":
        return nn.BatchNorm1d(layer[1], eps=layout.NORM_EPS,
                              momentum=layout.BATCH_NORM_MOMENTUM)
    if kind == "layer_norm":
        return nn.LayerNorm(layer[1], eps=layout.NORM_EPS)
    if kind == "dropout":
        return nn.Dropout(layer[1])
    if layer[1] == "leaky_relu":
        return nn.LeakyReLU(layout.LEAKY_SLOPE)
    if layer[1] == "gelu_tanh":
        return nn.GELU(approximate="tanh")
    return getattr(nn, _MODULES[layer[1]])()


FORMS = ("sequential", "module")


def _model(lib, spec: Spec):
    """The case's network in ``lib`` (``ffnn`` or ``torch``), written in ``spec.form``."""
    modules = [_module(lib.nn, layer) for layer in spec.plan()]
    model = lib.nn.Sequential(*modules) if spec.form == "sequential" else \
        _subclassed(lib.nn, modules)
    return model.double() if spec.dtype == "float64" else model


def _subclassed(nn, modules: list):
    """``modules`` as PyTorch programs write a network: a ``Module`` subclass holding them
    (``self.layers``) and calling each in its ``forward``."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(modules)

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    return Net()


def model_state(spec: Spec, state: dict) -> dict:
    """``state`` (``layout.init_state``'s, keyed as a Sequential's) keyed as the case's
    model is (``layers.`` first in the module form)."""
    return state if spec.form == "sequential" else {f"layers.{k}": v for k, v in state.items()}


def _training(lib, spec: Spec, model):
    """(loss function, optimizer) of a training case in ``lib``."""
    loss_fn = lib.nn.CrossEntropyLoss() if spec.loss == "cross_entropy" else lib.nn.MSELoss()
    name, kwargs = optimizers.torch_optimizer(spec.optimizer, spec.lr)
    return loss_fn, getattr(lib.optim, name)(model.parameters(), **kwargs)


def _build(lib, spec: Spec, x_np: np.ndarray, y_np: np.ndarray | None):
    """(model, step callable) written once against the API both libraries share: ``lib`` is
    ``ffnn`` or ``torch`` (``import ffnn as torch`` is the whole difference)."""
    model = _model(lib, spec)
    x = lib.from_numpy(x_np)
    if not spec.train:
        model.eval()

        def predict():
            with lib.no_grad():
                return model(x)

        return model, predict
    y = lib.from_numpy(y_np)
    loss_fn, opt = _training(lib, spec, model)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def build_ffnn(spec: Spec, seed: int = 0, state: dict | None = None):
    """(model, step callable) in ffnn, initialised from ``seed`` (or loaded from ``state``)."""
    import ffnn
    import ffnn.optim  # noqa: F401 - lib.optim below

    ffnn.manual_seed(seed)
    model, step = _build(ffnn, spec, *make_data(spec, seed))
    if state is not None:
        model.load_state_dict(model_state(spec, state))
    return model, step


def compiled_mode(spec: Spec) -> str:
    """``ffnn.compile``'s mode for the case: 'fused' for every case (the whole step in one
    numba call, large products through NumPy's own BLAS); a step it cannot fuse is
    replayed, and one it cannot capture runs eagerly."""
    return "fused"


def build_ffnn_compiled(spec: Spec, seed: int = 0, state: dict | None = None):
    """(model, step callable): the case's training step through ``ffnn.compile`` in
    ``compiled_mode(spec)`` (what a user who wants speed runs, as JAX's peer runs
    ``jax.jit``); a step it cannot capture runs eagerly, with its one-line warning."""
    import ffnn
    import ffnn.optim  # noqa: F401 - lib.optim below

    ffnn.manual_seed(seed)
    model = _model(ffnn, spec)
    if state is not None:
        model.load_state_dict(model_state(spec, state))
    x_np, y_np = make_data(spec, seed)
    x, y = ffnn.from_numpy(x_np), ffnn.from_numpy(y_np)
    loss_fn, opt = _training(ffnn, spec, model)
    step = ffnn.compile(model, loss_fn, opt, mode=compiled_mode(spec))
    return model, lambda: step(x, y)


def build_torch(spec: Spec, state: dict | None, seed: int = 0):
    """(model, step callable) in PyTorch, starting from the weights ``state`` (ffnn's, or
    torch's own initialisation when None)."""
    import torch

    torch.manual_seed(seed)
    model, step = _build(torch, spec, *make_data(spec, seed))
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(np.array(v))
                               for k, v in model_state(spec, state).items()})
    return model, step


def build_matmul(spec: Spec, seed: int = 0) -> Callable[[], object]:
    """The step's matrix products alone (``matmul_shapes``), in NumPy, with the layouts ffnn
    uses (x @ Wᵀ forward; gᵀ @ x for dL/dW; g @ W for dL/dx) and as ffnn computes them
    (``ffnn.ops.matrix.product``: outer products broadcast), on fresh random arrays."""
    from ffnn.ops.matrix import product

    rng = np.random.default_rng(seed + 1)
    products = []
    n = spec.rows
    for i, (a, b) in enumerate(layout.linear_shapes(spec.plan())):
        x = rng.standard_normal((n, a)).astype(spec.dtype)
        w = rng.standard_normal((b, a)).astype(spec.dtype)
        g = rng.standard_normal((n, b)).astype(spec.dtype)
        products.append((x, w.T))
        if spec.train:
            products.append((g.T, x))
            if i > 0:
                products.append((g, w))

    def run():
        for left, right in products:
            product(left, right)

    return run


def build(name: str, libraries: tuple[str, ...], seed: int = 0) -> Built:
    """Build case ``name`` for the given libraries ('ffnn', 'torch')."""
    spec = SPECS[name]
    built = Built(name, spec, flops=matmul_flops(spec))
    model, built.steps["ffnn"] = build_ffnn(spec, seed)
    if "torch" in libraries:
        state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
        built.steps["torch"] = build_torch(spec, state, seed)[1]
    built.matmul = build_matmul(spec, seed)
    return built
