"""Tensor recipes from Q&A answers and cheat sheets: torch.where (3-arg and 1-arg), cdist,
scatter_add_/index_add_/scatter_reduce for group sums, bucketize/searchsorted binning, histc,
topk/sort/argsort/kthvalue/median/mode, unique(return_counts/return_inverse/dim), one_hot,
normalize, cosine similarity, einsum, stack/cat, view/contiguous/.T, quantile, cummax and more."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn.functional as F

rs = np.random.RandomState(0)
a = torch.from_numpy(rs.normal(size=(4, 5)).astype(np.float32))
print(a)
print(torch.where(a > 0, a, torch.zeros_like(a)))
print(torch.where(a > 0, a, 0.0))
print(torch.where(a > 1))
print(torch.where(a > 0, 1, -1), torch.where(a > 0, 1, -1).dtype == torch.int64)
print(a.T.contiguous().view(-1, 2)[:3], a.T.is_contiguous(), a.t().contiguous().is_contiguous())

pts = torch.from_numpy(rs.normal(size=(6, 3)).astype(np.float32))
centers = torch.from_numpy(rs.normal(size=(2, 3)).astype(np.float32))
d = torch.cdist(pts, centers)
print(d, torch.cdist(pts, centers, p=1), d.argmin(dim=1))
print(torch.cdist(pts.unsqueeze(0), pts.unsqueeze(0)).shape)

# group sums
values = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
group = torch.tensor([0, 2, 0, 1, 2, 2])
sums = torch.zeros(3).scatter_add_(0, group, values)
counts = torch.zeros(3).index_add_(0, group, torch.ones(6))
print(sums, counts, sums / counts)
print(torch.zeros(3).scatter_reduce(0, group, values, reduce="amax", include_self=False))
print(torch.zeros(3).scatter_reduce(0, group, values, reduce="mean"))
print(torch.bincount(group), torch.bincount(group, weights=values, minlength=5))
feat = torch.arange(12, dtype=torch.float32).view(6, 2)
pooled = torch.zeros(3, 2).index_add_(0, group, feat)
print(pooled, torch.zeros(3, 2).scatter_add_(0, group.unsqueeze(1).expand(-1, 2), feat))
x = torch.zeros(2, 4)
x.scatter_(1, torch.tensor([[0, 3], [1, 1]]), torch.tensor([[5.0, 6.0], [7.0, 8.0]]))
print(x)

# binning
boundaries = torch.tensor([1.0, 3.0, 5.0, 7.0])
v = torch.tensor([0.5, 1.0, 3.0, 4.0, 7.0, 9.0])
print(torch.bucketize(v, boundaries), torch.bucketize(v, boundaries, right=True))
print(torch.searchsorted(boundaries, v), torch.searchsorted(boundaries, v, right=True))
print(torch.histc(torch.tensor([1.0, 2.0, 1.0, 2.5, 4.0, 0.0]), bins=4, min=0, max=4))
h = torch.histc(a, bins=5)
print(h, h.sum())

# ordering
t = torch.tensor([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
print(torch.topk(t, 3), torch.topk(t, 2, largest=False).indices)
vals, idx = torch.sort(t, descending=True)
print(vals, idx)
print(torch.sort(t, stable=True).indices, torch.argsort(t, descending=True, stable=True))
print(torch.kthvalue(t, 3), t.median(), torch.median(torch.tensor([1.0, 2.0, 3.0, 4.0])))
print(torch.tensor([[1.0, 5.0, 2.0, 8.0], [3.0, 3.0, 1.0, 0.0]]).median(dim=1))
print(torch.mode(torch.tensor([2, 1, 2, 3, 1, 1, 2])), torch.mode(torch.tensor([4, 4, 3, 3])))
print(torch.quantile(t, torch.tensor([0.25, 0.5, 0.9])), torch.quantile(t, 0.5, interpolation="lower"))
print(torch.nanmedian(torch.tensor([1.0, float("nan"), 3.0, 2.0])), torch.nanmean(torch.tensor([1.0, float("nan"), 3.0])))
print(torch.cummax(t, dim=0), torch.cumsum(t, 0), torch.cumprod(torch.tensor([1, 2, 3, 4]), 0))
print(torch.argmax(torch.tensor([[1, 3, 3], [2, 2, 0]]), dim=1), torch.argmax(torch.tensor([1.0, 7.0, 7.0])))
print(torch.max(a, 1), torch.max(a), torch.min(a, dim=0, keepdim=True).values.shape)
print(torch.amax(a, dim=(0, 1)), torch.aminmax(t), torch.logsumexp(a, dim=1))

# unique
labels = torch.tensor([3, 1, 2, 3, 3, 1, 7])
print(torch.unique(labels), torch.unique(labels, return_counts=True))
u, inv, cnt = torch.unique(labels, sorted=True, return_inverse=True, return_counts=True)
print(u, inv, cnt, u[inv])
print(torch.unique(torch.tensor([[1, 2], [3, 4], [1, 2]]), dim=0, return_counts=True))
print(torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 3, 1, 1]), return_counts=True))
print(labels.unique().numel(), torch.isin(labels, torch.tensor([1, 7])))

# one-hot, normalise, similarity
oh = F.one_hot(torch.tensor([0, 2, 1, 2]))
print(oh, oh.dtype == torch.int64, F.one_hot(torch.tensor([1, 0]), num_classes=4).float())
e = torch.from_numpy(rs.normal(size=(4, 3)).astype(np.float32))
en = F.normalize(e, p=2, dim=1)
print(en, en.norm(dim=1), F.normalize(e, dim=0).norm(dim=0))
sim = en @ en.T
print(sim, F.cosine_similarity(e[0:1], e, dim=1), F.cosine_similarity(e[0], e[1], dim=0))
print(F.cosine_similarity(e.unsqueeze(1), e.unsqueeze(0), dim=-1))

# einsum, stack, cat, reshape
A = torch.arange(6, dtype=torch.float32).reshape(2, 3)
B = torch.arange(12, dtype=torch.float32).reshape(3, 4)
print(torch.einsum("ij,jk->ik", A, B), torch.einsum("ij->ji", A), torch.einsum("ii", torch.eye(3) * 2))
print(torch.einsum("bi,bi->b", e, e), torch.einsum("i,j->ij", t[:2], t[:3]), torch.einsum("bij->b", A.unsqueeze(0)))
print(torch.einsum("...ij,...jk", A.unsqueeze(0), B).shape)
lst = [torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]), torch.tensor([5.0, 6.0])]
print(torch.stack(lst), torch.stack(lst, dim=1), torch.cat(lst), torch.cat([A, A], dim=1).shape)
print(torch.vstack(lst), torch.hstack(lst), torch.column_stack(lst))
print(A.view(-1), A.reshape(3, -1), A.flatten(), A.unsqueeze(0).squeeze().shape, A.mT)
print(A.permute(1, 0).reshape(-1), torch.flatten(A.T), A.T.flatten())
print(torch.tril_indices(3, 3), torch.triu(torch.ones(3, 3), diagonal=1))
xs, ys = torch.meshgrid(torch.arange(2), torch.arange(3), indexing="ij")
print(xs, ys, torch.meshgrid(torch.arange(2), torch.arange(3), indexing="xy")[0])
print(torch.diff(t), torch.clamp(t, min=2, max=5), t.clamp(max=torch.full_like(t, 4.0)))
print(torch.lerp(t[:3], t[3:6], 0.25), torch.nan_to_num(torch.tensor([float("nan"), float("inf"), -1.0])))
print(torch.count_nonzero(a > 0, dim=1), torch.masked_select(t, t > 3), torch.take_along_dim(a, a.argmax(dim=1, keepdim=True), dim=1))
print(t.std(), t.std(unbiased=False), t.var(correction=0), torch.var_mean(a, dim=1), torch.std_mean(t))
print(torch.round(torch.tensor([0.5, 1.5, 2.5, -0.5, 2.345]), decimals=0), torch.round(torch.tensor([2.345, 1.005]), decimals=2))
print(torch.div(torch.tensor([-7, 7]), 2, rounding_mode="floor"), torch.tensor([-7, 7]) // 2, torch.tensor([-7, 7]) % 3, torch.fmod(torch.tensor([-7.0, 7.0]), 3))
print(torch.tensor([5, 3]) / 2, torch.true_divide(torch.tensor([5, 3]), 2), (torch.tensor([5, 3]) / 2).dtype == torch.float32)
print(torch.tensor([1, 2, 3]).float().mean(), torch.tensor([True, False, True]).sum(), torch.tensor([1, 2]).sum().dtype == torch.int64)
print(torch.sign(torch.tensor([-2.0, 0.0, 3.0])), torch.tensor([1, 2, 3]) * 1.5, torch.tensor([1, 2, 3], dtype=torch.int32) + 1)
print(torch.arange(0, 1, 0.25), torch.linspace(0, 1, 5), torch.logspace(0, 2, 3), torch.arange(5).flip(0))
print(torch.roll(torch.arange(6), 2), torch.roll(A, shifts=1, dims=1), torch.repeat_interleave(torch.tensor([1, 2]), torch.tensor([2, 3])))
print(A.repeat(2, 1), A.expand(2, 2, 3).shape, A.new_zeros(2), torch.full((2, 2), 7).dtype == torch.int64)
print(torch.chunk(torch.arange(7), 3), torch.split(torch.arange(7), [2, 5]), torch.tensor_split(torch.arange(7), 3))
print(torch.outer(t[:3], t[:2]), torch.dot(t[:3], t[:3]), torch.cross(torch.tensor([1.0, 0, 0]), torch.tensor([0.0, 1, 0]), dim=0))
print(torch.trace(torch.eye(3) * 3), torch.diag(torch.tensor([1.0, 2.0])), torch.diag(A), torch.diagonal(B), torch.kron(torch.eye(2), torch.ones(1, 2)))
print(torch.allclose(a, a + 1e-7), torch.equal(a, a.clone()), torch.isclose(t, t + 1e-3, atol=1e-2).all())
print(torch.any(a > 2), torch.all(a > -5), (a > 0).any(dim=1), torch.sum(a > 0).item())
