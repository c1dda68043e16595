"""Checkpoints: one safetensors file with JSON metadata, atomic writes, architecture specs.

``ffnn.save(path, model, optimizer, scheduler, scaler, metadata)`` / ``ffnn.load(path)`` /
``ffnn.load_state_dict(path)``; ``ModelCheckpoint`` (a Trainer callback) and the exact-resume
helpers ``training_state`` / ``restore_training_state``.
"""

from ffnn.io.atomic import atomic_write_bytes, fsync_dir
from ffnn.io.checkpoint import (
    FORMAT_VERSION,
    Checkpoint,
    CheckpointError,
    load,
    load_state_dict,
    save,
)
from ffnn.io.spec import build_module, module_spec, register_spec

__all__ = [
    "save", "load", "load_state_dict", "Checkpoint", "CheckpointError", "FORMAT_VERSION",
    "register_spec", "module_spec", "build_module", "atomic_write_bytes", "fsync_dir",
    "ModelCheckpoint", "training_state", "restore_training_state",
]


def __getattr__(name):
    if name == "ModelCheckpoint":
        from ffnn.io.model_checkpoint import ModelCheckpoint

        return ModelCheckpoint
    if name in ("training_state", "restore_training_state"):
        from ffnn.io import resume

        return getattr(resume, name)
    raise AttributeError(f"module 'ffnn.io' has no attribute {name!r}")
