"""``ffnn bench --shape``: a network described in one line of text, measured like the
sweep's entries (each library in its own process, ffnn eager and compiled, PyTorch, JAX and
the products alone).

The text is the label the bench prints for its shapes, words in any order after the sizes::

    784-128-10 relu b64 adam
    20-100-100-2 leaky_relu b4096 adagrad layer_norm
    128-256-256-1 tanh b64 adam float64 mse lr 0.01 dropout 0.1

sizes (required, first): the widths joined by ``-``; ``bN``: the batch (default 128); an
activation (``ffnn.bench.layout.SHAPE_ACTIVATIONS``, default relu); an optimizer
(``ffnn.bench.optimizers.OPTIMIZERS``, default adam); ``mse`` or ``cross_entropy`` (default:
cross-entropy for two or more outputs, else MSE); ``batch_norm`` or ``layer_norm``;
``dropout P``; ``float32`` or ``float64``; ``lr X`` (default: the sweep's for the optimizer);
``module`` (or ``subclass``): the network written as a ``Module`` subclass calling its
layers in its own ``forward``, as PyTorch programs write it (default: ``nn.Sequential``).
Words are read in any case, and as they are often written: ``SGD momentum`` (or ``momentum``,
``sgd+momentum``) for sgd_momentum, ``swish`` for silu, ``leakyrelu`` for leaky_relu.
"""

from __future__ import annotations

import os

from ffnn.bench.cases import FORMS, Spec
from ffnn.bench.layout import NORMS, SHAPE_ACTIVATIONS
from ffnn.bench.optimizers import OPTIMIZERS
from ffnn.bench.sweep import label, learning_rate

ALIASES = {"momentum": "sgd_momentum", "sgd+momentum": "sgd_momentum", "swish": "silu",
           "leakyrelu": "leaky_relu", "subclass": "module"}
"""Other spellings of a word (``sgd momentum``, two words, is read as one)."""
LOSSES = ("mse", "cross_entropy")
DTYPES = ("float32", "float64")
DEFAULT_ROWS = 128
_WORDS = ", ".join(("bN", *SHAPE_ACTIVATIONS, *OPTIMIZERS, *LOSSES, *NORMS[1:], *DTYPES,
                    "dropout P", "lr X", *FORMS[1:]))


def _fail(text: str, why: str) -> ValueError:
    return ValueError(f"--shape {text!r}: {why}")


def _sizes(text: str, word: str) -> tuple[int, ...]:
    parts = word.split("-")
    if len(parts) < 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise _fail(text, "expected the widths first, two or more positive integers joined "
                          f"by '-' (784-128-10). Received: {word!r}")
    return tuple(int(p) for p in parts)


def _number(text: str, words: list[str], name: str) -> float:
    """The number after ``name`` in ``words`` (taken from the list)."""
    if not words:
        raise _fail(text, f"{name} needs a number after it")
    word = words.pop(0)
    try:
        return float(word)
    except ValueError:
        raise _fail(text, f"{name} needs a number after it. Received: {word!r}") from None


