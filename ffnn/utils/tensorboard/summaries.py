"""The protocol buffers TensorBoard reads, built from NumPy values with tensorboard's own
protos and plugin metadata: scalars, histograms, text, images, hyperparameters and the graph
of one forward (read from the ops ``ffnn.autograd.recording`` sees, scoped by module).

The writer (``writer.py``) checks and converts the user's arguments; the functions here take
NumPy arrays and Python values that are already checked.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto import types_pb2
from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.plugins.text import metadata as text_metadata

from ffnn import autograd
from ffnn.tensor import Tensor


def _default_bins() -> list[float]:
    """TensorFlow's histogram buckets: ±1e-12 · 1.1ᵏ up to 1e20, and 0 (each limit the one
    before times 1.1, as TensorBoard's own writers make them)."""
    positive, limit = [], 1e-12
    while limit < 1e20:
        positive.append(limit)
        limit *= 1.1
    return [-v for v in reversed(positive)] + [0.0] + positive


DEFAULT_BINS = _default_bins()
"""The bin edges of ``bins='tensorflow'`` (1549 of them)."""


def scalar(tag: str, value: float, new_style: bool = False,
           double_precision: bool = False) -> Summary:
    """One value: the float32 ``simple_value``, or (``new_style``) a scalar tensor of the
    scalars plugin, float64 where ``double_precision``."""
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=value)])
    if double_precision:
        tensor = TensorProto(dtype=types_pb2.DT_DOUBLE, double_val=[value])
    else:
        tensor = TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[value])
    metadata = scalar_metadata.create_summary_metadata(display_name="", description="")
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=metadata)])


def histogram(tag: str, values: np.ndarray, bins, max_bins: int | None = None) -> Summary:
    """The histogram of ``values`` (float64) over ``bins`` (edges, a count or a NumPy rule),
    at most ``max_bins`` buckets (neighbours merged), trimmed to the buckets holding values
    plus one empty bucket on the left: TensorBoard stores only each bucket's right limit."""
    values = values.reshape(-1).astype(np.float64)
    counts, edges = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        counts, edges = _merged(counts, edges, max_bins)
    filled = np.flatnonzero(counts)
    if filled.size == 0:
        raise ValueError(f"add_histogram: no value of values lies inside the bins (from "
                         f"{edges[0]:g} to {edges[-1]:g}). Received: {values.size} values, "
                         f"{np.count_nonzero(~np.isfinite(values))} of them NaN or infinite")
    first, last = int(filled[0]), int(filled[-1])
    counts = np.concatenate([[0], counts[:last + 1]]) if first == 0 else counts[first - 1:last + 1]
    proto = HistogramProto(min=values.min(), max=values.max(), num=values.size,
                           sum=values.sum(), sum_squares=values.dot(values),
                           bucket_limit=edges[first:last + 2].tolist(), bucket=counts.tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=proto)])


def _merged(counts: np.ndarray, edges: np.ndarray, max_bins: int) -> tuple:
    """(counts, edges) with each run of ``ceil(len(counts) / max_bins)`` neighbouring
    buckets added into one."""
    group = math.ceil(len(counts) / max_bins)
    padded = np.concatenate([counts, np.zeros(-len(counts) % group, counts.dtype)])
    merged = padded.reshape(-1, group).sum(axis=1)
    return merged, np.append(edges[:-1:group], edges[-1])


