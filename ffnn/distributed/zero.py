"""``ZeroRedundancyOptimizer``: each rank steps, and keeps optimizer state for, a shard of
the parameters (ZeRO stage 1, as ``torch.distributed.optim.ZeroRedundancyOptimizer``).

Plain data parallelism repeats the whole optimizer step on every rank and allreduces every
gradient to every rank. Here parameter *i* has one owner rank; a step is::

    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.reduce_gradients(weight=x.shape[0])  # owners get g_i = Σ_r w_r g_ri / Σ_r w_r
    optimizer.clip_grad_norm_(1.0)                 # optional: the global norm, over owners
    optimizer.step()                               # owners update; every rank sees the result

Owners are chosen per group, largest parameter first, each to the rank with the fewest
values so far (torch's rule), the same on every rank.

When all ranks share one host (``shared_memory=None`` decides this itself) the parameters
live in one MPI shared-memory window that all ranks map: ``reduce_gradients`` publishes each
rank's gradients of the parameters it does not own, the owner adds them up in place, and
after the owners' updates one barrier makes the new weights visible everywhere — no message
carries a gradient or a weight. Across hosts (``shared_memory=False``) gradients are
allreduced and each owner broadcasts its updated parameters.

After ``reduce_gradients`` a rank holds the global gradient of the parameters it owns; the
others' ``.grad`` is None on it. Build the optimizer after the model is final (the
parameters' arrays are moved into shared memory; replacing ``param._data`` later raises).
Rank 0's parameter values are the starting point.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ffnn.distributed import shared_memory
from ffnn.distributed._mpi import comm
from ffnn.distributed.collectives import (
    _check_root,
    _check_same_layout,
    _check_weight,
    all_reduce,
    allreduce_gradients,
    broadcast_arrays,
)
from ffnn.optim.optimizer import Optimizer, reset_gradients
from ffnn.tensor import Tensor

_TAG = 7261  # point-to-point tag of consolidate_state_dict's messages


def partition(sizes_by_group: list[list[int]], ranks: int) -> list[int]:
    """Owner rank of each parameter (numbered across groups in order): within each group,
    largest first, to the rank with the fewest values so far (ties: the lowest rank)."""
    owners: list[int] = []
    load = [0] * ranks
    for sizes in sizes_by_group:
        first = len(owners)
        owners += [0] * len(sizes)
        for i in sorted(range(len(sizes)), key=lambda k: (-sizes[k], k)):
            rank = min(range(ranks), key=lambda r: (load[r], r))
            owners[first + i] = rank
            load[rank] += sizes[i]
    return owners


class ZeroRedundancyOptimizer(Optimizer):
    """``ZeroRedundancyOptimizer(params, optimizer_class, shared_memory=None, **defaults)``.

    ``params``: tensors or parameter groups, as for any optimizer; ``optimizer_class``: an
    ``ffnn.optim.Optimizer`` subclass (``optim.AdamW`` …) built with ``**defaults`` over this
    rank's shard. ``shared_memory``: None = when every rank is on this host; True requires it.
    In a world of one rank it is ``optimizer_class`` itself, with no communication.
    ``param_groups`` are the local optimizer's (schedulers work unchanged).
    """

    def __init__(self, params: Iterable, optimizer_class: type[Optimizer],
                 shared_memory: bool | None = None, **defaults: Any):
        if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, Optimizer)) \
                or issubclass(optimizer_class, ZeroRedundancyOptimizer):
            raise TypeError(f"ZeroRedundancyOptimizer: optimizer_class must be an "
                            f"ffnn.optim.Optimizer subclass such as optim.AdamW. Received: "
                            f"optimizer_class={optimizer_class!r}")
        if shared_memory not in (None, True, False):
            raise ValueError(f"ZeroRedundancyOptimizer: shared_memory must be None, True or "
                             f"False. Received: shared_memory={shared_memory!r}")
        full = optimizer_class(params, **defaults)  # checks params, groups and options
        world = comm()
        self.optimizer_class = optimizer_class
        self._rank, self._size = world.Get_rank(), world.Get_size()
        self._params: list[Tensor] = [p for g in full.param_groups for p in g["params"]]
        self._group_members: list[list[int]] = []
        for group in full.param_groups:
            first = sum(len(m) for m in self._group_members)
            self._group_members.append(list(range(first, first + len(group["params"]))))
        _check_same_layout([p._data for p in self._params], "ZeroRedundancyOptimizer")
        self.owners = partition([[p._data.size for p in g["params"]] for g in full.param_groups],
                                self._size)
        self._owned = [i for i in range(len(self._params)) if self.owners[i] == self._rank]
        groups = [{**{k: v for k, v in group.items() if k != "params"},
                   "params": [self._params[i] for i in members if self.owners[i] == self._rank]}
                  for group, members in zip(full.param_groups, self._group_members)]
        self.optim = optimizer_class(groups, **defaults)
        self.mode = self._choose_mode(shared_memory)
        self._reduced = False
        self._consolidated: dict | None = None
        if self.mode == "shared":
            self._share_parameters()
        elif self.mode == "messages":
            broadcast_arrays([p._data for p in self._params], root=0)

    # ----- what a scheduler and a checkpoint see --------------------------------------
    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.optim.param_groups

    @property
    def state(self):
        """The local optimizer's state: this rank's parameters only."""
        return self.optim.state

    @property
    def defaults(self) -> dict[str, Any]:
        return self.optim.defaults

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        raise NotImplementedError("ZeroRedundancyOptimizer: pass every parameter group to the "
                                  "constructor; groups cannot be added afterwards")

    def __repr__(self) -> str:
        return (f"ZeroRedundancyOptimizer({self.optimizer_class.__name__}, rank {self._rank} "
                f"of {self._size} owns {len(self._owned)} of {len(self._params)} parameters, "
                f"{self.mode})")

    # ----- set-up -------------------------------------------------------------------------
    def _choose_mode(self, shared: bool | None) -> str:
        if self._size == 1:
            return "local"
        if shared is False:
            return "messages"
        one_host = shared_memory.all_on_one_host()
        if shared and not one_host:
            raise ValueError("ZeroRedundancyOptimizer: shared_memory=True needs every rank on "
                             "one host, but the ranks span several; pass shared_memory=None")
        return "shared" if one_host else "messages"

    def _share_parameters(self) -> None:
        """Move every parameter into one window on rank 0's segment, with rank 0's values;
        lay out each rank's publishing segment: [weight, has-grad flags, foreign grads]."""
        specs = [(p._data.shape, p._data.dtype) for p in self._params]
        offsets, end = shared_memory.layout(specs)
        self._weights = shared_memory.SharedSegments(end if self._rank == 0 else 0)
        views = self._weights.views(0, specs, offsets)
        if self._rank == 0:
            for view, param in zip(views, self._params):
                np.copyto(view, param._data)
        self._weights.fence()
        for view, param in zip(views, self._params):
            param._data = view
        self._views = views
        count = len(self._params)
        self._published: list[dict[int, np.ndarray]] = []
        self._headers: list[tuple[np.ndarray, np.ndarray]] = []
        segments = []
        for rank in range(self._size):
            foreign = [i for i in range(count) if self.owners[i] != rank]
            grad_offsets, end = shared_memory.layout([specs[i] for i in foreign], 8 + count)
            segments.append((foreign, grad_offsets, end))
        self._grads = shared_memory.SharedSegments(segments[self._rank][2])
        for rank, (foreign, grad_offsets, _) in enumerate(segments):
            arrays = self._grads.views(rank, [specs[i] for i in foreign], grad_offsets)
            self._published.append(dict(zip(foreign, arrays)))
            raw = self._grads.raw(rank)
            self._headers.append((raw[:8].view(np.float64), raw[8:8 + count]))

    # ----- the training step ----------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all the parameters (not only this rank's)."""
        reset_gradients(self._params, set_to_none)

    def reduce_gradients(self, weight: float | None = None) -> float:
        """Give each parameter's owner the global gradient ``Σ_r w_r g_r / Σ_r w_r`` (w_r =
        ``weight``, this rank's rows for an exact global-batch mean; default 1); the other
        ranks' ``.grad`` of it becomes None. A ``.grad`` missing on a rank counts as zeros.
        Collective. Returns Σ_r w_r."""
        mine = _check_weight(weight, "mean")
        if self.mode == "local":
            self._reduced = True
            return mine
        if self.mode == "messages":
            total = allreduce_gradients(self._params, weight=weight)
        else:
            total = self._reduce_shared(mine)
        for i, param in enumerate(self._params):
            if self.owners[i] != self._rank:
                param._grad = None
        self._reduced = True
        return total

    def _reduce_shared(self, mine: float) -> float:
        weight, flags = self._headers[self._rank]
        weight[0] = mine
        published = self._published[self._rank]
        for i, param in enumerate(self._params):
            grad = param._grad
            flags[i] = grad is not None
            if grad is not None and self.owners[i] != self._rank:
                np.copyto(published[i], grad.reshape(published[i].shape))
        self._grads.fence()
        weights = [float(self._headers[r][0][0]) for r in range(self._size)]
        total = math.fsum(weights)
        if not total > 0:
            raise ValueError(f"reduce_gradients: the ranks' weights sum to {total}; at least "
                             f"one rank needs weight > 0. Received: weight={mine!r} on rank "
                             f"{self._rank}")
        equal = all(w == weights[0] for w in weights)
        # this rank's own gradient first: the sum is written over it
        ranks = [self._rank] + [r for r in range(self._size) if r != self._rank]
        for i in self._owned:
            param = self._params[i]
            parts = [(r, param._grad if r == self._rank else self._published[r][i])
                     for r in ranks if self._headers[r][1][i]]
            if not parts:
                continue
            grads = [grad.reshape(param._data.shape) for _, grad in parts]
            if not equal:  # Σ w_r g_r / Σ w_r (equal weights: Σ g_r / R)
                grads = [grad * weights[r] for (r, _), grad in zip(parts, grads)]
            own = param._grad
            writable = own is not None and own.flags.writeable and own.flags.c_contiguous \
                and own.shape == param._data.shape
            out = own if writable and equal else np.empty_like(param._data)
            shared_memory.sum_divide(grads, self._size if equal else total, out)
            param._grad = out
        return total

    def clip_grad_norm_(self, max_norm: float, norm_type: float | str = 2.0,
                        error_if_nonfinite: bool = False) -> Tensor:
        """``nn.utils.clip_grad_norm_`` over all ranks' shards: the norm of every global
        gradient, ``g ← g · min(1, max_norm / (N + 1e-6))`` on the owners. Collective;
        reduces the gradients first if that has not been done. Returns N."""
        from ffnn.nn.utils import _grad_norm, _norm_type

        if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or max_norm < 0:
            raise ValueError(f"max_norm must be a number >= 0. Received: max_norm={max_norm!r}")
        norm_type = _norm_type(norm_type)
        if not self._reduced:
            self.reduce_gradients()
        grads = [self._params[i]._grad for i in self._owned if self._params[i]._grad is not None]
        norms = [float(_grad_norm(g, norm_type)) for g in grads]
        if norm_type == math.inf:
            total = float(all_reduce(max(norms, default=0.0), op="max"))
        else:
            total = float(all_reduce(sum(n ** norm_type for n in norms))) ** (1.0 / norm_type)
        if error_if_nonfinite and not math.isfinite(total):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                f"non-finite ({total}), so it cannot be clipped. To disable this error and "
                "scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
        clip_coef = max_norm / (total + 1e-6)
        if clip_coef < 1.0 or math.isnan(clip_coef):
            with np.errstate(invalid="ignore"):
                for grad in grads:
                    grad *= clip_coef
        return Tensor._of(np.asarray(total))

    def step(self, closure: Callable[[], Any] | None = None):
        """Reduce the gradients (unless done), update this rank's shard, make every rank see
        every new weight. Collective. ``closure`` only in a world of one rank."""
        if closure is not None and self.mode != "local":
            raise ValueError("ZeroRedundancyOptimizer.step: a closure would compute gradients "
                             "that are not reduced; call backward, reduce_gradients and step")
        if not self._reduced:
            self.reduce_gradients()
        if self.mode == "shared":
            self._check_shared()
        loss = self.optim.step(closure)
        if self.mode == "shared":
            self._weights.fence()
        elif self.mode == "messages":
            for rank in range(self._size):
                broadcast_arrays([p._data for i, p in enumerate(self._params)
                                  if self.owners[i] == rank], root=rank)
        self._reduced = False
        self._consolidated = None
        return loss

    def _check_shared(self) -> None:
        for i, (param, view) in enumerate(zip(self._params, self._views)):
            if param._data is not view:
                raise RuntimeError(
                    f"ZeroRedundancyOptimizer: parameter {i}'s array was replaced after the "
                    f"optimizer moved it into shared memory (e.g. by model.to(dtype)); the "
                    f"ranks would drift apart. Build the optimizer after the model is final, "
                    f"and load weights with load_state_dict (it copies in place).")

    # ----- checkpoints ----------------------------------------------------------------
    def consolidate_state_dict(self, to: int = 0) -> None:
        """Gather every rank's shard of the optimizer state on rank ``to``, whose
        :meth:`state_dict` then returns the state of one ``optimizer_class`` over all the
        parameters. Collective; call it after the last step before saving."""
        _check_root(to)
        local = self.optim.state_dict()
        groups = []
        for packed, members in zip(local["param_groups"], self._group_members):
            groups.append({**{k: v for k, v in packed.items() if k != "params"},
                           "params": list(members)})
        mine = {self._owned[int(k)]: v for k, v in local["state"].items()}
        if self._size == 1:
            self._consolidated = {"state": mine, "param_groups": groups}
            return
        world = comm()
        if self._rank == to:
            state = dict(mine)
            for rank in range(self._size):
                if rank != to:
                    state.update(_receive_state(world, rank))
            self._consolidated = {"state": dict(sorted(state.items())), "param_groups": groups}
        else:
            _send_state(world, mine, to)
            self._consolidated = None

    def state_dict(self) -> dict[str, Any]:
        """The whole optimizer's state, in ``optimizer_class``'s layout (parameters numbered
        across all groups). With several ranks: only on the rank that
        :meth:`consolidate_state_dict` gathered to, and only until the next step."""
        if self.mode == "local":
            return self.optim.state_dict()
        if self._consolidated is None:
            raise RuntimeError(
                f"ZeroRedundancyOptimizer.state_dict: rank {self._rank} holds no consolidated "
                f"state. Call consolidate_state_dict(to={self._rank}) on every rank after the "
                f"last step, then state_dict() on rank {self._rank}.")
        return self._consolidated

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a whole-optimizer state (from :meth:`state_dict` or a plain
        ``optimizer_class``'s) on every rank; each keeps its own shard."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("optimizer state_dict must be a dict with keys 'state' and "
                             f"'param_groups'. Received: {type(state_dict).__name__}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self._group_members) or any(
                len(s["params"]) != len(m) for s, m in zip(saved_groups, self._group_members)):
            raise ValueError(
                f"ZeroRedundancyOptimizer.load_state_dict: the state dict's groups have "
                f"{[len(s['params']) for s in saved_groups]} parameters, this optimizer's "
                f"{[len(m) for m in self._group_members]}")
        local_index = {g: k for k, g in enumerate(self._owned)}
        position: dict[int, int] = {}  # saved number -> our global number
        groups = []
        for saved, members in zip(saved_groups, self._group_members):
            position.update({int(s): g for s, g in zip(saved["params"], members)})
            groups.append({**{k: v for k, v in saved.items() if k != "params"},
                           "params": [local_index[g] for g in members if g in local_index]})
        state = {}
        for key, values in state_dict["state"].items():
            if int(key) not in position:
                raise ValueError(f"loaded state dict has state for parameter {key}, which is "
                                 f"in no group")
            number = position[int(key)]
            if number in local_index:
                state[local_index[number]] = values
        self.optim.load_state_dict({"state": state, "param_groups": groups})
        self._consolidated = None


