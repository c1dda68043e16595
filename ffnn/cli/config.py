"""Run configuration for ``ffnn train`` / ``ffnn finetune``: a typed dataclass tree, read from
TOML, validated (unknown keys get a "did you mean", wrong types name key, expected type and
value), overridable by dotted keys (``train.lr=1e-3``) and written back as TOML.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import typing
from dataclasses import dataclass, field
from typing import Any

BUNDLED = ("digits", "iris", "wine", "breast_cancer", "diabetes")


def activations() -> tuple[str, ...]:
    """The activation names the layers declare (``ffnn.nn.traits``), read when a config is
    checked, so that an activation declared later is accepted too."""
    import ffnn.nn  # noqa: F401 - the layers declare their names on import
    from ffnn.nn import traits

    return tuple(traits.names("activation"))


MAX_EPOCHS = 1_000_000
"""train.epochs above this is a typo (or a run that would not end): an error, not a hang."""
MAX_DEEPEN = 100
"""finetune.deepen: at most this many identity layers added in one fine-tune."""


def _opt(default, *, choices=None, low=None, high=None, low_open=False, doc="",
         nonempty=False):
    """A field with its default, allowed values (a tuple, or a function giving one) / range
    (``nonempty``: a text that must not be empty) and a one-line description."""
    meta = {"choices": choices, "low": low, "high": high, "low_open": low_open, "doc": doc,
            "nonempty": nonempty}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class DataConfig:
    """Where the data comes from and how it is split and scaled."""

    name: str = _opt("digits", choices=BUNDLED + ("",), doc="bundled data set (when no csv)")
    csv: str = _opt("", doc="path to a CSV file with a header row")
    target: str = _opt("", doc="target column of the CSV")
    features: list[str] = _opt([], doc="feature columns (default: all but the target)")
    task: str = _opt("auto", choices=("auto", "classification", "regression"))
    classes: list[str] = _opt([], doc="keep only rows with these target labels (default: all)")
    rows_per_class: int = _opt(0, low=0, doc="training rows kept per class (0: all; few-shot)")
    test_split: float = _opt(0.2, low=0.0, high=0.9, doc="held-out test fraction")
    val_split: float = _opt(0.1, low=0.0, high=0.9, doc="validation fraction of the rest")
    normalize: str = _opt("standard", choices=("standard", "minmax", "none"),
                          doc="scaling of a bundled set (CSV numbers: standard)")
    encoding: str = _opt("", doc="text encoding of the CSV (default: UTF-8, with or without BOM)")
    na_values: list[str] = _opt([], doc="cells that mean missing, besides '', NA, NaN, null …")
    missing: str = _opt("impute", choices=("impute", "drop", "error"),
                        doc="gaps: median + indicator / 'missing' category, drop rows, refuse")
    categorical: list[str] = _opt([], doc="numeric columns to treat as categories (text "
                                  "columns always are)")
    onehot_max: int = _opt(32, low=0, doc="one-hot up to this many categories, embeddings above")
    min_frequency: int = _opt(2, low=1, doc="rarer categories share the 'other' index")


@dataclass
class ModelConfig:
    """An MLP: Linear -> [norm] -> activation -> [dropout] per hidden layer, then a Linear."""

    hidden_sizes: list[int] = _opt([128, 64], low=1)
    activation: str = _opt("relu", choices=activations)
    dropout: float = _opt(0.0, low=0.0, high=0.99)
    norm: str = _opt("none", choices=("none", "batch", "layer"))
    init: str = _opt("default", choices=("default", "xavier_uniform", "xavier_normal",
                                         "kaiming_uniform", "kaiming_normal"))


@dataclass
class TrainConfig:
    """Optimisation: optimizer, schedule, regularisation, stopping."""

    epochs: int = _opt(0, low=0, high=MAX_EPOCHS,
                       doc="0: auto (30; a CSV table: 2,000 steps, 30 to 200 epochs)")
    batch_size: int = _opt(64, low=1)
    optimizer: str = _opt("adam", choices=("sgd", "adam", "adamw", "rmsprop", "adagrad"))
    lr: float = _opt(0.0, low=0.0, doc="0: auto (1e-3; a CSV table: 3e-4)")
    momentum: float = _opt(0.9, low=0.0, high=1.0, doc="SGD / RMSprop momentum")
    weight_decay: float = _opt(0.0, low=0.0)
    l1: float = _opt(0.0, low=0.0, doc="L1 penalty weight (λ·Σ|w|, weights only)")
    schedule: str = _opt("none", choices=("none", "step", "exponential", "cosine", "onecycle",
                                          "plateau"))
    step_size: int = _opt(10, low=1, doc="epochs between decays (schedule = step)")
    gamma: float = _opt(0.5, low=0.0, low_open=True,
                        doc="decay factor (step, exponential, plateau)")
    plateau_patience: int = _opt(5, low=0, doc="epochs without a better val_loss (loss "
                                 "without validation) before lr *= gamma (schedule = plateau)")
    grad_clip: float = _opt(0.0, low=0.0, doc="max gradient norm (0: off)")
    compile: str = _opt("auto", choices=("auto", "off", "replay", "fused"),
                        doc="the training step: auto (fused where it applies, else replay), "
                        "replay (bit for bit the eager step), fused (one numba call)")
    shard_optimizer: bool = _opt(False, doc="under mpiexec: each rank steps its shard of the "
                                 "parameters (ZeroRedundancyOptimizer)")
    early_stopping: int = _opt(0, low=0, doc="patience in epochs (0: off)")
    monitor: str = _opt("val_loss", doc="quantity for early stopping and the best checkpoint")


@dataclass
class AugmentConfig:
    """Training-time augmentation of the (scaled) inputs."""

    noise: float = _opt(0.0, low=0.0, doc="std of Gaussian input noise")
    shift: int = _opt(0, low=0, doc="max pixel shift of square images (e.g. digits)")
    mixup: float = _opt(0.0, low=0.0, doc="mixup alpha (classification; 0: off)")


@dataclass
class FinetuneSection:
    """How a trained model is adapted to a new task."""

    freeze: str = _opt("none", choices=("none", "body"),
                       doc="body: train only the output layer")
    lora_rank: int = _opt(0, low=0, doc="LoRA rank on the hidden Linear layers (0: off)")
    lora_alpha: float = _opt(16.0, low=0.0, low_open=True)
    new_head: str = _opt("auto", choices=("auto", "yes", "no"),
                         doc="new output layer (auto: when the output size changes)")
    widen: list[int] = _opt([], low=1, doc="new hidden sizes, one per layer (Net2WiderNet)")
    deepen: int = _opt(0, low=0, high=MAX_DEEPEN,
                       doc="identity-initialised hidden layers added (Net2DeeperNet)")
    layer_lr_decay: float = _opt(1.0, low=0.0, high=1.0, low_open=True,
                                 doc="lr of layer i = lr · decay^(depth from the head)")


@dataclass
class TextSection:
    """Fine-tuning a pretrained sentence encoder on a CSV text column."""

    column: str = _opt("", doc="text column of the CSV (set: CHECKPOINT is 'minilm' or a "
                       "sentence-transformers folder, and the model reads this text)")
    max_length: int = _opt(64, low=2, doc="tokens per text ([CLS] and [SEP] included)")


@dataclass
class Config:
    """``ffnn train CONFIG.toml``: everything a run needs."""

    seed: int = _opt(0, low=0, high=2**63 - 1)
    out: str = _opt("runs/train", doc="run folder", nonempty=True)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass
class FinetuneConfig:
    """``ffnn finetune CHECKPOINT CONFIG.toml``: the new data, training and the adaptation."""

    seed: int = _opt(0, low=0, high=2**63 - 1)
    out: str = _opt("runs/finetune", doc="run folder", nonempty=True)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    finetune: FinetuneSection = field(default_factory=FinetuneSection)
    text: TextSection = field(default_factory=TextSection)


class ConfigError(ValueError):
    """A config problem, in one line that names the key."""


# ----- schema walking --------------------------------------------------------------------
def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_section(tp) -> bool:
    return dataclasses.is_dataclass(tp)


def all_keys(cls) -> list[str]:
    """Every dotted leaf key of a config class (``model.hidden_sizes``, ...)."""
    keys = []
    for name, tp in _hints(cls).items():
        if _is_section(tp):
            keys += [f"{name}.{k}" for k in all_keys(tp)]
        else:
            keys.append(name)
    return keys


def _unknown(key: str, cls) -> ConfigError:
    close = difflib.get_close_matches(key, all_keys(cls), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"unknown config key '{key}'{hint}")


def _type_name(tp) -> str:
    if typing.get_origin(tp) is list:
        inner = typing.get_args(tp)[0]
        return "a list of " + {int: "integers", float: "numbers", str: "strings"}[inner]
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[tp]


def _coerce(key: str, tp, value):
    """``value`` as type ``tp`` (int -> float allowed), or ConfigError naming the key."""
    wrong = ConfigError(f"config key '{key}' must be {_type_name(tp)}. Received: {key}={value!r}")
    if typing.get_origin(tp) is list:
        if not isinstance(value, list):
            raise wrong
        return [_coerce(f"{key}[{i}]", typing.get_args(tp)[0], v) for i, v in enumerate(value)]
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong
        return float(value)
    if tp is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise wrong
    if not isinstance(value, tp):
        raise wrong
    return value


def _choices(meta: dict) -> tuple | None:
    choices = meta.get("choices")
    return choices() if callable(choices) else choices


def _check_range(key: str, value, meta: dict) -> None:
    values = value if isinstance(value, list) else [value]
    for v in values:
        choices, low, high = _choices(meta), meta.get("low"), meta.get("high")
        if choices is not None and v not in choices:
            shown = [c for c in choices if c]
            raise ConfigError(f"config key '{key}' must be one of {shown}. Received: {key}={v!r}")
        if meta.get("nonempty") and v == "":
            raise ConfigError(f"config key '{key}' must not be empty. Received: {key}=''")
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"config key '{key}' must be finite. Received: {key}={v!r}")
        too_low = low is not None and (v <= low if meta.get("low_open") else v < low)
        if too_low or (high is not None and v > high):
            bound = f"> {low}" if meta.get("low_open") else f">= {low}"
            bounds = bound if high is None else f"{bound} and <= {high}"
            raise ConfigError(f"config key '{key}' must be {bounds}. Received: {key}={v!r}")


def from_dict(cls, data: dict, prefix: str = "", root=None):
    """Build and validate a config of class ``cls`` from nested dicts (e.g. parsed TOML)."""
    root = root or cls
    hints = {f.name: f for f in dataclasses.fields(cls)}
    types_ = _hints(cls)
    kwargs = {}
    for name, value in data.items():
        key = prefix + name
        if name not in hints:
            raise _unknown(key, root)
        tp = types_[name]
        if _is_section(tp):
            if not isinstance(value, dict):
                raise ConfigError(f"config key '{key}' must be a table ([{key}]). "
                                  f"Received: {key}={value!r}")
            kwargs[name] = from_dict(tp, value, key + ".", root)
        else:
            kwargs[name] = _coerce(key, tp, value)
            _check_range(key, kwargs[name], hints[name].metadata)
    return cls(**kwargs)


def _tomllib():
    """The TOML parser: the standard library's, or tomli on Python 3.10."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    return tomllib


