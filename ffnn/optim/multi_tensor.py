"""Every parameter of a group updated by one compiled call (PyTorch's ``foreach`` idea).

``Optimizer.step`` updates a parameter at a time: per parameter a few Python calls and a
compiled call whose arguments numba unboxes one by one, about 4-11 µs, which on a small
network is a fifth of the step. Here each parameter's update is its optimizer's
``fused_update`` (the generated kernel ``ffnn.compiler.fused`` runs inside its step),
called through the kernel's C entry point from one loop compiled once: the same loop per
element as the kernel's own call, so the same values; small parameters, which the
per-parameter path gives to NumPy, take the kernel too (to rounding, as the fused step).

A step that finds the parameters, their arrays, their states' entries and the group's
options the very objects of the last one (only the gradients are new, as in a training
loop) reuses its table and asks the first parameter alone for this step's scalars
(``GroupPlan.unchanged``).

Imported by ``Optimizer.step`` only when the compiled kernels are enabled (numba).
"""

from __future__ import annotations

from operator import attrgetter, is_

import numba
import numpy as np

from ffnn.kernels import blas_split, numba_cache
from ffnn.kernels.split_trial import SplitTrial
from ffnn.optim.optimizer import Optimizer

numba_cache.install()  # before the decorators: stamps the cache by every kernel source


@numba.njit(error_model="numpy", cache=True)
def _run(grads, table, sizes, scalars, split, context):  # pragma: no cover - compiled
    """Parameter i's update: its entry point ``table[i, 0]`` on ``sizes[i]`` elements, with
    the parameter at ``table[i, 1]``, the gradient ``grads[i]`` and the state arrays at
    ``table[i, 2:6]``, and the scalars of row i of ``scalars`` (float64); a large one split
    over OpenBLAS's threads as ``split`` says (``ffnn.kernels.blas_split.run``)."""
    width = scalars.shape[1] * 8
    base = scalars.ctypes.data
    for i in range(sizes.size):
        blas_split.run(split, context, table[i, 0], sizes[i], table[i, 1],
                       grads[i].ctypes.data, table[i, 2], table[i, 3], table[i, 4],
                       table[i, 5], base + i * width)


def padded(grads: list) -> tuple:
    """``grads`` as a tuple whose length is the next power of two, the rest the first
    gradient again (``_run`` reads ``sizes.size`` of them): numba compiles ``_run`` once per
    tuple length, so a group of any size takes one of a few compiled versions, not one of
    its own."""
    count = len(grads)
    return tuple(grads + grads[:1] * ((1 << (count - 1).bit_length()) - count))


class GroupPlan:
    """A group's parameters, state arrays and entry points as last seen: the table is
    written again only when one of them changes (a parameter's array replaced, a state
    array made, options that change a kernel's flags)."""

    def __init__(self):
        self.seen: list = []
        self.table = np.zeros((0, 6), np.int64)
        self.sizes = np.zeros(0, np.int64)
        self.scalars = np.zeros((0, 1))
        self.rows: list = []
        self.largest = 0
        self.context = np.zeros(blas_split.CONTEXT, np.int64)
        self.same: list | None = None  # what ``unchanged`` compares, after a shared step
        self.counts: list = []  # (where in ``same``, state) of each step count
        self.trial = SplitTrial()  # a large update split over OpenBLAS's threads or not

    def matches(self, seen: list) -> bool:
        return len(seen) == len(self.seen) and all(map(is_, seen, self.seen))

    def rebuild(self, seen: list, updates: list, dtype: np.dtype) -> bool:
        """The table for ``updates`` ((kernel, flags, parameter array, state arrays) each);
        False when an array cannot take a kernel."""
        rows = []
        for kernel, flags, data, arrays in updates:
            if type(data) is not np.ndarray or data.dtype != dtype or \
                    not data.flags.c_contiguous or not all(
                        a is None or type(a) is np.ndarray and a.dtype == dtype and
                        a.shape == data.shape and a.flags.c_contiguous for a in arrays):
                return False
            addresses = [kernel.entry(dtype, flags=flags), data.ctypes.data]  # cached there
            addresses += [(data if a is None else a).ctypes.data for a in arrays]
            rows.append(addresses + [0] * (6 - len(addresses)))
        self.seen, self.rows = seen, []
        self.table = np.array(rows, np.int64).reshape(-1, 6)
        self.sizes = np.array([data.size for _, _, data, _ in updates], np.int64)
        self.largest = int(self.sizes.max(initial=0))
        return True

    def write_scalars(self, rows: list) -> None:
        """Each parameter's scalars as a row of float64 (written when they change)."""
        if rows == self.rows:
            return
        shared = rows.count(rows[0]) == len(rows)  # a group's scalars: Adam's change each step
        width = max(1, len(rows[0]) if shared else max(map(len, rows)))
        if self.scalars.shape != (len(rows), width):
            self.scalars = np.zeros((len(rows), width))
        if shared and len(rows[0]) == width:
            self.scalars[:] = rows[0]  # one row, broadcast
        elif all(len(row) == width for row in rows):
            self.scalars[:] = rows  # one conversion (as float64)
        else:
            for i, row in enumerate(rows):
                self.scalars[i, :len(row)] = row
        self.rows = rows

    def launch(self, grads: list, dtype: np.dtype) -> None:
        """The table's updates with these flat gradients, in one compiled call (split over
        OpenBLAS's threads as the trial of whole steps says)."""
        _run(padded(grads), self.table, self.sizes, self.scalars,
             self.trial.choose(blas_split.split_row(self.largest, dtype.itemsize)),
             self.context)

    def remember(self, params: list, states: list, group: dict, rows: list) -> None:
        """What the next step must find unchanged to reuse this one's table (``unchanged``):
        kept only when every parameter took the same row of scalars at the same step count,
        with where each count stands in it (``count_steps`` writes the new ones there)."""
        self.same = None
        if rows.count(rows[0]) != len(rows) or len({s.get("step") for s in states}) != 1:
            return
        self.same, self.counts, at = _snapshot(params, states, group), [], 3 * len(params)
        for state in states:
            keys = list(state)
            if "step" in state:
                self.counts.append((at + len(keys) + keys.index("step"), state))
            at += 2 * len(keys)

    def unchanged(self, params: list, states: list, group: dict) -> bool:
        """Whether the parameters, their arrays, their states' entries (the step counts
        those this plan's last step left) and the group's options are the very objects of
        the last step (so are its kernels, flags and table; they are held here, so no id is
        reused meanwhile)."""
        if self.same is None:
            return False
        found = _snapshot(params, states, group)
        return len(found) == len(self.same) and all(map(is_, found, self.same))

    def count_steps(self) -> None:
        """Each state's step count + 1, the new count kept where ``unchanged`` finds it."""
        same = self.same
        for at, state in self.counts:
            same[at] = state["step"] = state["step"] + 1


