"""The less common tensor methods and their torch.* forms (ffnn.tensor_more,
ffnn.functions_more): values and gradients against torch."""

import numpy as np
import pytest
import torch

import ffnn

DIFFERENTIABLE = {
    "flip": lambda lib, x: lib.flip(x, [0, 1]) * lib.arange(4.0),
    "flip_method": lambda lib, x: x.flip(-1) * lib.arange(4.0),
    "prod_all": lambda lib, x: lib.prod(x),
    "prod_dim": lambda lib, x: x.prod(1) * lib.arange(3.0),
    "prod_keepdim": lambda lib, x: lib.prod(x, 0, keepdim=True) * lib.arange(4.0),
    "trace": lambda lib, x: x.trace(),
    "index_select": lambda lib, x: lib.index_select(x, 1, lib.tensor([3, 0, 3])).sin(),
    "narrow": lambda lib, x: x.narrow(1, 1, 2).exp(),
    "select": lambda lib, x: lib.select(x, 0, 1) * lib.arange(4.0),
    "unbind": lambda lib, x: x.unbind(1)[2] * lib.arange(3.0),
    "masked_select": lambda lib, x: lib.masked_select(x, x > 0).pow(2),
    "roll": lambda lib, x: x.roll(1, 1) * lib.arange(4.0),
    "roll_flat": lambda lib, x: lib.roll(x, -2) * lib.arange(12.0).reshape(3, 4),
    "roll_dims": lambda lib, x: x.roll((1, -1), (0, 1)) * lib.arange(12.0).reshape(3, 4),
    "repeat_interleave": lambda lib, x: x.repeat_interleave(2, dim=0).cos(),
    "repeat_interleave_flat": lambda lib, x: lib.repeat_interleave(x, 2).cos(),
    "diag_of_matrix": lambda lib, x: lib.diag(x) * lib.arange(3.0),
    "diag_offset": lambda lib, x: x.diag(1) * lib.arange(3.0),
    "diag_of_vector": lambda lib, x: lib.diag(x[0], -1).sin(),
    "tril": lambda lib, x: x.tril().exp(),
    "triu": lambda lib, x: lib.triu(x, 1).exp(),
    "clamp_min": lambda lib, x: lib.clamp_min(x, 0.1) ** 2,
    "clamp_max": lambda lib, x: x.clamp_max(0.1) ** 2,
    "clip": lambda lib, x: lib.clip(x, -0.5, 0.5) ** 2,
    "reciprocal": lambda lib, x: (x.abs() + 1).reciprocal(),
    "rsqrt": lambda lib, x: lib.rsqrt(x.abs() + 1),
    "log2": lambda lib, x: (x.abs() + 1).log2(),
    "log10": lambda lib, x: lib.log10(x.abs() + 1),
    "sinh": lambda lib, x: x.sinh(),
    "cosh": lambda lib, x: lib.cosh(x),
    "diff": lambda lib, x: x.diff() ** 2,
    "diff_twice_dim0": lambda lib, x: lib.diff(x, n=2, dim=0) ** 2,
    "addmm": lambda lib, x: lib.addmm(x[:, :3], x, x.t()[:, :3], beta=0.5, alpha=2.0),
    "movedim": lambda lib, x: x.reshape(3, 2, 2).movedim(0, 2) * lib.arange(3.0),
    "broadcast_to": lambda lib, x: lib.broadcast_to(x[:1], (2, 3, 4)).sin(),
    "nan_to_num": lambda lib, x: (x.log() * 1).nan_to_num(0.5) * 2,
    "var_mean": lambda lib, x: sum(lib.var_mean(x, 1, keepdim=True)),
    "std_mean": lambda lib, x: sum(lib.std_mean(x, dim=0, unbiased=False)),
    "hstack": lambda lib, x: lib.hstack([x, x.exp()]),
    "vstack": lambda lib, x: lib.vstack([x[0], x]).sin(),
    "meshgrid_ij": lambda lib, x: sum(lib.meshgrid(x[0], x[1, :2], indexing="ij")).exp(),
    "meshgrid_xy": lambda lib, x: sum(lib.meshgrid(x[0], x[1, :2], indexing="xy")).exp(),
    "var_positional_unbiased": lambda lib, x: x.var(0, False),
    "var_bool_only": lambda lib, x: x.var(False),
    "std_positional": lambda lib, x: lib.std(x, 1, False, True),
    "trunc": lambda lib, x: (x * 3).trunc() * x,
    "frac": lambda lib, x: lib.frac(x * 3),
    "fmod": lambda lib, x: lib.fmod(x * 5, 1.5),
    "lerp": lambda lib, x: x.lerp(x.exp(), 0.3),
    "addcmul": lambda lib, x: lib.addcmul(x, x.sin(), x.cos(), value=0.5),
    "addcdiv": lambda lib, x: x.addcdiv(x.sin(), x.exp(), value=-2.0),
    "outer_ger": lambda lib, x: x[0].outer(x[1]) + lib.ger(x[2], x[1]),
    "inner": lambda lib, x: lib.inner(x, x[:2]),
    "mv": lambda lib, x: x.mv(x[0]),
    "logit": lambda lib, x: lib.sigmoid(x).logit(),
    "logit_eps": lambda lib, x: (x * 0.5 + 0.5).logit(eps=0.1),
    "type_as_reshape_as": lambda lib, x: x.type_as(x).reshape_as(x.t()).sgn() * x.t(),
    "inplace_chain": lambda lib, x: (x * 1).floor_() + (x * 1).ceil_() + (x * 1).round_()
    + (x * 1).sin_() + (x * 1).cos_() + (x * 1).square_() + (x * 1).lerp_(x.exp(), 0.25)
    + (x * 1).addcmul_(x, x, value=0.5) + (x * 1).addcdiv_(x, x.exp(), value=2.0),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # nan_to_num's log of negatives
@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_values_and_gradients_match_torch(name, rng):
    a = rng.standard_normal((3, 4))
    a[1, 2] = 0.0
    results = {}
    for lib in (torch, ffnn):
        x = lib.tensor(a, requires_grad=True)
        y = DIFFERENTIABLE[name](lib, x)
        y.sum().backward()
        results[lib.__name__] = (tuple(y.shape), y.detach().numpy(), x.grad.numpy())
    theirs, ours = results["torch"], results["ffnn"]
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-10, atol=1e-12)


