"""``ffnn.bench``: ffnn side by side with PyTorch and scikit-learn (``ffnn bench``).

Cases (``ffnn.bench.cases``): ``mlp``, ``ffn``, ``tiny`` training steps, ``predict``
inference, ``sklearn`` (FFNNClassifier vs MLPClassifier) and ``distributed``. For each: the
median time per step of both libraries measured in alternation at the same thread count
(float32), the ratio, the achieved GFLOP/s of the step's matrix products and their share of
NumPy's own time for those products on the same shapes, and the peak memory of each library
in a fresh process. ``main(argv)`` is the command; ``run_benchmarks`` returns the numbers.
"""

from ffnn.bench.run import main, run_benchmarks

__all__ = ["main", "run_benchmarks"]
