"""Op-level ONNX export: one eval forward recorded, each op written as ONNX nodes.

Any model exports so, a program's own ``class Net(nn.Module)`` too: its forward runs once in
eval mode under ``no_grad`` with every op recorded (``autograd.recording``; the Sequential
chains step aside while a recording is on, so their layers are recorded one by one), and
each op becomes nodes (``onnx_ops.CONVERTERS``). Tensors are told apart by identity: the
model's inputs are the graph's inputs, its parameters and buffers initialisers named by their
qualified names (``fc1.weight``), other tensors that no recorded op made constants, the
returned tensors the outputs. Comparisons and logical operators (``x > 0`` for a
``torch.where``) and in-place writes (``x += y``) are computed outside the graph in ffnn;
they are noted while exporting, so that a mask or an updated tensor keeps its place.

What a forward computes outside the recorded ops (``.item()``, ``.numpy()``, a tensor made
from another's values, control flow on values, a size read from an axis declared dynamic)
would be frozen into the graph as this example's numbers. So a second forward runs on
inputs with other values, and other sizes along the dynamic axes, and must give the same
nodes; where it does not, the export says which op differs instead of writing a graph that
is right only for the example.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

import numpy as np

from ffnn import autograd, nn
from ffnn.compiler import trace
from ffnn.interop.onnx import OPSET, _Graph, _onnx
from ffnn.interop.onnx_ops import COMPARISONS, CONVERTERS, Assigned, Call, UnsupportedOp
from ffnn.tensor import Tensor

_exporting = [False]


def is_exporting() -> bool:
    """Whether an op-level ONNX export is running the model's forward now."""
    return _exporting[0]


def supported_ops() -> list[str]:
    """The names of the ops the export converts."""
    return sorted({op.__name__ for op in CONVERTERS} - {"Assigned"})


# ----- recording ---------------------------------------------------------------------------
class _Recorder(trace.Recorder):
    """``trace.Recorder``'s records (op, inputs, options, output, module), each with the
    version counts of its inputs and output then (an in-place write changes them later)."""

    def __call__(self, op, inputs, options, out) -> None:
        super().__call__(op, inputs, options, out)
        versions = tuple(None if t is None else t._version_box[0] for t in inputs)
        self.records[-1] += (versions, out._version_box[0])


def _operand(value, like: Tensor):
    """A number compared with ``like`` as a 0-d tensor, in ``like``'s dtype where that keeps
    its value."""
    array = np.asarray(value)
    cast = array.astype(like._data.dtype)
    return Tensor._make(cast if cast == array else array, False, None)


@contextlib.contextmanager
def _noting(recorder: _Recorder):
    """Inside, comparisons and logical operators of tensors are recorded, and so is an
    in-place write of an op's own input with that op's output (``Assigned``). Any other
    write changes a tensor's version count, which the conversion checks at each use."""
    originals = {name: getattr(Tensor, name) for name in COMPARISONS}
    bump = autograd.bump_version

    def comparison(name, method):
        @functools.wraps(method)
        def noted(self, *other):
            out = method(self, *other)
            operands = [o if isinstance(o, Tensor) else _operand(o, self) for o in other
                        if isinstance(o, (Tensor, int, float, np.number))]
            if isinstance(out, Tensor) and len(operands) == len(other):
                recorder(COMPARISONS[name], (self, *operands),
                         {"onnx_type": COMPARISONS[name].onnx_type}, out)
            return out
        return noted

    def written(tensor) -> None:
        bump(tensor)
        if recorder.records:
            _, inputs, _, last = recorder.records[-1][:4]
            if any(t is tensor for t in inputs) and last._data.shape == tensor._data.shape \
                    and np.array_equal(last._data, tensor._data,
                                       equal_nan=last._data.dtype.kind in "fc"):
                recorder(Assigned, (last,), {}, tensor)

    for name, method in originals.items():
        setattr(Tensor, name, comparison(name, method))
    autograd.bump_version = written
    try:
        yield
    finally:
        for name, method in originals.items():
            setattr(Tensor, name, method)
        autograd.bump_version = bump


def record(model, args: tuple, kwargs: dict) -> tuple[list, object]:
    """(the records, the output) of ``model(*args, **kwargs)`` run once in eval mode without
    gradients (every module's training flag restored after), a Sequential's large batch in
    one piece (its blocks of rows would be tensors no op made)."""
    flags = [(module, module.training) for module in model.modules()]
    recorder, block_rows = _Recorder(), nn.Sequential.inference_block_rows
    model.eval()
    _exporting[0], nn.Sequential.inference_block_rows = True, np.iinfo(np.int64).max
    try:
        with autograd.no_grad(), autograd.recording(recorder), _noting(recorder):
            out = model(*args, **kwargs)
    finally:
        _exporting[0], nn.Sequential.inference_block_rows = False, block_rows
        for module, training in flags:
            module.training = training
    return recorder.records, out


