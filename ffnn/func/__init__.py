"""``torch.func``: functions of a model's parameters (``functional_call``), derivatives as
functions (``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``,
``hessian``), ``vmap`` (a loop over the batch here) and ``stack_module_state`` (an ensemble's
parameters as one batch)."""

from ffnn.func.functional_call import functional_call
from ffnn.func.stack_module_state import stack_module_state
from ffnn.func.transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from ffnn.func.vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd",
           "hessian", "vmap", "stack_module_state"]
