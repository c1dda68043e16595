"""The benchmark cases: the same model, data, loss and optimizer in ffnn and in PyTorch.

Each case gives one callable per library that runs one step (a training step: zero_grad,
forward, loss, backward, optimizer step; or, for ``predict``, one inference pass), plus a
NumPy callable that runs only the step's matrix products on the same shapes — the floor that
everything else (element-wise work, the optimizer, the framework) is measured against.
Both libraries start from the same weights (ffnn's initialisation copied into torch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

TRAIN_CASES = ("mlp", "ffn", "tiny")
ARRAY_CASES = TRAIN_CASES + ("predict",)
ALL_CASES = ARRAY_CASES + ("sklearn", "distributed", "encode")

DESCRIPTIONS = {
    "mlp": "784-512-256-10 MLP, ReLU, batch 128, cross-entropy, Adam: one training step",
    "ffn": "FFN block 1024→4096→1024, GELU, 256 rows, MSE, AdamW: one training step",
    "tiny": "2-3-1 MLP, tanh, batch 1, MSE, SGD: one training step (framework overhead)",
    "predict": "inference of the mlp model over 100,000 rows",
    "sklearn": "FFNNClassifier vs scikit-learn MLPClassifier, fit on digits and breast cancer",
    "distributed": "ffn step data-parallel over MPI ranks (ffnn.distributed)",
    "encode": "all-MiniLM-L6-v2 encode() of varied sentences vs sentence-transformers",
}


@dataclass
class Spec:
    """What a case is made of: layer sizes, activation, rows, loss, optimizer."""

    sizes: tuple[int, ...]
    activation: str
    rows: int
    loss: str
    optimizer: str
    train: bool = True
    lr: float = 1e-3


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


def matmul_flops(spec: Spec) -> float:
    """FLOPs of the step's matrix products: 2·n·in·out per product.

    Forward: one product per layer. Training adds dL/dW for every layer and dL/dx for every
    layer but the first (the input needs no gradient), in both libraries.
    """
    n, total = spec.rows, 0.0
    for i, (fan_in, fan_out) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:])):
        per = 2.0 * n * fan_in * fan_out
        total += per
        if spec.train:
            total += per + (per if i > 0 else 0.0)
    return total


def make_data(spec: Spec, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs [rows, in] float32 and targets (class indices int64 or float32 rows)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((spec.rows, spec.sizes[0]), dtype=np.float32)
    if spec.loss == "cross_entropy":
        return x, rng.integers(0, spec.sizes[-1], spec.rows).astype(np.int64)
    if spec.loss == "mse":
        return x, rng.standard_normal((spec.rows, spec.sizes[-1]), dtype=np.float32)
    return x, None


def _build(lib, spec: Spec, x_np: np.ndarray, y_np: np.ndarray | None):
    """(model, step callable) written once against the API both libraries share: ``lib`` is
    ``ffnn`` or ``torch`` (``import ffnn as torch`` is the whole difference)."""
    nn = lib.nn
    act = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}[spec.activation]
    layers = []
    for i, (a, b) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(spec.sizes) - 2:
            layers.append(act())
    model = nn.Sequential(*layers)
    x = lib.from_numpy(x_np)
    if not spec.train:
        model.eval()

        def predict():
            with lib.no_grad():
                return model(x)

        return model, predict
    y = lib.from_numpy(y_np)
    loss_fn = nn.CrossEntropyLoss() if spec.loss == "cross_entropy" else nn.MSELoss()
    opt_cls = {"adam": lib.optim.Adam, "adamw": lib.optim.AdamW,
               "sgd": lib.optim.SGD}[spec.optimizer]
    opt = opt_cls(model.parameters(), lr=spec.lr)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def build_ffnn(spec: Spec, seed: int = 0):
    """(model, step callable) in ffnn, initialised from ``seed``."""
    import ffnn
    import ffnn.optim  # noqa: F401 - lib.optim below

    ffnn.manual_seed(seed)
    return _build(ffnn, spec, *make_data(spec, seed))


def build_torch(spec: Spec, state: dict | None, seed: int = 0):
    """(model, step callable) in PyTorch, starting from ffnn's weights ``state`` (or torch's
    own initialisation when None)."""
    import torch

    model, step = _build(torch, spec, *make_data(spec, seed))
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    return model, step


def build_matmul(spec: Spec, seed: int = 0) -> Callable[[], object]:
    """The step's matrix products alone, in NumPy, with the layouts ffnn uses
    (x @ Wᵀ forward; gᵀ @ x for dL/dW; g @ W for dL/dx), on fresh random arrays."""
    rng = np.random.default_rng(seed + 1)
    products = []
    n = spec.rows
    for i, (a, b) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:])):
        x = rng.standard_normal((n, a), dtype=np.float32)
        w = rng.standard_normal((b, a), dtype=np.float32)
        g = rng.standard_normal((n, b), dtype=np.float32)
        products.append((x, w.T))
        if spec.train:
            products.append((g.T, x))
            if i > 0:
                products.append((g, w))

    def run():
        for a, b in products:
            a @ b

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
