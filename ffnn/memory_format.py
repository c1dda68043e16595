"""torch's memory layouts (``torch.contiguous_format``, ``torch.channels_last`` …), taken by
``clone``, ``contiguous``, ``to`` and the ``*_like`` factories. ffnn's arrays are laid out
row-major, and a layout changes no value, so each format is accepted and gives that one."""

from __future__ import annotations


class memory_format:  # noqa: N801 - torch's name
    """One of torch's memory layouts, by name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")

__all__ = ["memory_format", "contiguous_format", "preserve_format", "channels_last",
           "channels_last_3d"]
