"""Architecture specs: a JSON description of a model built from registered modules.

A spec is ``{"type": name, "config": {...}, "children": {name: spec, ...}}``. Saving walks the
model (:func:`module_spec`); loading (:func:`build_module`) rebuilds it from the registry only,
so a checkpoint can never name arbitrary code to run. Built-in layers declare their spec
beside themselves (``config`` / ``from_config`` / ``shapes`` in ``ffnn.nn.traits``); other
classes join with :func:`register_spec`::

    register_spec(MyBlock)                                  # uses get_config / from_config
    register_spec(MyBlock, to_config=lambda m: {"width": m.width},
                  from_config=lambda c: MyBlock(**c),
                  shapes=lambda c: {"weight": (c["width"], c["width"])})

``shapes(config)`` (optional) gives the module's own tensor shapes; they are checked against the
file *before* the constructor runs, so a tampered config cannot make ``load`` allocate more
memory than the file holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ffnn.nn import traits
from ffnn.nn.module import Module

MAX_DEPTH = 64


class SpecError(ValueError):
    """A spec that cannot be written or rebuilt (the checkpoint layer adds the file name)."""


def register_spec(cls: type, to_config: Callable | None = None,
                  from_config: Callable | None = None, *, shapes: Callable | None = None,
                  name: str | None = None) -> type:
    """Let ``ffnn.save`` describe ``cls`` and ``ffnn.load`` rebuild it; returns ``cls``.

    Defaults: ``to_config = module.get_config()``, ``from_config = cls.from_config(config)``
    (or ``cls(**config)``). ``name`` defaults to ``cls.__name__`` for ffnn's own classes and to
    ``module.qualname`` otherwise. Raises TypeError if ``cls`` is not a Module subclass.
    The spec is stored with the class's other traits (``ffnn.nn.traits.declare``).
    """
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register_spec expects a Module subclass. Received: cls={cls!r}")
    if to_config is None:
        if not hasattr(cls, "get_config"):
            raise TypeError(f"register_spec: {cls.__name__} has no get_config(); pass to_config=")
        to_config = cls.get_config
    if from_config is None:
        from_config = getattr(cls, "from_config", None)
    traits.declare(cls, config=to_config, from_config=from_config, shapes=shapes,
                   spec_name=name)
    return cls


def spec_name(entry: traits.Traits) -> str:
    """The type name a spec stores for a declared class."""
    if entry.spec_name:
        return entry.spec_name
    cls = entry.cls
    own = cls.__module__.startswith("ffnn.")
    return cls.__name__ if own else f"{cls.__module__}.{cls.__qualname__}"


def _by_class(cls: type) -> traits.Traits | None:
    """The spec traits of exactly ``cls``: a subclass is not saved as its parent."""
    _ensure_builtins()
    entry = traits.declared(cls)
    if (entry is None or entry.config is None) and _register_text_models():
        entry = traits.declared(cls)
    return entry if entry is not None and entry.config is not None else None


def _by_name(name: str) -> traits.Traits | None:
    _ensure_builtins()
    for _ in range(2):
        found = [t for t in traits.all_traits() if t.config is not None and spec_name(t) == name]
        if found:
            return found[-1]
        if not _register_text_models():
            return None
    return None


# ----- saving ---------------------------------------------------------------------------
def module_spec(module: Module, where: str = "model") -> dict:
    """The JSON spec of ``module`` and its children; SpecError names an unregistered class."""
    entry = _by_class(type(module))
    if entry is None:
        raise SpecError(
            f"{where} is a {type(module).__module__}.{type(module).__qualname__}, which is not a "
            "built-in ffnn module (register it with ffnn.io.register_spec to rebuild it)"
        )
    spec: dict[str, Any] = {"type": spec_name(entry), "config": entry.to_config(module)}
    children = {name: module_spec(child, f"{where}.{name}")
                for name, child in module._modules.items() if child is not None}
    if children:
        spec["children"] = children
    return spec


# ----- loading --------------------------------------------------------------------------
def build_module(spec: Any, shapes: dict[str, tuple], prefix: str = "", depth: int = 0) -> Module:
    """Rebuild a module from ``spec``; ``shapes`` maps state_dict names to the file's shapes.

    Raises SpecError for an unknown type, a malformed spec, a config the constructor rejects
    or tensor shapes that disagree with the config.
    """
    where = prefix.rstrip(".") or "model"
    if depth > MAX_DEPTH:
        raise SpecError(f"the architecture spec is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str) \
            or not isinstance(spec.get("config", {}), dict) \
            or not isinstance(spec.get("children", {}), dict):
        raise SpecError(f"malformed architecture spec at {where}: expected "
                        "{'type': str, 'config': dict, 'children': dict}")
    entry = _by_name(spec["type"])
    if entry is None:
        raise SpecError(f"{where} has type {spec['type']!r}, which is not a registered module")
    config = spec.get("config", {})
    if entry.shapes is not None:
        _check_shapes(entry, config, shapes, prefix, where)
    type_name = spec_name(entry)
    try:
        module = entry.build(config)
    except Exception as error:  # the constructor's own validation, e.g. ValueError
        raise SpecError(f"cannot build {where} ({type_name}) from config {config}: "
                        f"{type(error).__name__}: {error}") from None
    if not isinstance(module, entry.cls):
        raise SpecError(f"from_config of {type_name} returned {type(module).__name__}")
    for name, child_spec in spec.get("children", {}).items():
        if not name or "." in name:
            raise SpecError(f"invalid child name {name!r} at {where}")
        child = build_module(child_spec, shapes, f"{prefix}{name}.", depth + 1)
        if name in module._modules:  # replace a constructor-built child in place
            module._modules[name] = child
        else:
            module.add_module(name, child)
    return module


def _check_shapes(entry: traits.Traits, config: dict, shapes: dict, prefix: str,
                  where: str) -> None:
    name = spec_name(entry)
    try:
        expected = {key: tuple(int(n) for n in shape)
                    for key, shape in entry.shapes(config).items()}
    except Exception as error:
        raise SpecError(f"invalid config for {where} ({name}): {config} "
                        f"({type(error).__name__}: {error})") from None
    for key, shape in expected.items():
        stored = shapes.get(prefix + key)
        if stored is None:
            raise SpecError(f"tensor {prefix + key!r} of {where} ({name}) is missing")
        if tuple(stored) != shape:
            raise SpecError(f"tensor {prefix + key!r} has shape {tuple(stored)}, but the spec "
                            f"of {where} ({name}, config {config}) says {shape}")


# ----- modules declared outside ffnn.nn -------------------------------------------------
def _attrs(*names: str) -> Callable[[Module], dict]:
    def to_config(module: Module) -> dict:
        return {name: list(v) if isinstance(v := getattr(module, name), tuple) else v
                for name in names}
    return to_config


_builtins_done = False


def _ensure_builtins() -> None:
    """The layers of ``ffnn.nn`` declare their specs when imported; LoRALinear joins here."""
    global _builtins_done
    if _builtins_done:
        return
    _builtins_done = True
    import ffnn.nn  # noqa: F401 - the layers declare their specs on import
    from ffnn.finetune.lora import LoRALinear

    register_spec(LoRALinear, LoRALinear.get_config, LoRALinear.from_config,
                  shapes=LoRALinear.config_shapes)


_text_models_done = False


def _register_text_models() -> bool:
    """Register BERT, the sentence encoder and the text classifier; False if already done."""
    global _text_models_done
    if _text_models_done:
        return False
    _text_models_done = True
    from ffnn.finetune.text import TextClassifier
    from ffnn.interop.sentence_encoder import SentenceEncoder
    from ffnn.nn import bert

    composites = {bert.BertEmbeddings: (), bert.BertSelfAttention: ("num_heads", "dropout"),
                  bert.BertSelfOutput: (), bert.BertAttention: (), bert.BertIntermediate: (),
                  bert.BertLayer: (), bert.BertEncoder: (), bert.BertModel: ("config",),
                  SentenceEncoder: ("config", "max_seq_length", "pooling", "normalize",
                                    "tokenizer_json"),
                  TextClassifier: ("num_classes", "normalize", "pad_token_id")}
    for cls, attributes in composites.items():
        register_spec(cls, _attrs(*attributes), traits.restore(cls))
    return True