def read_toml(path: str | os.PathLike) -> dict:
    """Parse a TOML file; FileNotFoundError / ConfigError with the file name."""
    tomllib = _tomllib()
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ConfigError(f"config file {path!r} is a folder; give the path of a .toml file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config file not found: {path!r}")
    with open(path, "rb") as f:
        try:
            return tomllib.load(f)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: invalid TOML: {err}") from None
        except UnicodeDecodeError as err:
            raise ConfigError(f"{path}: a TOML file must be UTF-8 text (byte "
                              f"0x{err.object[err.start:err.start + 1].hex()} at offset "
                              f"{err.start})") from None


def load(path: str | os.PathLike | None, cls=Config, overrides: dict | None = None):
    """The config in ``path`` (None: all defaults; missing keys take defaults), with dotted
    ``overrides`` applied."""
    data = read_toml(path) if path is not None else {}
    for key, value in (overrides or {}).items():
        set_dotted(data, key, value, cls)
    return from_dict(cls, data)


def set_dotted(data: dict, key: str, value, cls) -> None:
    """data[a][b] = value for key 'a.b' (unknown keys rejected with a hint)."""
    if key not in all_keys(cls):
        raise _unknown(key, cls)
    *sections, leaf = key.split(".")
    for s in sections:
        data = data.setdefault(s, {})
    data[leaf] = value


