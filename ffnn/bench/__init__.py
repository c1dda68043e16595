"""``ffnn.bench``: ffnn side by side with PyTorch, JAX and scikit-learn (``ffnn bench``).

Cases (``ffnn.bench.cases``): ``mlp``, ``ffn``, ``tiny`` training steps, ``shapes`` (five
other networks) and ``sweep`` (every activation × optimizer on one MLP, with norms, dropout
and float64), ``predict`` inference, ``sklearn`` (FFNNClassifier vs MLPClassifier),
``distributed``, ``encode`` and ``tabular``. Training steps run each library in its own
process (``ffnn.bench.peer``: ffnn, torch, jax where installed, NumPy's matrix products
alone), timed in alternation at the same thread count, float32, medians; a row has the
ratios ffnn/torch, ffnn/JAX and step/matmuls against their targets. ``--check`` compares
the peers' float64 losses with ffnn's. ``main(argv)`` is the command; ``run_benchmarks``
returns the numbers.
"""

from ffnn.bench.run import main, run_benchmarks

__all__ = ["main", "run_benchmarks"]
