"""``python -m ffnn.bench.compiled``: the compiled step against eager ffnn, PyTorch and JAX.

Two cases from issue 17: 2-3-1 tanh, batch 1, SGD (lr 0.1) on MSE, and 64-32-32-10 tanh,
batch 32, Adam on cross-entropy; float32. Each library runs in its own process (XLA's and
OpenBLAS's threads must not share one); the processes take turns for ``--rounds`` rounds,
so a busy machine slows all of them alike, and each prints the median over ``--repeats``
blocks of ``--number`` steps. The table gives the medians over rounds, in ms per step.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import timeit

import numpy as np

CASES = {"2-3-1 tanh b1 SGD": ([2, 3, 1], 1, "sgd"),
         "64-32-32-10 tanh b32 Adam": ([64, 32, 32, 10], 32, "adam")}


def _data(sizes, n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, sizes[0])).astype(np.float32)
    if sizes[-1] == 1:
        return x, rng.standard_normal((n, 1)).astype(np.float32)
    return x, rng.integers(0, sizes[-1], n)


def _median_ms(fn, repeats: int, number: int) -> float:
    for _ in range(10):
        fn()
    return float(np.median([timeit.timeit(fn, number=number) / number * 1e3
                            for _ in range(repeats)]))


def _ffnn(sizes, n, opt, repeats, number) -> dict:
    import ffnn
    from ffnn import nn, optim

    x, y = (ffnn.tensor(a) for a in _data(sizes, n))
    layers = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.Tanh()]
    model = nn.Sequential(*layers[:-1])
    optimizer = optim.SGD(model.parameters(), 0.1) if opt == "sgd" else \
        optim.Adam(model.parameters(), 1e-3)
    loss_fn = nn.MSELoss() if sizes[-1] == 1 else nn.CrossEntropyLoss()

    def eager():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    replay = ffnn.compile(model, loss_fn, optimizer)
    fused = ffnn.compile(model, loss_fn, optimizer, mode="fused")
    steps = {"ffnn eager": eager, "ffnn replay": lambda: replay(x, y),
             "ffnn fused": lambda: fused(x, y)}
    return {name: _median_ms(fn, repeats, number) for name, fn in steps.items()}


def _torch(sizes, n, opt, repeats, number) -> dict:
    import torch

    torch.set_num_threads(2)
    x, y = (torch.from_numpy(a) for a in _data(sizes, n))
    layers = []
    for i in range(len(sizes) - 1):
        layers += [torch.nn.Linear(sizes[i], sizes[i + 1]), torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.SGD(model.parameters(), 0.1) if opt == "sgd" else \
        torch.optim.Adam(model.parameters(), 1e-3)
    loss_fn = torch.nn.MSELoss() if sizes[-1] == 1 else torch.nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return {"torch": _median_ms(step, repeats, number)}


def _jax(sizes, n, opt, repeats, number) -> dict:
    import jax
    import jax.numpy as jnp
    import optax

    x, y = (jnp.asarray(a) for a in _data(sizes, n))
    keys = jax.random.split(jax.random.PRNGKey(0), len(sizes))
    params = [(jax.random.normal(keys[i], (sizes[i + 1], sizes[i]), jnp.float32) * 0.3,
               jnp.zeros(sizes[i + 1], jnp.float32)) for i in range(len(sizes) - 1)]

    def forward(params, x):
        for i, (w, b) in enumerate(params):
            x = x @ w.T + b
            x = jnp.tanh(x) if i < len(params) - 1 else x
        return x

    def loss_fn(params, x, y):
        out = forward(params, x)
        if sizes[-1] == 1:
            return jnp.mean((out - y) ** 2)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(out), y[:, None], 1))

    tx = optax.sgd(0.1) if opt == "sgd" else optax.adam(1e-3)

    @jax.jit
    def update(params, state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    carry = [params, tx.init(params)]

    def step():
        carry[0], carry[1], loss = update(carry[0], carry[1], x, y)
        loss.block_until_ready()

    return {"jax jit": _median_ms(step, repeats, number)}


RUNNERS = {"ffnn": _ffnn, "torch": _torch, "jax": _jax}


def _child(library: str, repeats: int, number: int) -> None:
    results = {case: RUNNERS[library](*spec, repeats, number) for case, spec in CASES.items()}
    print(json.dumps(results))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--number", type=int, default=100)
    parser.add_argument("--libraries", default="ffnn,torch,jax")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.repeats, args.number)
        return
    needs = {"ffnn": (), "torch": ("torch",), "jax": ("jax", "optax")}
    libraries = []
    for library in args.libraries.split(","):
        if library not in RUNNERS:
            parser.error(f"--libraries: expected names among {sorted(RUNNERS)}. "
                         f"Received: {library!r}")
        missing = [m for m in needs[library] if importlib.util.find_spec(m) is None]
        if missing:
            print(f"{library}: not timed ({', '.join(missing)} not installed)")
        else:
            libraries.append(library)
    table: dict[str, dict[str, list]] = {case: {} for case in CASES}
    for _ in range(args.rounds):
        for library in libraries:
            done = subprocess.run(
                [sys.executable, "-m", "ffnn.bench.compiled", "--child", library,
                 "--repeats", str(args.repeats), "--number", str(args.number)],
                capture_output=True, text=True, check=True)
            for case, times in json.loads(done.stdout.splitlines()[-1]).items():
                for name, ms in times.items():
                    table[case].setdefault(name, []).append(ms)
    for case, times in table.items():
        print(f"{case}: " + ", ".join(f"{name} {np.median(ms):.4f} ms"
                                       for name, ms in times.items()))


if __name__ == "__main__":
    main()
