"""``einsum``: y = Σ over the letters missing from the output of Π operands, by subscripts.

dL/dxᵢ is the einsum of dL/dy with the other operands into xᵢ's subscripts; letters of xᵢ
found nowhere else were summed alone, so the gradient is broadcast back along them. An
operand with a repeated letter ("ii", a diagonal) or written with "..." has no gradient here.
"""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op


def parse(equation: str, count: int) -> tuple[list[str], str]:
    """The operands' subscripts and the output's (implicit: the letters used once, sorted)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    subscripts = inputs.split(",")
    if len(subscripts) != count:
        raise ValueError(f"einsum(): the equation names {len(subscripts)} operands but "
                         f"{count} were given")
    if not arrow:
        letters = "".join(subscripts)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c != "."))
    return subscripts, output


class Einsum(Op):
    """torch.einsum / np.einsum over the operands (see the module docstring)."""

    def forward(self, *arrays, equation: str):
        self.operands = arrays
        self.in_letters, self.out_letters = parse(equation, len(arrays))
        return np.asarray(np.einsum(equation, *arrays))

    def backward(self, grad):
        grads = []
        for i, (mine, array) in enumerate(zip(self.in_letters, self.operands)):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            if "." in mine or len(set(mine)) != len(mine):
                raise NotImplementedError(
                    f"einsum: the gradient for operand subscripts {mine!r} (repeated letters "
                    "or '...') is not available in ffnn")
            others = [s for j, s in enumerate(self.in_letters) if j != i]
            known = set(self.out_letters).union(*others)
            kept = "".join(c for c in mine if c in known)
            operands = [a for j, a in enumerate(self.operands) if j != i]
            route = ",".join([self.out_letters, *others]) + "->" + kept
            partial = np.einsum(route, grad, *operands)
            shape = [array.shape[k] if c in known else 1 for k, c in enumerate(mine)]
            grads.append(np.broadcast_to(partial.reshape(shape), array.shape).astype(
                array.dtype, copy=False))
        return tuple(grads)
