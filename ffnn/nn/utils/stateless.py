"""``torch.nn.utils.stateless``: the older home of ``functional_call`` (``ffnn.func``)."""

from ffnn.func.functional_call import functional_call

__all__ = ["functional_call"]
