"""``ffnn.save(obj, f)`` / ``ffnn.load(f)`` for what PyTorch programs save with ``torch.save``:
a state_dict, an optimizer's state_dict, a dict of those with epoch and loss numbers, lists,
tensors, a whole module — in ffnn's safe format whatever the file name (``model.pth``).

The file is a checkpoint file (safetensors + JSON, see ``safefile``) of format ``ffnn.object``:
every tensor's data is a safetensors entry, the structure is JSON with markers:

* ``{"$tensor": name, "parameter": bool, "requires_grad": bool}`` a Tensor or Parameter (the same
  object saved twice is one entry, loaded as one object: tied weights stay tied); distinct
  tensors over the same array (a state_dict's tied ``enc.weight`` and ``dec.weight``) share
  one entry too, told apart by ``"object": k``, and load as distinct tensors sharing memory,
  as torch's storages;
* ``{"$array": name}`` an ndarray; ``{"$tuple": [...]}``, ``{"$odict": [[k, v], ...]}``,
  ``{"$dict": [[k, v], ...]}`` (keys that are not strings), ``{"$device": "cpu"}``;
* ``{"$module": id, "class": "module:QualName", "dict": {...}}`` a Module: its class and its
  attributes (parameters, buffers, children and plain settings such as ``in_features``);
* ``{"$function": "module:qualname"}`` a function or class referenced by an attribute.

Loading runs no code from the file: no pickle, and a class or function is only looked up among
the modules already imported by the running program (never imported), a module's class must be
an ``ffnn.nn.Module`` subclass, and it is created without calling ``__init__``.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ffnn.device import check_device, device
from ffnn.io.safefile import CheckpointError
from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.tensor import Tensor

FORMAT = "ffnn.object"
FORMAT_VERSION = 1
MAX_DEPTH = 200


# ----- saving ---------------------------------------------------------------------------
class _Packer:
    def __init__(self):
        self.tensors: dict[str, np.ndarray] = {}
        self.seen: dict[int, object] = {}  # id -> marker, for objects saved more than once
        self.keep: list = []  # keeps ids valid while packing
        self.arrays: dict[tuple, list] = {}  # a tensor's array -> [entry name, tensors on it]

    def pack(self, value, where: str, depth: int = 0):
        if depth > MAX_DEPTH:
            raise TypeError(f"cannot save {where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, (Tensor, np.ndarray, Module)) and id(value) in self.seen:
            return self.seen[id(value)]
        if isinstance(value, Tensor):
            return self._remember(value, self._tensor(value, where))
        if isinstance(value, np.ndarray):
            return self._remember(value, {"$array": self._array(value, where)})
        if isinstance(value, Module):
            return self._module(value, where, depth)
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, device):
            return {"$device": str(value)}
        if isinstance(value, tuple):
            return {"$tuple": [self.pack(v, f"{where}[{i}]", depth + 1)
                               for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.pack(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            return self._mapping(value, where, depth)
        if callable(value) and _reference(value) is not None:
            return {"$function": _reference(value)}
        raise TypeError(f"cannot save {where}: values of type {type(value).__name__} are not "
                        "supported (save tensors, arrays, numbers, strings, lists, dicts, "
                        "modules, or a module's state_dict())")

    def _remember(self, value, marker):
        self.seen[id(value)] = marker
        self.keep.append(value)
        return marker

    def _array(self, array: np.ndarray, where: str) -> str:
        if array.dtype.kind not in "biuf":
            raise TypeError(f"cannot save {where}: arrays of dtype {array.dtype} are not "
                            "supported")
        name = str(len(self.tensors))
        self.tensors[name] = array
        return name

    def _tensor(self, tensor: Tensor, where: str) -> dict:
        array = np.asarray(tensor.numpy())
        key = (array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str)
        shared = self.arrays.get(key)
        if shared is None:
            shared = self.arrays[key] = [self._array(array, where), 0]
        else:  # another tensor over the same memory: one entry, loaded sharing it
            shared[1] += 1
        marker = {"$tensor": shared[0], "parameter": isinstance(tensor, Parameter),
                  "requires_grad": bool(tensor.requires_grad)}
        if shared[1]:
            marker["object"] = shared[1]
        return marker

    def _mapping(self, value: Mapping, where: str, depth: int):
        items = [(k, self.pack(v, f"{where}[{k!r}]", depth + 1)) for k, v in value.items()]
        if isinstance(value, OrderedDict):
            return {"$odict": [[self.pack(k, where, depth + 1), v] for k, v in items]}
        if all(isinstance(k, str) and not k.startswith("$") for k, _ in items):
            return dict(items)
        return {"$dict": [[self.pack(k, where, depth + 1), v] for k, v in items]}

    def _module(self, module: Module, where: str, depth: int) -> dict:
        cls = type(module)
        marker = {"$module": len(self.seen), "class": f"{cls.__module__}:{cls.__qualname__}"}
        self._remember(module, {"$module": marker["$module"]})
        attributes = {}
        for name, value in module.__dict__.items():
            if name == "_non_persistent_buffers_set":
                value = sorted(value)
            attributes[name] = self.pack(value, f"{where}.{name}", depth + 1)
        marker["dict"] = attributes
        return marker


def _reference(fn) -> str | None:
    """``'module:qualname'`` when importing nothing finds ``fn`` again by that name."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    return f"{module}:{qualname}" if _lookup(f"{module}:{qualname}") is fn else None


