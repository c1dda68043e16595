"""Metric learning as the embedding tutorials write it: an MLP embedding net trained with
nn.TripletMarginLoss on anchor/positive/negative triplets mined with cdist (hardest negative via
masked_fill and argmin), an InfoNCE / NT-Xent loss F.cross_entropy(sim / tau, torch.arange(n)),
CosineEmbeddingLoss, MarginRankingLoss and friends, then a k-NN classifier with cdist, topk
(largest=False) and torch.mode voting, and recall@1."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_iris

iris = load_iris()
order = np.random.RandomState(0).permutation(150)
X = torch.tensor(iris.data[order], dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(iris.target[order])
Xtr, ytr, Xte, yte = X[:100], y[:100], X[100:], y[100:]
rs = np.random.RandomState(21)


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return F.normalize(self.net(x), p=2, dim=1)


model = EmbeddingNet()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rs.normal(0, 0.4, tuple(p.shape)).astype(np.float32)))
triplet = nn.TripletMarginLoss(margin=0.3, p=2)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(15):
    emb = model(Xtr)
    with torch.no_grad():
        d = torch.cdist(emb, emb)
        same = ytr.unsqueeze(0) == ytr.unsqueeze(1)
        pos_d = d.masked_fill(~same | torch.eye(len(ytr), dtype=torch.bool), -1.0)
        neg_d = d.masked_fill(same, float("inf"))
        pos_idx = pos_d.argmax(dim=1)
        neg_idx = neg_d.argmin(dim=1)
    loss = triplet(emb, emb[pos_idx], emb[neg_idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 3 == 0:
        frac_active = (F.pairwise_distance(emb, emb[pos_idx]) - F.pairwise_distance(emb, emb[neg_idx]) + 0.3 > 0).float().mean()
        print(f"epoch {epoch} triplet loss {loss.item():.5f} active {frac_active.item():.3f}")


def nt_xent(z1, z2, tau=0.5):
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    sim = z @ z.T / tau
    n = z1.shape[0]
    sim.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


noise1 = torch.from_numpy(rs.normal(0, 0.1, Xtr.shape).astype(np.float32))
noise2 = torch.from_numpy(rs.normal(0, 0.1, Xtr.shape).astype(np.float32))
with torch.no_grad():
    z1, z2 = model.net(Xtr + noise1), model.net(Xtr + noise2)
    print("nt-xent", nt_xent(z1, z2), nt_xent(z1, z2, tau=0.1))
    logits = F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).T / 0.07
    labels = torch.arange(logits.shape[0])
    print("clip loss", (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2)

a = torch.from_numpy(rs.normal(size=(5, 3)).astype(np.float32))
b = torch.from_numpy(rs.normal(size=(5, 3)).astype(np.float32))
t = torch.tensor([1, -1, 1, -1, 1])
print("cos emb", nn.CosineEmbeddingLoss(margin=0.2)(a, b, t), F.cosine_embedding_loss(a, b, t, reduction="none"))
s1, s2 = a[:, 0], b[:, 0]
print("ranking", nn.MarginRankingLoss(margin=0.1)(s1, s2, t.float()), F.margin_ranking_loss(s1, s2, t.float(), reduction="sum"))
print("hinge emb", nn.HingeEmbeddingLoss(margin=1.0)(a.norm(dim=1), t), nn.SoftMarginLoss()(s1, t.float()))
print("multi margin", nn.MultiMarginLoss()(a, torch.tensor([0, 1, 2, 0, 1])), nn.MultiMarginLoss(p=2, margin=0.5)(a, torch.tensor([0, 1, 2, 0, 1])))
print("multilabel margin", nn.MultiLabelMarginLoss()(a, torch.tensor([[0, 2, -1], [1, -1, 0], [2, 1, 0], [0, -1, 2], [1, 2, -1]])))
print("triplet cos", nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y: 1 - F.cosine_similarity(x, y), margin=0.5)(a, b, b.flip(0)))
print("triplet swap", nn.TripletMarginLoss(margin=1.0, p=1, swap=True)(a, b, b.flip(0)))
rate = torch.exp(s1)
print("poisson", nn.PoissonNLLLoss()(s1, torch.tensor([0.0, 1, 2, 3, 1])), nn.PoissonNLLLoss(log_input=False, full=True)(rate, torch.tensor([0.0, 1, 2, 3, 1])))
print("gaussian nll", nn.GaussianNLLLoss()(s1, s2, rate), nn.GaussianNLLLoss(full=True, eps=1e-3)(a, b, torch.ones(5, 1)))
print("pdist", F.pdist(a), F.pairwise_distance(a, b, p=1, keepdim=True).shape, torch.cdist(a, b, p=float("inf"))[0])

# k-NN on embeddings
model.eval()
with torch.no_grad():
    etr, ete = model(Xtr), model(Xte)
    dist = torch.cdist(ete, etr)
    knn_d, knn_i = dist.topk(5, largest=False)
    votes = ytr[knn_i]
    pred = torch.mode(votes, dim=1).values
    print("knn acc", (pred == yte).float().mean().item(), knn_d[:2], votes[:3])
    sim = ete @ etr.T
    top1 = sim.argmax(dim=1)
    print("recall@1", (ytr[top1] == yte).float().mean().item())
    onehot_votes = F.one_hot(votes, 3).sum(dim=1)
    print(onehot_votes[:4], (onehot_votes.argmax(1) == pred).all().item())
    centroids = torch.stack([etr[ytr == c].mean(0) for c in range(3)])
    print("centroid acc", (torch.cdist(ete, centroids).argmin(1) == yte).float().mean().item(), centroids)
