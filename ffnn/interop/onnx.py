"""ONNX export of feed-forward models: ``export(model, path, example_input)``.

The graph is written node by node with ``onnx.helper`` (opset 17), the weights as
initialisers, with a symbolic batch dimension so one file serves any batch size. What is
exported is the model's inference (eval) behaviour: Dropout is the identity and BatchNorm1d
uses its running statistics. Each layer declares its converter beside itself (the ``onnx``
trait, ``ffnn.nn.traits``); today: Sequential, Linear, Identity, Flatten
(end_dim=-1), Dropout, BatchNorm1d, LayerNorm, RMSNorm, ReLU, LeakyReLU, Sigmoid, Tanh, GELU
(exact: 0.5·x·(1 + erf(x/√2)); or tanh), SiLU, Softmax, LogSoftmax, FeedForward, SwiGLU, GEGLU,
GatedFeedForward, ResidualFFN, LoRALinear (adapter folded into the weight) and TabularModel
(each embedding a Gather on its index column). A model holding a module without a converter
(a program's own ``class Net(nn.Module)``) is exported from the ops its forward applies
instead (``ffnn.interop.onnx_trace``, also behind ``ffnn.onnx.export``). Of
``TabularPreprocessor``'s work only the model stays in the graph: reading the CSV, filling
gaps, mapping category text to indices and scaling happen before, in Python
(``preprocessor.transform``), whose output matrix is the graph's input. ``onnx`` is an
optional dependency, imported when used; onnxruntime has no float64 Erf, so export GELU
models in float32 to run them there.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ffnn import nn
from ffnn.finetune.lora import LoRALinear
from ffnn.io.atomic import atomic_write_bytes
from ffnn.nn import traits
from ffnn.tensor import Tensor

OPSET = 17
BATCH_DIM = "batch"


def _onnx():
    try:
        import onnx
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ONNX export needs the optional package 'onnx' (and 'onnxruntime' to run the "
            "file): pip install onnx onnxruntime"
        ) from None
    return onnx


class _Graph:
    """Nodes and initialisers being collected, with unique value names."""

    def __init__(self, onnx, dtype: np.dtype):
        self.onnx, self.dtype = onnx, np.dtype(dtype)
        self.nodes, self.initializers, self._names, self._scalars = [], [], set(), {}

    def name(self, hint: str) -> str:
        base = hint.strip(".").replace(".", "_") or "value"
        name, i = base, 1
        while name in self._names:
            name, i = f"{base}_{i}", i + 1
        self._names.add(name)
        return name

    def const(self, array, hint: str, dtype=None) -> str:
        """An initialiser holding ``array`` (cast to the graph dtype unless ``dtype`` given)."""
        name = self.name(hint)
        value = np.ascontiguousarray(np.asarray(array, dtype=dtype or self.dtype))
        self.initializers.append(self.onnx.numpy_helper.from_array(value, name))
        return name

    def scalar(self, value: float) -> str:
        if value not in self._scalars:
            self._scalars[value] = self.const(np.array(value), f"const_{len(self._scalars)}")
        return self._scalars[value]

    def node(self, op: str, inputs: list[str], hint: str, **attrs) -> str:
        out = self.name(f"{hint}_{op.lower()}")
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def convert(self, module, x: str, path: str) -> str:
        """The nodes of ``module`` (a child of a composite) on value ``x``; its output."""
        return _convert(self, module, x, path)


# ----- converters: each declared beside its layer (the ``onnx`` trait, ffnn.nn.traits) -------
def _lora_linear(g, m, x, path):
    """The adapter folded in: y = x (W + (α/r)·B A)ᵀ + b (what merge_lora computes)."""
    weight = m.base.weight._data + m.delta_weight()
    y = g.node("MatMul", [x, g.const(weight.T, f"{path}.weight_t")], path)
    if m.base.bias is not None:
        y = g.node("Add", [y, g.const(m.base.bias._data, f"{path}.bias")], path)
    return y


traits.declare(LoRALinear, onnx=_lora_linear)


class _NoConverter(TypeError):
    """A module in the tree has no ONNX converter: ``to_onnx`` exports op by op instead."""


def _convert(g: _Graph, module, x: str, path: str) -> str:
    # By class: a subclass that overrides forward() computes something else and has no converter.
    declared = traits.of(module)
    if declared is None or declared.onnx is None:
        where = f" at {path!r}" if path else ""
        supported = sorted(t.cls.__name__ for t in traits.all_traits() if t.onnx is not None)
        raise _NoConverter(
            f"ONNX export does not support module type {type(module).__name__}{where}. "
            f"Supported: {', '.join(supported)}"
        )
    return declared.onnx(g, module, x, path)


def to_onnx(model, example_input, input_name: str = "input", output_name: str = "output",
            dynamic_batch: bool = True, opset_version: int = OPSET):
    """The ``onnx.ModelProto`` of ``model`` (checked by ``onnx.checker``), for inputs shaped
    like ``example_input`` [batch, ...]; with ``dynamic_batch`` the batch size is free. A model
    with a module that declares no converter (a program's own class) is exported from the ops
    its forward applies (``ffnn.interop.onnx_trace``)."""
    onnx = _onnx()
    if not isinstance(model, nn.Module):
        raise TypeError(f"export: model must be an ffnn.nn.Module. Received: {type(model)!r}")
    example = np.asarray(example_input._data if isinstance(example_input, Tensor)
                         else example_input)
    if example.dtype.kind != "f" or example.ndim < 2:
        raise ValueError(
            "export: example_input must be a floating-point array of shape [batch, ...] (at "
            f"least 2-D). Received: {example.dtype} array of shape {example.shape}"
        )
    graph = _Graph(onnx, example.dtype)
    graph._names.update([input_name])
    try:
        out = _convert(graph, model, input_name, "")
    except _NoConverter:
        return _op_by_op(model, example, input_name, output_name, dynamic_batch)
    if out == input_name:  # the model is the identity
        out = graph.node("Identity", [input_name], "identity")
    # The last value is produced by exactly one node and consumed by none: rename it.
    producer = next(n for n in graph.nodes if out in n.output)
    producer.output[list(producer.output).index(out)] = output_name

    output_shape = _output_shape(model, example)
    batch = [BATCH_DIM] if dynamic_batch else [example.shape[0]]
    elem = onnx.helper.np_dtype_to_tensor_dtype(example.dtype)
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes, type(model).__name__,
            [onnx.helper.make_tensor_value_info(input_name, elem,
                                                batch + list(example.shape[1:]))],
            [onnx.helper.make_tensor_value_info(output_name, elem,
                                                batch + list(output_shape[1:]))],
            initializer=graph.initializers,
        ),
        opset_imports=[onnx.helper.make_opsetid("", opset_version)],
        producer_name="ffnn",
    )
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _op_by_op(model, example: np.ndarray, input_name: str, output_name: str,
              dynamic_batch: bool):
    """A model holding a module without a converter (a program's own ``nn.Module`` class),
    exported from the ops one eval forward applies (``onnx_trace``; opset 17)."""
    from ffnn.interop import onnx_trace

    axes = {input_name: {0: BATCH_DIM}, output_name: {0: BATCH_DIM}} if dynamic_batch else None
    return onnx_trace.export_model(model, (Tensor._of(example),), input_names=[input_name],
                                   output_names=[output_name], dynamic_axes=axes)


def _output_shape(model, example: np.ndarray) -> tuple:
    from ffnn.autograd import no_grad

    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return tuple(model(Tensor._of(example)).shape)
    finally:
        model.train(was_training)


def export(model, path: str | os.PathLike, example_input, input_name: str = "input",
           output_name: str = "output", dynamic_batch: bool = True,
           opset_version: int = OPSET) -> Path:
    """Write ``model`` as an ONNX file at ``path`` (atomically) and return the path.

    example_input: an array or Tensor [batch, ...] fixing the dtype and the non-batch shape.
    The inference behaviour is exported (Dropout off, BatchNorm1d on running statistics).
    Raises TypeError naming an op without a converter (and the module that applied it);
    ImportError if onnx is missing.
    """
    proto = to_onnx(model, example_input, input_name, output_name, dynamic_batch, opset_version)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, proto.SerializeToString())
    return path


def input_shape(model) -> tuple[int, ...]:
    """The feature shape a model expects (without the batch dim), read from its first layer."""
    if isinstance(model, nn.TabularModel):
        return (model.in_features,)
    for module in model.modules():
        if isinstance(module, (nn.Sequential, nn.Identity, nn.Dropout)):
            continue
        if isinstance(module, nn.Linear):
            return (module.in_features,)
        if isinstance(module, (nn.FeedForward, nn.GatedFeedForward, nn.ResidualFFN)):
            return (module.d_model,)
        if isinstance(module, nn.BatchNorm1d):
            return (module.num_features,)
        if isinstance(module, (nn.LayerNorm, nn.RMSNorm)):
            return tuple(module.normalized_shape)
        if not any(True for _ in module.parameters()):  # activations: look further
            continue
        break
    raise ValueError(
        f"cannot tell the input shape of {type(model).__name__} from its layers; pass "
        "example_input"
    )


def export_checkpoint(checkpoint_path: str | os.PathLike, onnx_path: str | os.PathLike,
                      example_input=None) -> Path:
    """Load an ffnn checkpoint with ``ffnn.load`` and export its model to ``onnx_path``
    (``ffnn export CHECKPOINT --onnx out.onnx``). Without ``example_input`` the input shape is
    read from the model's first layer."""
    import ffnn

    loaded = ffnn.load(checkpoint_path)
    model = _model_of(loaded)
    if example_input is None:
        dtype = next((p.dtype for p in model.parameters()), np.dtype(np.float32))
        example_input = np.zeros((1, *input_shape(model)), dtype=dtype)
    return export(model, onnx_path, example_input)


def _model_of(loaded):
    if isinstance(loaded, nn.Module):
        return loaded
    for candidate in (getattr(loaded, "model", None),
                      loaded.get("model") if isinstance(loaded, dict) else None,
                      loaded[0] if isinstance(loaded, (tuple, list)) and loaded else None):
        if isinstance(candidate, nn.Module):
            return candidate
    raise TypeError(f"the checkpoint holds no model. Received: {type(loaded).__name__}")


__all__ = ["export", "export_checkpoint", "to_onnx", "input_shape", "OPSET"]