def flat_tensors(value) -> list:
    """The tensors of a model's output: a Tensor, or tuples, lists and dicts of them."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in flat_tensors(item)]
    return []


def argument_names(model, count: int) -> list[str]:
    """The names of the first ``count`` positional parameters of ``model.forward``
    (``input_<i>`` where it has none)."""
    try:
        parameters = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        parameters = []
    named = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY,
                                                      p.POSITIONAL_OR_KEYWORD)]
    return [named[i] if i < len(named) else f"input_{i}" for i in range(count)]


# ----- conversion --------------------------------------------------------------------------
class _Builder:
    """The nodes of recorded ops on a ``_Graph``, with the value name of each tensor (and of
    each array an op took as an option); ``fragments``: per record, its nodes and new
    constants serialised (two forwards must give the same)."""

    def __init__(self, onnx, model, dtype, reserved):
        self.g, self.model = _Graph(onnx, dtype), model
        self.g._names.update(reserved)
        self.held: dict[int, str] = {}  # id(parameter or buffer, or its array) → its name
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            self.held.setdefault(id(tensor), name)
            self.held.setdefault(id(tensor._data), name)
        self.paths = {id(m): name for name, m in model.named_modules()}
        self.values: dict[int, tuple[str, int]] = {}  # id(tensor) → (name, version count)
        self.arrays: dict[int, str] = {}  # id(array) → name
        self.params: dict[str, np.ndarray] = {}  # initialisers of parameters and buffers
        self.alive, self.fragments = [], []  # (keeps the ids above theirs)

    def add_input(self, name: str, tensor: Tensor, version: int) -> None:
        self.values[id(tensor)] = (name, version)
        self.arrays[id(tensor._data)] = name
        self.alive.append(tensor)

    def array(self, array) -> str:
        """A known value's array, a parameter's or buffer's (an initialiser named by it), or a
        new constant."""
        if id(array) in self.arrays:
            return self.arrays[id(array)]
        held = self.held.get(id(array))
        if held is not None:
            name = held if held not in self.g._names else self.g.name(held)
            self.g._names.add(name)
            self.params[name] = array
        else:  # kept as it is: 0-d too (``_Graph.const`` makes arrays at least 1-d)
            array, name = np.asarray(array), self.g.name("const")
            self.g.initializers.append(self.g.onnx.numpy_helper.from_array(array, name))
        self.arrays[id(array)] = name
        self.alive.append(array)
        return name

    def value(self, tensor: Tensor, version: int, where: str) -> str:
        """The name of ``tensor`` as an op saw it (its version count then)."""
        named = self.values.get(id(tensor))
        if named is None:  # a parameter, buffer or constant: its values now are those seen
            named = (self.array(tensor._data), tensor._version_box[0])
            self.values[id(tensor)] = named
            self.alive.append(tensor)
        if named[1] != version:
            raise TypeError(f"ONNX export: a tensor the forward uses {where} was changed in "
                            "place after it was made or used (x[i] = v, x.fill_(…), or a "
                            "view of a tensor written in place); write it out of place")
        return named[0]

    def where(self, module) -> str:
        if module is None:
            return "outside any module's forward"
        path = self.paths.get(id(module))
        if not path:
            return f"in {type(module).__name__}.forward"
        return f"in {type(module).__name__} at {path!r}"

    def convert(self, record) -> None:
        op, inputs, options, out, module, versions, out_version = record
        where = self.where(module)
        convert = CONVERTERS.get(op)
        if convert is None:
            raise TypeError(f"ONNX export does not support the op {op.__name__} (applied "
                            f"{where}). Supported ops: {', '.join(supported_ops())}")
        counts = len(self.g.nodes), len(self.g.initializers)
        names = ["" if t is None else self.value(t, v, where) for t, v in zip(inputs, versions)]
        hint = self.paths.get(id(module)) or type(self.model).__name__.lower()
        try:
            result = convert(Call(self.g, names, inputs, options, out, hint, self.array))
        except UnsupportedOp as error:
            raise TypeError(f"ONNX export does not support {op.__name__} {error} (applied "
                            f"{where})") from None
        self.values[id(out)] = (result, out_version)
        self.arrays[id(out._data)] = result
        self.alive.append(out)
        self.fragments.append(
            [n.SerializeToString() for n in self.g.nodes[counts[0]:]]
            + [t.SerializeToString() for t in self.g.initializers[counts[1]:]])


def convert(onnx, model, inputs: dict, records: list, reserved) -> _Builder:
    """The builder holding the nodes of ``records`` on the graph inputs ``inputs`` (name →
    (tensor, its version count before the forward)), in the dtype of the first floating
    input or parameter (float32 if none)."""
    floats = [t._data.dtype for t in [*(t for t, _ in inputs.values()), *model.parameters()]
              if t._data.dtype.kind == "f"]
    builder = _Builder(onnx, model, floats[0] if floats else np.float32, reserved)
    for name, (tensor, version) in inputs.items():
        builder.add_input(name, tensor, version)
    for entry in records:
        builder.convert(entry)
    return builder


def same_graphs(first: _Builder, second: _Builder, records: list, varied: str) -> None:
    """Raise RuntimeError where the second forward gave other nodes than the first."""
    for index, (a, b) in enumerate(zip(first.fragments, second.fragments)):
        if a != b:
            op, module = records[index][0], records[index][4]
            raise RuntimeError(
                f"ONNX export: the nodes of {op.__name__} (applied {first.where(module)}) "
                f"differ for inputs with other values{varied}: part of the forward is "
                "computed outside ffnn's ops (a tensor made from another's values or sizes, "
                "as torch.zeros_like(x) or torch.zeros(x.shape[0], …); .item(), .numpy(), "
                ".tolist(); control flow on values), so the graph would hold this example's "
                "numbers. Write that part with tensor ops")


# ----- the model ---------------------------------------------------------------------------
def export_model(model, args: tuple, kwargs: dict | None = None, input_names=None,
                 output_names=None, dynamic_axes=None, export_params: bool = True,
                 keep_initializers_as_inputs: bool = False):
    """The checked ``onnx.ModelProto`` (opset 17) of ``model(*args, **kwargs)`` in eval mode.

    The tensors among ``args`` and ``kwargs`` are the graph's inputs (named ``input_names``,
    else after the forward's parameters), the returned tensors its outputs (``output_names``,
    else ``output`` / ``output_<i>``); ``dynamic_axes``: {name: {axis: dim name}} or
    {name: [axes]}, torch's form. Raises TypeError naming an op without a converter,
    RuntimeError where the graph would depend on the example's values or sizes.
    """
    onnx, kwargs = _onnx(), dict(kwargs or {})
    given = (*args, *kwargs.values())
    tensors = [a for a in given if isinstance(a, Tensor)]
    defaults = [n for n, a in zip(argument_names(model, len(args)) + list(kwargs), given)
                if isinstance(a, Tensor)]
    names = list(input_names or []) + defaults[len(input_names or []):]
    versions = [t._version_box[0] for t in tensors]
    records, out = record(model, args, kwargs)
    outputs = flat_tensors(out)
    out_names = _output_names(output_names, outputs, out)
    _check_names(names, out_names)
    dims = dynamic_dims(dynamic_axes, {**{n: t.shape for n, t in zip(names, tensors)},
                                       **{n: t.shape for n, t in zip(out_names, outputs)}})
    others = {id(t): _varied(t, dims.get(n, {})) for n, t in zip(names, tensors)}
    varied = " or sizes along dynamic_axes" if any(n in dims for n in names) else ""
    try:
        records2, _ = record(model, [others.get(id(a), a) for a in args],
                             {k: others.get(id(v), v) for k, v in kwargs.items()})
    except Exception as error:
        raise RuntimeError(f"ONNX export: the forward fails on inputs with other values"
                           f"{varied} ({type(error).__name__}: {error})") from error
    if [r[0] for r in records] != [r[0] for r in records2]:
        raise RuntimeError(f"ONNX export: the forward applies other ops for inputs with other "
                           f"values{varied} (control flow on values or sizes)")
    reserved = names + out_names
    first = convert(onnx, model, {n: (t, v) for n, t, v in zip(names, tensors, versions)},
                    records, reserved)
    second = convert(onnx, model, {n: (others[id(t)], 0) for n, t in zip(names, tensors)},
                     records2, reserved)
    same_graphs(first, second, records, varied)
    return _model_proto(first, dict(zip(names, tensors)), dict(zip(out_names, outputs)), dims,
                        export_params, keep_initializers_as_inputs)


def _output_names(given, outputs: list, out) -> list[str]:
    """``given`` then ``output`` (one output) or ``output_<i>`` for the rest."""
    if not outputs:
        raise TypeError(f"ONNX export: the forward returned no tensor. Received: "
                        f"{type(out).__name__}")
    names = list(given or [])
    if len(names) > len(outputs):
        raise ValueError(f"ONNX export: output_names has {len(names)} names for "
                         f"{len(outputs)} output tensor(s). Received: output_names={names}")
    return names + ["output" if len(outputs) == 1 else f"output_{i}"
                    for i in range(len(names), len(outputs))]


def _check_names(inputs: list, outputs: list) -> None:
    taken = inputs + outputs
    if len(set(taken)) != len(taken) or not all(isinstance(n, str) and n for n in taken):
        raise ValueError(f"ONNX export: input and output names must be distinct non-empty "
                         f"strings. Received: inputs {inputs}, outputs {outputs}")


def dynamic_dims(dynamic_axes, shapes: dict) -> dict[str, dict[int, str]]:
    """torch's ``dynamic_axes`` as {name: {axis ≥ 0: dim name}} (a list of axes names each
    ``<name>_dynamic_axes_<i>``, as torch); ValueError for an unknown name or axis."""
    named = {}
    for key, axes in (dynamic_axes or {}).items():
        if key not in shapes:
            raise ValueError(f"ONNX export: dynamic_axes names {key!r}, which is not an input "
                             f"or output name; expected one of {list(shapes)}. Received: "
                             f"dynamic_axes={dynamic_axes!r}")
        if isinstance(axes, dict):
            pairs = list(axes.items())
        elif isinstance(axes, (list, tuple)):
            pairs = [(axis, f"{key}_dynamic_axes_{i + 1}") for i, axis in enumerate(axes)]
        else:
            raise TypeError(f"ONNX export: dynamic_axes[{key!r}] must be a dict {{axis: name}} "
                            f"or a list of axes. Received: {axes!r}")
        rank = len(shapes[key])
        for axis, dim in pairs:
            if type(axis) is not int or not -rank <= axis < rank or not isinstance(dim, str):
                raise ValueError(f"ONNX export: dynamic_axes[{key!r}] must map axes in "
                                 f"[-{rank}, {rank}) (the tensor's rank is {rank}) to names. "
                                 f"Received: {axes!r}")
            named.setdefault(key, {}).setdefault(axis % rank, dim)
    return named


def _varied(tensor: Tensor, dynamic: dict) -> Tensor:
    """Another input like ``tensor``: one longer along each dynamic axis, other values
    (floating: 0.75 x + 0.5; integers and booleans: each the next of the values present, so
    that indices stay valid)."""
    shape = [n + 1 if axis in dynamic else n for axis, n in enumerate(tensor._data.shape)]
    values = np.resize(tensor._data, shape)
    if values.dtype.kind in "fc":
        return Tensor._make((values * 0.75 + 0.5).astype(values.dtype), False, None)
    present, rank = np.unique(values, return_inverse=True)
    return Tensor._make(present[(rank.reshape(shape) + 1) % max(len(present), 1)], False, None)


def _model_proto(builder: _Builder, inputs: dict, outputs: dict, dims: dict,
                 export_params: bool, keep_initializers_as_inputs: bool):
    """The graph's outputs named (the value that gives one renamed, else an Identity), the
    nodes no output needs dropped, then the model, checked."""
    g, onnx = builder.g, builder.g.onnx
    produced = {value for node in g.nodes for value in node.output}
    renamed = {}
    for name, tensor in outputs.items():
        if id(tensor) not in builder.values and id(tensor._data) not in builder.arrays:
            raise TypeError(f"ONNX export: the output {name!r} was not computed by ops the "
                            "export records (a tensor made outside them, or an input written "
                            "in place)")
        value = builder.value(tensor, tensor._version_box[0], f"as the output {name!r}")
        if value in produced and value not in renamed:
            renamed[value] = name
        else:
            g.nodes.append(onnx.helper.make_node("Identity", [value], [name], name=name))
    needed, nodes = set(outputs), []
    for node in reversed(g.nodes):
        for field in (node.input, node.output):
            field[:] = [renamed.get(value, value) for value in field]
        if needed.intersection(node.output):
            nodes.append(node)
            needed.update(node.input)
    params = {n: a for n, a in builder.params.items() if n in needed}
    initializers = [t for t in g.initializers if t.name in needed]
    graph_inputs = [_info(onnx, n, t._data, dims.get(n, {})) for n, t in inputs.items()]
    if export_params:
        initializers += [onnx.numpy_helper.from_array(np.asarray(a), n)
                         for n, a in params.items()]
    else:
        graph_inputs += [_info(onnx, n, a, {}) for n, a in params.items()]
    if keep_initializers_as_inputs:
        graph_inputs += [_info(onnx, t.name, onnx.numpy_helper.to_array(t), {})
                         for t in initializers]
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(nodes[::-1], type(builder.model).__name__, graph_inputs,
                               [_info(onnx, n, t._data, dims.get(n, {}))
                                for n, t in outputs.items()],
                               initializer=initializers),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)], producer_name="ffnn")
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _info(onnx, name: str, array: np.ndarray, dims: dict):
    """A graph input's or output's type: its dtype, its shape with the dynamic axes named."""
    shape = [dims.get(axis, size) for axis, size in enumerate(array.shape)]
    return onnx.helper.make_tensor_value_info(
        name, onnx.helper.np_dtype_to_tensor_dtype(array.dtype), shape)