def text(tag: str, string: str) -> Summary:
    """A string for the text plugin (markdown), under ``<tag>/text_summary`` as torch's."""
    tensor = TensorProto(dtype=types_pb2.DT_STRING, string_val=[string.encode("utf-8")],
                         tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    metadata = text_metadata.create_summary_metadata(display_name="", description="")
    return Summary(value=[Summary.Value(tag=f"{tag}/text_summary", metadata=metadata,
                                        tensor=tensor)])


def pr_curve(tag: str, labels: np.ndarray, predictions: np.ndarray, num_thresholds: int,
             weights: np.ndarray | float = 1.0) -> Summary:
    """A precision–recall curve for the pr_curves plugin: at each of ``num_thresholds``
    thresholds t = i / (num_thresholds − 1), the (weighted) counts of true and false
    positives and negatives among predictions ≥ t, precision = TP / (TP + FP) and
    recall = TP / (TP + FN); stored as a [6, num_thresholds] float tensor."""
    buckets = np.floor(predictions.reshape(-1) * (num_thresholds - 1)).astype(np.int64)
    positive = labels.reshape(-1).astype(np.float64)
    weights = np.broadcast_to(weights, positive.shape)
    tp = np.bincount(buckets, positive * weights, num_thresholds)[::-1].cumsum()[::-1]
    fp = np.bincount(buckets, (1.0 - positive) * weights, num_thresholds)[::-1].cumsum()[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / np.maximum(1e-7, tp + fn)
    data = np.stack([tp, fp, tn, fn, precision, recall])
    tensor = TensorProto(dtype=types_pb2.DT_FLOAT, float_val=data.reshape(-1).tolist(),
                         tensor_shape=TensorShapeProto(
                             dim=[TensorShapeProto.Dim(size=d) for d in data.shape]))
    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds)
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="pr_curves", content=content.SerializeToString()))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])


def image(tag: str, array: np.ndarray, dataformats: str) -> Summary:
    """One PNG image from ``array`` laid out as ``dataformats`` (letters of NCHW; a batch is
    tiled 8 to a row). uint8 values are taken as 0…255, any other dtype as 0…1."""
    pixels = _as_uint8(to_hwc(array, dataformats))
    return Summary(value=[Summary.Value(tag=tag, image=_png(pixels))])


