"""Loading never trusts the file: every invalid checkpoint raises CheckpointError (naming the
file and the problem) and nothing in it is executed."""

from __future__ import annotations

import json
import pickle
import struct

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ffnn
from ffnn import nn
from ffnn.io import safefile
from ffnn.io.safefile import CheckpointError

_EXPLOIT = "ffnn_pickle_exploit_ran"


class _Exploit:
    def __reduce__(self):
        return (exec, (f"import builtins; builtins.{_EXPLOIT} = True",))


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def _valid(tmp_path):
    model = _model()
    optimizer = ffnn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(ffnn.randn(5, 3)).sum().backward()
    optimizer.step()
    path = tmp_path / "good.safetensors"
    ffnn.save(path, model, optimizer, metadata={"epoch": 2, "classes": ["x", "y"]})
    return path, model


def _header(blob: bytes) -> tuple[int, dict]:
    n = struct.unpack("<Q", blob[:8])[0]
    return n, json.loads(blob[8:8 + n])


def _with_header(blob: bytes, header: dict) -> bytes:
    n = struct.unpack("<Q", blob[:8])[0]
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blob[8 + n:]


def test_pickle_is_refused_and_never_executed(tmp_path):
    import builtins

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(CheckpointError, match="pickle file") as info:
        ffnn.load(path)
    assert str(path) in str(info.value) and "save_file" in str(info.value)
    assert not hasattr(builtins, _EXPLOIT)


