"""``SummaryWriter``: torch's ``torch.utils.tensorboard`` writer on ffnn tensors.

Events go through tensorboard's own ``EventFileWriter`` (one file per directory, written by
a background thread every ``flush_secs`` or ``max_queue`` events); the summaries are built in
``summaries.py``, the arguments checked in ``arguments.py``.
"""

from __future__ import annotations

import numbers
import os
import socket
import time
import urllib.parse
import warnings
from datetime import datetime

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from ffnn.nn.module import Module
from ffnn.tensor import Tensor
from ffnn.utils.tensorboard import summaries
from ffnn.utils.tensorboard.arguments import (
    as_array,
    as_scalar,
    check_embedding,
    check_step,
    check_str,
    check_walltime,
    hparams,
    image_array,
    received,
    scalar_dict,
)


class FileWriter:
    """One event file in ``log_dir``: events and summaries, each with a step and a wall
    time."""

    def __init__(self, log_dir, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = ""):
        self.event_writer = EventFileWriter(os.fspath(log_dir), max_queue, flush_secs,
                                            filename_suffix)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def add_event(self, event: Event, step: int | None = None,
                  walltime: float | None = None) -> None:
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile: tuple, walltime: float | None = None) -> None:
        """A (GraphDef, RunMetadata) pair: the graph, and its step statistics as ``step1``."""
        graph, stats = graph_profile
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)
        tagged = TaggedRunMetadata(tag="step1", run_metadata=stats.SerializeToString())
        self.add_event(Event(tagged_run_metadata=tagged), None, walltime)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()


