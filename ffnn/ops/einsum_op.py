"""``einsum``: y = Σ over the letters missing from the output of Π operands, by subscripts.

dL/dxᵢ is the einsum of dL/dy with the other operands into xᵢ's subscripts; letters of xᵢ
found nowhere else were summed alone, so the gradient is broadcast back along them. An
operand with a repeated letter ("ii", a diagonal) or written with "..." has no gradient here.

Two or more operands are contracted two at a time, left to right, each pair as one batched
matrix product (``contract``), as torch does: NumPy's ``einsum`` loops in C without BLAS
("bij,bjk->bik" on [32, 64, 128] x [32, 128, 64] float32: 6 ms, against 0.5 ms as a
product).
"""

from __future__ import annotations

import math

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
        return np.asarray(contract(equation, *arrays))

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
            partial = contract(route, grad, *operands)
            shape = [array.shape[k] if c in known else 1 for k, c in enumerate(mine)]
            grads.append(np.broadcast_to(partial.reshape(shape), array.shape).astype(
                array.dtype, copy=False))
        return tuple(grads)

    def backward_graph(self, grad, *operands):
        """``backward``'s einsums, recorded as einsums of the tensors."""
        grads = []
        for i, (mine, operand) in enumerate(zip(self.in_letters, operands)):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            if "." in mine or len(set(mine)) != len(mine):
                raise NotImplementedError(f"einsum: the gradient for operand subscripts "
                                          f"{mine!r} is not available in ffnn")
            others = [s for j, s in enumerate(self.in_letters) if j != i]
            known = set(self.out_letters).union(*others)
            route = ",".join([self.out_letters, *others]) + "->" + \
                "".join(c for c in mine if c in known)
            partial = Einsum.apply(grad, *(t for j, t in enumerate(operands) if j != i),
                                   equation=route)
            shape = [operand.shape[k] if c in known else 1 for k, c in enumerate(mine)]
            grads.append(partial.reshape(shape).expand(*operand.shape))
        return tuple(grads)


SMALL = 1 << 14
"""Fewer elements in all: NumPy's einsum loop is quicker than our reshapes around a product."""


def contract(equation: str, *arrays: np.ndarray) -> np.ndarray:
    """``np.einsum(equation, *arrays)``, two operands at a time as batched matrix products;
    NumPy's own einsum for one operand, "..." or a letter repeated within an operand."""
    subscripts, output = parse(equation, len(arrays))
    if len(arrays) < 2 or sum(np.size(a) for a in arrays) < SMALL or \
            not _plain(subscripts, output, arrays):
        return np.einsum(equation, *arrays)
    letters, result = subscripts[0], arrays[0]
    for k in range(1, len(arrays)):
        later = set(output).union(*subscripts[k + 1:])
        kept = "".join(dict.fromkeys(c for c in letters + subscripts[k] if c in later))
        result = _pair(result, letters, arrays[k], subscripts[k], kept)
        letters = kept
    return result.transpose([letters.index(c) for c in output])


def _plain(subscripts: list[str], output: str, arrays) -> bool:
    """Letters only, none twice in one operand or the output, each of one size wherever it
    appears, every output letter in some operand."""
    sizes: dict[str, int] = {}
    for letters, array in zip(subscripts, arrays):
        if not letters.isalpha() or len(set(letters)) != len(letters) or \
                getattr(array, "ndim", -1) != len(letters):
            return False
        for c, n in zip(letters, array.shape):
            if sizes.setdefault(c, n) != n:
                return False
    return len(set(output)) == len(output) and set(output) <= sizes.keys()


def _pair(a: np.ndarray, la: str, b: np.ndarray, lb: str, out: str) -> np.ndarray:
    """Σ of a·b over the letters of ``la`` and ``lb`` not in ``out``, as an array with the
    letters ``out`` (each in ``la`` or ``lb``): one matmul of [batch, left, inner] by
    [batch, inner, right] after summing away the letters found in one operand only."""
    a, la = _sum_alone(a, la, lb + out)
    b, lb = _sum_alone(b, lb, la + out)
    batch = [c for c in la if c in lb and c in out]
    inner = [c for c in la if c in lb and c not in out]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]
    size = dict(zip(la + lb, a.shape + b.shape))

    def grouped(array, letters, groups):
        order = [letters.index(c) for group in groups for c in group]
        return array.transpose(order).reshape([math.prod(size[c] for c in g) for g in groups])

    a3, b3 = grouped(a, la, (batch, left, inner)), grouped(b, lb, (batch, inner, right))
    if a3.shape[1] == 1 and b3.shape[2] == 1:  # dot products: NumPy's loop, not 1x1 products
        product = np.einsum("bk,bk->b", a3[:, 0, :], b3[:, :, 0])
    else:
        product = np.matmul(a3, b3)
    got = batch + left + right
    return product.reshape([size[c] for c in got]).transpose([got.index(c) for c in out])


def _sum_alone(array: np.ndarray, letters: str, elsewhere: str) -> tuple[np.ndarray, str]:
    """``array`` summed over its letters found nowhere in ``elsewhere``, and its letters left."""
    alone = tuple(i for i, c in enumerate(letters) if c not in elsewhere)
    if not alone:
        return array, letters
    return array.sum(axis=alone), "".join(c for c in letters if c in elsewhere)
