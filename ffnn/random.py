"""One seed for everything: initialisation, shuffling, dropout and augmentation.

``ffnn.manual_seed(n)`` resets the global :class:`Generator`; functions that draw random
numbers take an explicit ``generator=`` and fall back to the global one.
"""

from __future__ import annotations

import contextlib

import numpy as np


def torch_bits(seed: int) -> np.random.MT19937:
    """NumPy's MT19937 seeded as torch's CPU generator is (``std::mt19937``'s seeding of the
    seed's low 32 bits), so that its raw draws are torch's (``ffnn.torch_stream``)."""
    bits = np.random.MT19937()
    bits._legacy_seeding(int(seed) & 0xFFFFFFFF)
    return bits


class Generator:
    """A seedable random source with torch's method names: NumPy's MT19937, seeded as
    torch's, so that ``ffnn.torch_stream``'s draws (``rand``, ``randn``, ``randint``,
    ``randperm``, ``uniform_`` and ``normal_``, the layers' initialisation, shuffling) are
    torch's numbers; other draws use NumPy's methods on the same stream."""

    def __init__(self, seed: int | None = None, device=None):
        """``Generator()`` (fresh entropy), ``Generator(seed)``; torch's ``Generator('cpu')``
        / ``Generator(device='cpu')`` also work (a GPU device raises)."""
        from ffnn.device import check_device, is_device

        if isinstance(seed, str) or type(seed).__name__ == "device" or is_device(device):
            check_device(seed if device is None else device, "Generator(device)")
            seed = None if not isinstance(seed, int) else seed
        self.manual_seed(np.random.SeedSequence().entropy % (1 << 64) if seed is None else seed)

    def manual_seed(self, seed: int) -> Generator:
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError(f"manual_seed expects an integer. Received: seed={seed!r}") from None
        if not -(1 << 63) <= seed < (1 << 64):
            raise RuntimeError(f"Overflow when unpacking long long: manual_seed expects a seed "
                               f"in [-2**63, 2**64). Received: seed={seed}")
        seed %= 1 << 64  # torch's: a negative seed is taken modulo 2**64
        self._seed = seed
        self._rng = np.random.Generator(torch_bits(seed))
        self._stream: tuple[dict, int] | None = None  # set_stream's, until first used
        self.normal_cache: float | None = None  # torch's second normal of a pair
        return self

    @property
    def device(self):
        """``device(type='cpu')``: ffnn's generators draw on the CPU."""
        from ffnn.device import device

        return device("cpu")

    @property
    def rng(self) -> np.random.Generator:
        """The NumPy generator to draw from (at the stream ``set_stream`` chose, if any)."""
        if self._stream is not None:
            state, index = self._stream
            self._stream = None
            self._take_kind(state)
            _enter_stream(self._rng.bit_generator, state, index)
        return self._rng

    def _take_kind(self, state: dict) -> None:
        """Draw from a bit generator of ``state``'s kind from now on: a PCG64 state (the
        Trainer's epoch streams, an older ffnn checkpoint) makes NumPy's draws stand in for
        torch's (``ffnn.torch_stream.exact``) until the next ``manual_seed``."""
        kind = state.get("bit_generator") if isinstance(state, dict) else None
        if kind is not None and kind != type(self._rng.bit_generator).__name__:
            self._rng = np.random.Generator(bit_generator_of(kind)())

    def set_stream(self, state: dict, index: int) -> Generator:
        """Continue from the PCG64 ``state`` (a bit generator's ``.state``) advanced by
        ``index · 2⁶⁴`` draws: stream ``index`` of a family that never overlaps (the
        Trainer's epochs). ``initial_seed()`` is unchanged. The jump is made when the
        generator is next used, so a stream nothing draws from costs nothing."""
        self._stream = (state, index)
        return self

    def position(self) -> tuple:
        """Where the next draw comes from, cheaply: an opaque value for :func:`state_at`
        (a pending stream is not entered to say where it starts)."""
        return self._stream if self._stream is not None else (self._rng.bit_generator.state,
                                                               0)

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        """Seed from fresh entropy; returns the seed (torch's ``Generator.seed``)."""
        fresh = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        self.manual_seed(fresh)
        return fresh

    def get_state(self) -> dict:
        """The generator state as a JSON-serialisable dict (for checkpoints)."""
        state = self.rng.bit_generator.state
        return {"seed": self._seed, "bit_generator": jsonable(state),
                "normal_cache": self.normal_cache}

    def set_state(self, state: dict) -> None:
        """Back to a ``get_state``; a state of another bit generator (PCG64: ffnn's before it
        drew torch's numbers) is taken as it is, NumPy's draws then standing in for torch's."""
        self._seed = int(state["seed"])
        self._stream = None
        saved = state["bit_generator"]
        self._take_kind(saved)
        self._rng.bit_generator.state = saved
        self.normal_cache = state.get("normal_cache")


BIT_GENERATORS = {"MT19937": np.random.MT19937, "PCG64": np.random.PCG64}
"""The bit generators a saved state may name: torch's (MT19937) and the Trainer's epochs'."""


def bit_generator_of(kind) -> type:
    """The bit generator class a saved state names; ValueError for any other name (a
    checkpoint's state never picks an arbitrary attribute of ``numpy.random``)."""
    found = BIT_GENERATORS.get(kind) if isinstance(kind, str) else None
    if found is None:
        raise ValueError(f"generator state: bit_generator must be one of "
                         f"{sorted(BIT_GENERATORS)}. Received: {kind!r}")
    return found


def _enter_stream(bits: np.random.BitGenerator, state: dict, index: int) -> None:
    """Put ``bits`` at ``state``, then on its ``index``-th stream: advanced by ``index · 2⁶⁴``
    draws (PCG64), or jumped ``index`` times 2¹²⁸ draws (MT19937)."""
    bits.state = state
    if index:
        if isinstance(bits, np.random.MT19937):
            bits.state = bits.jumped(index).state
        else:
            bits.advance(index << 64)


def state_at(position: tuple) -> dict:
    """The bit generator's state (JSON-able) at a :meth:`Generator.position`."""
    state, index = position
    if index:
        bits = bit_generator_of(state["bit_generator"])()
        _enter_stream(bits, state, index)
        state = bits.state
    return jsonable(state)


def jsonable(state):
    """``state`` with NumPy integers as Python ints (a bit generator's state, for JSON)."""
    if isinstance(state, dict):
        return {k: jsonable(v) for k, v in state.items()}
    if isinstance(state, np.integer):
        return int(state)
    if isinstance(state, np.ndarray):
        return state.tolist()
    return state


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator; returns it (as ``torch.manual_seed`` does)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the global generator from fresh entropy; returns the seed (``torch.seed``)."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the global generator was last seeded with (``torch.initial_seed``)."""
    return default_generator.initial_seed()


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str | None = None):
    """Within the block, draws from the global generator leave its state as it was before
    (``torch.random.fork_rng``; ``enabled=False``: no fork). Only the CPU has a state."""
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or the global one."""
    return (generator or default_generator).rng