def parse_value(text: str, key: str | None = None, cls=Config):
    """A ``--set`` value: TOML syntax (``3``, ``1e-3``, ``[64, 32]``, ``true``) or a string.
    For a string-typed ``key`` unquoted text is taken as is (``data.target=1`` is "1")."""
    tomllib = _tomllib()
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if key is not None and not isinstance(value, str) and _leaf_type(cls, key) is str:
        return text
    return value


def _leaf_type(cls, key: str):
    *sections, leaf = key.split(".")
    for name in sections:
        cls = _hints(cls).get(name)
        if not _is_section(cls):
            return None
    return _hints(cls).get(leaf)


# ----- writing ---------------------------------------------------------------------------
def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def to_toml(config, comments: bool = False) -> str:
    """The config as TOML (leaf keys first, then one table per section)."""
    lines, tables = [], []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            tables.append((f.name, value))
            continue
        lines.append(_line(f, value, comments))
    for name, section in tables:
        lines += ["", f"[{name}]"]
        if comments and section.__doc__:
            lines.append(f"# {section.__doc__}")
        lines += [_line(f, getattr(section, f.name), comments) for f in dataclasses.fields(section)]
    return "\n".join(lines) + "\n"


def _line(f, value, comments: bool) -> str:
    text = f"{f.name} = {_toml_value(value)}"
    if not comments:
        return text
    notes = []
    if f.metadata.get("doc"):
        notes.append(f.metadata["doc"])
    if _choices(f.metadata):
        notes.append(" | ".join(c for c in _choices(f.metadata) if c))
    return f"{text:<34} # {'; '.join(notes)}" if notes else text


def example(cls=Config) -> str:
    """A commented example config with every key at its default."""
    head = ("# ffnn run configuration. Every key is optional (shown at its default).\n"
            "# Override any key from the command line: --set train.lr=3e-4 --epochs 20\n"
            "# Data: a bundled set (data.name) or a CSV (data.csv + data.target).\n")
    return head + to_toml(cls(), comments=True)
