"""Each benchmark optimizer once, with every hyper-parameter spelled out for each library.

``torch_optimizer`` gives the class name and arguments for ``ffnn.optim`` and
``torch.optim`` (the same API); ``optax_optimizer`` gives the ``optax`` factory and
arguments that compute the same update (for Adagrad, whose optax form puts ε under the root,
a transformation of the JAX peer's own with torch's formula). Nothing here imports JAX, so
the mapping is tested where JAX is not installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MOMENTUM = 0.9
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
ADAMW_WEIGHT_DECAY = 0.01
RMSPROP_ALPHA = 0.99
RMSPROP_EPS = 1e-8
ADAGRAD_EPS = 1e-10
TORCH_ADAGRAD = "torch_adagrad"
"""Not an ``optax`` factory: ``ffnn.bench.jax_step.torch_adagrad``, built from optax's parts."""


@dataclass(frozen=True)
class Recipe:
    """One optimizer: ``ffnn.optim``/``torch.optim`` class and keyword arguments, and the
    ``optax`` factory and keyword arguments of the same update (learning rate added later)."""

    torch_class: str
    torch_kwargs: dict = field(default_factory=dict)
    optax_factory: str = ""
    optax_kwargs: dict = field(default_factory=dict)


OPTIMIZERS: dict[str, Recipe] = {
    "sgd": Recipe("SGD", {}, "sgd", {}),
    # torch: b = μb + g, p -= lr·b; optax.trace: t = g + μt, the same from t = 0
    "sgd_momentum": Recipe("SGD", {"momentum": MOMENTUM}, "sgd", {"momentum": MOMENTUM}),
    "nesterov": Recipe("SGD", {"momentum": MOMENTUM, "nesterov": True},
                       "sgd", {"momentum": MOMENTUM, "nesterov": True}),
    "adam": Recipe("Adam", {"betas": BETAS, "eps": ADAM_EPS},
                   "adam", {"b1": BETAS[0], "b2": BETAS[1], "eps": ADAM_EPS}),
    # torch decays p by lr·λ·p before the Adam step; optax adds λ·p to the update: equal
    "adamw": Recipe("AdamW", {"betas": BETAS, "eps": ADAM_EPS,
                              "weight_decay": ADAMW_WEIGHT_DECAY},
                    "adamw", {"b1": BETAS[0], "b2": BETAS[1], "eps": ADAM_EPS,
                              "weight_decay": ADAMW_WEIGHT_DECAY}),
    # torch: g / (√v + ε); optax's default puts ε under the root
    "rmsprop": Recipe("RMSprop", {"alpha": RMSPROP_ALPHA, "eps": RMSPROP_EPS},
                      "rmsprop", {"decay": RMSPROP_ALPHA, "eps": RMSPROP_EPS,
                                  "eps_in_sqrt": False, "initial_scale": 0.0}),
    # torch: g / (√s + ε); optax.adagrad: g / √(s + ε), which differs where |g| ~ ε, so the
    # JAX peer uses an optax transformation with torch's formula (``jax_step.torch_adagrad``)
    "adagrad": Recipe("Adagrad", {"eps": ADAGRAD_EPS, "initial_accumulator_value": 0.0},
                      TORCH_ADAGRAD, {"eps": ADAGRAD_EPS, "initial_accumulator_value": 0.0}),
}


def _recipe(name: str) -> Recipe:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {tuple(OPTIMIZERS)}. Received: "
                         f"optimizer={name!r}")
    return OPTIMIZERS[name]


def torch_optimizer(name: str, lr: float) -> tuple[str, dict]:
    """(class name in ``ffnn.optim`` / ``torch.optim``, keyword arguments with ``lr``)."""
    recipe = _recipe(name)
    return recipe.torch_class, {"lr": lr, **recipe.torch_kwargs}


def optax_optimizer(name: str, lr: float) -> tuple[str, dict]:
    """(``optax`` factory name, keyword arguments with ``learning_rate``)."""
    recipe = _recipe(name)
    return recipe.optax_factory, {"learning_rate": lr, **recipe.optax_kwargs}
