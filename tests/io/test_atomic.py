"""Atomic, durable writes: a writer killed at any moment leaves the previous checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import ffnn
from ffnn import nn
from ffnn.io import atomic_write_bytes

ROOT = Path(__file__).resolve().parents[2]

_SAVER = """
import sys, ffnn
from ffnn import nn
path = sys.argv[1]
ffnn.manual_seed(0)
models = [nn.Sequential(nn.Linear(300, 300), nn.ReLU(), nn.Linear(300, 10)) for _ in range(2)]
for i, model in enumerate(models):
    for p in model.parameters():
        p.data[...] = i
print("ready", flush=True)
i = 0
while True:
    ffnn.save(path, models[i % 2], metadata={"version": i % 2})
    if i == 0:
        print("saved", flush=True)
    i += 1
"""


def test_killed_writer_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    first = nn.Sequential(nn.Linear(300, 300), nn.ReLU(), nn.Linear(300, 10))
    for p in first.parameters():
        p.data[...] = 7
    ffnn.save(path, first, metadata={"version": 7})
    rng = np.random.default_rng(0)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seen = set()
    for attempt in range(20):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], env=env,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        if attempt % 2:  # every other kill after a completed save, whatever the machine's speed
            assert proc.stdout.readline().strip() == "saved"
        time.sleep(rng.uniform(0, 0.05))  # then at a random moment of a later save
        proc.kill()
        proc.wait()
        proc.stdout.close()
        checkpoint = ffnn.load(path)  # never a CheckpointError: old or new, never half
        version = checkpoint.metadata["version"]
        seen.add(version)
        for p in checkpoint.model.parameters():
            assert np.all(p.data == version)
    assert seen & {0, 1}  # the kills after a completed save find a new version


def test_atomic_write_replaces_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"old")
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["f.bin"]

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b"newer")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["f.bin"]


def test_fsyncs_file_and_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(os.path.isdir(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write_bytes(tmp_path / "g.bin", b"x")
    assert synced == [False, True]  # the file first, then its folder


def test_a_folder_refusing_new_files_is_reported_with_the_path_asked_for(tmp_path,
                                                                         monkeypatch):
    """(A folder such as /proc, where the temporary file cannot be made: the error names the
    file the caller asked for, not the temporary one.)"""
    import errno
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "out.csv"
    with pytest.raises(PermissionError, match=r"cannot write '.*out\.csv': Permission denied") \
            as caught:
        atomic_write_bytes(target, b"data")
    assert ".tmp" not in str(caught.value)
    assert not target.exists()
