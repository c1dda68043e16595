"""``einsum`` contracted two operands at a time as batched matrix products
(``einsum_op.contract``): NumPy's einsum's values for every kind of letter (batch, summed,
kept, summed alone), any number of operands, empty axes. Torch's values and gradients at
sizes where the products run: ``tests/torch_surface/test_more_functions.py``."""

from __future__ import annotations

import numpy as np
import pytest

from ffnn.ops import einsum_op
from ffnn.ops.einsum_op import contract

EQUATIONS = ["bij,bjk->bik", "ij,jk->ik", "bhqd,bhkd->bhqk", "i,j->ij", "bi,ij->bj",
             "bi,bi->b", "ij,ij->", "ijk,ikl,ilm->ijm", "ab,bc,cd->ad", "ij,jk", "bn,bn->bn",
             "abc,cd->abd", "ij,kl->ijkl", "ijk,jil->kl", "ab,ab,ab->a", "ab,b->a",
             "abc,b->", "ba,cb->ac", "xyz,zyx->yx"]


@pytest.mark.parametrize("equation", EQUATIONS)
def test_contract_is_numpys_einsum(equation, monkeypatch):
    monkeypatch.setattr(einsum_op, "SMALL", 0)  # small arrays too go through the products
    products = []
    monkeypatch.setattr(einsum_op, "_pair", lambda *a, f=einsum_op._pair: products.append(1)
                        or f(*a))
    rng = np.random.default_rng(0)
    inputs = equation.split("->")[0].split(",")
    for trial in range(6):
        size = {c: int(rng.integers(0 if trial == 0 else 1, 7)) for c in set("".join(inputs))}
        arrays = [rng.standard_normal([size[c] for c in s]) for s in inputs]
        got, expected = contract(equation, *arrays), np.einsum(equation, *arrays)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert products


def test_it_leaves_what_it_does_not_lower_to_numpy():
    a = np.arange(9.0).reshape(3, 3)
    assert contract("ii->i", a).tolist() == [0.0, 4.0, 8.0]
    assert contract("...i,...i->...", a, a).tolist() == np.einsum("...i,...i->...", a, a).tolist()
    with pytest.raises(ValueError):
        contract("ij,jk->ik", np.ones((2, 3)), np.ones((4, 5)))
