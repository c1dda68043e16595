"""Multi-label classification as the Kaggle/blog notebooks write it: scikit-learn's
make_multilabel_classification, a StandardScaler, an MLP with one logit per label,
BCEWithLogitsLoss(pos_weight=negatives / positives) and nn.MultiLabelSoftMarginLoss compared,
a DataLoader whose collate_fn stacks (x, y) pairs, per-label thresholds tuned on validation
data with torch.linspace and broadcasting, micro/macro F1, Hamming loss and subset accuracy
computed with tensor ops and checked against sklearn.metrics on .numpy() arrays, and
nn.MultiLabelMarginLoss with -1-padded target lists."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import f1_score, hamming_loss
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader

X, Y = make_multilabel_classification(n_samples=600, n_features=20, n_classes=5, n_labels=2,
                                      random_state=4)
X = StandardScaler().fit_transform(X)
X_t, Y_t = torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)
X_train, Y_train = X_t[:400], Y_t[:400]
X_val, Y_val = X_t[400:500], Y_t[400:500]
X_test, Y_test = X_t[500:], Y_t[500:]
pos = Y_train.sum(dim=0)
pos_weight = (len(Y_train) - pos) / pos
print("label frequencies", (pos / len(Y_train)).tolist())
print("pos_weight", pos_weight)


def collate(batch):
    xs, ys = zip(*batch)
    return torch.stack(xs), torch.stack(ys)


pairs = list(zip(X_train, Y_train))
loader = DataLoader(pairs, batch_size=40, collate_fn=collate)
rng = np.random.default_rng(5)


def build():
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5))
    with torch.no_grad():
        for layer in (model[0], model[2]):
            layer.weight.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(layer.weight.shape))))
            layer.bias.fill_(0.0)
    return model


results = {}
for name, criterion in [("bce+pos_weight", nn.BCEWithLogitsLoss(pos_weight=pos_weight)),
                        ("multilabel soft margin", nn.MultiLabelSoftMarginLoss())]:
    model = build()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    for epoch in range(15):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        results[name] = (model(X_val).sigmoid(), model(X_test).sigmoid())
    print(f"{name}: final batch loss {loss.item():.4f}")

val_probs, test_probs = results["bce+pos_weight"]
thresholds = torch.linspace(0.1, 0.9, 17)
preds = val_probs.unsqueeze(0) > thresholds.view(-1, 1, 1)  # [thresholds, samples, labels]
tp = (preds & Y_val.bool()).sum(dim=1).float()
fp = (preds & ~Y_val.bool()).sum(dim=1).float()
fn = (~preds & Y_val.bool()).sum(dim=1).float()
f1_grid = 2 * tp / (2 * tp + fp + fn).clamp_min(1)
best = f1_grid.argmax(dim=0)
best_thr = thresholds[best]
print("best thresholds", best_thr.tolist(), "val F1", f1_grid.max(0).values.numpy().round(4))


def metrics(probs, target, thr):
    pred = (probs > thr).int()
    target = target.int()
    tp = (pred * target).sum(0)
    fp = (pred * (1 - target)).sum(0)
    fn = ((1 - pred) * target).sum(0)
    micro = 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())
    macro = (2 * tp / (2 * tp + fp + fn)).mean()
    hamming = (pred != target).float().mean()
    subset = (pred == target).all(dim=1).float().mean()
    return pred, micro.item(), macro.item(), hamming.item(), subset.item()


for label, thr in [("0.5", 0.5), ("tuned", best_thr)]:
    pred, micro, macro, ham, subset = metrics(test_probs, Y_test, thr)
    print(f"threshold {label}: micro F1 {micro:.4f} macro F1 {macro:.4f} hamming {ham:.4f} subset acc {subset:.2f}")
    print("  sklearn", round(f1_score(Y_test.numpy(), pred.numpy(), average="micro"), 4),
          round(f1_score(Y_test.numpy(), pred.numpy(), average="macro"), 4),
          round(hamming_loss(Y_test.numpy(), pred.numpy()), 4))
soft_probs = results["multilabel soft margin"][1]
print("soft-margin model micro F1", round(metrics(soft_probs, Y_test, 0.5)[1], 4))
print("labels per sample", Y_test.sum(1).long().bincount().tolist(), (test_probs > 0.5).sum(1).bincount())

# MultiLabelMarginLoss wants the target labels' indices, padded with -1
idx_targets = torch.full((6, 5), -1, dtype=torch.long)
for row, y in enumerate(Y_test[:6]):
    labels = y.nonzero().squeeze(1)
    idx_targets[row, :len(labels)] = labels
print(idx_targets)
logits = torch.logit(test_probs[:6].clamp(1e-4, 1 - 1e-4))
print(f"multilabel margin {nn.MultiLabelMarginLoss()(logits, idx_targets).item():.4f}",
      f"none {nn.MultiLabelMarginLoss(reduction='none')(logits, idx_targets).numpy().round(3)}")
