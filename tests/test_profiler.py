"""``ffnn.profiler`` / ``ffnn.autograd.profiler``: the events of a known program are the ops
it applies (counted by autograd's own recorder), their backward passes and optimizer calls,
nested as called; the table has torch's columns; ``schedule`` and the step transitions are
torch's, state by state; and outside a profile every timed function is the original."""

from __future__ import annotations

import collections
import gzip
import json
import re
import warnings

import pytest
import torch

import ffnn
import ffnn.profiler
from ffnn import autograd, graph_backward, nn
from ffnn.custom_function import Function
from ffnn.nn import chain_call
from ffnn.nn import functional as F
from ffnn.optim.lbfgs import LBFGS
from ffnn.optim.optimizer import Optimizer
from ffnn.profiler import ProfilerAction, ProfilerActivity, profile, record_function, report


def _name(op: type) -> str:
    return "Sequential" if op is chain_call.SequentialChain else op.__name__


def _sequential_mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


class _FunctionalMLP:
    """The same network written with ``F``: each layer one op."""

    def __init__(self):
        self.layers = [nn.Linear(4, 8), nn.Linear(8, 3)]

    def __call__(self, x):
        first, second = self.layers
        return F.linear(F.relu(F.linear(x, first.weight, first.bias)), second.weight,
                        second.bias)

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def _train_step(model, optimizer, x, y) -> None:
    with record_function("train_step"):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


Applied = collections.namedtuple(
    "Applied", "op input_shapes output_shape output_bytes gradient_bytes has_node")


def _profiled_step(model, **options):
    """One training step in ``profile(**options)``, and the ops it applied as autograd's
    recorder saw them (``Applied``)."""
    optimizer = ffnn.optim.SGD(model.parameters(), lr=0.1)
    x, y = ffnn.randn(5, 4), ffnn.tensor([0, 2, 1, 1, 0])
    applied = []

    def note(op, inputs, _, out):
        applied.append(Applied(
            op, [[] if t is None else list(t.shape) for t in inputs], list(out.shape),
            out._data.nbytes,
            sum(t._data.nbytes for t in inputs if t is not None and t.requires_grad),
            out._ctx is not None))

    with profile(**options) as prof, autograd.recording(note):
        _train_step(model, optimizer, x, y)
    return prof, applied


MODELS = pytest.mark.parametrize("make_model", [_sequential_mlp, _FunctionalMLP],
                                 ids=["Sequential", "functional"])


@MODELS
def test_events_are_the_ops_applied_in_call_order(make_model):
    prof, applied = _profiled_step(make_model(), record_shapes=True, profile_memory=True)
    with_backward = [entry for entry in reversed(applied) if entry.has_node]
    expected = ["train_step", *[_name(entry.op) for entry in applied],
                "Optimizer.zero_grad#SGD.zero_grad",
                *[_name(entry.op) + "Backward" for entry in with_backward],
                "Optimizer.step#SGD.step"]
    events = prof.events()
    assert [event.name for event in events] == expected
    assert len(applied) >= 2 and len(with_backward) == len(applied)
    forward = events[1:1 + len(applied)]
    backward = events[2 + len(applied):-1]
    for event, entry in zip(forward, applied):
        assert event.input_shapes == entry.input_shapes
        assert event.self_cpu_memory_usage == event.cpu_memory_usage == entry.output_bytes
    for event, entry in zip(backward, with_backward):  # given dL/d(output), one per input
        assert event.input_shapes == [entry.output_shape]
        assert event.cpu_memory_usage == entry.gradient_bytes > 0
    averages = {average.key: average.count for average in prof.key_averages()}
    assert averages == dict(collections.Counter(expected))


@MODELS
def test_nested_times_add_up(make_model):
    prof, _ = _profiled_step(make_model(), profile_memory=True)
    events = prof.events()
    step, inside = events[0], events[1:]
    assert step.cpu_parent is None and all(event.cpu_parent is step for event in inside)
    assert step.cpu_children == list(inside)
    for event in events:
        assert 0 <= event.self_cpu_time_total <= event.cpu_time_total
        assert event.time_range.start <= event.time_range.end
    assert step.cpu_time_total >= sum(event.cpu_time_total for event in inside)
    assert step.time_range.start <= inside[0].time_range.start
    assert inside[-1].time_range.end <= step.time_range.end
    assert events.self_cpu_time_total == pytest.approx(step.cpu_time_total)
    assert step.self_cpu_memory_usage == 0
    assert step.cpu_memory_usage == sum(event.cpu_memory_usage for event in inside) > 0
    averages = prof.key_averages()
    assert sum(a.self_cpu_time_total for a in averages) == pytest.approx(step.cpu_time_total)
    total = events.total_average()
    assert (total.key, total.count) == ("Total", len(events))
    assert total.cpu_time_total == pytest.approx(sum(e.cpu_time_total for e in events))


