"""Devices, as torch names them: ``ffnn.device('cpu')``, ``device=`` keywords, ``.to(device)``.

ffnn computes on the CPU. ``'cpu'`` (or ``ffnn.device('cpu')``) is accepted wherever torch
takes a device; a GPU device (``'cuda'``, ``'cuda:0'``, ``'mps'``) raises the error torch raises
when it was built without that accelerator, so a program's ``if torch.cuda.is_available()``
branch picks the CPU as it does on a machine without a GPU. ``'meta'`` is read as the CPU:
where torch's meta tensors hold shapes and no values, ffnn's keep their values, which is what
programs that move a model there only to hand its parameters to ``functional_call`` (model
ensembling), or build it there before ``to_empty`` and ``load_state_dict``, need.
"""

from __future__ import annotations

DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")


class DeviceUnavailableError(AssertionError, RuntimeError):
    """A GPU device was asked for; ffnn runs on the CPU. (torch raises AssertionError here;
    it is also a RuntimeError so either ``except`` catches it.)"""


class device:  # noqa: N801 - torch's name
    """A device name: ``device('cpu')``, ``device('cuda:0')``, ``device('cuda', 1)``.

    ``str(d)`` is ``'cpu'`` / ``'cuda:0'``; ``d.type`` and ``d.index`` as in torch. Making one
    for a GPU is allowed (torch allows it too); using it for a tensor or module raises
    :class:`DeviceUnavailableError`.
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index  # noqa: A001
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string such as 'cpu' or 'cuda:0'. Received: "
                            f"{type!r}")
        name, _, number = type.partition(":")
        if name not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start "
                               f"of device string: {type}")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(number)
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", None if index is None else int(index))

    def __setattr__(self, name, value):
        raise AttributeError("device is immutable")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __eq__(self, other) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(value, where: str = "device") -> device:
    """``value`` (None, a string, an ``ffnn.device``, a torch.device) as the CPU device.

    Raises :class:`DeviceUnavailableError` for a GPU device, RuntimeError for an unknown name;
    ``'meta'`` is the CPU (the module docstring).
    """
    if value is None:
        return CPU
    if isinstance(value, int) and not isinstance(value, bool):
        value = device("cuda", value)  # torch reads a bare integer as a CUDA ordinal
    elif not isinstance(value, device):
        value = device(str(value))
    if value.type == "meta":
        return CPU
    if value.type != "cpu":
        raise DeviceUnavailableError(
            f"{where}={str(value)!r}: ffnn runs on the CPU only (Torch not compiled with "
            f"{value.type.upper()} enabled); ffnn.cuda.is_available() is False, use 'cpu'"
        )
    return value


def is_device(value) -> bool:
    """True for what ``.to(...)`` reads as a device: a device, a device string, an int."""
    if isinstance(value, device) or type(value).__name__ == "device":
        return True
    if isinstance(value, str):
        return value.partition(":")[0] in DEVICE_TYPES
    return isinstance(value, int) and not isinstance(value, bool)
