"""Reading and writing the checkpoint file: safetensors, checked before anything is trusted.

Layout (safetensors): an 8-byte little-endian header length ``n``, ``n`` bytes of JSON
(``{name: {dtype, shape, data_offsets}, "__metadata__": {...}}``), then the raw tensor bytes.
ffnn puts its JSON in ``__metadata__["ffnn"]`` and a SHA-256 of that JSON and of every
tensor (name, dtype, shape, bytes) in ``__metadata__["ffnn_sha256"]``, so any corruption —
truncation, a flipped byte, an edited header — is caught instead of loaded.

Nothing here executes code from the file: no pickle, the header size is bounded, every offset
and shape is checked, and every failure becomes a :class:`CheckpointError`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os

import numpy as np

from ffnn.io.atomic import atomic_write_bytes

MAX_HEADER_BYTES = 100 * 2**20
FORMATS = ("ffnn.checkpoint", "ffnn.object")  # ffnn.save(path, model …) / ffnn.save(obj, path)
DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
          "I32": np.int32, "I16": np.int16, "I8": np.int8, "U64": np.uint64, "U32": np.uint32,
          "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_}
_CONVERT_HINT = (
    "ffnn never unpickles files, since unpickling can run arbitrary code. Convert it once, in "
    "an environment you trust: `import torch; from safetensors.torch import save_file; "
    "save_file(torch.load(path, weights_only=True), 'model.safetensors')`, then load the "
    "result with ffnn.interop.torch.load_state_dict_file('model.safetensors')"
)


class CheckpointError(ValueError):
    """A file that is not a valid ffnn checkpoint; the message names the file and the problem."""

    def __init__(self, path, problem: str):
        self.path, self.problem = os.fspath(path), problem
        super().__init__(f"cannot load checkpoint {self.path!r}: {problem}")


def digest(tensors: dict[str, np.ndarray], meta_json: str) -> str:
    """SHA-256 over every tensor (sorted by name: name, dtype, shape, bytes) and the JSON."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        array = np.asarray(tensors[name], order="C")
        h.update(f"{len(name)}:{name}|{array.dtype.str}|{array.shape}|{array.nbytes}|".encode())
        h.update(array.reshape(-1).view(np.uint8).data if array.size else b"")
    h.update(meta_json.encode("utf-8"))
    return h.hexdigest()


def write_file(path, tensors: dict[str, np.ndarray], meta: dict) -> None:
    """Serialise ``tensors`` and the JSON-able ``meta`` and write them atomically to ``path``."""
    atomic_write_bytes(path, encode(tensors, meta))


def encode(tensors: dict[str, np.ndarray], meta: dict) -> bytes:
    """The file's bytes: ``tensors`` and the JSON-able ``meta``, with their checksum."""
    from safetensors.numpy import save

    arrays = {}
    for name, array in tensors.items():
        array = np.asarray(array, order="C")
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        if array.dtype.type not in DTYPES.values():
            raise TypeError(f"cannot save tensor {name!r} of dtype {array.dtype} (supported: "
                            "float16/32/64, (u)int8-64, bool)")
        arrays[name] = array
    meta_json = json.dumps(meta, separators=(",", ":"), allow_nan=True)
    return save(arrays, metadata={"ffnn": meta_json, "ffnn_sha256": digest(arrays, meta_json)})


def read_file(path) -> tuple[dict[str, np.ndarray], dict]:
    """``(tensors, meta)`` of a valid ffnn checkpoint; CheckpointError for anything else.

    Raises FileNotFoundError if ``path`` does not exist.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot load checkpoint {path!r}: it is a folder; give a "
                                "checkpoint file (a run folder holds best.safetensors and "
                                "last.safetensors)")
    with open(path, "rb") as handle:
        return decode(path, handle.read())


def decode(path, blob: bytes) -> tuple[dict[str, np.ndarray], dict]:
    """``(tensors, meta)`` from a file's bytes (``path`` names it in errors); see read_file."""
    tensors, meta_strings = parse_safetensors(path, blob)
    if "ffnn" not in meta_strings:
        raise CheckpointError(path, "a safetensors file without ffnn metadata, not an ffnn "
                              "checkpoint; for a plain state_dict use "
                              "ffnn.interop.torch.load_state_dict_file(path)")
    meta_json, checksum = meta_strings.get("ffnn"), meta_strings.get("ffnn_sha256")
    if not isinstance(meta_json, str) or not isinstance(checksum, str):
        raise CheckpointError(path, "the ffnn metadata must be strings")
    meta = _parse_meta(path, meta_json)
    if digest(tensors, meta_json) != checksum:
        raise CheckpointError(path, "checksum mismatch: the tensors or the metadata were "
                              "modified or corrupted after saving")
    return tensors, meta


