"""The named tuples torch returns (``x.max(dim)``, ``sort``, ``topk``, ``median``,
``load_state_dict`` …), printed as torch prints them; ``result_type`` makes one."""

from __future__ import annotations

from collections import namedtuple


def result_type(name: str, fields: list) -> type:
    """torch.return_types.<name>: a named tuple of ``fields``, printed a field per line as
    torch prints it."""
    base = namedtuple(name, fields)

    def __repr__(self) -> str:
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                "__module__": "torch.return_types"})


def _values_and_indices(name: str) -> type:
    """torch.return_types.<name>: (values, indices)."""
    return result_type(name, ["values", "indices"])


max = _values_and_indices("max")  # noqa: A001 - torch's names
min = _values_and_indices("min")  # noqa: A001
sort = _values_and_indices("sort")
topk = _values_and_indices("topk")


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``Module.load_state_dict`` returns: the keys it did not find or did not use."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")

    __str__ = __repr__


median = _values_and_indices("median")
nanmedian = _values_and_indices("nanmedian")
kthvalue = _values_and_indices("kthvalue")
mode = _values_and_indices("mode")
cummax = _values_and_indices("cummax")
cummin = _values_and_indices("cummin")


aminmax = result_type("aminmax", ["min", "max"])
histogram = result_type("histogram", ["hist", "bin_edges"])
frexp = result_type("frexp", ["mantissa", "exponent"])