def _lookup(reference: str):
    """The object named ``'module:qualname'`` in an already-imported module, else None."""
    module_name, _, qualname = reference.partition(":")
    obj = sys.modules.get(module_name)
    for part in qualname.split(".") if obj is not None else ():
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def encode_object(obj) -> tuple[dict[str, np.ndarray], dict]:
    """``(tensors, meta)`` for ``obj``; TypeError names the first entry that cannot be saved."""
    import ffnn

    packer = _Packer()
    tree = packer.pack(obj, "obj")
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION,
            "ffnn_version": ffnn.__version__, "object": tree}
    return packer.tensors, meta


# ----- loading --------------------------------------------------------------------------
class _Unpacker:
    def __init__(self, path, tensors: dict[str, np.ndarray]):
        self.path, self.tensors = path, tensors
        self.tensor_objects: dict[str, Tensor] = {}
        self.modules: dict[int, Module] = {}

    def fail(self, problem: str):
        raise CheckpointError(self.path, problem)

    def unpack(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            self.fail(f"the structure is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, list):
            return [self.unpack(v, depth + 1) for v in value]
        if not isinstance(value, dict):
            return value
        markers = [k for k in value if k.startswith("$")]
        if not markers:
            return {k: self.unpack(v, depth + 1) for k, v in value.items()}
        key = markers[0]
        inner = value[key]
        if key == "$tensor":
            return self._tensor(value)
        if key == "$array":
            return self._array(inner)
        if key == "$tuple":
            return tuple(self.unpack(v, depth + 1) for v in self._list(inner, key))
        if key in ("$odict", "$dict"):
            pairs = self._list(inner, key)
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                self.fail(f"malformed {key} entry")
            try:
                items = [(self.unpack(k, depth + 1), self.unpack(v, depth + 1)) for k, v in pairs]
                return OrderedDict(items) if key == "$odict" else dict(items)
            except TypeError as error:  # an unhashable key
                self.fail(f"malformed {key} entry: {error}")
        if key == "$device":
            return device(str(inner))
        if key == "$function":
            return self._function(inner)
        if key == "$module":
            return self._module(value, depth)
        self.fail(f"unknown marker {key!r}")

    def _list(self, value, key: str) -> list:
        if not isinstance(value, list):
            self.fail(f"malformed {key} entry")
        return value

    def _array(self, name) -> np.ndarray:
        if not isinstance(name, str) or name not in self.tensors:
            self.fail(f"reference to missing tensor {name!r}")
        return self.tensors[name]

    def _tensor(self, marker: dict) -> Tensor:
        name = marker["$tensor"]
        if marker.get("object"):  # a tensor sharing an earlier one's memory: its own object
            name = f"{name}#{marker['object']}"
        if name in self.tensor_objects:
            return self.tensor_objects[name]
        array = self._array(marker["$tensor"])
        requires_grad = bool(marker.get("requires_grad", False))
        if marker.get("parameter"):
            tensor = Parameter(array, requires_grad=requires_grad)
        else:
            tensor = Tensor._of(array, requires_grad=requires_grad and array.dtype.kind == "f")
        self.tensor_objects[name] = tensor
        return tensor

    def _function(self, reference):
        found = _lookup(reference) if isinstance(reference, str) else None
        if found is None or not callable(found):
            self.fail(f"the file refers to {reference!r}, which is not defined in the running "
                      "program (import or define it before loading)")
        return found

    def _module(self, marker: dict, depth: int) -> Module:
        number = marker["$module"]
        if "class" not in marker:  # a second reference to a module met before
            if number not in self.modules:
                self.fail(f"reference to module {number!r} before its definition")
            return self.modules[number]
        reference = marker["class"]
        cls = _lookup(reference) if isinstance(reference, str) else None
        if cls is None:
            self.fail(f"the model's class {reference!r} is not defined in the running program: "
                      "define or import it before loading (ffnn never imports code named by "
                      "a file)")
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            self.fail(f"{reference!r} is not an ffnn.nn.Module subclass")
        module = cls.__new__(cls)
        self.modules[number] = module
        attributes = marker.get("dict")
        if not isinstance(attributes, dict):
            self.fail(f"malformed module entry for {reference!r}")
        state = {name: self.unpack(value, depth + 1) for name, value in attributes.items()}
        for registry in ("_parameters", "_buffers", "_modules"):
            if not isinstance(state.get(registry), dict):
                self.fail(f"module {reference!r} lacks its {registry} registry")
            state[registry] = OrderedDict(state[registry])
        names = state.pop("_non_persistent", None)  # the name before torch's, in older files
        state["_non_persistent_buffers_set"] = set(
            state.get("_non_persistent_buffers_set") or names or ())
        module.__dict__.update(state)
        return module


def decode_object(path, tensors: dict[str, np.ndarray], meta: dict, map_location=None):
    """The object saved by :func:`encode_object`; CheckpointError for a malformed file."""
    _check_map_location(map_location)
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(path, f"format version {meta.get('format_version')!r} is not "
                              f"supported (this ffnn reads version {FORMAT_VERSION})")
    try:
        return _Unpacker(path, tensors).unpack(meta.get("object"))
    except CheckpointError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        raise CheckpointError(path, f"{type(error).__name__}: {error}") from None


def _check_map_location(map_location) -> None:
    """torch's ``map_location``: a device or its name (must be the CPU), a dict or a function
    (accepted: every tensor is loaded on the CPU)."""
    if map_location is None or callable(map_location) or isinstance(map_location, Mapping):
        return
    check_device(map_location, "map_location")