def read_safetensors(path) -> tuple[dict[str, np.ndarray], dict]:
    """``(tensors, header __metadata__)`` of any safetensors file, validated before reading.

    Checks the magic bytes (pickle, zip), the bounded header length, the JSON, every dtype,
    shape and offset; raises CheckpointError naming the problem.
    """
    path = os.fspath(path)
    with open(path, "rb") as handle:
        return parse_safetensors(path, handle.read())


def parse_safetensors(path, blob: bytes) -> tuple[dict[str, np.ndarray], dict]:
    """As :func:`read_safetensors`, from the file's bytes (``path`` names it in errors)."""
    _check_magic(path, blob)
    n = int.from_bytes(blob[:8], "little")
    if n > MAX_HEADER_BYTES:
        raise CheckpointError(path, f"header length {n} exceeds the limit of "
                              f"{MAX_HEADER_BYTES} bytes (not a safetensors file, or corrupted)")
    if 8 + n > len(blob):
        raise CheckpointError(path, f"truncated: the header says {n} bytes but the file has "
                              f"only {len(blob) - 8} after the length field")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointError(path, f"the header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise CheckpointError(path, "the header is not a JSON object")
    meta_strings = header.pop("__metadata__", None) or {}
    if not isinstance(meta_strings, dict):
        raise CheckpointError(path, "the header's __metadata__ is not a JSON object")
    entries = _check_entries(path, header, len(blob) - 8 - n)
    return _load_tensors(path, blob, entries), meta_strings


def _check_magic(path: str, blob: bytes) -> None:
    if blob[:4] == b"PK\x03\x04":
        raise CheckpointError(path, "this is a zip archive, e.g. a PyTorch .pt/.pth file "
                              "written by torch.save (pickle inside). " + _CONVERT_HINT)
    if len(blob) >= 2 and blob[0] == 0x80 and 2 <= blob[1] <= 5:
        raise CheckpointError(path, "this is a pickle file (e.g. torch.save or pickle.dump). "
                              + _CONVERT_HINT)
    if len(blob) < 8:
        raise CheckpointError(path, f"truncated or empty: {len(blob)} bytes, but a safetensors "
                              "file starts with an 8-byte header length")


def _check_entries(path: str, header: dict, data_size: int) -> dict[str, tuple]:
    """``name -> (dtype, shape, start, end)``; offsets must tile the data region exactly."""
    entries = {}
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise CheckpointError(path, f"malformed header entry for tensor {name!r}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPES:
            hint = (" (NumPy has no bfloat16: save float32 copies, e.g. "
                    "{k: v.float() for k, v in sd.items()})") if dtype == "BF16" else ""
            raise CheckpointError(path, f"tensor {name!r} has unsupported dtype {dtype!r}{hint}")
        if not _int_list(shape) or not _int_list(offsets) or len(offsets) != 2:
            raise CheckpointError(path, f"tensor {name!r} has a malformed shape or offsets")
        start, end = offsets
        nbytes = math.prod(shape) * np.dtype(DTYPES[dtype]).itemsize
        if end - start != nbytes:
            raise CheckpointError(path, f"tensor {name!r}: offsets [{start}, {end}] hold "
                                  f"{end - start} bytes, but {dtype}{shape} needs {nbytes}")
        entries[name] = (dtype, tuple(shape), start, end)
    position = 0
    for name, (_, _, start, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        if start != position:
            raise CheckpointError(path, f"tensor {name!r} starts at byte {start}, expected "
                                  f"{position} (overlapping or gapped data)")
        position = end
    if position != data_size:
        raise CheckpointError(path, f"truncated or padded: the tensors need {position} bytes "
                              f"of data, the file has {data_size}")
    return entries


def _int_list(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value)


def _parse_meta(path: str, meta_json: str) -> dict:
    try:
        meta = json.loads(meta_json)
    except (ValueError, RecursionError) as error:
        raise CheckpointError(path, f"the ffnn metadata is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") not in FORMATS:
        raise CheckpointError(path, "the metadata does not describe an ffnn checkpoint")
    return meta


def _load_tensors(path: str, blob: bytes, entries: dict) -> dict[str, np.ndarray]:
    from safetensors.numpy import load

    try:
        loaded = load(blob)
    except Exception as error:  # safetensors' own validation (SafetensorError …)
        raise CheckpointError(path, f"safetensors rejected the file: {error}") from None
    if set(loaded) != set(entries):
        raise CheckpointError(path, "safetensors and the header disagree on the tensor names")
    tensors = {}
    for name, (dtype, shape, _, _) in entries.items():
        array = loaded[name]
        if array.shape != shape or array.dtype != DTYPES[dtype]:
            raise CheckpointError(path, f"tensor {name!r} was read as {array.dtype}"
                                  f"{array.shape}, the header says {dtype}{list(shape)}")
        tensors[name] = np.array(array, copy=True)
    return tensors
