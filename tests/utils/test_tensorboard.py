"""``ffnn.utils.tensorboard.SummaryWriter``: what it writes is read back with tensorboard's own
readers, checked against NumPy, and compared with what torch's ``SummaryWriter`` writes for
the same calls (every field but the wall time)."""

from __future__ import annotations

import importlib
import io
import math
import re
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from google.protobuf import json_format, text_format
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import ffnn
from ffnn import nn
from ffnn.utils.tensorboard import NotAScalarError, SummaryWriter
from ffnn.utils.tensorboard.summaries import DEFAULT_BINS

# ----- reading back -------------------------------------------------------------------


def _events(logdir: Path) -> list[tuple[str, object]]:
    """(run, event) of every event file under ``logdir`` (run: the sub-directory)."""
    found = []
    for path in sorted(Path(logdir).rglob("events.out.tfevents.*")):
        run = path.parent.relative_to(logdir).as_posix()
        found += [(run, event) for event in LegacyEventFileLoader(str(path)).Load()]
    return found


def _payload(value):
    """A summary value as comparable data: pixels for an image, parsed plugin data for
    hparams, the exact proto bytes of a histogram or tensor, repr of a float32 scalar."""
    kind = value.WhichOneof("value")
    plugin = value.metadata.plugin_data
    content = plugin.content
    if plugin.plugin_name == "hparams":
        content = json_format.MessageToJson(
            hparams_metadata.parse_session_start_info_plugin_data(content)
            if value.tag.endswith("session_start_info") else
            hparams_metadata.parse_experiment_plugin_data(content)
            if value.tag.endswith("experiment") else
            hparams_metadata.parse_session_end_info_plugin_data(content), sort_keys=True)
    if kind == "image":
        image = value.image
        pixels = np.asarray(Image.open(io.BytesIO(image.encoded_image_string)))
        data = (image.height, image.width, image.colorspace, pixels.shape, pixels.tobytes())
    elif kind == "simple_value":
        data = repr(value.simple_value)
    else:
        data = None if kind is None else getattr(value, kind).SerializeToString()
    return kind, plugin.plugin_name, content, data


def _summaries(logdir: Path) -> list[tuple]:
    """(run, tag, step, payload) of every summary value under ``logdir``, sorted."""
    rows = [(run, value.tag, event.step, _payload(value))
            for run, event in _events(logdir) for value in event.summary.value]
    return sorted(rows, key=repr)


def _both(tmp_path: Path, log) -> tuple[list, list]:
    """``log(writer, library)`` with torch's writer and torch, then with ffnn's and ffnn;
    what each wrote, read back."""
    with TorchWriter(str(tmp_path / "torch")) as writer:
        log(writer, torch)
    with SummaryWriter(tmp_path / "ffnn") as writer:
        log(writer, ffnn)
    return _summaries(tmp_path / "torch"), _summaries(tmp_path / "ffnn")


def _accumulator(logdir: Path) -> EventAccumulator:
    return EventAccumulator(str(logdir), size_guidance={"tensors": 0, "scalars": 0}).Reload()


# ----- scalars ------------------------------------------------------------------------


def _log_scalars(writer, lib):
    x = lib.tensor([0.25, 2.0], requires_grad=True)
    writer.add_scalar("Loss/train", 0.1, 0)
    writer.add_scalar("Loss/train", (x * x).sum(), 1)  # 0-d, requires grad
    writer.add_scalar("Loss/train", lib.tensor([3.5]), 2)  # one element
    writer.add_scalar("Loss/train", np.float32(1 / 3), 3)
    writer.add_scalar("Loss/train", 7, 4)
    writer.add_scalar("odd", float("nan"), 0)
    writer.add_scalar("odd", -float("inf"), 1)
    writer.add_scalar("new", 1 / 3, 5, new_style=True)
    writer.add_scalar("double", 1 / 3, 6, new_style=True, double_precision=True)
    writer.add_scalars("Acc/run", {"train": 0.5, "val": np.float64(0.25)}, 9)


