"""Architecture specs: a JSON description of a model built from registered modules.

A spec is ``{"type": name, "config": {...}, "children": {name: spec, ...}}``. Saving walks the
model (:func:`module_spec`); loading (:func:`build_module`) rebuilds it from the registry only,
so a checkpoint can never name arbitrary code to run. Built-in layers are registered here;
other classes join with :func:`register_spec`::

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
from dataclasses import dataclass
from typing import Any

from ffnn.nn.module import Module

MAX_DEPTH = 64


class SpecError(ValueError):
    """A spec that cannot be written or rebuilt (the checkpoint layer adds the file name)."""


@dataclass(frozen=True)
class SpecEntry:
    cls: type
    name: str
    to_config: Callable[[Module], dict]
    from_config: Callable[[dict], Module]
    shapes: Callable[[dict], dict[str, tuple]] | None = None


_BY_NAME: dict[str, SpecEntry] = {}
_BY_CLASS: dict[type, SpecEntry] = {}


def register_spec(cls: type, to_config: Callable | None = None,
                  from_config: Callable | None = None, *, shapes: Callable | None = None,
                  name: str | None = None) -> type:
    """Let ``ffnn.save`` describe ``cls`` and ``ffnn.load`` rebuild it; returns ``cls``.

    Defaults: ``to_config = module.get_config()``, ``from_config = cls.from_config(config)``
    (or ``cls(**config)``). ``name`` defaults to ``cls.__name__`` for ffnn's own classes and to
    ``module.qualname`` otherwise. Raises TypeError if ``cls`` is not a Module subclass.
    """
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register_spec expects a Module subclass. Received: cls={cls!r}")
    if to_config is None:
        if not hasattr(cls, "get_config"):
            raise TypeError(f"register_spec: {cls.__name__} has no get_config(); pass to_config=")
        to_config = cls.get_config
    if from_config is None:
        from_config = getattr(cls, "from_config", None) or (lambda config: cls(**config))
    if name is None:
        own = cls.__module__.startswith("ffnn.")
        name = cls.__name__ if own else f"{cls.__module__}.{cls.__qualname__}"
    entry = SpecEntry(cls, name, to_config, from_config, shapes)
    _BY_NAME[name] = entry
    _BY_CLASS[cls] = entry
    return cls


# ----- saving ---------------------------------------------------------------------------
def module_spec(module: Module, where: str = "model") -> dict:
    """The JSON spec of ``module`` and its children; SpecError names an unregistered class."""
    _ensure_builtins()
    entry = _BY_CLASS.get(type(module))
    if entry is None and _register_text_models():
        entry = _BY_CLASS.get(type(module))
    if entry is None:
        raise SpecError(
            f"{where} is a {type(module).__module__}.{type(module).__qualname__}, which is not a "
            "built-in ffnn module (register it with ffnn.io.register_spec to rebuild it)"
        )
    spec: dict[str, Any] = {"type": entry.name, "config": dict(entry.to_config(module))}
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
    _ensure_builtins()
    where = prefix.rstrip(".") or "model"
    if depth > MAX_DEPTH:
        raise SpecError(f"the architecture spec is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str) \
            or not isinstance(spec.get("config", {}), dict) \
            or not isinstance(spec.get("children", {}), dict):
        raise SpecError(f"malformed architecture spec at {where}: expected "
                        "{'type': str, 'config': dict, 'children': dict}")
    entry = _BY_NAME.get(spec["type"])
    if entry is None and _register_text_models():
        entry = _BY_NAME.get(spec["type"])
    if entry is None:
        raise SpecError(f"{where} has type {spec['type']!r}, which is not a registered module")
    config = spec.get("config", {})
    if entry.shapes is not None:
        _check_shapes(entry, config, shapes, prefix, where)
    try:
        module = entry.from_config(dict(config))
    except Exception as error:  # the constructor's own validation, e.g. ValueError
        raise SpecError(f"cannot build {where} ({entry.name}) from config {config}: "
                        f"{type(error).__name__}: {error}") from None
    if not isinstance(module, entry.cls):
        raise SpecError(f"from_config of {entry.name} returned {type(module).__name__}")
    for name, child_spec in spec.get("children", {}).items():
        if not name or "." in name:
            raise SpecError(f"invalid child name {name!r} at {where}")
        child = build_module(child_spec, shapes, f"{prefix}{name}.", depth + 1)
        if name in module._modules:  # replace a constructor-built child in place
            module._modules[name] = child
        else:
            module.add_module(name, child)
    return module


def _check_shapes(entry: SpecEntry, config: dict, shapes: dict, prefix: str, where: str) -> None:
    try:
        expected = {name: tuple(int(n) for n in shape)
                    for name, shape in entry.shapes(config).items()}
    except Exception as error:
        raise SpecError(f"invalid config for {where} ({entry.name}): {config} "
                        f"({type(error).__name__}: {error})") from None
    for name, shape in expected.items():
        stored = shapes.get(prefix + name)
        if stored is None:
            raise SpecError(f"tensor {prefix + name!r} of {where} ({entry.name}) is missing")
        if tuple(stored) != shape:
            raise SpecError(f"tensor {prefix + name!r} has shape {tuple(stored)}, but the spec "
                            f"of {where} ({entry.name}, config {config}) says {shape}")


# ----- built-in modules -----------------------------------------------------------------
def _attrs(*names: str) -> Callable[[Module], dict]:
    def to_config(module: Module) -> dict:
        return {name: _jsonable(getattr(module, name)) for name in names}
    return to_config


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


def _restore(cls: type) -> Callable[[dict], Module]:
    """Rebuild a composite without running its constructor: attributes from the config,
    children from the spec (nothing is allocated that the file does not hold)."""
    def from_config(config: dict) -> Module:
        module = cls.__new__(cls)
        Module.__init__(module)
        for key, value in config.items():
            if not isinstance(key, str) or key.startswith("_") or key == "training":
                raise ValueError(f"invalid attribute name {key!r}")
            object.__setattr__(module, key, value)
        return module
    return from_config


def _linear_shapes(c: dict) -> dict:
    out = {"weight": (c["out_features"], c["in_features"])}
    return {**out, "bias": (c["out_features"],)} if c["bias"] else out


def _batchnorm_shapes(c: dict) -> dict:
    n = c["num_features"]
    out = {"weight": (n,), "bias": (n,)} if c["affine"] else {}
    if c["track_running_stats"]:
        out.update(running_mean=(n,), running_var=(n,), num_batches_tracked=())
    return out


def _layernorm_shapes(c: dict) -> dict:
    shape = tuple(c["normalized_shape"])
    if not c["elementwise_affine"]:
        return {}
    return {"weight": shape, "bias": shape} if c.get("bias", True) else {"weight": shape}


_builtins_done = False


def _ensure_builtins() -> None:
    global _builtins_done
    if _builtins_done:
        return
    _builtins_done = True
    from ffnn import nn

    def plain(cls):
        return lambda config: cls(**config)

    for cls in (nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.Identity, nn.ReLU, nn.Sigmoid,
                nn.Tanh, nn.SiLU):
        register_spec(cls, lambda m: {}, plain(cls))
    register_spec(nn.Linear, lambda m: {"in_features": m.in_features,
                                        "out_features": m.out_features,
                                        "bias": m.bias is not None},
                  plain(nn.Linear), shapes=_linear_shapes)
    register_spec(nn.Flatten, _attrs("start_dim", "end_dim"), plain(nn.Flatten))
    register_spec(nn.Unflatten, lambda m: {"dim": m.dim,
                                           "unflattened_size": list(m.unflattened_size)},
                  plain(nn.Unflatten))
    register_spec(nn.Dropout, _attrs("p"), plain(nn.Dropout))
    register_spec(nn.ELU, _attrs("alpha"), plain(nn.ELU))
    register_spec(nn.SELU, lambda m: {}, plain(nn.SELU))
    register_spec(nn.ReLU6, lambda m: {}, plain(nn.ReLU6))
    register_spec(nn.Softplus, _attrs("beta", "threshold"), plain(nn.Softplus))
    register_spec(nn.Hardtanh, _attrs("min_val", "max_val"), plain(nn.Hardtanh))
    register_spec(nn.PReLU, _attrs("num_parameters"), plain(nn.PReLU),
                  shapes=lambda c: {"weight": (c["num_parameters"],)})
    register_spec(nn.LeakyReLU, _attrs("negative_slope"), plain(nn.LeakyReLU))
    register_spec(nn.GELU, _attrs("approximate"), plain(nn.GELU))
    register_spec(nn.Softmax, _attrs("dim"), plain(nn.Softmax))
    register_spec(nn.LogSoftmax, _attrs("dim"), plain(nn.LogSoftmax))
    register_spec(nn.BatchNorm1d, _attrs("num_features", "eps", "momentum", "affine",
                                         "track_running_stats"),
                  plain(nn.BatchNorm1d), shapes=_batchnorm_shapes)
    register_spec(nn.LayerNorm, lambda m: {"normalized_shape": list(m.normalized_shape),
                                           "eps": m.eps,
                                           "elementwise_affine": m.elementwise_affine,
                                           "bias": m.bias is not None},
                  plain(nn.LayerNorm), shapes=_layernorm_shapes)
    register_spec(nn.RMSNorm, _attrs("normalized_shape", "eps", "elementwise_affine"),
                  plain(nn.RMSNorm),
                  shapes=lambda c: {"weight": tuple(c["normalized_shape"])}
                  if c["elementwise_affine"] else {})
    register_spec(nn.Embedding, _attrs("num_embeddings", "embedding_dim", "padding_idx"),
                  plain(nn.Embedding),
                  shapes=lambda c: {"weight": (c["num_embeddings"], c["embedding_dim"])})
    register_spec(nn.TabularModel, nn.TabularModel.get_config, _restore(nn.TabularModel))
    from ffnn.finetune.lora import LoRALinear

    register_spec(LoRALinear, LoRALinear.get_config, LoRALinear.from_config,
                  shapes=LoRALinear.config_shapes)
    _register_ffn_blocks()
    _register_transformer_blocks()


def _register_ffn_blocks() -> None:
    """FeedForward, SwiGLU … (``ffnn.nn.ffn``): restored from their attributes + children."""
    try:
        from ffnn.nn import ffn
    except ImportError:  # pragma: no cover - the module is optional while it is being written
        return
    blocks = {"FeedForward": ("d_model", "d_ff"), "GatedFeedForward": ("d_model", "d_ff"),
              "SwiGLU": ("d_model", "d_ff"), "GEGLU": ("d_model", "d_ff"),
              "ResidualFFN": ("d_model", "d_ff", "norm_type", "position", "ffn_type", "eps")}
    for name, attributes in blocks.items():
        cls = getattr(ffn, name, None)
        if cls is not None:
            register_spec(cls, _attrs(*attributes), _restore(cls))


def _register_transformer_blocks() -> None:
    """Embedding, attention and the encoder layer (``ffnn.nn``); BERT and the text models
    join on first need (:func:`_register_text_models`), so a plain save imports nothing more.
    Composites are restored from their attributes + children (no constructor runs, so
    nothing is allocated before the children's shapes are checked)."""
    from ffnn import nn

    register_spec(nn.Embedding, _attrs("num_embeddings", "embedding_dim", "padding_idx"),
                  lambda c: nn.Embedding(**c),
                  shapes=lambda c: {"weight": (c["num_embeddings"], c["embedding_dim"])})
    register_spec(nn.MultiheadAttention,
                  lambda m: {"embed_dim": m.embed_dim, "num_heads": m.num_heads,
                             "dropout": m.dropout, "bias": m.in_proj_bias is not None,
                             "batch_first": m.batch_first},
                  lambda c: nn.MultiheadAttention(**c),
                  shapes=lambda c: {"in_proj_weight": (3 * c["embed_dim"], c["embed_dim"]),
                                    **({"in_proj_bias": (3 * c["embed_dim"],)} if c["bias"]
                                       else {})})
    register_spec(nn.TransformerEncoderLayer, _attrs("norm_first"),
                  _restore(nn.TransformerEncoderLayer))


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
        register_spec(cls, _attrs(*attributes), _restore(cls))
    return True