def test_memory_is_what_an_op_allocates_as_torch_counts_it():
    """A view of an input's memory takes no bytes (torch: ``aten::view`` 0 B); a new array
    its own."""
    memory = {}
    for lib in (ffnn, torch):
        x = lib.randn(4, 6)
        with lib.profiler.profile(profile_memory=True) as prof:
            x.view(24), x.t(), x[1:], x * 2
        memory[lib] = [e.cpu_memory_usage for e in prof.events() if e.cpu_parent is None and
                       e.name != "[memory]"]
    assert memory[ffnn] == [0, 0, 0, 96]
    assert memory[torch][:3] == [0, 0, 0] and memory[torch][3] == 96  # then a scalar's copy


def test_an_op_that_raises_ends_its_event():
    with profile() as prof:
        with pytest.raises(ValueError, match="linear: input has 3 features"):
            F.linear(ffnn.ones(2, 3), ffnn.ones(4, 5))
        ffnn.ones(2).sum()
    failed, after = prof.events()[0], prof.events()[-1]
    assert after.name == "Sum" and after.cpu_parent is None and failed.cpu_children == []
    assert failed.cpu_time_total >= 0


def test_group_by_input_shape_splits_a_key_by_shapes():
    prof, applied = _profiled_step(_FunctionalMLP(), record_shapes=True)
    linear = [entry.input_shapes for entry in applied if entry.op.__name__ == "Linear"]
    assert linear == [[[5, 4], [8, 4], [8]], [[5, 8], [3, 8], [3]]]
    grouped = [a for a in prof.key_averages(group_by_input_shape=True) if a.key == "Linear"]
    assert [(a.input_shapes, a.count) for a in grouped] == [(linear[0], 1), (linear[1], 1)]
    plain = [a for a in prof.key_averages() if a.key == "Linear"]
    assert [(a.input_shapes, a.count) for a in plain] == [("", 2)]


def _torch_profiled(**options):
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(5, 4), torch.tensor([0, 2, 1, 1, 0])
    with torch.profiler.profile(**options) as prof:
        with torch.profiler.record_function("train_step"):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return prof


def _header(text: str) -> list[str]:
    return re.split(r"\s{2,}", text.splitlines()[1].strip())


def _rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    end = max(i for i, line in enumerate(lines) if line.startswith("---"))
    return [re.split(r"\s{2,}", line.strip()) for line in lines[3:end]]


@pytest.mark.parametrize("memory", [False, True], ids=["time", "memory"])
def test_table_has_torch_columns(memory):
    options = {"record_shapes": True, "profile_memory": memory}
    ours, theirs = _profiled_step(_FunctionalMLP(), **options)[0], _torch_profiled(**options)
    for grouped in (False, True):
        text = ours.key_averages(group_by_input_shape=grouped).table(sort_by="cpu_time_total")
        expected = theirs.key_averages(group_by_input_shape=grouped).table(
            sort_by="cpu_time_total")
        assert _header(text) == _header(expected)
        assert text.splitlines()[-1].split(": ")[0] == expected.splitlines()[-1].split(": ")[0]
    assert _header(text)[-1] == "Input Shapes" and ("CPU Mem" in _header(text)) == memory


@pytest.mark.parametrize("sort_by", ["cpu_time_total", "self_cpu_time_total", "count",
                                     "cpu_memory_usage"])
