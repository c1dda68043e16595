"""The gradient an update uses: ``g = ±grad + weight_decay · param``, written into scratch."""

from __future__ import annotations

import numpy as np


def effective_grad(param, grad, weight_decay: float, maximize: bool, out):
    """``g = (-grad if maximize else grad) + weight_decay · param`` (coupled L2 decay).

    Returns ``grad`` itself when there is nothing to add (no copy), otherwise ``out``.
    """
    if weight_decay != 0:
        np.multiply(param, weight_decay, out=out)
        if maximize:
            np.subtract(out, grad, out=out)
        else:
            np.add(out, grad, out=out)
        return out
    if maximize:
        np.negative(grad, out=out)
        return out
    return grad