def test_torch_pt_file_is_refused_with_conversion_hint(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    with pytest.raises(CheckpointError, match="zip archive") as info:
        ffnn.load(path)
    message = str(info.value)
    assert "safetensors.torch import save_file" in message
    assert "ffnn.interop.torch.load_state_dict_file" in message and "model.pt" in message
    with pytest.raises(CheckpointError, match="zip archive"):
        ffnn.load_state_dict(path)


@pytest.mark.parametrize("size", [0, 5, 8, 40])
def test_truncated_files(tmp_path, size):
    good, _ = _valid(tmp_path)
    path = tmp_path / "cut.safetensors"
    path.write_bytes(good.read_bytes()[:size])
    with pytest.raises(CheckpointError, match="truncated|empty") as info:
        ffnn.load(path)
    assert "cut.safetensors" in str(info.value)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.safetensors"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(CheckpointError, match="header length"):
        ffnn.load(path)


def test_header_size_is_bounded(tmp_path):
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", safefile.MAX_HEADER_BYTES + 1) + b"{}")
    with pytest.raises(CheckpointError, match="exceeds the limit"):
        ffnn.load(path)


def test_plain_safetensors_file_points_to_interop(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "plain.safetensors"
    save_file({"weight": np.ones((2, 2), np.float32)}, str(path))
    with pytest.raises(CheckpointError, match="without ffnn metadata.*load_state_dict_file"):
        ffnn.load(path)


def test_wrong_format_version(tmp_path):
    tensors = {"model.weight": np.ones(2, np.float32)}
    meta = {"format": "ffnn.checkpoint", "format_version": 99, "kind": "full",
            "state_keys": ["weight"]}
    path = tmp_path / "future.safetensors"
    safefile.write_file(path, tensors, meta)  # a valid checksum: only the version is wrong
    with pytest.raises(CheckpointError, match="format version 99 is not supported"):
        ffnn.load(path)


def test_shapes_that_disagree_with_the_spec(tmp_path):
    good, _ = _valid(tmp_path)
    tensors, meta = safefile.read_file(good)
    tensors["model.0.weight"] = np.zeros((4, 5), np.float32)  # spec says Linear(3, 4)
    path = tmp_path / "shapes.safetensors"
    safefile.write_file(path, tensors, meta)
    with pytest.raises(CheckpointError, match=r"'0.weight' has shape \(4, 5\).*says \(4, 3\)"):
        ffnn.load(path)


def test_huge_config_is_refused_before_allocating(tmp_path):
    good, _ = _valid(tmp_path)
    tensors, meta = safefile.read_file(good)
    meta["model"]["spec"]["children"]["0"]["config"]["in_features"] = 10**12
    path = tmp_path / "bomb.safetensors"
    safefile.write_file(path, tensors, meta)
    with pytest.raises(CheckpointError, match="says"):
        ffnn.load(path)


def test_unknown_module_type(tmp_path):
    good, _ = _valid(tmp_path)
    tensors, meta = safefile.read_file(good)
    meta["model"]["spec"]["children"]["2"]["type"] = "os.system"
    path = tmp_path / "unknown.safetensors"
    safefile.write_file(path, tensors, meta)
    with pytest.raises(CheckpointError, match="'os.system', which is not a registered module"):
        ffnn.load(path)


def test_edited_metadata_fails_the_checksum(tmp_path):
    good, _ = _valid(tmp_path)
    blob = good.read_bytes()
    _, header = _header(blob)
    header["__metadata__"]["ffnn"] = header["__metadata__"]["ffnn"].replace('"epoch":2',
                                                                            '"epoch":3')
    path = tmp_path / "edited.safetensors"
    path.write_bytes(_with_header(blob, header))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        ffnn.load(path)


# ----- property test: any mutation loads the original or raises CheckpointError ---------
def _same(checkpoint, model) -> bool:
    state = checkpoint.model.state_dict()
    return list(state) == list(model.state_dict()) and all(
        np.array_equal(state[k], v) and state[k].dtype == v.dtype
        for k, v in model.state_dict().items()) and checkpoint.metadata["epoch"] == 2


def _edit_header(blob: bytes, choice: int, value: int) -> bytes:
    _, header = _header(blob)
    names = sorted(k for k in header if k != "__metadata__")
    entry = header[names[value % len(names)]]
    edits = [
        lambda: entry.update(shape=entry["shape"][::-1] + [1]),
        lambda: entry.update(shape=[value % 7] * 2),
        lambda: entry["data_offsets"].__setitem__(1, entry["data_offsets"][1] + value % 9 + 1),
        lambda: entry.update(dtype=["F64", "I32", "BF16", "U8", "X"][value % 5]),
        lambda: header.pop(names[value % len(names)]),
        lambda: header.__setitem__("__metadata__", {"ffnn": "{}", "ffnn_sha256": "0"}),
        lambda: header["__metadata__"].__setitem__(
            "ffnn", header["__metadata__"]["ffnn"].replace('"format_version":1',
                                                           f'"format_version":{value}')),
        lambda: header["__metadata__"].pop("ffnn_sha256"),
    ]
    edits[choice % len(edits)]()
    return _with_header(blob, header)


def _swap_shapes(blob: bytes, value: int) -> bytes:
    _, header = _header(blob)
    names = sorted(k for k in header if k != "__metadata__")
    a, b = names[value % len(names)], names[(value + 1) % len(names)]
    header[a]["shape"], header[b]["shape"] = header[b]["shape"], header[a]["shape"]
    return _with_header(blob, header)


mutations = st.one_of(
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.integers(0, 0)),
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("edit"), st.integers(0, 100), st.integers(0, 10**6)),
    st.tuples(st.just("swap"), st.integers(0, 100), st.integers(0, 0)),
    st.tuples(st.just("append"), st.integers(1, 64), st.integers(0, 255)),
)


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=st.lists(mutations, min_size=1, max_size=3))
def test_mutated_checkpoints_load_equal_or_raise_checkpoint_error(tmp_path, mutation):
    good, model = _valid(tmp_path)
    blob = good.read_bytes()
    for kind, a, b in mutation:
        if kind == "truncate":
            blob = blob[:a % (len(blob) + 1)]
        elif kind == "flip" and blob:
            i = a % len(blob)
            blob = blob[:i] + bytes([blob[i] ^ b]) + blob[i + 1:]
        elif kind in ("edit", "swap"):
            try:  # header edits need a parsable header; otherwise leave the bytes as they are
                blob = _edit_header(blob, a, b) if kind == "edit" else _swap_shapes(blob, a)
            except (ValueError, KeyError, IndexError, TypeError, AttributeError,
                    struct.error, ZeroDivisionError):
                pass
        elif kind == "append":
            blob = blob + bytes([b]) * a
    path = tmp_path / "mutant.safetensors"
    path.write_bytes(blob)
    try:
        checkpoint = ffnn.load(path)
    except CheckpointError as error:
        assert "mutant.safetensors" in str(error)
        return
    assert _same(checkpoint, model)