def test_table_sorts_by_the_key_asked(sort_by):
    prof, _ = _profiled_step(_FunctionalMLP(), profile_memory=True)
    averages = prof.key_averages()
    rows = _rows(averages.table(sort_by=sort_by, row_limit=5))
    order = sorted(averages, key=lambda a: getattr(a, sort_by), reverse=True)[:5]
    assert [row[0] for row in rows] == [a.key for a in order]
    values = [getattr(a, sort_by) for a in order]
    assert values == sorted(values, reverse=True) and len(rows) == 5
    column = _header(averages.table()).index("# of Calls")
    assert [int(row[column]) for row in rows] == [a.count for a in order]
    total = report.format_time(sum(a.self_cpu_time_total for a in averages))
    assert averages.table().splitlines()[-1] == f"Self CPU time total: {total}"
    with pytest.raises(ValueError, match=r"sort_by must be .* Received: sort_by='cpu'"):
        averages.table(sort_by="cpu")


def test_times_and_sizes_print_as_torch_prints_them():
    from torch.autograd import profiler_util

    for time_us in (0.0, 0.4567, 999.9994, 1000.0, 123456.789, 1e6, 3.2e7):
        assert report.format_time(time_us) == profiler_util._format_time(time_us)
    for nbytes in (0, 17, 1023, 1024, 1536, -2048, 5 * 1024**2, 3 * 1024**3):
        assert report.format_memory(nbytes) == profiler_util._format_memory(nbytes)
    assert report.format_time(1234.5, "s") == "0.001s"


SETTINGS = [dict(wait=1, warmup=1, active=3, repeat=1), dict(wait=2, warmup=1, active=2),
            dict(wait=0, warmup=2, active=1, repeat=3, skip_first=4),
            dict(wait=3, warmup=0, active=2, repeat=2, skip_first=1),
            dict(wait=5, warmup=1, active=2, repeat=2, skip_first=2, skip_first_wait=1)]


@pytest.mark.parametrize("setting", SETTINGS, ids=str)
def test_schedule_is_torch_state_by_state(setting):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours, theirs = ffnn.profiler.schedule(**setting), torch.profiler.schedule(**setting)
    assert len(caught) == 2 * (setting["warmup"] == 0)
    assert [ours(step).name for step in range(30)] == [theirs(step).name for step in range(30)]


def test_schedule_rejects_bad_counts():
    with pytest.raises(ValueError, match=r"active must be an int >= 1. Received: active=0"):
        ffnn.profiler.schedule(wait=1, warmup=1, active=0)
    with pytest.raises(ValueError, match=r"wait must be an int >= 0. Received: wait=-1"):
        ffnn.profiler.schedule(wait=-1, warmup=1, active=1)
    with pytest.raises(ValueError, match="step must be an int >= 0"):
        ffnn.profiler.schedule(wait=1, warmup=1, active=1)(-1)


def _cycles(lib, setting: dict, steps: int) -> list:
    """(step_num, the ProfilerStep ranges recorded) at each ``on_trace_ready``, and the
    ranges left in the profile after it."""
    seen = []

    def ready(prof):
        seen.append((prof.step_num, sorted(e.trace_name for e in prof.events()
                                           if e.name == "ProfilerStep*")))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.profiler.profile(schedule=lib.profiler.schedule(**setting),
                                  on_trace_ready=ready) as prof:
            for _ in range(steps):
                lib.ones(2).sum()
                prof.step()
    return seen + [sorted(e.trace_name for e in prof.events() if e.name == "ProfilerStep*")]


@pytest.mark.parametrize("setting", [dict(wait=1, warmup=1, active=2, repeat=2),
                                     dict(wait=0, warmup=0, active=2, skip_first=1)], ids=str)
def test_steps_record_and_report_the_cycles_torch_does(setting):
    assert _cycles(ffnn, setting, 9) == _cycles(torch, setting, 9)