NOT_DIFFERENTIABLE = {
    "nonzero": lambda lib, x: lib.nonzero(x > 0.3),
    "nonzero_tuple": lambda lib, x: (x > 0.3).nonzero(as_tuple=True)[1],
    "argwhere": lambda lib, x: lib.argwhere(x < 0),
    "count_nonzero": lambda lib, x: lib.count_nonzero(x > 0, dim=1),
    "unique": lambda lib, x: lib.unique((x * 2).round()),
    "unique_inverse": lambda lib, x: (x * 2).round().unique(return_inverse=True)[1],
    "unique_counts": lambda lib, x: lib.unique((x * 2).round(), return_counts=True)[1],
    "prod_int": lambda lib, x: (x * 3).round().long().prod(1),
    "logical_not": lambda lib, x: lib.logical_not(x > 0),
    "logical_and": lambda lib, x: lib.logical_and(x > 0, x < 1),
    "logical_or": lambda lib, x: (x > 1).logical_or(x < -1),
    "logical_xor": lambda lib, x: lib.logical_xor(x > 0, x > 1),
    "isclose": lambda lib, x: lib.isclose(x, x.round(), atol=0.3),
    "any_all": lambda lib, x: lib.stack([lib.any(x > 1, dim=0), lib.all(x > -1, dim=0)]),
    "comparisons": lambda lib, x: lib.stack([lib.ge(x, 0), lib.gt(x, 0), lib.le(x, 0),
                                             lib.lt(x, 0), lib.ne(x, 0)]),
    "masked_fill": lambda lib, x: lib.masked_fill(x, x < 0, -1.0),
    "conversions": lambda lib, x: lib.stack([x.half().float(), x.short().float(),
                                             (x.abs() * 10).byte().float(), x.char().float()]),
}


def test_predicates_and_sizes_match_torch(rng):
    a = rng.standard_normal((3, 4))
    for lib in (torch, ffnn):
        x = lib.tensor(a)
        assert x.equal(lib.tensor(a)) and not x.equal(x[:2]) and lib.equal(x, x)
        assert x.allclose(x + 1e-9) and not lib.allclose(x, x + 1.0)
        assert (x.nelement(), x.ndimension(), x.is_contiguous(), x.t().is_contiguous(),
                x.is_complex()) == (12, 2, True, False, False)


@pytest.mark.parametrize("name", sorted(NOT_DIFFERENTIABLE))
def test_index_and_logic_results_match_torch(name, rng):
    a = rng.standard_normal((3, 4))
    a[1, 2] = 0.0
    ours = NOT_DIFFERENTIABLE[name](ffnn, ffnn.tensor(a))
    theirs = NOT_DIFFERENTIABLE[name](torch, torch.tensor(a))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->j", [(3, 4)]),
    ("ij,ij->i", [(3, 4), (3, 4)]),
    ("ij,k->ik", [(3, 4), (2,)]),
    ("ijk->kji", [(2, 3, 4)]),
    # large enough for the batched products (ffnn.ops.einsum_op.contract)
    ("bhqd,bhkd->bhqk", [(4, 4, 32, 16), (4, 4, 32, 16)]),
    ("bij,bjk->bik", [(8, 40, 64), (8, 64, 30)]),
    ("bqd,dk,bk->bq", [(16, 32, 48), (48, 40), (16, 40)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_values_and_gradients(equation, shapes, rng):
    arrays = [rng.standard_normal(s) for s in shapes]
    results = {}
    for lib in (torch, ffnn):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = lib.einsum(equation, *xs)
        (y * y).sum().backward()
        results[lib.__name__] = [y.detach().numpy()] + [x.grad.numpy() for x in xs]
    for ours, theirs in zip(results["ffnn"], results["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_einsum_trace_value_and_bincount():
    a = np.arange(9.0).reshape(3, 3)
    assert ffnn.einsum("ii", ffnn.tensor(a)).item() == torch.einsum("ii", torch.tensor(a)).item()
    values, weights = [0, 2, 2, 5, 1], [0.5, 1.0, 2.0, 0.25, 3.0]
    np.testing.assert_array_equal(ffnn.bincount(ffnn.tensor(values)).numpy(),
                                  torch.bincount(torch.tensor(values)).numpy())
    np.testing.assert_allclose(
        ffnn.bincount(ffnn.tensor(values), ffnn.tensor(weights), minlength=8).numpy(),
        torch.bincount(torch.tensor(values), torch.tensor(weights), minlength=8).numpy())
    with pytest.raises(RuntimeError, match="1-d non-negative integral"):
        ffnn.bincount(ffnn.tensor([-1, 2]))
