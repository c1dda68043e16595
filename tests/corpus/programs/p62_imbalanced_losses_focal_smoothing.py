"""Imbalanced classification as the Kaggle notebooks write it: class weights from inverse
frequencies in CrossEntropyLoss(weight=..., label_smoothing=...), ignore_index, a focal loss from
F.cross_entropy(reduction='none') and torch.exp(-ce), nn.BCELoss after torch.sigmoid (with
saturated probabilities), soft-label targets, NLLLoss with weights, CE over (N, C, d) inputs,
then a small model trained with the weighted loss and per-class recall printed."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rs = np.random.RandomState(4)
logits = torch.from_numpy(rs.normal(0, 2, size=(8, 3)).astype(np.float32))
target = torch.tensor([0, 0, 0, 0, 0, 1, 1, 2])
counts = torch.bincount(target, minlength=3).float()
weights = counts.sum() / (len(counts) * counts)
print("weights", weights)
for kw in [dict(), dict(weight=weights), dict(label_smoothing=0.1),
           dict(weight=weights, label_smoothing=0.2), dict(reduction="sum", label_smoothing=0.1),
           dict(reduction="none", weight=weights, label_smoothing=0.1)]:
    print(kw.get("reduction", "mean"), "w" if "weight" in kw else "-", kw.get("label_smoothing", 0),
          nn.CrossEntropyLoss(**kw)(logits, target))
t_ign = target.clone()
t_ign[[1, 6]] = -100
print("ignore", F.cross_entropy(logits, t_ign), F.cross_entropy(logits, t_ign, weight=weights),
      F.cross_entropy(logits, t_ign, weight=weights, label_smoothing=0.3),
      F.cross_entropy(logits, t_ign, reduction="none"))
t_pad = target.clone()
t_pad[0] = 2
print("ignore 2", nn.CrossEntropyLoss(ignore_index=2, weight=weights, label_smoothing=0.1)(logits, t_pad))
soft = F.softmax(torch.from_numpy(rs.normal(size=(8, 3)).astype(np.float32)), dim=1)
print("soft", F.cross_entropy(logits, soft), F.cross_entropy(logits, soft, label_smoothing=0.1),
      F.cross_entropy(logits, soft, weight=weights), F.cross_entropy(logits, soft, reduction="none")[:3])
print("nll", F.nll_loss(F.log_softmax(logits, 1), target, weight=weights),
      nn.NLLLoss(weight=weights, reduction="sum")(F.log_softmax(logits, 1), target))
seq_logits = torch.from_numpy(rs.normal(size=(2, 3, 4)).astype(np.float32))
seq_target = torch.tensor([[0, 1, 2, -100], [2, 2, 1, 0]])
print("seq", F.cross_entropy(seq_logits, seq_target), F.cross_entropy(seq_logits, seq_target, reduction="none"),
      F.cross_entropy(seq_logits, seq_target, label_smoothing=0.1, weight=weights))


class FocalLoss(nn.Module):
    def __init__(self, alpha=None, gamma=2.0, reduction="mean"):
        super().__init__()
        self.alpha, self.gamma, self.reduction = alpha, gamma, reduction

    def forward(self, inputs, targets):
        ce_loss = F.cross_entropy(inputs, targets, reduction="none", weight=self.alpha)
        pt = torch.exp(-F.cross_entropy(inputs, targets, reduction="none"))
        focal = (1 - pt) ** self.gamma * ce_loss
        return focal.mean() if self.reduction == "mean" else focal.sum()


def binary_focal(logits, targets, alpha=0.25, gamma=2):
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * ((1 - p_t) ** gamma)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * loss).mean()


print("focal", FocalLoss()(logits, target), FocalLoss(alpha=weights, gamma=1.5)(logits, target))
bl = torch.tensor([-3.0, -0.5, 0.0, 2.0, 8.0])
bt = torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0])
print("binary focal", binary_focal(bl, bt))

# BCELoss with sigmoid, including saturated probabilities
sig = torch.sigmoid(torch.tensor([-200.0, -20.0, 0.0, 20.0, 200.0]))
yb = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0])
print("sig", sig, nn.BCELoss()(sig, yb), nn.BCELoss(reduction="none")(sig, yb))
print("bce weight", F.binary_cross_entropy(torch.tensor([0.2, 0.7, 0.9]), torch.tensor([0.0, 1.0, 1.0]),
                                            weight=torch.tensor([1.0, 2.0, 0.5])))
print("bce pos_weight", F.binary_cross_entropy_with_logits(bl, bt, pos_weight=torch.tensor(3.0)))
ml_logits = torch.from_numpy(rs.normal(size=(4, 3)).astype(np.float32))
ml_t = torch.tensor([[1.0, 0, 1], [0, 0, 1], [1, 1, 1], [0, 0, 0]])
print("multilabel", nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 0.5]))(ml_logits, ml_t),
      nn.MultiLabelSoftMarginLoss()(ml_logits, ml_t))
print("kl", nn.KLDivLoss(reduction="batchmean")(F.log_softmax(logits, 1), soft),
      F.kl_div(F.log_softmax(logits, 1), soft.log(), reduction="sum", log_target=True))

# train a classifier on imbalanced synthetic data with the weighted, smoothed loss
n = 300
y = torch.from_numpy((rs.rand(n) < 0.15).astype(np.int64) + (rs.rand(n) < 0.05).astype(np.int64))
centers = torch.tensor([[0.0, 0.0], [1.5, 1.0], [-1.0, 2.0]])
X = centers[y] + torch.from_numpy(rs.normal(0, 0.7, (n, 2)).astype(np.float32))
print("class counts", torch.bincount(y).tolist(), torch.unique(y, return_counts=True)[1].tolist())
cw = 1.0 / torch.bincount(y).float()
cw = cw / cw.sum() * 3
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rs.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
crit = nn.CrossEntropyLoss(weight=cw, label_smoothing=0.05)
opt = torch.optim.Adam(model.parameters(), lr=0.02)
for epoch in range(30):
    opt.zero_grad()
    loss = crit(model(X), y)
    loss.backward()
    opt.step()
    if epoch % 5 == 4:
        with torch.no_grad():
            pred = model(X).argmax(dim=1)
            recall = [((pred == c) & (y == c)).sum().item() / (y == c).sum().item() for c in range(3)]
        print(f"epoch {epoch + 1} loss {loss.item():.5f} recall {[round(r, 3) for r in recall]}")
with torch.no_grad():
    cm = torch.zeros(3, 3, dtype=torch.long)
    for t_, p_ in zip(y, pred):
        cm[t_, p_] += 1
    print(cm)
    print(cm.diag() / cm.sum(1), cm.diag().sum() / cm.sum())