def test_tensorboard_trace_handler_writes_the_active_steps(tmp_path):
    model, names = _FunctionalMLP(), []
    handler = ffnn.profiler.tensorboard_trace_handler(str(tmp_path), worker_name="worker")
    optimizer = ffnn.optim.SGD(model.parameters(), lr=0.1)
    x, y = ffnn.randn(5, 4), ffnn.tensor([0, 2, 1, 1, 0])
    with profile(schedule=ffnn.profiler.schedule(wait=1, warmup=1, active=3, repeat=1),
                 on_trace_ready=handler, record_shapes=True) as prof:
        for _ in range(7):
            with autograd.recording(lambda op, *_: names.append(op)):
                _train_step(model, optimizer, x, y)
            prof.step()
    (path,) = tmp_path.iterdir()
    assert re.fullmatch(r"worker\.\d+\.pt\.trace\.json", path.name)
    trace = json.loads(path.read_text())
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert [e["name"] for e in spans if e["name"].startswith("ProfilerStep#")] == \
        ["ProfilerStep#2", "ProfilerStep#3", "ProfilerStep#4"]
    per_step = collections.Counter(_name(op) for op in names[:len(names) // 7])
    counted = collections.Counter(e["name"] for e in spans if e["cat"] == "cpu_op" and
                                  not e["name"].endswith("Backward"))
    assert counted == collections.Counter({name: 3 * n for name, n in per_step.items()})
    assert all(e["dur"] >= 0 and "Input Dims" in e["args"] for e in spans)
    zipped = tmp_path / "zipped"
    ffnn.profiler.tensorboard_trace_handler(str(zipped), "w", use_gzip=True)(prof)
    (gz,) = zipped.iterdir()
    assert gz.name.endswith(".pt.trace.json.gz")
    assert json.loads(gzip.open(gz).read())["traceEvents"][1:] == trace["traceEvents"][1:]


def _timed_functions() -> list:
    return [vars(autograd.Op)["apply"], vars(Function)["apply"], autograd._pass_on,
            graph_backward._pass_on, chain_call.infer, vars(Optimizer)["step"],
            vars(Optimizer)["zero_grad"], vars(LBFGS)["step"]]


def test_originals_come_back_after_a_profile_and_after_an_error():
    originals = _timed_functions()
    with profile():
        assert all(now is not old for now, old in zip(_timed_functions(), originals))
    assert all(now is old for now, old in zip(_timed_functions(), originals))
    with pytest.raises(KeyError), profile():
        raise KeyError("user code")
    assert all(now is old for now, old in zip(_timed_functions(), originals))
    prof = profile(schedule=ffnn.profiler.schedule(wait=0, warmup=1, active=2))
    with pytest.raises(KeyError), prof:
        prof.step()
        assert vars(autograd.Op)["apply"] is not originals[0]
        raise KeyError("user code")
    assert all(now is old for now, old in zip(_timed_functions(), originals))


def test_every_op_goes_through_op_apply():
    """The profiler times ``Op.apply`` alone: no op class has an ``apply`` of its own."""
    pending, own = [autograd.Op], []
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls is not autograd.Op and "apply" in vars(cls):
            own.append(cls)
    assert own == []


def test_one_profile_at_a_time():
    originals = _timed_functions()
    with profile(), pytest.raises(RuntimeError, match="another profiler is already recording"):
        with profile():
            pass
    assert all(now is old for now, old in zip(_timed_functions(), originals))


def test_record_function_ranges_nest_and_record_nothing_outside_a_profile():
    @record_function("decorated")
    def work(x):
        return (x * 2).sum()

    x = ffnn.ones(3, requires_grad=True)
    with record_function("before"):
        work(x)
    with profile() as prof:
        with record_function("outer"):
            work(x)
            with record_function("inner", "args"):
                work(x)
    events = prof.events()
    assert [e.name for e in events] == ["outer", "decorated", "Mul", "Sum", "inner",
                                        "decorated", "Mul", "Sum"]
    outer, inner = events[0], events[4]
    assert [c.name for c in outer.cpu_children] == ["decorated", "inner"]
    assert inner.cpu_parent is outer and events[5].cpu_parent is inner
    assert outer.cpu_time_total >= sum(c.cpu_time_total for c in outer.cpu_children)
    with pytest.raises(TypeError, match="name must be a str. Received: name=3"):
        record_function(3)


def test_create_graph_backward_times_its_tensor_form_ops():
    x = ffnn.randn(3, requires_grad=True)
    applied = []
    with profile() as prof:
        y = x.tanh().sum()
        with autograd.recording(lambda op, *_: applied.append(_name(op))):
            (grad,) = autograd.grad(y, x, create_graph=True)
    events = prof.events()
    backward = [e for e in events if e.name.endswith("Backward")]
    assert [e.name for e in backward] == ["SumBackward", "TanhBackward"]
    assert [e.name for e in events[2:] if e not in backward] == applied
    assert all(e.cpu_parent in backward for e in events[2:] if e not in backward)
    assert all(e.cpu_children for e in backward) and grad.requires_grad


def test_a_user_function_is_one_event_named_after_it():
    class MyExp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    x = ffnn.randn(3, requires_grad=True)
    with profile() as prof:
        MyExp.apply(x).sum().backward()
    events = prof.events()
    assert [e.name for e in events] == ["MyExp", "Exp", "Sum", "SumBackward", "MyExpBackward",
                                        "Mul"]
    assert events[1].cpu_parent is events[0] and events[5].cpu_parent is events[4]


def test_no_grad_sequential_is_one_event_or_its_layers():
    model, x = _sequential_mlp(), ffnn.randn(5, 4)
    with ffnn.no_grad():
        native = chain_call.infer(model, x) is not None
        with profile(record_shapes=True, profile_memory=True) as prof:
            out = model(x)
    names = [e.name for e in prof.events()]
    assert names == (["Sequential"] if native else ["Linear", "ReLU", "Linear"])
    assert prof.events()[-1].cpu_memory_usage == out._data.nbytes
    assert prof.events()[0].input_shapes[0] == [5, 4]


def test_cuda_alone_warns_and_records_nothing_as_torch_without_a_gpu():
    with pytest.warns(UserWarning) as theirs, pytest.raises(AssertionError):
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]):
            pass
    with pytest.warns(UserWarning) as ours, \
            pytest.raises(RuntimeError, match="No activities specified for the profiler"):
        profile(activities=[ProfilerActivity.CUDA])
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    with pytest.warns(UserWarning, match="CUDA is not available"):
        both = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    with both:
        ffnn.ones(2).sum()
    assert [e.name for e in both.events()] == ["Sum"]


