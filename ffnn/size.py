"""``torch.Size``: the type of ``tensor.shape`` and ``tensor.size()``."""

from __future__ import annotations


class Size(tuple):
    """torch's shape type: a tuple of ints (``torch.Size([2, 3]) == (2, 3)``) that prints as
    ``torch.Size([2, 3])``, as torch's does."""

    def __new__(cls, sizes=()):
        return super().__new__(cls, (int(n) for n in sizes))

    def numel(self) -> int:
        total = 1
        for n in self:
            total *= n
        return total

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"


def shape_of(shape: tuple) -> Size:
    """A NumPy shape (a tuple of ints) as a Size, without converting each entry."""
    return tuple.__new__(Size, shape)
