"""``DataLoader``: batches of ffnn Tensors from a dataset, shuffled by a seeded generator.

Fast path: for array-backed datasets (``TensorDataset``, ``ArrayDataset`` and ``Subset``s of
them) a batch is ``[a[idx] for a in arrays]`` — one fancy index per array, no Python loop
over samples. Other datasets are collated item by item (``np.stack`` per field).

Randomness and resuming
-----------------------
Each epoch (each ``iter(loader)``) uses one generator for shuffling and augmentation:

* ``generator=g`` given: ``g`` itself; every epoch advances it.
* otherwise: a fresh ``ffnn.Generator`` seeded with one integer drawn from the global
  generator when iteration starts, so ``ffnn.manual_seed(n)`` fixes every epoch's order.

``loader.generator`` is that generator (``None`` before the first epoch when none was given).
To resume a run exactly:

* between epochs, with an explicit generator: save ``loader.generator.get_state()``; later
  ``g = ffnn.Generator(); g.set_state(state)`` and build the loader with ``generator=g``.
  With the global seed instead: save and restore ``ffnn.get_rng_state()``.
* anywhere, even mid-epoch: save ``loader.state_dict()`` (JSON-able: the generator state at
  the start of the current epoch, the number of batches already yielded, the epoch count)
  and call ``loader.load_state_dict(state)`` on the new loader; its next epoch replays the
  same order (and the same augmentation draws) and skips the batches already seen.

Augmentation draws come from a per-batch ``numpy`` generator seeded by
``(epoch_seed, batch_index)``, where ``epoch_seed`` is one integer drawn from the epoch's
generator after the permutation; skipping batches therefore needs no replay.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ffnn import random as _random
from ffnn import torch_stream
from ffnn.data import iterable
from ffnn.data import sampler as sampler_module
from ffnn.data.datasets import ArrayDataset, Subset, TensorDataset
from ffnn.tensor import Tensor


def _to_tensor(array: np.ndarray) -> Tensor:
    """Wrap without copying, in the array's dtype (torch's collate keeps a tensor's or a
    NumPy value's dtype: uint8 images stay uint8)."""
    return Tensor._make(array, False, None)