class SummaryWriter:
    """Writes scalars, histograms, text, images, hyperparameters and graphs to event files in
    ``log_dir`` for TensorBoard, with torch's ``SummaryWriter`` API.

    ``log_dir`` defaults to ``runs/<Mon01_12-00-00>_<host><comment>``; ``purge_step``: after
    a crash, events from that step on in older files are hidden; ``max_queue`` events or
    ``flush_secs`` seconds make a write; ``filename_suffix`` ends the event file names.
    Usable as a context manager (closed on exit).
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        name = "SummaryWriter"
        check_str(name, "comment", comment)
        check_str(name, "filename_suffix", filename_suffix)
        if log_dir is not None and not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"{name}: log_dir must be a path (str or os.PathLike) or None. "
                            f"Received: log_dir={received(log_dir)}")
        if not isinstance(max_queue, int) or isinstance(max_queue, bool) or max_queue < 1:
            raise ValueError(f"{name}: max_queue must be a positive integer. Received: "
                             f"max_queue={max_queue!r}")
        if not isinstance(flush_secs, numbers.Real) or not flush_secs > 0:
            raise ValueError(f"{name}: flush_secs must be a positive number of seconds. "
                             f"Received: flush_secs={flush_secs!r}")
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = log_dir
        self.purge_step = check_step(name, purge_step, "purge_step")
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._get_file_writer()

    def _get_file_writer(self) -> FileWriter:
        """The writer of ``log_dir`` (a new event file after ``close``); the first one made
        marks ``purge_step`` as a restart there."""
        if self.file_writer is None or self.all_writers is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step, self.purge_step = self.purge_step, None
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(
                    Event(step=step, session_log=SessionLog(status=SessionLog.START)))
        return self.file_writer

    def get_logdir(self) -> str | os.PathLike:
        """The directory the event files are written in."""
        return self.log_dir

    def _write(self, method: str, summary, global_step, walltime) -> None:
        self._get_file_writer().add_summary(summary, check_step(method, global_step),
                                            check_walltime(method, walltime))

    def add_scalar(self, tag: str, scalar_value, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """One value of the curve ``tag`` at ``global_step``: a number, or a Tensor or array
        of one element (NaN and inf are written as they are). Stored as float32, or with
        ``new_style`` as a tensor (float64 where ``double_precision``). Raises
        ``NotAScalarError`` (a ValueError and AssertionError) for more elements."""
        method = "add_scalar"
        value = as_scalar(method, "scalar_value", scalar_value)
        summary = summaries.scalar(check_str(method, "tag", tag), value, new_style,
                                   double_precision)
        self._write(method, summary, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict,
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Several curves in one chart ``main_tag``: each ``tag_scalar_dict`` entry goes to
        its own run, ``<log_dir>/<main_tag with / as _>_<key>``, under the tag
        ``main_tag``."""
        method = "add_scalars"
        check_str(method, "main_tag", main_tag)
        values = scalar_dict(method, "tag_scalar_dict", tag_scalar_dict, "tag")
        step = check_step(method, global_step)
        walltime = time.time() if walltime is None else check_walltime(method, walltime)
        root = self._get_file_writer().get_logdir()
        for key, value in values.items():
            directory = f"{root}/{main_tag.replace('/', '_')}_{key}"
            writer = self.all_writers.get(directory)
            if writer is None:
                writer = FileWriter(directory, self.max_queue, self.flush_secs,
                                    self.filename_suffix)
                self.all_writers[directory] = writer
            writer.add_summary(summaries.scalar(main_tag, value), step, walltime)

    def add_histogram(self, tag: str, values, global_step: int | None = None,
                      bins="tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """The histogram of ``values`` (any shape). ``bins``: ``'tensorflow'`` (TensorBoard's
        exponential buckets), or what ``numpy.histogram`` takes (a count, edges, ``'auto'``,
        ``'fd'`` …); ``max_bins``: merge neighbouring buckets down to at most that many.
        Raises ValueError for no values, or none inside the bins."""
        method = "add_histogram"
        check_str(method, "tag", tag)
        array = as_array(method, "values", values)
        if array.size == 0:
            raise ValueError(f"{method}: values must hold at least one value. Received: "
                             f"values of shape {array.shape}")
        if max_bins is not None and (not isinstance(max_bins, int) or max_bins < 1):
            raise ValueError(f"{method}: max_bins must be a positive integer or None. "
                             f"Received: max_bins={max_bins!r}")
        if isinstance(bins, str) and bins == "tensorflow":
            bins = summaries.DEFAULT_BINS
        self._write(method, summaries.histogram(tag, array, bins, max_bins), global_step,
                    walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """A string (markdown) for the text tab, under ``<tag>/text_summary``."""
        method = "add_text"
        check_str(method, "tag", tag)
        summary = summaries.text(tag, check_str(method, "text_string", text_string))
        self._write(method, summary, global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict,
                    hparam_domain_discrete: dict | None = None, run_name: str | None = None,
                    global_step: int | None = None) -> None:
        """One run of the hparams tab, in ``<log_dir>/<run_name>`` (default: the time):
        ``hparam_dict`` (values bool, int, float, str, a one-element Tensor, or None to leave
        out) and ``metric_dict`` (values written as scalars there). ``hparam_domain_discrete``
        maps a hyperparameter to the list of values it can take."""
        method = "add_hparams"
        hparam_dict, domains = hparams(hparam_dict, hparam_domain_discrete)
        metrics = scalar_dict(method, "metric_dict", metric_dict, "metric tag")
        step = check_step(method, global_step)
        if not run_name:
            run_name = str(time.time())
        check_str(method, "run_name", run_name)
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as run:
            for summary in summaries.hparams(hparam_dict, metrics, domains):
                run.file_writer.add_summary(summary, step)
            for tag, value in metrics.items():
                run.add_scalar(tag, value, step)

    def add_pr_curve(self, tag: str, labels, predictions, global_step: int | None = None,
                     num_thresholds: int = 127, weights=None,
                     walltime: float | None = None) -> None:
        """A precision–recall curve: ``labels`` (0/1 or bool) against ``predictions`` (the
        probability of a 1, in [0, 1]), of the same size; at most 127 thresholds."""
        method = "add_pr_curve"
        check_str(method, "tag", tag)
        labels = as_array(method, "labels", labels)
        predictions = as_array(method, "predictions", predictions)
        if labels.size != predictions.size:
            raise ValueError(f"{method}: labels and predictions must have one value each per "
                             f"example. Received: shapes {labels.shape} and {predictions.shape}")
        if not np.all((predictions >= 0) & (predictions <= 1)):
            raise ValueError(f"{method}: predictions must be probabilities in [0, 1]. "
                             f"Received: values from {predictions.min()} to {predictions.max()}")
        if not isinstance(num_thresholds, int) or num_thresholds < 2:
            raise ValueError(f"{method}: num_thresholds must be an integer of at least 2. "
                             f"Received: num_thresholds={num_thresholds!r}")
        weights = 1.0 if weights is None else as_array(method, "weights", weights).reshape(-1)
        summary = summaries.pr_curve(tag, labels, predictions, min(num_thresholds, 127),
                                     weights)
        self._write(method, summary, global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """One image (PNG; needs Pillow): ``img_tensor`` laid out as ``dataformats`` (CHW,
        HWC, HW, …; 1, 3 or 4 channels), values in [0, 1], or [0, 255] for uint8."""
        method = "add_image"
        check_str(method, "tag", tag)
        array = image_array(method, img_tensor, dataformats)
        self._write(method, summaries.image(tag, array, dataformats), global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """A batch of images (default [N, C, H, W]) as one image, tiled 8 to a row."""
        method = "add_images"
        check_str(method, "tag", tag)
        array = image_array(method, img_tensor, dataformats)
        self._write(method, summaries.image(tag, array, dataformats), global_step, walltime)

    def add_figure(self, tag: str, figure, global_step: int | None = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A matplotlib figure (or a list of figures, tiled) drawn as an image; closed after
        where ``close``."""
        check_str("add_figure", "tag", tag)
        if isinstance(figure, list):
            pixels = np.stack([summaries.figure_pixels(f, close) for f in figure])
            self.add_images(tag, pixels, global_step, walltime, dataformats="NHWC")
        else:
            pixels = summaries.figure_pixels(figure, close)
            self.add_image(tag, pixels, global_step, walltime, dataformats="HWC")

    def add_graph(self, model: Module, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """The graph of ``model(*input_to_model)`` for the graphs tab: a node per op that ffnn
        applies, grouped by module as torch's (``Net/Linear[fc1]/Linear``), the parameters
        and buffers as their inputs. The forward runs once, in eval mode, without gradients
        (torch traces with its JIT instead; ``use_strict_trace`` is the JIT's option and has
        no meaning here). ``input_to_model``: a Tensor, or a tuple or list of them."""
        method = "add_graph"
        if not isinstance(model, Module):
            raise TypeError(f"{method}: model must be an ffnn.nn.Module. Received: "
                            f"model={received(model)}")
        if input_to_model is None:
            raise ValueError(f"{method}: input_to_model must be an example input (a Tensor or "
                             "a tuple of Tensors): the graph is read from one forward. "
                             "Received: input_to_model=None")
        inputs = tuple(input_to_model) if isinstance(input_to_model, (tuple, list)) else \
            (input_to_model,)
        for index, value in enumerate(inputs):
            if not isinstance(value, Tensor):
                raise TypeError(f"{method}: input_to_model must be a Tensor or a tuple of "
                                f"Tensors. Received: input {index} = {received(value)}")
        self._get_file_writer().add_graph(summaries.graph(model, inputs, verbose))

    def add_embedding(self, mat, metadata: list | None = None, label_img=None,
                      global_step: int | None = None, tag: str = "default",
                      metadata_header: list | None = None) -> None:
        """Points for the projector tab: ``mat`` [N, D] (one row a point), ``metadata`` (N
        labels, or N rows of columns named by ``metadata_header``), ``label_img`` [N, C, H, W]
        (a sprite image). Files go to ``<log_dir>/<step:05d>/<tag>/``, listed in
        ``projector_config.pbtxt``."""
        from google.protobuf import text_format
        from tensorboard.plugins.projector.projector_config_pb2 import (
            EmbeddingInfo,
            ProjectorConfig,
        )

        method = "add_embedding"
        check_str(method, "tag", tag)
        mat = as_array(method, "mat", mat)
        if mat.ndim != 2:
            raise ValueError(f"{method}: mat must be 2-D [points, features]. Received: mat of "
                             f"shape {mat.shape}")
        labels = None if label_img is None else as_array(method, "label_img", label_img)
        check_embedding(mat, metadata, metadata_header, labels)
        step = check_step(method, global_step) or 0
        subdir = f"{step:05d}/{urllib.parse.quote(tag, safe='')}"
        logdir = self._get_file_writer().get_logdir()
        _write_embedding(os.path.join(logdir, subdir), mat, metadata, metadata_header, labels)
        info = EmbeddingInfo(tensor_name=f"{tag}:{step:05d}", tensor_path=f"{subdir}/tensors.tsv")
        if metadata is not None:
            info.metadata_path = f"{subdir}/metadata.tsv"
        if labels is not None:
            info.sprite.image_path = f"{subdir}/sprite.png"
            info.sprite.single_image_dim.extend([labels.shape[3], labels.shape[2]])
        if not hasattr(self, "_projector_config"):
            self._projector_config = ProjectorConfig()
        self._projector_config.embeddings.append(info)
        with open(os.path.join(logdir, "projector_config.pbtxt"), "w", encoding="utf-8") as f:
            f.write(text_format.MessageToString(self._projector_config))

    def flush(self) -> None:
        """Write every pending event to disk."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Flush and close the event files (a later ``add_*`` opens new ones; closing twice
        does nothing)."""
        for writer in (self.all_writers or {}).values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _write_embedding(directory: str, mat, metadata, metadata_header, labels) -> None:
    """tensors.tsv, metadata.tsv and sprite.png of one embedding into ``directory``."""
    if os.path.isdir(directory):
        warnings.warn(f"add_embedding: {directory} exists and is overwritten; give each "
                      "embedding its own global_step or tag", stacklevel=3)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "tensors.tsv"), "w", encoding="utf-8") as f:
        f.writelines("\t".join(map(str, row)) + "\n" for row in mat.tolist())
    if metadata is not None:
        rows = [str(x) for x in metadata] if not metadata_header else \
            ["\t".join(map(str, row)) for row in [metadata_header, *metadata]]
        with open(os.path.join(directory, "metadata.tsv"), "w", encoding="utf-8") as f:
            f.write("\n".join(rows) + "\n")
    if labels is not None:
        with open(os.path.join(directory, "sprite.png"), "wb") as f:
            f.write(summaries.sprite(labels))
