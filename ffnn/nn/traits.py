"""Each layer's traits, declared once beside the layer and read by every consumer.

A declaration says, for one Module class, what the rest of ffnn needs to know about it::

    declare(ReLU, name="relu", config=(), onnx=onnx_node("Relu"), torch="ReLU",
            elementwise=True, net2net="idempotent", op=ops.activations.ReLU)

* ``kind`` / ``name`` / ``aliases``: the names configs use (``model.activation = "relu"``,
  ``FeedForward(activation="swish")``, ``Trainer(loss="mse")``); an alias maps to
  constructor keyword arguments (``"gelu_tanh": {"approximate": "tanh"}``).
* ``config`` (attribute names or a function module → dict), ``from_config``, ``shapes``:
  the checkpoint spec (``ffnn.io.spec``), rebuilt by ``from_config(config)``
  (default ``cls(**config)``); ``shapes(config)`` gives the tensor shapes to check first.
* ``onnx``: ``(graph, module, input name, path) -> output name`` (``ffnn.interop.onnx``).
* ``torch``: the name of the equivalent class in ``torch.nn``; its constructor takes the spec
  config; ``from_torch(torch_module) -> dict`` the other way (default: the same attributes).
* ``elementwise`` (output unit i depends on input unit i alone) and ``rowwise`` (output row
  depends on its input row alone, in eval; a bool or a function of the module; default:
  ``elementwise``): ``Sequential``'s blocked inference, Net2Net's widening.
* ``net2net``: "idempotent" (φ(φ(x)) = φ(x): Net2DeeperNet may insert Linear(I) + φ after
  it), "batch_norm" (statistics per unit) or "feature_norm" (statistics across units);
  norms give ``resize(module, width)`` → the same norm over ``width`` features.
* ``op`` / ``op_options(module)``: the one ``ffnn.autograd.Op`` its forward applies, as
  ``op(x, **options)``, or for a module with parameters ``op(x, weight, bias, **options)``
  (``ffnn.compiler.chain`` runs it so).
* ``gain``: the nonlinearity name of ``nn.init.calculate_gain`` (Kaiming initialisation);
  ``formula``: (φ(z), φ'(z)) as text (``ffnn explain``).
* for a loss, ``task``: "multiclass", "binary" or "regression", and
  ``probabilities(outputs ndarray) -> ndarray`` for a classification loss.

Lookups go by class: a subclass has the traits of its nearest declared ancestor unless it
(or a class between) overrides ``forward``, since then it computes something else. The spec
is the exception: only an exactly declared class is saved, so that loading rebuilds it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = ("layer", "activation", "loss")
NET2NET_ROLES = (None, "idempotent", "batch_norm", "feature_norm")
TASKS = (None, "multiclass", "binary", "regression")


@dataclass(frozen=True)
class Traits:
    """What one Module class declares about itself (see the module docstring)."""

    cls: type
    kind: str = "layer"
    name: str | None = None
    aliases: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    config: tuple[str, ...] | Callable[[Any], dict] | None = None
    from_config: Callable[[dict], Any] | None = None
    shapes: Callable[[dict], dict] | None = None
    spec_name: str | None = None
    onnx: Callable | None = None
    torch: str | None = None
    from_torch: Callable[[Any], dict] | None = None
    elementwise: bool = False
    rowwise: bool | Callable[[Any], bool] | None = None
    net2net: str | None = None
    resize: Callable[[Any, int], Any] | None = None
    op: type | None = None
    op_options: Callable[[Any], dict] | None = None
    gain: str | None = None
    formula: tuple[str, str] | None = None
    task: str | None = None
    probabilities: Callable | None = None

    def to_config(self, module) -> dict:
        """The spec config of ``module`` (tuples written as lists, for JSON)."""
        if callable(self.config):
            return dict(self.config(module))
        return {key: _jsonable(getattr(module, key)) for key in self.config or ()}

    def build(self, config: Mapping | None = None):
        """A new module from a spec config (``from_config``, default ``cls(**config)``)."""
        config = dict(config or {})
        return self.from_config(config) if self.from_config else self.cls(**config)

    def is_rowwise(self, module) -> bool:
        rowwise = self.elementwise if self.rowwise is None else self.rowwise
        return bool(rowwise(module) if callable(rowwise) else rowwise)


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


_TRAITS: dict[type, Traits] = {}


def declare(cls: type, **traits) -> type:
    """Declare (or update: the traits given replace those declared before) the traits of
    ``cls``; returns ``cls``. Raises TypeError for an unknown trait, ValueError for a bad
    value or a name another class of the same kind already has."""
    unknown = set(traits) - {f.name for f in dataclasses.fields(Traits)} | (
        {"cls"} & set(traits))
    if unknown:
        raise TypeError(f"declare: unknown trait(s) {sorted(unknown)} for {cls.__name__}")
    entry = dataclasses.replace(_TRAITS.get(cls) or Traits(cls), **traits)
    _check(entry)
    _TRAITS[cls] = entry
    _DECLARED_FORWARD.setdefault(cls, getattr(cls, "forward", None))
    return cls


def declared_forward(cls: type):
    """The ``forward`` that ``cls`` had when it was first declared (what its ``op`` stands
    for): a class whose ``forward`` was replaced since computes something else."""
    return _DECLARED_FORWARD.get(cls)


_DECLARED_FORWARD: dict[type, object] = {}


def _check(entry: Traits) -> None:
    for key, value, allowed in (("kind", entry.kind, KINDS), ("task", entry.task, TASKS),
                                ("net2net", entry.net2net, NET2NET_ROLES)):
        if value not in allowed:
            raise ValueError(f"declare: {key} must be one of {list(allowed)}. Received: "
                             f"{key}={value!r} for {entry.cls.__name__}")
    for name in names_of(entry):
        other = lookup(entry.kind, name)
        if other is not None and other[0].cls is not entry.cls:
            raise ValueError(f"declare: the {entry.kind} name {name!r} is already "
                             f"{other[0].cls.__name__}'s. Received: {entry.cls.__name__}")


def undeclare(cls: type) -> None:
    """Forget the traits of ``cls`` (tests use this to undo their declarations)."""
    _TRAITS.pop(cls, None)


def names_of(entry: Traits) -> tuple[str, ...]:
    """The declared name, then the aliases."""
    return ((entry.name,) if entry.name else ()) + tuple(entry.aliases)


def declared(cls: type) -> Traits | None:
    """The traits declared for exactly ``cls`` (no inheritance)."""
    return _TRAITS.get(cls)


def of(module_or_class) -> Traits | None:
    """The traits of a module (or class): its class's, else those of the nearest declared
    ancestor, unless a class on the way overrides ``forward``."""
    cls = module_or_class if isinstance(module_or_class, type) else type(module_or_class)
    for klass in cls.__mro__:
        entry = _TRAITS.get(klass)
        if entry is not None:
            return entry
        if "forward" in vars(klass):
            return None
    return None


def all_traits(kind: str | None = None) -> Iterator[Traits]:
    """Every declaration (of ``kind``), in the order they were first made."""
    return (t for t in _TRAITS.values() if kind is None or t.kind == kind)


def names(kind: str, aliases: bool = False) -> list[str]:
    """The names of ``kind`` (declaration order), with the aliases when asked."""
    out: list[str] = []
    for entry in all_traits(kind):
        out += names_of(entry) if aliases else [entry.name] if entry.name else []
    return out


def lookup(kind: str, name: str) -> tuple[Traits, dict] | None:
    """(traits, constructor kwargs) for a name or alias of ``kind``, or None."""
    for entry in all_traits(kind):
        if name == entry.name:
            return entry, {}
        if name in entry.aliases:
            return entry, dict(entry.aliases[name])
    return None


def make(kind: str, name: str, where: str, aliases: bool = True, **kwargs):
    """A new module for a name of ``kind``; ValueError naming ``where`` and the known names."""
    found = lookup(kind, name) if isinstance(name, str) else None
    if found is None or (not aliases and name != found[0].name):
        raise ValueError(f"{where}: unknown {kind} name; expected one of "
                         f"{names(kind, aliases)}. Received: {kind}={name!r}")
    entry, preset = found
    return entry.cls(**preset, **kwargs)


def onnx_node(op_type: str, **attributes) -> Callable:
    """An ONNX converter writing one ``op_type`` node on the input."""
    def convert(graph, module, x: str, path: str) -> str:
        return graph.node(op_type, [x], path, **attributes)
    return convert


def restore(cls: type) -> Callable[[dict], Any]:
    """``from_config`` for a composite: attributes from the config, children from the spec,
    without running the constructor (nothing is allocated that the file does not hold)."""
    def from_config(config: dict):
        from ffnn.nn.module import Module

        module = cls.__new__(cls)
        Module.__init__(module)
        for key, value in config.items():
            if not isinstance(key, str) or key.startswith("_") or key == "training":
                raise ValueError(f"invalid attribute name {key!r}")
            object.__setattr__(module, key, value)
        return module
    return from_config


__all__ = ["Traits", "declare", "undeclare", "declared", "of", "all_traits", "names",
           "lookup", "make", "onnx_node", "restore"]
