"""``torch.func``: functions of a model's parameters (``functional_call``), derivatives as
functions (``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``,
``hessian``) and ``vmap`` (a loop over the batch here)."""

from ffnn.func.functional_call import functional_call
from ffnn.func.transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from ffnn.func.vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd",
           "hessian", "vmap"]