def _send_state(world, state: dict[int, dict], to: int) -> None:
    """Send ``{parameter number: {name: array | number}}`` to rank ``to``: a JSON header of
    names, numbers, shapes and dtypes, then each array (no pickle)."""
    header, arrays = {}, []
    for number, values in state.items():
        entry = {}
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                entry[name] = {"shape": list(value.shape), "dtype": value.dtype.str}
                arrays.append(np.ascontiguousarray(value))
            else:
                entry[name] = {"value": value}
        header[str(number)] = entry
    payload = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    world.Send(np.array([payload.size], dtype=np.int64), dest=to, tag=_TAG)
    world.Send(payload, dest=to, tag=_TAG)
    for array in arrays:
        world.Send(array, dest=to, tag=_TAG)


def _receive_state(world, source: int) -> dict[int, dict]:
    """What :func:`_send_state` sent from rank ``source``."""
    length = np.empty(1, dtype=np.int64)
    world.Recv(length, source=source, tag=_TAG)
    payload = np.empty(int(length[0]), dtype=np.uint8)
    world.Recv(payload, source=source, tag=_TAG)
    state: dict[int, dict] = {}
    for number, entry in json.loads(payload.tobytes().decode()).items():
        values = {}
        for name, spec in entry.items():
            if "value" in spec:
                values[name] = spec["value"]
            else:
                array = np.empty(spec["shape"], dtype=np.dtype(spec["dtype"]))
                world.Recv(array, source=source, tag=_TAG)
                values[name] = array
        state[int(number)] = values
    return state


__all__ = ["ZeroRedundancyOptimizer", "partition"]
