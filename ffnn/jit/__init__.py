"""``torch.jit``'s names, for programs that script or trace a model to save it and load it back.

ffnn runs every model eagerly, so nothing here compiles: ``script(model)`` and
``trace(model, example)`` return a ``ScriptModule`` that is the model (the same parameters,
buffers and sub-modules; its class a subclass of the model's) with torch's ``save(f)``;
``jit.load(f)`` gives it back. The file is ffnn's safe checkpoint of the whole module
(safetensors + JSON, never pickle), so, as for ``torch.load`` of a module, the program that
loads it must define or import the model's class. ``trace`` runs the model once on the
example (as torch's tracer does); a forward whose path depends on the input's values follows
each input here, where torch's trace keeps the path of the example. A scripted or traced
function is the function itself, and the decorators (``ignore``, ``unused``, ``export``) leave
what they decorate as it is.
"""

from __future__ import annotations

import copy
import functools
import inspect
import os
from collections.abc import Callable
from typing import IO, Any, Final  # noqa: F401 - torch.jit.Final is typing's

from ffnn.nn.module import Module

__all__ = ["ScriptModule", "script", "trace", "save", "load", "ignore", "unused", "export",
           "is_scripting", "is_tracing", "annotate", "Final", "freeze",
           "optimize_for_inference", "script_if_tracing"]


class ScriptModule(Module):
    """What ``script`` and ``trace`` return: the model, with torch's ``save``, ``code`` and
    ``original_name``. Its class derives from the model's and ``ScriptModule``."""

    def save(self, f: str | os.PathLike | IO[bytes], _extra_files: dict | None = None) -> None:
        """The whole module at ``f`` (a path, written atomically, or a binary file)."""
        save(self, f, _extra_files)

    @property
    def original_name(self) -> str:
        return self._script_of.__name__

    @property
    def code(self) -> str:
        """The Python source of the model's ``forward`` (torch prints TorchScript's)."""
        return inspect.getsource(self._script_of.forward)


@functools.cache
def _script_class(cls: type) -> type:
    """``cls`` with ``ScriptModule`` first; named as ``cls`` (module and qualified name), so a
    saved file names the program's class."""
    return type(cls.__name__, (ScriptModule, cls), {
        "__module__": cls.__module__, "__qualname__": cls.__qualname__, "_script_of": cls})


def _scripted(model: Module) -> ScriptModule:
    if isinstance(model, ScriptModule):
        return model
    scripted = copy.copy(model)  # the same parameters, buffers and sub-modules
    object.__setattr__(scripted, "__class__", _script_class(type(model)))
    return scripted


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """A module as a ``ScriptModule``; a function (or class) as it is."""
    return _scripted(obj) if isinstance(obj, Module) else obj


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True,
          check_inputs=None, check_tolerance: float = 1e-05, strict: bool = True,
          _force_outplace: bool = False, _module_class=None, _compilation_unit=None,
          example_kwarg_inputs: dict | None = None, _store_inputs: bool = True):
    """``func`` called once on ``example_inputs`` (a tensor or a tuple of them, or
    ``example_kwarg_inputs``), then returned: a module as a ``ScriptModule``."""
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("trace: example_inputs or example_kwarg_inputs must be given. "
                           "Received: neither")
    args = example_inputs if isinstance(example_inputs, tuple) else (
        () if example_inputs is None else (example_inputs,))
    from ffnn.autograd import no_grad

    with no_grad():
        func(*args, **(example_kwarg_inputs or {}))
    return _scripted(func) if isinstance(func, Module) else func


def save(m: Module, f: str | os.PathLike | IO[bytes], _extra_files: dict | None = None) -> None:
    """torch.jit.save: the whole module ``m`` at ``f`` (see the module docstring)."""
    from ffnn.io.checkpoint import save as save_object

    if not isinstance(m, Module):
        raise TypeError(f"jit.save: m must be a module (from jit.script or jit.trace). "
                        f"Received: {type(m).__name__}")
    if _extra_files:
        raise NotImplementedError("jit.save: _extra_files are not written by ffnn")
    save_object(m, f)


def load(f: str | os.PathLike | IO[bytes], map_location=None, _extra_files=None,
         _restore_shapes: bool = False) -> ScriptModule:
    """The module ``save`` wrote at ``f``, as a ``ScriptModule``."""
    from ffnn.io.checkpoint import load as load_object

    loaded = load_object(f, map_location=map_location)
    if not isinstance(loaded, Module):
        raise RuntimeError(f"jit.load: {f!r} holds a {type(loaded).__name__}, not a saved "
                           "module (write it with jit.save or ScriptModule.save)")
    return _scripted(loaded)


def _as_is(fn: Callable | None = None, **unused_options) -> Callable:
    """A decorator with or without arguments that returns what it decorates."""
    return fn if fn is not None else (lambda f: f)


ignore = unused = export = interface = script_if_tracing = _as_is


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    """The value (TorchScript reads the type)."""
    return the_value


def freeze(mod: ScriptModule, preserved_attrs: list | None = None,
           optimize_numerics: bool = True) -> ScriptModule:
    """The module itself; as torch's, only for a module in eval mode."""
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. "
                           "Please call .eval() on your module before freezing.")
    return mod


def optimize_for_inference(mod: ScriptModule, other_methods: list | None = None
                           ) -> ScriptModule:
    """The module in eval mode (torch freezes and fuses; ffnn's inference is eager)."""
    return mod.eval()
