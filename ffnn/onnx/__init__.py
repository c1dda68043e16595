"""``ffnn.onnx``: torch.onnx's ``export`` and ``is_in_onnx_export`` for ffnn models.

``export(model, dummy_input, "model.onnx", input_names=["input"], output_names=["output"],
dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})`` writes what one eval-mode
forward of the model computes as an ONNX graph (opset 17), op by op
(``ffnn.interop.onnx_trace``), so a program's own ``nn.Module`` subclasses export too.

What it returns: None when ``f`` is given, as torch's exporter with ``dynamo=False``. torch
(``dynamo=True``, its default) returns an ``ONNXProgram``; ffnn has none, so with ``f=None``
it returns the ``onnx.ModelProto`` (``onnx.save(proto, path)`` writes it). ``dynamo`` is
accepted and changes nothing (ffnn has one exporter); the opset is always 17. torch's options
for its own machinery (``training``, ``do_constant_folding``, ``operator_export_type``,
``external_data``, ``optimize``, ``verify``, …) are accepted and ignored; ``dynamic_shapes``
(torch.export's form) is refused: give ``dynamic_axes``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from ffnn import nn
from ffnn.interop import onnx_trace
from ffnn.interop.onnx import OPSET
from ffnn.io.atomic import atomic_write_bytes
from ffnn.tensor import Tensor

if TYPE_CHECKING:
    import onnx

IGNORED_OPTIONS = frozenset({
    "external_data", "custom_translation_table", "report", "optimize", "verify", "profile",
    "dump_exported_program", "artifacts_dir", "training", "operator_export_type",
    "do_constant_folding", "custom_opsets", "export_modules_as_functions",
    "autograd_inlining"})
"""torch.onnx.export's options that concern torch's own exporters: accepted, ignored."""


def export(model: nn.Module, args: Tensor | tuple = (),
           f: str | os.PathLike | BinaryIO | None = None, *,
           kwargs: dict[str, Any] | None = None, export_params: bool = True,
           verbose: bool | None = None, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, opset_version: int | None = None,
           dynamic_axes: Mapping[str, Mapping[int, str] | Sequence[int]] | None = None,
           keep_initializers_as_inputs: bool = False, dynamo: bool = True,
           **ignored_options) -> onnx.ModelProto | None:
    """Export ``model(*args, **kwargs)`` (eval mode, no gradients) as ONNX to ``f``.

    args: a tensor or a tuple of them (one graph input each; other values are fixed into the
    graph). f: a path (written atomically) or a binary file object; None: return the
    ``onnx.ModelProto``. input_names / output_names: the graph's names in order (default:
    the forward's parameter names; ``output`` or ``output_<i>``). dynamic_axes:
    {name: {axis: dim name}} or {name: [axes]}. export_params=False makes the parameters
    graph inputs; keep_initializers_as_inputs lists the initialisers as inputs too.
    Returns None when ``f`` is given. Raises TypeError for an op without a converter (named
    with its module) and for arguments of the wrong type, ValueError for bad values,
    RuntimeError where the graph would hold the example's values or sizes.
    """
    args = _check_arguments(model, args, f, kwargs, input_names, output_names, opset_version,
                            dynamic_axes, ignored_options)
    proto = onnx_trace.export_model(
        model, args, kwargs, input_names=input_names, output_names=output_names,
        dynamic_axes=dynamic_axes, export_params=bool(export_params),
        keep_initializers_as_inputs=bool(keep_initializers_as_inputs))
    if verbose:
        import onnx.printer

        print(onnx.printer.to_text(proto.graph))
    if f is None:
        return proto
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        atomic_write_bytes(f, data)
    else:
        f.write(data)
    return None


def _check_arguments(model, args, f, kwargs, input_names, output_names, opset_version,
                     dynamic_axes, ignored_options) -> tuple:
    """``args`` as a tuple; TypeError or ValueError naming the argument that is wrong."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"export: model must be an ffnn.nn.Module. Received: {type(model)!r}")
    args = (args,) if isinstance(args, Tensor) else args
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"export: args must be a Tensor or a tuple of the forward's arguments. "
                        f"Received: {type(args).__name__}")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise TypeError(f"export: kwargs must be a dict. Received: {type(kwargs).__name__}")
    given = [*args, *(kwargs or {}).values()]
    if not any(isinstance(a, Tensor) for a in given):
        raise ValueError("export: args must hold at least one ffnn Tensor (the graph's "
                         f"inputs). Received: {[type(a).__name__ for a in given]}")
    if f is not None and not isinstance(f, (str, os.PathLike)) and not hasattr(f, "write"):
        raise TypeError(f"export: f must be a path or a binary file object (with write). "
                        f"Received: {type(f).__name__}")
    inputs = sum(isinstance(a, Tensor) for a in given)
    for name, names, most in (("input_names", input_names, inputs),
                              ("output_names", output_names, None)):
        if names is not None and (isinstance(names, str) or not isinstance(names, Sequence)
                                  or not all(isinstance(n, str) for n in names)):
            raise TypeError(f"export: {name} must be a list of strings. Received: {names!r}")
        if names is not None and most is not None and len(names) > most:
            raise ValueError(f"export: {name} has {len(names)} names for {most} input "
                             f"tensor(s). Received: {name}={list(names)!r}")
    if dynamic_axes is not None and not isinstance(dynamic_axes, Mapping):
        raise TypeError(f"export: dynamic_axes must be a dict of name → {{axis: name}} or "
                        f"[axes]. Received: {type(dynamic_axes).__name__}")
    _check_options(opset_version, ignored_options)
    return tuple(args)


def _check_options(opset_version, ignored_options: dict) -> None:
    if opset_version is not None and (type(opset_version) is not int or opset_version < 1):
        raise TypeError(f"export: opset_version must be a positive int or None. Received: "
                        f"{opset_version!r}")
    if opset_version not in (None, OPSET):
        warnings.warn(f"export: ffnn writes ONNX opset {OPSET}; opset_version={opset_version} "
                      "is not honoured", UserWarning, stacklevel=4)
    if ignored_options.get("dynamic_shapes"):
        raise ValueError("export: dynamic_shapes (torch.export's form) is not supported; give "
                         "dynamic_axes={name: {axis: dim name}}. Received: dynamic_shapes="
                         f"{ignored_options['dynamic_shapes']!r}")
    unknown = sorted(set(ignored_options) - IGNORED_OPTIONS - {"dynamic_shapes"})
    if unknown:
        raise TypeError(f"export() got unexpected keyword argument(s) {unknown}")


def is_in_onnx_export() -> bool:
    """Whether an ONNX export is running the model's forward now (as torch's)."""
    return onnx_trace.is_exporting()


__all__ = ["export", "is_in_onnx_export"]
