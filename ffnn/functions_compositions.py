"""torch's function forms of the methods in ``ffnn.tensor_compositions`` (``torch.addmv``,
``torch.cov`` …) and of the comparison, rounding and complex-query aliases of
``ffnn.tensor_aliases`` (``torch.greater``, ``torch.fix``, ``torch.conj`` …)."""

from __future__ import annotations

from ffnn.functions_more import _method_form

METHOD_FORMS = (
    "addmv", "addr", "baddbmm", "addbmm", "cov", "corrcoef", "renorm", "diagflat",
    "hardshrink", "greater", "greater_equal", "less", "less_equal", "not_equal", "fix",
    "conj", "resolve_conj", "resolve_neg", "conj_physical", "is_conj", "is_neg", "is_signed",
    "is_same_size",
)

__all__ = [*METHOD_FORMS, "real", "imag"]

for _name in METHOD_FORMS:
    globals()[_name] = _method_form(_name)


def real(input):  # noqa: A002 - torch's names
    """The real part: a real tensor itself."""
    return input.real


def imag(input):  # noqa: A002 - torch's names
    """Raises for a real tensor, as torch does."""
    return input.imag