def test_arguments_are_checked():
    with pytest.raises(TypeError, match="record_shapes must be a bool. Received: "
                                        "record_shapes='yes'"):
        profile(record_shapes="yes")
    with pytest.raises(TypeError, match="each activity must be a ProfilerActivity"):
        profile(activities=["cpu"])
    with pytest.raises(ValueError, match="specified more than once"):
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CPU])
    with pytest.raises(TypeError, match="schedule must be None or callable"):
        profile(schedule=3)
    with pytest.raises(TypeError, match="dir_name must be a path"):
        ffnn.profiler.tensorboard_trace_handler(None)
    with pytest.raises(RuntimeError, match="nothing recorded yet"):
        profile(schedule=ffnn.profiler.schedule(wait=2, warmup=1, active=1)).key_averages()
    with pytest.raises(ValueError, match="schedule must return a ProfilerAction"):
        profile(schedule=lambda step: ProfilerAction.DEVICE_STOPPED)


def test_acc_events_keeps_every_cycle():
    setting = dict(wait=1, warmup=0, active=1, repeat=2)
    with pytest.warns(UserWarning, match="warmup"):
        steps = ffnn.profiler.schedule(**setting)
    with profile(schedule=steps, acc_events=True) as prof:
        for _ in range(4):
            ffnn.ones(2).sum()
            prof.step()
    assert [e.trace_name for e in prof.events() if e.name == "ProfilerStep*"] == \
        ["ProfilerStep#1", "ProfilerStep#3"]


def test_autograd_profiler_is_torch_older_api(tmp_path):
    legacy = ffnn.autograd.profiler
    assert legacy.record_function is record_function
    x = ffnn.randn(4, 3, requires_grad=True)
    with legacy.profile(record_shapes=True) as prof:
        with legacy.record_function("forward"):
            (x.relu() * 2).sum().backward()
    names = [e.name for e in prof.function_events]
    assert names == ["forward", "ReLU", "Mul", "Sum", "SumBackward", "MulBackward",
                     "ReLUBackward"]
    text = prof.key_averages().table(sort_by="self_cpu_time_total")
    assert _header(text)[:6] == ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total",
                                 "CPU time avg"]
    assert prof.total_average().count == len(names)
    assert prof.self_cpu_time_total == pytest.approx(prof.function_events[0].cpu_time_total)
    prof.export_chrome_trace(str(tmp_path / "trace.json"))
    spans = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    assert [e["name"] for e in spans if e["ph"] == "X"] == names
    with pytest.raises(RuntimeError, match="not reentrant"), prof:
        pass
    with pytest.warns(FutureWarning, match="use_cuda"), \
            pytest.warns(UserWarning, match="CUDA is not available"):
        legacy.profile(use_cuda=True)
    with pytest.raises(RuntimeError, match="No activities specified"):
        legacy.profile(use_cpu=False)
