"""Checkpoints: one safetensors file with JSON metadata, atomic writes, architecture specs.

``ffnn.save(path, model, optimizer, scheduler, scaler, metadata)`` / ``ffnn.load(path)`` /
``ffnn.load_state_dict(path)``; the exact-resume helpers ``training_state`` /
``restore_training_state`` (the ``ModelCheckpoint`` callback that writes them is in
``ffnn.train``). ``ffnn.io`` imports nothing from ``ffnn.train``.
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
from ffnn.io.resume import restore_training_state, training_state
from ffnn.io.spec import build_module, module_spec, register_spec

__all__ = [
    "save", "load", "load_state_dict", "Checkpoint", "CheckpointError", "FORMAT_VERSION",
    "register_spec", "module_spec", "build_module", "atomic_write_bytes", "fsync_dir",
    "training_state", "restore_training_state",
]