def test_scalars_read_back_as_float32_and_as_torch_writes_them(tmp_path):
    theirs, ours = _both(tmp_path, _log_scalars)
    assert ours == theirs
    scalars = _accumulator(tmp_path / "ffnn")
    loss = scalars.Scalars("Loss/train")
    assert [e.step for e in loss] == [0, 1, 2, 3, 4]
    expected = [0.1, 0.25 ** 2 + 4.0, 3.5, 1 / 3, 7]
    assert [e.value for e in loss] == [float(np.float32(v)) for v in expected]
    odd = [e.value for e in scalars.Scalars("odd")]
    assert math.isnan(odd[0]) and odd[1] == -math.inf
    double = scalars.Tensors("double")[0].tensor_proto
    assert list(double.double_val) == [1 / 3]  # float64 kept whole
    assert list(scalars.Tensors("new")[0].tensor_proto.float_val) == [np.float32(1 / 3)]


def test_add_scalars_writes_one_run_per_key_under_the_main_tag(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalars("Acc/run", {"train": 0.5, "val": 0.25}, 9)
        writer.add_scalars("Acc/run", {"train": 0.75}, 10)
    rows = [(run, tag, step, data) for run, tag, step, (_, _, _, data) in _summaries(tmp_path)]
    assert sorted(rows) == [("Acc_run_train", "Acc/run", 9, "0.5"),
                            ("Acc_run_train", "Acc/run", 10, "0.75"),
                            ("Acc_run_val", "Acc/run", 9, "0.25")]


# ----- histograms ---------------------------------------------------------------------


def _histogram(logdir: Path, tag: str):
    return _accumulator(logdir).Histograms(tag)[0].histogram_value


@pytest.mark.parametrize("bins", ["tensorflow", "auto", 7, [-3.0, -1.0, 0.0, 0.5, 4.0]])
def test_histogram_counts_and_limits_against_numpy(tmp_path, bins):
    values = np.random.default_rng(0).normal(size=(40, 25)).astype(np.float32)
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("w", ffnn.tensor(values, requires_grad=True), 3, bins=bins)
    h = _histogram(tmp_path, "w")
    flat = values.reshape(-1).astype(np.float64)
    assert (h.min, h.max, h.num) == (flat.min(), flat.max(), flat.size)
    assert h.sum == pytest.approx(flat.sum()) and h.sum_squares == pytest.approx(flat @ flat)
    limits, counts = np.array(h.bucket_limit), np.array(h.bucket)
    assert counts[0] == 0 and counts[1] > 0 and counts[-1] > 0  # trimmed, one empty left
    edges = DEFAULT_BINS if bins == "tensorflow" else np.histogram_bin_edges(flat, bins)
    assert np.isin(limits, edges).all()
    last = np.searchsorted(edges, limits[-1]) == len(edges) - 1  # the last bin is closed
    inside = [np.count_nonzero((flat >= lo) & ((flat < hi) | (last and i == len(limits) - 2)
                                               & (flat == hi)))
              for i, (lo, hi) in enumerate(zip(limits[:-1], limits[1:]))]
    assert counts[1:].tolist() == inside
    assert counts.sum() == np.count_nonzero((flat >= edges[0]) & (flat <= edges[-1]))


def test_histograms_match_torch_including_non_finite_values(tmp_path):
    values = np.random.default_rng(1).exponential(size=300)

    def log(writer, lib):
        writer.add_histogram("w", lib.tensor(values), 0)
        writer.add_histogram("auto", values, 1, bins="auto")
        writer.add_histogram("with_nan", np.array([1.0, np.nan, -2.5, np.inf]), 2)
        writer.add_histogram("zero", np.zeros(3), 3)

    theirs, ours = _both(tmp_path, log)
    assert ours == theirs


def test_max_bins_merges_neighbours_down_to_at_most_that_many(tmp_path):
    values = np.arange(100.0)
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("h", values, 0, bins=50, max_bins=8)
    h = _histogram(tmp_path, "h")
    # 50 bins of width 1.98 merged 7 at a time: 8 buckets (the last one 1 bin), plus the
    # empty one on the left
    assert np.array(h.bucket).tolist() == [0] + [14] * 7 + [2]
    assert np.allclose(h.bucket_limit, [0.0] + [1.98 * 7 * k for k in range(1, 8)] + [99.0])


# ----- text, hparams, images, figures -------------------------------------------------


def test_text_hparams_and_images_match_torch(tmp_path):
    rng = np.random.default_rng(2)
    images = {"CHW": rng.random((3, 5, 4)), "HWC": rng.random((5, 4, 3)).astype(np.float32),
              "HW": rng.random((5, 4)), "uint8": rng.integers(0, 256, (1, 5, 4), np.uint8)}
    batch = rng.random((10, 1, 3, 2))

    def log(writer, lib):
        writer.add_text("notes", "**lr** = 0.1 — ünïcode", 0)
        writer.add_hparams({"lr": 0.1, "layers": 3, "opt": "adam", "none": None},
                           {"hp/acc": lib.tensor(0.875), "hp/loss": 0.5},
                           hparam_domain_discrete={"opt": ["adam", "sgd"]}, run_name="run0",
                           global_step=4)
        for name, image in images.items():
            layout = {"uint8": "CHW"}.get(name, name)
            writer.add_image(name, lib.tensor(image), 1, dataformats=layout)
        writer.add_images("batch", lib.tensor(batch), 2)
        writer.add_images("nhwc", batch[:3].transpose(0, 2, 3, 1), 2, dataformats="NHWC")

    theirs, ours = _both(tmp_path, log)
    assert ours == theirs


def test_images_decode_to_the_scaled_pixels(tmp_path):
    image = np.random.default_rng(3).random((3, 6, 5)).astype(np.float32)
    batch = np.stack([np.full((1, 2, 3), k / 10, np.float32) for k in range(10)])
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("one", ffnn.tensor(image), 0)
        writer.add_images("batch", batch, 0)
    found = {tag: value.image for _, event in _events(tmp_path)
             for value in event.summary.value for tag in [value.tag]}
    one = np.asarray(Image.open(io.BytesIO(found["one"].encoded_image_string)))
    assert np.array_equal(one, (image.transpose(1, 2, 0) * 255).astype(np.uint8))
    tiled = np.asarray(Image.open(io.BytesIO(found["batch"].encoded_image_string)))
    assert tiled.shape == (2 * 2, 8 * 3, 3)  # 10 images, 8 to a row
    for k in range(16):
        tile = tiled[2 * (k // 8):2 * (k // 8) + 2, 3 * (k % 8):3 * (k % 8) + 3]
        assert (tile == (np.uint8(np.float32(k / 10) * 255) if k < 10 else 0)).all()


def test_hparams_plugin_data_and_metrics(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"lr": np.float32(0.5), "bn": True, "act": "relu"},
                           {"hp/acc": 0.75}, {"bn": [True, False]}, run_name="trial")
    run = _accumulator(tmp_path / "trial")
    content = run.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
    start = hparams_metadata.parse_session_start_info_plugin_data(
        content[hparams_metadata.SESSION_START_INFO_TAG])
    assert start.hparams["lr"].number_value == 0.5
    assert start.hparams["bn"].bool_value is True and start.hparams["act"].string_value == "relu"
    experiment = hparams_metadata.parse_experiment_plugin_data(
        content[hparams_metadata.EXPERIMENT_TAG])
    infos = {info.name: info for info in experiment.hparam_infos}
    assert [v.bool_value for v in infos["bn"].domain_discrete.values] == [True, False]
    assert [m.name.tag for m in experiment.metric_infos] == ["hp/acc"]
    assert [e.value for e in run.Scalars("hp/acc")] == [0.75]


def test_figure_is_drawn_closed_and_matches_torch(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = []

    def log(writer, lib):
        figure = plt.figure(figsize=(2, 1.5), dpi=40)
        plt.plot([0, 1, 2], [2, 0, 1])
        figures.append(figure)
        writer.add_figure("fig", figure, 0)

    theirs, ours = _both(tmp_path, log)
    assert ours == theirs
    assert ours[0][3][3][:3] == (60, 80, 3)  # 1.5 × 2 inches at 40 dpi
    assert not any(plt.fignum_exists(f.number) for f in figures)


def test_pr_curve_matches_torch(tmp_path):
    rng = np.random.default_rng(4)
    labels, predictions = rng.integers(0, 2, 200), rng.random(200)

    def log(writer, lib):
        writer.add_pr_curve("pr", lib.tensor(labels), lib.tensor(predictions), 0)
        writer.add_pr_curve("pr_small", labels, predictions, 1, num_thresholds=11)

    theirs, ours = _both(tmp_path, log)
    assert ours == theirs


# ----- the graph ----------------------------------------------------------------------


class Net(nn.Module):
    """Layers, a Sequential, a batch norm, a skip and a softmax."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.body = nn.Sequential(nn.ReLU(), nn.Linear(8, 8))
        self.fc2 = nn.Linear(8, 2)
        self.norm = nn.BatchNorm1d(2)

    def forward(self, x):
        h = self.body(self.fc1(x))
        return ffnn.softmax(self.norm(self.fc2(h)) + h[:, :2], dim=1)


def test_add_graph_writes_the_ops_of_one_forward_scoped_as_torch(tmp_path):
    model = Net()
    model.train()
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, ffnn.randn(3, 4))
    written = _accumulator(tmp_path)
    assert written.Tags()["run_metadata"] == ["step1"]  # as torch's
    graph = written.Graph()
    # the scopes of the ops are those torch's add_graph gives the same network in torch
    data_ops = ("IO Node", "Parameter", "Buffer", "Constant")
    assert {node.name.rsplit("/", 1)[0] for node in graph.node if node.op not in data_ops} == {
        "Net/Linear[fc1]", "Net/Sequential[body]/ReLU[0]", "Net/Sequential[body]/Linear[1]",
        "Net/Linear[fc2]", "Net/BatchNorm1d[norm]", "Net"}
    nodes = {node.name: node for node in graph.node}
    second = nodes["Net/Sequential[body]/Linear[1]/Linear"]
    assert list(second.input) == ["Net/Sequential[body]/ReLU[0]/ReLU",
                                  "Net/Sequential[body]/Linear[1]/weight",
                                  "Net/Sequential[body]/Linear[1]/bias"]
    assert nodes["Net/Sequential[body]/Linear[1]/weight"].op == "Parameter"
    assert list(nodes["Net/Add"].input) == ["Net/BatchNorm1d[norm]/RunningBatchNorm",
                                            "Net/GetItem"]
    assert list(nodes["Net/GetItem"].input) == ["Net/Sequential[body]/Linear[1]/Linear"]
    assert list(nodes["output/output.1"].input) == ["Net/Softmax"]
    assert list(nodes["Net/Linear[fc1]/Linear"].input)[0] == "input/x"
    shape = nodes["Net/Linear[fc2]/Linear"].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [3, 2]
    assert "dim: 1" in nodes["Net/Softmax"].attr["attr"].s.decode()
    # the model is left as it was: train mode, no forward of the tracer's, its running
    # statistics untouched
    assert all(m.training for m in model.modules())
    assert not any("forward" in vars(m) for m in model.modules())
    assert np.array_equal(model.norm.running_mean.numpy(), np.zeros(2))


def test_add_graph_prints_with_verbose_and_takes_several_inputs(tmp_path, capsys):
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Linear(2, 2)

        def forward(self, a, b):
            return self.scale(a) * b, b

    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(Pair(), (ffnn.ones(1, 2), ffnn.ones(1, 2)), verbose=True)
    nodes = {node.name: node for node in _accumulator(tmp_path).Graph().node}
    assert list(nodes["Pair/Mul"].input) == ["Pair/Linear[scale]/Linear", "input/b"]
    assert list(nodes["output/output.2"].input) == ["input/b"]
    assert "Pair/Mul = Mul(Pair/Linear[scale]/Linear, input/b)" in capsys.readouterr().out


# ----- embedding ----------------------------------------------------------------------


def test_embedding_files_and_projector_config_as_torch(tmp_path):
    mat = np.random.default_rng(5).normal(size=(5, 3)).astype(np.float32)
    labels = np.stack([np.full((1, 2, 2), k * 0.25, np.float32) for k in range(5)])

    def log(writer, lib):
        writer.add_embedding(lib.tensor(mat), metadata=list("abcde"),
                             label_img=lib.tensor(labels), global_step=3)
        writer.add_embedding(mat, metadata=[[k, k % 2] for k in range(5)], tag="two",
                             metadata_header=["k", "odd"])

    _both(tmp_path, log)
    ours, theirs = tmp_path / "ffnn", tmp_path / "torch"
    for name in ["projector_config.pbtxt", "00003/default/tensors.tsv",
                 "00003/default/metadata.tsv", "00000/two/metadata.tsv"]:
        assert (ours / name).read_text() == (theirs / name).read_text(), name
    rows = [[float(v) for v in line.split("\t")]
            for line in (ours / "00003/default/tensors.tsv").read_text().splitlines()]
    assert np.array_equal(np.array(rows, np.float32), mat)
    config = text_format.Parse((ours / "projector_config.pbtxt").read_text(), ProjectorConfig())
    assert [e.tensor_name for e in config.embeddings] == ["default:00003", "two:00000"]
    assert list(config.embeddings[0].sprite.single_image_dim) == [2, 2]
    sprite = np.asarray(Image.open(ours / config.embeddings[0].sprite.image_path))
    assert sprite.shape == (6, 6, 3)  # 5 images of 2 × 2, 3 to a side
    tiles = [sprite[2 * (k // 3), 2 * (k % 3), 0] for k in range(9)]
    assert tiles == [0, 63, 127, 191, 255, 0, 0, 0, 0]
    with SummaryWriter(ours) as writer, pytest.warns(UserWarning, match=r"exists and is "
                                                     r"overwritten; give each embedding"):
        writer.add_embedding(mat, global_step=3)


# ----- the writer ---------------------------------------------------------------------


def test_default_log_dir_is_runs_date_host_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    writer.close()
    pattern = r"runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_" + re.escape(socket.gethostname())
    assert re.fullmatch(pattern + "_lr0.1", Path(writer.get_logdir()).as_posix())
    assert list(Path(writer.get_logdir()).glob("events.out.tfevents.*"))


def test_purge_step_hides_the_steps_logged_again(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(6):
            writer.add_scalar("loss", step, step)
    with SummaryWriter(tmp_path, purge_step=3, filename_suffix=".resumed") as writer:
        for step in range(3, 5):
            writer.add_scalar("loss", 10 + step, step)
    assert [(e.step, e.value) for e in _accumulator(tmp_path).Scalars("loss")] == [
        (0, 0), (1, 1), (2, 2), (3, 13), (4, 14)]
    assert len(list(tmp_path.glob("events.out.tfevents.*.resumed"))) == 1


def test_walltime_step_close_and_writing_after_close(tmp_path):
    writer = SummaryWriter(tmp_path)
    writer.add_scalar("a", 1.0, global_step=np.int64(7), walltime=1234.5)
    writer.flush()
    writer.close()
    writer.close()  # a second close does nothing
    writer.add_text("b", "after", 1)  # opens a new event file
    writer.close()
    events = [event for _, event in _events(tmp_path) if event.summary.value]
    assert [(e.summary.value[0].tag, e.step) for e in events] == [("a", 7), ("b/text_summary", 1)]
    assert events[0].wall_time == 1234.5
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2


# ----- bad input ----------------------------------------------------------------------


def test_add_scalar_of_several_elements_raises_as_torch(tmp_path):
    with TorchWriter(str(tmp_path / "torch")) as writer, pytest.raises(AssertionError):
        writer.add_scalar("x", torch.ones(2))
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(NotAScalarError, match=r"add_scalar: scalar_value must hold one "
                           r"element. Received: scalar_value=a Tensor of shape \(2, 3\)"):
            writer.add_scalar("x", ffnn.ones(2, 3, requires_grad=True))
        assert issubclass(NotAScalarError, AssertionError)
        assert issubclass(NotAScalarError, ValueError)


@pytest.mark.parametrize("call, error, message", [
    (lambda w: w.add_scalar(3, 1.0), TypeError, r"add_scalar: tag must be a str. Received: "
                                                r"tag=3 \(int\)"),
    (lambda w: w.add_scalar("a", "high"), TypeError,
     r"scalar_value must be a Tensor, an array or a number. Received: scalar_value='high'"),
    (lambda w: w.add_scalar("a", 1.0, "x"), TypeError, r"global_step must be an integer"),
    (lambda w: w.add_scalar("a", 1.0, walltime="now"), TypeError, r"walltime must be"),
    (lambda w: w.add_scalars("a", [1.0]), TypeError, r"tag_scalar_dict must be a dict"),
    (lambda w: w.add_text("a", 3), TypeError, r"add_text: text_string must be a str"),
    (lambda w: w.add_histogram("h", np.array([])), ValueError, r"at least one value"),
    (lambda w: w.add_histogram("h", np.array([np.nan])), ValueError,
     r"no value of values lies inside the bins.*1 of them NaN"),
    (lambda w: w.add_histogram("h", [1.0], max_bins=0), ValueError, r"max_bins must be"),
    (lambda w: w.add_image("i", np.zeros((4, 4, 2)), dataformats="HWC"), ValueError,
     r"img_tensor must have 1, 3 or 4 channels. Received: 2 channels"),
    (lambda w: w.add_scalar("a", ["x"]), TypeError, r"scalar_value must hold real numbers"),
    (lambda w: w.add_image("i", np.zeros((4, 4))), ValueError,
     r"dataformats must name each dimension.*Received: dataformats='CHW' for img_tensor of "
     r"shape \(4, 4\)"),
    (lambda w: w.add_hparams([("lr", 1)], {}), TypeError, r"hparam_dict must be a dict"),
    (lambda w: w.add_hparams({"lr": [1]}, {}), TypeError,
     r"hparam_dict\['lr'\] must be a bool, int, float, str"),
    (lambda w: w.add_hparams({"lr": 0.1}, {}, {"lr": [1, 2]}), TypeError,
     r"hparam_domain_discrete\['lr'\] must be a list of values of the type of "
     r"hparam_dict\['lr'\] \(float\)"),
    (lambda w: w.add_hparams({"lr": 0.1}, {"acc": ffnn.ones(2)}, run_name="r"),
     NotAScalarError, r"metric_dict\['acc'\] must hold one element"),
    (lambda w: w.add_graph(lambda x: x, ffnn.ones(1)), TypeError, r"model must be an ffnn"),
    (lambda w: w.add_graph(nn.Linear(2, 2)), ValueError, r"input_to_model must be an example"),
    (lambda w: w.add_graph(nn.Linear(2, 2), np.ones((1, 2))), TypeError,
     r"Received: input 0 = a ndarray"),
    (lambda w: w.add_pr_curve("p", [0, 1], [0.5, 1.5]), ValueError, r"predictions must be"),
    (lambda w: w.add_embedding(np.ones((3, 2)), metadata=["a"]), ValueError,
     r"metadata must have one entry per row of mat \(3\). Received: 1"),
])
def test_bad_arguments_raise_naming_them(tmp_path, call, error, message):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(error, match=message):
            call(writer)
    assert not (tmp_path / "r").exists()  # nothing written for a rejected call
    assert [e for _, e in _events(tmp_path) if e.summary.value or e.graph_def] == []


def test_bad_constructor_arguments(tmp_path):
    with pytest.raises(TypeError, match=r"log_dir must be a path .* Received: log_dir=3"):
        SummaryWriter(3)
    with pytest.raises(ValueError, match=r"max_queue must be a positive integer"):
        SummaryWriter(tmp_path, max_queue=0)
    with pytest.raises(TypeError, match=r"comment must be a str"):
        SummaryWriter(tmp_path, comment=None)


def test_images_without_pillow_say_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if not installed
    with SummaryWriter(tmp_path) as writer, pytest.raises(ImportError, match="pip install pillow"):
        writer.add_image("i", np.zeros((3, 2, 2)))


def test_missing_tensorboard_says_how_to_install_it(monkeypatch):
    for name in [n for n in sys.modules if n.startswith("ffnn.utils.tensorboard")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install tensorboard \(or pip install "
                                          r"'ffnn\[tensorboard\]'\)"):
        importlib.import_module("ffnn.utils.tensorboard")