def _as_uint8(hwc: np.ndarray) -> np.ndarray:
    """Pixel values as uint8: uint8 kept, others (in [0, 1]) times 255, clipped."""
    scale = 1 if hwc.dtype == np.uint8 else 255
    return (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def to_hwc(array: np.ndarray, dataformats: str, ncols: int = 8) -> np.ndarray:
    """``array`` as [height, width, channels] with 3 channels (or 4: RGBA); a batch tiled
    ``ncols`` to a row."""
    layout = dataformats.upper()
    if len(layout) == 4:
        nchw = array.transpose([layout.index(c) for c in "NCHW"])
        hwc = grid(nchw, ncols).transpose(1, 2, 0)
    elif len(layout) == 3:
        hwc = array.transpose([layout.index(c) for c in "HWC"])
    else:
        hwc = array.transpose([layout.index(c) for c in "HW"])[:, :, None]
    if hwc.shape[2] == 1:
        hwc = np.repeat(hwc, 3, axis=2)
    return hwc


def grid(nchw: np.ndarray, ncols: int = 8) -> np.ndarray:
    """A batch [n, c, h, w] tiled into one image [c, rows·h, ncols·w], row by row (empty
    tiles black)."""
    n, c, h, w = nchw.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    tiles = np.zeros((nrows * ncols, c, h, w), nchw.dtype)
    tiles[:n] = nchw
    return tiles.reshape(nrows, ncols, c, h, w).transpose(2, 0, 3, 1, 4).reshape(
        c, nrows * h, ncols * w)


def _png(pixels: np.ndarray) -> Summary.Image:
    """``pixels`` [h, w, 3 or 4] uint8 as an image proto."""
    height, width, channels = pixels.shape
    return Summary.Image(height=height, width=width, colorspace=channels,
                         encoded_image_string=encode_png(pixels))


def encode_png(pixels: np.ndarray) -> bytes:
    """``pixels`` [h, w, 3 or 4] uint8 as PNG bytes (needs Pillow)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("SummaryWriter images need Pillow: pip install pillow") from None
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def sprite(images: np.ndarray) -> bytes:
    """The projector's sprite: ``images`` [n, c, h, w] tiled ⌈√n⌉ to a row and a column,
    as PNG bytes."""
    n, c, h, w = images.shape
    side = math.ceil(math.sqrt(n))
    square = np.zeros((side * side, c, h, w), images.dtype)
    square[:n] = images
    return encode_png(_as_uint8(to_hwc(square, "NCHW", ncols=side)))


def figure_pixels(figure, close: bool) -> np.ndarray:
    """A matplotlib figure drawn by Agg: its RGB pixels [h, w, 3] (uint8); closed after when
    ``close``."""
    try:
        import matplotlib.pyplot as plt
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise ImportError("add_figure needs matplotlib: pip install matplotlib") from None
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.array(canvas.buffer_rgba())[:, :, :3]
    if close:
        plt.close(figure)
    return pixels


_HPARAM_KINDS = (  # (python type, HParamInfo type, struct Value field); bool before number
    (bool, "DATA_TYPE_BOOL", "bool_value"),
    ((int, float), "DATA_TYPE_FLOAT64", "number_value"),
    (str, "DATA_TYPE_STRING", "string_value"),
)


def hparams(hparam_dict: dict, metric_dict: dict, domains: dict) -> tuple:
    """The hparams plugin's three summaries: (experiment, session start, session end).
    ``hparam_dict``'s values are bool, int, float or str (None: left out); ``domains`` maps
    a name to the list of values it can take."""
    start = plugin_data_pb2.SessionStartInfo()
    infos = []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        _, kind, field = next(k for k in _HPARAM_KINDS if isinstance(value, k[0]))
        setattr(start.hparams[name], field, value)
        domain = None
        if name in domains:
            domain = struct_pb2.ListValue(
                values=[struct_pb2.Value(**{field: d}) for d in domains[name]])
        infos.append(api_pb2.HParamInfo(name=name, type=api_pb2.DataType.Value(kind),
                                        domain_discrete=domain))
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag)) for tag in metric_dict]
    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
    end = plugin_data_pb2.SessionEndInfo(status=api_pb2.Status.Value("STATUS_SUCCESS"))
    return (_hparams_summary(hparams_metadata.EXPERIMENT_TAG, experiment=experiment),
            _hparams_summary(hparams_metadata.SESSION_START_INFO_TAG, session_start_info=start),
            _hparams_summary(hparams_metadata.SESSION_END_INFO_TAG, session_end_info=end))


def _hparams_summary(tag: str, **content) -> Summary:
    data = plugin_data_pb2.HParamsPluginData(**content)
    metadata = hparams_metadata.create_summary_metadata(data)
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])


# ----- the graph ----------------------------------------------------------------------


class _GraphBuilder:
    """NodeDefs of one forward: ``record`` is the ``autograd.recording`` callback; each op's
    node is named ``<module scope>/<op>``, torch's scopes (``Net/Sequential[body]/Linear[0]``),
    its inputs the nodes that made them: the model's inputs, the parameters and buffers
    (``<scope>/weight``), earlier ops, or constants."""

    def __init__(self, model):
        self.nodes: list[NodeDef] = []
        self.taken: set[str] = set()
        self.names: dict[int, str] = {}  # id(tensor) → its node
        self.alive: list = []  # the tensors in ``names`` (their ids stay theirs)
        self.scopes = _module_scopes(model)
        self.scope = [self.scopes[id(model)]]  # the modules whose forward is running
        self.held = {}  # id(parameter or buffer) → (node name, op), made at first use
        for module in model.modules():
            for kind, slots in (("Parameter", module.named_parameters(recurse=False)),
                                ("Buffer", module.named_buffers(recurse=False))):
                for name, tensor in slots:
                    self.held.setdefault(id(tensor), (f"{self.scopes[id(module)]}/{name}", kind))

    def add(self, name: str, op: str, inputs: list, tensor, attr: str | None = None) -> str:
        """Append a node (its name made unique) for ``tensor``; returns the name."""
        unique, count = name, 0
        while unique in self.taken:
            count += 1
            unique = f"{name}_{count}"
        self.taken.add(unique)
        shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in tensor.shape])
        attrs = {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=[shape]))}
        if attr is not None:
            attrs["attr"] = AttrValue(s=attr.encode("utf-8"))
        self.nodes.append(NodeDef(name=unique, op=op, input=inputs, attr=attrs))
        self.names[id(tensor)] = unique
        self.alive.append(tensor)
        return unique

    def source(self, tensor) -> str:
        """The node that gives ``tensor``: known, a parameter or buffer, or a new constant."""
        if id(tensor) in self.names:
            return self.names[id(tensor)]
        if id(tensor) in self.held:
            name, kind = self.held[id(tensor)]
            return self.add(name, kind, [], tensor)
        return self.add(f"{self.scope[-1]}/constant", "Constant", [], tensor)

    def record(self, op, inputs, options, out) -> None:
        sources = [self.source(t) for t in inputs if isinstance(t, Tensor)]
        self.add(f"{self.scope[-1]}/{op.__name__}", op.__name__, sources, out,
                 _describe(options))


def _module_scopes(model) -> dict:
    """id(module) → its scope: the model's class name, then ``Class[attribute]`` per level
    (a module reached twice keeps its first path)."""
    scopes = {id(model): type(model).__name__}
    for _, module in model.named_modules():
        for name, child in module.named_children():
            scopes.setdefault(id(child), f"{scopes[id(module)]}/{type(child).__name__}[{name}]")
    return scopes


def _describe(options: dict) -> str:
    """An op's options as ``{dim: 1, keepdim: False}`` (values that are not plain Python
    by their type's name)."""
    return "{" + ", ".join(f"{key}: {_plain(value)}" for key, value in options.items()) + "}"


def _plain(value) -> str:
    if value is None or isinstance(value, (bool, int, float, str, slice, np.generic)):
        return repr(value)
    if isinstance(value, (tuple, list)) and len(value) <= 16:
        inner = ", ".join(_plain(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    return type(value).__name__


@contextlib.contextmanager
def _scoped(model, builder: _GraphBuilder):
    """Inside, every module of ``model`` runs in eval mode with its ``forward`` wrapped to
    keep ``builder.scope`` (a forward set on the instance, as ``ffnn.utils.profile`` sets
    one: it also keeps a Sequential from running as one node); all restored on exit."""
    modules = list(model.modules())
    saved = [(m, m.training, m.__dict__.get("forward")) for m in modules]
    for module in modules:
        module.__dict__["forward"] = _in_scope(module.forward, builder.scopes[id(module)],
                                               builder.scope)
    model.eval()
    try:
        yield
    finally:
        for module, training, forward in saved:
            module.training = training
            if forward is None:
                module.__dict__.pop("forward", None)
            else:
                module.__dict__["forward"] = forward


def _in_scope(forward, scope: str, stack: list):
    def scoped(*args, **kwargs):
        stack.append(scope)
        try:
            return forward(*args, **kwargs)
        finally:
            stack.pop()

    return scoped


def _flat_tensors(value) -> list:
    """The Tensors in a model's output (a Tensor, or tuples, lists and dicts of them)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flat_tensors(item)]
    return []


def graph(model, inputs: tuple, verbose: bool = False) -> tuple:
    """(GraphDef, RunMetadata) of ``model(*inputs)`` run once without gradients in eval
    mode: one node per op applied, inside its module's scope; ``input/<argument>`` and
    ``output/output.<i>`` nodes around them. ``verbose`` prints the nodes."""
    builder = _GraphBuilder(model)
    names = _argument_names(model, len(inputs))
    for name, tensor in zip(names, inputs):
        builder.add(f"input/{name}", "IO Node", [], tensor)
    with _scoped(model, builder), autograd.no_grad(), autograd.recording(builder.record):
        output = model(*inputs)
    for index, tensor in enumerate(_flat_tensors(output)):
        builder.add(f"output/output.{index + 1}", "IO Node", [builder.source(tensor)], tensor)
    if verbose:
        for node in builder.nodes:
            shape = [d.size for d in node.attr["_output_shapes"].list.shape[0].dim]
            print(f"{node.name} = {node.op}({', '.join(node.input)})  {shape}")
    stats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device="/device:CPU:0")]))
    return GraphDef(node=builder.nodes, versions=VersionDef(producer=22)), stats


def _argument_names(model, count: int) -> list[str]:
    """Names of the first ``count`` positional arguments of ``model.forward`` (``input.<i>``
    where the signature does not say)."""
    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    named = [p.name for p in parameters
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [named[i] if i < len(named) else f"input.{i + 1}" for i in range(count)]
