"""``ProbsOrLogits``: the parameter pair of the two-outcome families (Bernoulli, Binomial,
Geometric, LogitRelaxedBernoulli): ``probs`` p or ``logits`` log(p/(1 - p)), one given, the
other computed on first use (``lazy_property``), as torch's."""

from __future__ import annotations

from ffnn.distributions.utils import (
    broadcast_all,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)
from ffnn.size import Size
from ffnn.tensor import Tensor


class ProbsOrLogits:
    """Mixed into a Distribution: ``_given(probs, logits, *others)`` stores the one given
    (broadcast with ``others``, returned) and ``_param`` (it); ``_expand_into`` copies it."""

    def _given(self, probs, logits, *others) -> tuple:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name = "probs" if probs is not None else "logits"
        *rest, param = broadcast_all(*others, probs if probs is not None else logits)
        setattr(self, name, param)
        self._param = param
        return tuple(rest)

    def _expand_into(self, new, batch_shape) -> None:
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(batch_shape))
                new._param = getattr(new, name)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        return self._param.shape