_DATA = attrgetter("_data")


def _snapshot(params: list, states: list, group: dict) -> list:
    """Each parameter, its array and its state, each state's keys and values (its step
    count too), then the group's keys and values: the objects a step's table stands for
    (built by C loops: a Python loop per entry took 6 µs a step on 6 parameters)."""
    found = [*params, *map(_DATA, params), *states]
    for state in states:
        found += state
        found += state.values()
    found += group  # the options (and the params list, its contents seen above)
    found += group.values()
    return found


def step_group(optimizer, group: dict, plans: dict) -> bool:
    """Update every parameter of ``group`` that has a gradient in one compiled call; False,
    changing nothing but fresh states, when one of them cannot take it (a parameter, state
    or gradient not a C-contiguous float32/float64 NumPy array of the group's one dtype, or
    an update without a kernel this step): ``step()`` then updates them one by one."""
    params = [p for p in group["params"] if p._grad is not None and p.requires_grad]
    if not params:
        return True
    dtype = params[0]._data.dtype
    if dtype.char not in "fd":
        return False
    plan = plans.get(id(group))
    if plan is None:
        plan = plans[id(group)] = GroupPlan()
    kept = list(map(optimizer.state.__getitem__, params))
    if plan.unchanged(params, kept, group):
        done = _step_as_before(optimizer, group, plan, params, kept, dtype)
        if done is not None:
            return done
    states, fused_update = optimizer.state, optimizer.fused_update
    grads = _flat_gradients(params, dtype)
    if grads is None:
        return False
    updates, seen, rows, counted = [], [], [], []
    last = (None, None, None)  # (kernel, scalars, row): parameters mostly share their scalars
    for param in params:
        data, state = param._data, states[param]
        if not state:
            state.update(optimizer._init_state(data, group))
        step = state.get("step")
        found = fused_update(state, group, 1 if step is None else step + 1)
        if found is None:
            return False
        kernel, flags, arrays, scalars = found
        updates.append((kernel, flags, data, arrays))
        seen += (data, kernel, *flags.values(), *arrays)
        if kernel is not last[0] or scalars is not last[1] and scalars != last[1]:
            last = kernel, scalars, _row(kernel, scalars)
        rows.append(last[2])
        if step is not None:
            counted.append(state)
    if not plan.matches(seen) and not plan.rebuild(seen, updates, dtype):
        return False
    plan.write_scalars(rows)
    plan.launch(grads, dtype)
    taken = optimizer._fused_step_taken
    for state in counted:
        taken(state, group)
    if getattr(taken, "__func__", None) is Optimizer._fused_step_taken:
        plan.remember(params, kept, group, rows)
    else:  # it advances more than the counts (NAdam's Πμ): the next step asks again
        plan.same = None
    return True


def _step_as_before(optimizer, group: dict, plan: GroupPlan, params: list, states: list,
                    dtype) -> bool | None:
    """``step_group`` when nothing but the gradients changed since a step whose parameters
    shared one row of scalars at one step count (``GroupPlan.unchanged``): the kernels,
    flags and table are that step's, the row is the first parameter's at this step (the
    same for all). None where the update has no kernel now."""
    step = states[0].get("step")
    found = optimizer.fused_update(states[0], group, 1 if step is None else step + 1)
    if found is None:
        return None
    grads = _flat_gradients(params, dtype)
    if grads is None:
        return False
    plan.write_scalars([_row(found[0], found[3])] * len(params))
    plan.launch(grads, dtype)
    plan.count_steps()
    return True


def _flat_gradients(params: list, dtype) -> tuple | None:
    """Each parameter's gradient as a flat C-contiguous array where the kernel takes it (a
    NumPy array of ``dtype`` and the parameter's shape: a view of it, or a copy of a strided
    one, which the kernel only reads), or None where one does not."""
    flat = []
    for param in params:
        grad = param._grad
        if type(grad) is not np.ndarray or grad.dtype != dtype or \
                grad.shape != param._data.shape:
            return None
        flat.append(grad.ravel())
    return tuple(flat)


def _row(kernel, scalars: dict) -> tuple:
    """A parameter's row of the scalars table: the kernel's scalars in its order, as floats."""
    return tuple(map(float, map(scalars.__getitem__, kernel.scalars)))
