"""The JAX peer: a case's training step as one ``jax.jit``-compiled function with ``optax``.

Same network (``ffnn.bench.layout``), weights, data, loss and optimizer update
(``ffnn.bench.optimizers``) as ffnn's and PyTorch's step. Parameters, optimizer state and
batch-norm statistics are donated to the compiled step, so that it updates them in place as
the other libraries do; each call waits for its result (``block_until_ready``), so a timed
call is a whole step. Imported only in the JAX peer's own process.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ffnn.bench import layout, optimizers


def enable_float64() -> None:
    """Let JAX hold float64 arrays (float32 arrays stay float32)."""
    import jax

    jax.config.update("jax_enable_x64", True)


def _activation(name: str) -> Callable:
    import jax
    import jax.numpy as jnp

    return {"relu": jax.nn.relu, "gelu": lambda h: jax.nn.gelu(h, approximate=False),
            "silu": jax.nn.silu, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid,
            "leaky_relu": lambda h: jax.nn.leaky_relu(h, layout.LEAKY_SLOPE),
            "gelu_tanh": lambda h: jax.nn.gelu(h, approximate=True), "elu": jax.nn.elu,
            "selu": jax.nn.selu, "softplus": jax.nn.softplus, "celu": jax.nn.celu,
            "softsign": jax.nn.soft_sign, "mish": jax.nn.mish, "hardswish": jax.nn.hard_swish,
            "hardsigmoid": jax.nn.hard_sigmoid, "hardtanh": jax.nn.hard_tanh,
            "relu6": jax.nn.relu6, "logsigmoid": jax.nn.log_sigmoid}[name]


def _forward(plan: list[tuple], params: dict, stats: dict, x, key):
    """(output, new batch-norm statistics): the network of ``plan`` in training mode."""
    import jax
    import jax.numpy as jnp

    h, new_stats = x, {}
    for i, layer in enumerate(plan):
        kind = layer[0]
        if kind == "linear":
            h = h @ params[f"{i}.weight"].T + params[f"{i}.bias"]
        elif kind == "batch_norm":
            mean, var = h.mean(axis=0), h.var(axis=0)
            h = (h - mean) / jnp.sqrt(var + layout.NORM_EPS)
            h = h * params[f"{i}.weight"] + params[f"{i}.bias"]
            m, n = layout.BATCH_NORM_MOMENTUM, x.shape[0]
            new_stats[f"{i}.running_mean"] = (1 - m) * stats[f"{i}.running_mean"] + m * mean
            new_stats[f"{i}.running_var"] = ((1 - m) * stats[f"{i}.running_var"]
                                             + m * var * (n / (n - 1)))
        elif kind == "layer_norm":
            mean, var = h.mean(axis=-1, keepdims=True), h.var(axis=-1, keepdims=True)
            h = (h - mean) / jnp.sqrt(var + layout.NORM_EPS)
            h = h * params[f"{i}.weight"] + params[f"{i}.bias"]
        elif kind == "dropout":
            key, sub = jax.random.split(key)
            keep = jax.random.bernoulli(sub, 1.0 - layer[1], h.shape)
            h = jnp.where(keep, h / (1.0 - layer[1]), 0.0)
        else:
            h = _activation(layer[1])(h)
    return h, new_stats


def _loss(kind: str, out, y):
    import jax
    import jax.numpy as jnp

    if kind == "cross_entropy":
        logp = jax.nn.log_softmax(out, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1))
    return jnp.mean((out - y) ** 2)


def torch_adagrad(learning_rate: float, eps: float, initial_accumulator_value: float):
    """Adagrad as PyTorch writes it, as an optax transformation:
    s ← s + g², update = −lr · g / (√s + ε) (optax.adagrad divides by √(s + ε) instead)."""
    import jax
    import jax.numpy as jnp
    import optax

    def init(params):
        return jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params)

    def update(grads, state, params=None):
        state = jax.tree.map(lambda s, g: s + g * g, state, grads)
        updates = jax.tree.map(lambda g, s: -learning_rate * g / (jnp.sqrt(s) + eps),
                               grads, state)
        return updates, state

    return optax.GradientTransformation(init, update)


def _optimizer(name: str, lr: float):
    import optax

    factory, kwargs = optimizers.optax_optimizer(name, lr)
    if factory == optimizers.TORCH_ADAGRAD:
        return torch_adagrad(**kwargs)
    return getattr(optax, factory)(**kwargs)


def build_jax(spec, state: dict[str, np.ndarray], x_np: np.ndarray,
              y_np: np.ndarray, seed: int = 0) -> Callable[[], float]:
    """The step callable of ``spec`` (a ``ffnn.bench.cases.Spec``) from the weights
    ``state``; each call runs one step and returns its loss (as a JAX scalar)."""
    import jax
    import optax

    plan = spec.plan()
    params = {k: jax.numpy.asarray(v) for k, v in state.items()
              if k.endswith(".weight") or k.endswith(".bias")}
    stats = {k: jax.numpy.asarray(v) for k, v in state.items()
             if k.endswith(".running_mean") or k.endswith(".running_var")}
    opt = _optimizer(spec.optimizer, spec.lr)

    def loss_of(params, stats, x, y, key):
        out, new_stats = _forward(plan, params, stats, x, key)
        return _loss(spec.loss, out, y), new_stats

    def train_step(params, opt_state, stats, key, x, y):
        key, sub = jax.random.split(key)
        (loss, new_stats), grads = jax.value_and_grad(loss_of, has_aux=True)(
            params, stats, x, y, sub)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, new_stats, key, loss

    compiled = jax.jit(train_step, donate_argnums=(0, 1, 2))
    x, y = jax.numpy.asarray(x_np), jax.numpy.asarray(y_np)
    carry = [params, opt.init(params), stats, jax.random.PRNGKey(seed)]

    def step():
        result = compiled(*carry, x, y)
        carry[:] = result[:4]
        return result[4].block_until_ready()

    return step