def parse_shape(text: str) -> Spec:
    """The ``Spec`` of a ``--shape`` text (see the module's docstring); ValueError naming
    the word that is not understood or the value that is out of range."""
    words = text.replace(",", " ").split()
    if not words:
        raise _fail(text, "expected widths such as 784-128-10, then optional words")
    sizes = _sizes(text, words.pop(0))
    found: dict = {}
    while words:
        word = words.pop(0).lower()
        if word == "sgd" and words[:1] and words[0].lower() == "momentum":
            word = words.pop(0).lower()
        word = ALIASES.get(word, word)
        if word[:1] == "b" and word[1:].isdigit():
            key, value = "rows", int(word[1:])
        elif word in SHAPE_ACTIVATIONS:
            key, value = "activation", word
        elif word in OPTIMIZERS:
            key, value = "optimizer", word
        elif word in LOSSES:
            key, value = "loss", word
        elif word in NORMS[1:]:
            key, value = "norm", word
        elif word in DTYPES:
            key, value = "dtype", word
        elif word in FORMS[1:]:
            key, value = "form", word
        elif word in ("dropout", "lr"):
            key, value = word, _number(text, words, word)
        else:
            raise _fail(text, f"word {word!r} is not understood; expected one of: {_WORDS}")
        if key in found:
            raise _fail(text, f"{key} is given twice ({found[key]!r} and {value!r})")
        found[key] = value
    optimizer = found.get("optimizer", "adam")
    loss = found.get("loss", "cross_entropy" if sizes[-1] > 1 else "mse")
    if loss == "cross_entropy" and sizes[-1] < 2:
        raise _fail(text, f"cross_entropy needs two or more outputs. Received: {sizes[-1]}")
    rows, lr = found.get("rows", DEFAULT_ROWS), found.get("lr", learning_rate(optimizer))
    if rows < 1:
        raise _fail(text, f"the batch must be at least 1 row. Received: b{rows}")
    if rows < 2 and found.get("norm") == "batch_norm":
        raise _fail(text, f"batch_norm needs a batch of 2 rows or more (in training it "
                          f"normalises each feature over the batch). Received: b{rows}")
    if not 0.0 < lr < float("inf"):
        raise _fail(text, f"lr must be a positive number. Received: {lr}")
    spec = Spec(sizes, found.get("activation", "relu"), rows, loss, optimizer, lr=lr,
                norm=found.get("norm", "none"), dropout=found.get("dropout", 0.0),
                dtype=found.get("dtype", "float32"), form=found.get("form", FORMS[0]))
    try:
        spec.plan()
    except ValueError as err:
        raise _fail(text, str(err)) from None
    _check_memory(text, spec, physical_memory())
    return spec


def memory_needed(spec: Spec) -> int:
    """Bytes one library's process holds for ``spec``, roughly: the inputs as drawn (float64)
    and cast, four arrays of rows × each width (activations, their gradients, the
    library's temporaries) and five of the parameters (weights, gradients, optimizer state)."""
    itemsize = 8 if spec.dtype == "float64" else 4
    parameters = sum((a + 1) * b for a, b in zip(spec.sizes, spec.sizes[1:]))
    return spec.rows * spec.sizes[0] * 8 + itemsize * (4 * spec.rows * sum(spec.sizes)
                                                       + 5 * parameters)


def physical_memory() -> int | None:
    """The machine's memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_memory(text: str, spec: Spec, available: int | None) -> None:
    """ValueError where one library's process alone would need more than ``available``
    bytes (each library is timed in a process of its own)."""
    needed = memory_needed(spec)
    if available is not None and needed > available:
        raise _fail(text, f"one library's process would need about {needed / 2**30:,.1f} GiB "
                          f"for its arrays; this machine has {available / 2**30:,.1f} GiB. "
                          f"Use fewer rows (bN) or narrower layers")


def shape_label(spec: Spec) -> str:
    """The row's label: ``sweep.label`` and what else sets the spec apart from its
    defaults (loss where it is not the default, norm, dropout, dtype, lr)."""
    words = [label(spec)]
    if spec.loss != ("cross_entropy" if spec.sizes[-1] > 1 else "mse"):
        words.append(spec.loss)
    if spec.norm != "none":
        words.append(spec.norm)
    if spec.dropout:
        words.append(f"dropout {spec.dropout:g}")
    if spec.dtype != "float32":
        words.append(spec.dtype)
    if spec.lr != learning_rate(spec.optimizer):
        words.append(f"lr {spec.lr:g}")
    if spec.form != FORMS[0]:
        words.append(spec.form)
    return " ".join(words)


def shape_specs(texts: list[str]) -> dict[str, Spec]:
    """{label: Spec} for the ``--shape`` texts, in order (a shape given twice once)."""
    specs = [parse_shape(text) for text in texts]
    return {shape_label(spec): spec for spec in specs}
