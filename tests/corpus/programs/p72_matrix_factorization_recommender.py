"""A matrix-factorisation recommender as the collaborative-filtering tutorials write it: user
and item nn.Embedding tables plus bias embeddings, the prediction (u * v).sum(1) + biases,
ratings in a TensorDataset split by random_split with a seeded generator, Adam with
weight_decay, RMSE per epoch; then recommendations: the full score matrix u @ v.T, the seen
items set to -inf through index_put_, topk, precision@k / recall@k from isin, NDCG with
torch.log2, and a BPR pairwise loss with F.logsigmoid."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(3)
n_users, n_items, k_true = 30, 40, 3
U_true, V_true = rng.normal(size=(n_users, k_true)), rng.normal(size=(n_items, k_true))
mask = rng.random((n_users, n_items)) < 0.35
users_np, items_np = np.nonzero(mask)
ratings_np = np.clip(np.round(3 + (U_true @ V_true.T)[mask] + rng.normal(0, 0.3, mask.sum())), 1, 5)
users = torch.from_numpy(users_np)
items = torch.as_tensor(items_np)
ratings = torch.tensor(ratings_np, dtype=torch.float32)
print("ratings", len(ratings), "mean", ratings.mean().item(), "counts", torch.bincount(ratings.long())[1:].tolist())

dataset = TensorDataset(users, items, ratings)
order = torch.from_numpy(rng.permutation(len(dataset)))
n_train = int(0.8 * len(dataset))
train_set = torch.utils.data.Subset(dataset, order[:n_train].tolist())
test_users, test_items, test_ratings = dataset[order[n_train:]]
print(len(train_set), test_users.shape, test_ratings.dtype)


class MatrixFactorization(nn.Module):
    def __init__(self, n_users, n_items, n_factors=8):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        self.global_bias = nn.Parameter(torch.tensor(0.0))

    def forward(self, user, item):
        dot = (self.user_factors(user) * self.item_factors(item)).sum(dim=1)
        return dot + self.user_bias(user).squeeze(-1) + self.item_bias(item).squeeze() + self.global_bias


model = MatrixFactorization(n_users, n_items)
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.1, tuple(p.shape)).astype(np.float32)))
    model.global_bias.fill_(ratings.mean())
optimizer = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=1e-4)
loader = DataLoader(train_set, batch_size=64)
for epoch in range(12):
    model.train()
    sse = 0.0
    for u, i, r in loader:
        pred = model(u, i)
        loss = F.mse_loss(pred, r)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sse += F.mse_loss(pred.detach(), r, reduction="sum").item()
    if epoch % 3 == 2:
        model.eval()
        with torch.no_grad():
            test_rmse = torch.sqrt(F.mse_loss(model(test_users, test_items), test_ratings))
        print(f"epoch {epoch + 1}: train rmse {(sse / len(train_set)) ** 0.5:.4f} test rmse {test_rmse:.4f}")

with torch.no_grad():
    scores = model.user_factors.weight @ model.item_factors.weight.T
    scores += model.user_bias.weight + model.item_bias.weight.t() + model.global_bias
print(scores.shape, f"{scores.max().item():.3f}", f"{scores.min().item():.3f}")
train_u, train_i, _ = dataset[order[:n_train]]
masked = scores.clone()
masked.index_put_((train_u, train_i), torch.tensor(float("-inf")))
print("masked per user", torch.isinf(masked).sum(dim=1)[:6].tolist())
K = 5
top = torch.topk(masked, K, dim=1)
print(top.indices[:3])
relevant = torch.zeros(n_users, n_items, dtype=torch.bool)
relevant[test_users[test_ratings >= 4], test_items[test_ratings >= 4]] = True
hits = relevant.gather(1, top.indices)
n_rel = relevant.sum(1)
has_rel = n_rel > 0
precision = hits.float().mean(dim=1)[has_rel].mean()
recall = (hits.sum(1)[has_rel] / n_rel[has_rel]).mean()
discounts = 1.0 / torch.log2(torch.arange(2, K + 2).float())
dcg = (hits.float() * discounts).sum(1)
ideal = torch.stack([discounts[:min(int(n), K)].sum() for n in n_rel])
ndcg = torch.where(ideal > 0, dcg / ideal, torch.zeros_like(dcg))[has_rel].mean()
print(f"users with relevant items {has_rel.sum().item()} precision@{K} {precision:.4f} recall@{K} {recall:.4f} ndcg {ndcg:.4f}")
print("isin check", torch.isin(top.indices[0], test_items[test_users == 0]).tolist())

# Bayesian personalised ranking: a positive item should outscore a sampled negative one
pos = torch.from_numpy(items_np[:200])
neg = torch.from_numpy(rng.integers(0, n_items, 200))
u = torch.from_numpy(users_np[:200])
opt = torch.optim.SGD([model.user_factors.weight, model.item_factors.weight], lr=0.5)
for step in range(30):
    x_uij = model(u, pos) - model(u, neg)
    bpr = -F.logsigmoid(x_uij).mean()
    opt.zero_grad()
    bpr.backward()
    opt.step()
    if step % 10 == 0:
        print(f"bpr step {step} loss {bpr.item():.5f} auc {(x_uij > 0).float().mean().item():.3f}")
print(model.item_factors.weight.grad.abs().sum(dim=1).nonzero().numel(), "items got gradients")