def _rows(array: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``array[idx]``: rows in the order of ``idx`` (``np.take`` along the first axis for a
    table: the same copy, 2-3× faster than fancy indexing on rows)."""
    return np.take(array, idx, axis=0) if array.ndim > 1 else array[idx]


GATHER_BYTES = 64 << 20
"""Largest epoch (all arrays' rows) a loader over arrays copies at once, in shuffled order."""


def _nbytes(arrays: tuple[np.ndarray, ...], rows: int) -> int:
    """Bytes of ``rows`` rows of each array."""
    return sum(rows * (a.nbytes // max(len(a), 1)) for a in arrays)


def _reads_as(dataset, *kinds: type) -> bool:
    """Whether ``dataset`` reads its samples with one of ``kinds``' own methods: a subclass
    that overrides ``__getitem__`` (noise, a transform) or adds ``__getitems__`` is read
    through them, as torch reads it."""
    cls = type(dataset)
    return any(cls.__getitem__ is kind.__getitem__
               and getattr(cls, "__getitems__", None) is getattr(kind, "__getitems__", None)
               for kind in kinds)


def _array_source(dataset) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """``(arrays, base_indices)`` for array-backed datasets (Subsets unwrapped), else None."""
    indices = None
    while isinstance(dataset, Subset):
        if not _reads_as(dataset, Subset):
            return None
        indices = dataset.positions if indices is None else dataset.positions[indices]
        dataset = dataset.dataset
    if not _reads_as(dataset, TensorDataset, ArrayDataset):
        return None
    arrays = getattr(dataset, "arrays", None)
    if isinstance(arrays, tuple) and arrays and all(isinstance(a, np.ndarray) for a in arrays):
        return arrays, indices
    return None


def _as_array(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, float):
        return np.asarray(value, dtype=np.float64)  # torch: Python floats collate to float64
    return np.asarray(value)


def default_collate(items) -> Any:
    """Stack a list of samples field by field, as torch's: tuple and list samples give a
    list of fields (a namedtuple its own type), dicts a dict, strings the sequence of them
    as given, anything else a Tensor (Python floats float64, NumPy values keep their dtype)."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        if any(len(item) != len(first) for item in items):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(field) for field in zip(*items)]
        return type(first)(*fields) if hasattr(first, "_fields") else fields
    if isinstance(first, dict):
        return {k: default_collate([item[k] for item in items]) for k in first}
    if isinstance(first, (str, bytes)):
        return items
    return _to_tensor(np.stack([_as_array(v) for v in items]))


def default_convert(data) -> Any:
    """A sample as ``DataLoader(batch_size=None)`` gives it, as torch's: NumPy arrays and
    scalars as tensors (their dtype kept), tuples as lists, sequences and dicts element by
    element, anything else as it is."""
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in "biufc":
        return Tensor._of(data)
    if isinstance(data, dict):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*map(default_convert, data))
    if isinstance(data, (tuple, list)):
        return [default_convert(d) for d in data]
    return data


def _check_dataset(dataset, shuffle: bool, sampler, batch_sampler) -> bool:
    """Whether ``dataset`` is an ``IterableDataset`` (then without the options it cannot
    take); TypeError for one neither map-style nor iterable."""
    if isinstance(dataset, iterable.IterableDataset):
        iterable.check_loader_options(shuffle, sampler, batch_sampler)
        return True
    if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
        raise TypeError("DataLoader: dataset must define __len__ and __getitem__ (map-style), "
                        "or be an IterableDataset. Received: dataset of type "
                        f"{type(dataset).__name__}")
    return False


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` (lists of ffnn Tensors, as torch's).

    ``shuffle``: new random order each epoch (see the module docstring for the generator).
    ``sampler``: an object whose ``__iter__`` yields indices (e.g. a distributed sampler, with
    an optional ``set_epoch``); excludes ``shuffle``. ``drop_last``: drop a short final batch.
    ``collate_fn``: list of samples -> batch (disables the array fast path).
    ``augment``: ``augment(x, rng) -> x`` on each batch's inputs (numpy arrays); when
    ``augment.needs_targets`` is true it is called as ``augment(x, y, rng) -> (x, y)``.
    ``len(loader)`` is the number of batches per epoch. ``batch_sampler``: yields lists of
    indices, one per batch (excludes batch_size, shuffle, sampler, drop_last).
    ``num_workers``, ``pin_memory``, ``timeout``, ``worker_init_fn``, ``prefetch_factor`` …:
    accepted as torch takes them; batches are always made in this process, so any
    ``num_workers`` gives the same batches as 0.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, sampler=None,
                 batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator: _random.Generator | None = None, *,
                 prefetch_factor=None, persistent_workers: bool = False,
                 pin_memory_device: str = "", augment: Callable | None = None):
        self._iterable = _check_dataset(dataset, shuffle, sampler, batch_sampler)
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
                or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer. "
                             f"Received: num_workers={num_workers!r}")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler is mutually exclusive with "
                                 "batch_size, shuffle, sampler and drop_last")
            sampler, batch_size = _FlatBatches(batch_sampler), None
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(
                f"DataLoader: batch_size must be a positive integer. Received: "
                f"batch_size={batch_size!r}"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive (the "
                             "sampler decides the order). Received: shuffle=True with a sampler")
        if sampler is not None and not hasattr(sampler, "__iter__"):
            raise TypeError(f"DataLoader: sampler must be iterable (yield indices). Received: "
                            f"sampler of type {type(sampler).__name__}")
        if generator is not None and not isinstance(generator, _random.Generator):
            raise TypeError(f"DataLoader: generator must be an ffnn.Generator or None. "
                            f"Received: generator of type {type(generator).__name__}")
        for name, fn in (("collate_fn", collate_fn), ("augment", augment)):
            if fn is not None and not callable(fn):
                raise TypeError(f"DataLoader: {name} must be callable. Received: {name}={fn!r}")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self._batch_sampler = batch_sampler
        self.num_workers = int(num_workers)  # batches are made in this process either way
        self.pin_memory = bool(pin_memory)
        self.shuffle = bool(shuffle)
        self._sampler = sampler  # the given one (a batch sampler's flattened), or None
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.augment = augment
        self._explicit_generator = generator
        self.generator = generator
        self.epoch = 0  # epochs started
        self._batch_index = 0  # batches yielded in the current epoch
        self._epoch_start_state: tuple | None = None
        self._resume: dict | None = None
        self._source = None if collate_fn is not None or self._iterable else \
            _array_source(dataset)
        if self.shuffle and sampler is None and not self._iterable:
            _ = self.sampler  # torch makes its RandomSampler here: an empty dataset is its error

    # ----- the samplers, as torch's attributes ------------------------------------------
    @property
    def sampler(self):
        """The sampler given, else the one torch would make: a ``RandomSampler`` when
        shuffling, a ``SequentialSampler`` otherwise (None for an iterable dataset)."""
        if self._sampler is not None and self._batch_sampler is None:
            return self._sampler
        if self._iterable:
            return None
        return (sampler_module.RandomSampler(self.dataset, generator=self.generator)
                if self.shuffle else sampler_module.SequentialSampler(self.dataset))

    @property
    def batch_sampler(self):
        """The batch sampler given, else a ``BatchSampler`` over ``sampler`` (None for an
        iterable dataset)."""
        if self._batch_sampler is not None or self._iterable or self.batch_size is None:
            return self._batch_sampler
        return sampler_module.BatchSampler(self.sampler, self.batch_size, self.drop_last)

    # ----- sizes ----------------------------------------------------------------------
    def _num_samples(self) -> int:
        return len(self._sampler) if self._sampler is not None else len(self.dataset)

    def __len__(self) -> int:
        if self._batch_sampler is not None:
            return len(self._batch_sampler)
        n = self._num_samples()
        if self.batch_size is None:  # no batching: one sample a step
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Forward ``epoch`` to the sampler's ``set_epoch`` (distributed samplers need it)."""
        if self._sampler is not None and hasattr(self._sampler, "set_epoch"):
            self._sampler.set_epoch(epoch)

    # ----- state ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        """JSON-able position: generator state at the current epoch's start, batches done."""
        if self._resume is not None:  # loaded but not yet iterated: still that position
            return dict(self._resume)
        in_epoch = self._epoch_start_state is not None and 0 < self._batch_index < len(self)
        if in_epoch:
            seed, position = self._epoch_start_state
            generator_state = {"seed": seed, "bit_generator": _random.state_at(position)}
        elif self.generator is not None and self._explicit_generator is not None:
            generator_state = self.generator.get_state()
        else:
            generator_state = None
        return {"generator": generator_state, "batch_index": self._batch_index if in_epoch else 0,
                "epoch": self.epoch - 1 if in_epoch else self.epoch}

    def load_state_dict(self, state: dict) -> None:
        """Resume from ``state_dict()``: the next epoch replays that order from its batch."""
        missing = {"generator", "batch_index", "epoch"} - set(state)
        if missing:
            raise KeyError(f"DataLoader.load_state_dict: missing keys {sorted(missing)}. "
                           f"Received: keys {sorted(state)}")
        self.epoch = int(state["epoch"])
        self._resume = dict(state)

    # ----- iteration ------------------------------------------------------------------
    def _start_epoch(self) -> _random.Generator:
        resume, self._resume = self._resume, None
        saved = resume["generator"] if resume else None
        if self._explicit_generator is not None:
            generator = self._explicit_generator
            if saved is not None:
                generator.set_state(saved)
            else:  # the iterator's base seed, drawn as torch's DataLoader draws it
                torch_stream.random_int64(generator)
        elif saved is not None:
            generator = _random.Generator(0)
            generator.set_state(saved)
        else:  # torch's: the base seed, then the RandomSampler's seed of its own generator
            seed = torch_stream.random_int64(None)
            if self.shuffle and self._sampler is None:
                seed = torch_stream.random_int64(None)
            generator = _random.Generator(seed)
        self.generator = generator
        # (seed, generator position); made a JSON-able state only when state_dict() asks
        self._epoch_start_state = (generator.initial_seed(), generator.position())
        self._skip = int(resume["batch_index"]) if resume else 0
        return generator

    def _indices(self, generator: _random.Generator) -> np.ndarray:
        if self._sampler is not None:
            return np.fromiter((int(i) for i in self._sampler), dtype=np.int64)
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        order = torch_stream.permutation(generator, n)
        if generator is self._explicit_generator:  # torch's RandomSampler's unused one
            torch_stream.skip_permutation(generator, n)
        return order

    def __iter__(self) -> Iterator:
        if self.batch_size is None and self._batch_sampler is None:
            return self._samples()
        if self._iterable:  # the stream's order, batched as it comes
            self.epoch += 1
            return iterable.batches(self.dataset, self.batch_size, self.drop_last,
                                    self.collate_fn or default_collate)
        return self._map_style_batches()

    def _samples(self) -> Iterator:
        """``batch_size=None``: each sample as it is, its arrays made tensors
        (``collate_fn`` or ``default_convert``), as torch's."""
        convert = self.collate_fn or default_convert
        self.epoch += 1
        if self._iterable:
            yield from map(convert, self.dataset)
            return
        generator = self._start_epoch()
        if self._sampler is not None:  # its indices as it gives them (a BatchSampler's lists)
            yield from (convert(self.dataset[i]) for i in self._sampler)
            return
        for i in self._indices(generator):
            yield convert(self.dataset[int(i)])

    def _map_style_batches(self) -> Iterator:
        generator = self._start_epoch()
        order = self._indices(generator)
        augment_seed = int(generator.rng.integers(2**63 - 1)) if self.augment else 0
        self.epoch += 1
        n_batches = len(self)
        self._batch_index = self._skip
        bounds = self._sampler.bounds if self._batch_sampler is not None else [
            *range(0, len(order), self.batch_size), len(order)][:n_batches + 1]
        fetch = self._epoch_fetch(order, bounds[self._skip], bounds[n_batches])
        for b in range(self._skip, n_batches):
            batch = fetch(bounds[b], bounds[b + 1])
            if self.augment is not None:
                batch = self._augment(batch, np.random.default_rng([augment_seed, b]))
            self._batch_index = b + 1
            yield batch

    def _epoch_fetch(self, order: np.ndarray, start: int, stop: int) -> Callable:
        """``fetch(i, j)``: the batch of ``order[i:j]`` (``start <= i <= j <= stop``). For an
        array dataset of at most ``GATHER_BYTES`` rows are gathered once, in this epoch's
        order, and each batch is a slice of that copy (one fancy index per array and epoch,
        not per batch); else each batch is fetched on its own."""
        source = self._source
        if source is None or _nbytes(source[0], stop - start) > GATHER_BYTES:
            return lambda i, j: self._fetch(order[i:j])
        arrays, base = source
        idx = order[start:stop] if base is None else base[order[start:stop]]
        gathered = [_rows(a, idx) for a in arrays]
        make = Tensor._make

        def fetch(i: int, j: int) -> list:
            i, j = i - start, j - start
            return [make(a[i:j], False, None) for a in gathered]

        return fetch

    def _fetch(self, idx: np.ndarray):
        if self._source is not None:
            arrays, base = self._source
            if base is not None:
                idx = base[idx]
            return [_to_tensor(_rows(a, idx)) for a in arrays]
        getitems = getattr(self.dataset, "__getitems__", None)  # torch's batched read
        idx = idx.tolist()
        items = getitems(idx) if getitems else [self.dataset[i] for i in idx]
        return (self.collate_fn or default_collate)(items)

    def _augment(self, batch, rng: np.random.Generator):
        if not isinstance(batch, (tuple, list)) or not batch:
            batch = (batch,)
        x = _as_array(batch[0])
        if getattr(self.augment, "needs_targets", False):
            if len(batch) < 2:
                raise ValueError(f"DataLoader: augment {type(self.augment).__name__} needs "
                                 f"targets, but batches have only inputs (1 field)")
            x, y = self.augment(x, _as_array(batch[1]), rng)
            return [_to_tensor(x), _to_tensor(y), *batch[2:]]
        return [_to_tensor(self.augment(x, rng)), *batch[1:]]

    def __repr__(self) -> str:
        size = len(self.dataset) if hasattr(self.dataset, "__len__") else "stream"
        return (f"DataLoader(dataset={type(self.dataset).__name__}({size}), "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")


class _FlatBatches:
    """A batch sampler seen as a flat sampler; ``bounds`` marks where each batch starts
    (filled when iterated, so each epoch's batches are the batch sampler's own)."""

    def __init__(self, batch_sampler):
        self.batch_sampler = batch_sampler
        self.bounds = [0]

    def __iter__(self):
        batches = [list(b) for b in self.batch_sampler]
        self.bounds = list(np.cumsum([0] + [len(b) for b in batches]))
        return iter([int(i) for b in batches for i in b])
