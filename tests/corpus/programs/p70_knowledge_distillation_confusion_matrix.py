"""Knowledge distillation as the tutorials write it (Hinton et al.): a wide teacher trained on
digits, saved to an io.BytesIO with torch.save and loaded back with torch.load, frozen with
requires_grad_(False) in eval(); a small student trained on
alpha * T**2 * KLDivLoss(reduction="batchmean")(log_softmax(s / T), softmax(t / T)) + (1 - alpha) *
cross entropy; evaluation under torch.inference_mode() with a confusion matrix from bincount,
per-class precision/recall, and agreement between student and teacher."""
# corpus: same-numbers
import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

digits = load_digits()
rng = np.random.default_rng(7)
idx = rng.permutation(len(digits.target))[:900]
X = torch.tensor(digits.data[idx] / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target[idx])
X_train, y_train, X_test, y_test = X[:700], y[:700], X[700:], y[700:]
train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=50, shuffle=False)


def mlp(sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(rng.normal(0, (2.0 / a) ** 0.5, (b, a)).astype(np.float32)))
            lin.bias.zero_()
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


teacher = mlp([64, 128, 128, 10])
student = mlp([64, 16, 10])
opt = torch.optim.Adam(teacher.parameters(), lr=3e-3)
for epoch in range(4):
    teacher.train()
    total = 0.0
    for xb, yb in train_loader:
        opt.zero_grad()
        loss = F.cross_entropy(teacher(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * xb.size(0)
    print(f"teacher epoch {epoch} loss {total / len(train_loader.dataset):.4f}")

buffer = io.BytesIO()
torch.save(teacher.state_dict(), buffer)
print("saved bytes > 0:", buffer.tell() > 0)
buffer.seek(0)
state = torch.load(buffer, weights_only=True)
print(list(state.keys()), tuple(state["2.weight"].shape))
frozen = mlp([64, 128, 128, 10])
frozen.load_state_dict(state)
frozen.eval()
frozen.requires_grad_(False)
print("trainable in teacher:", sum(p.requires_grad for p in frozen.parameters()))


class DistillationLoss(nn.Module):
    def __init__(self, T=4.0, alpha=0.7):
        super().__init__()
        self.T, self.alpha = T, alpha
        self.kl = nn.KLDivLoss(reduction="batchmean")

    def forward(self, student_logits, teacher_logits, labels):
        soft = self.kl(F.log_softmax(student_logits / self.T, dim=1),
                       F.softmax(teacher_logits / self.T, dim=1)) * self.T ** 2
        hard = F.cross_entropy(student_logits, labels)
        return self.alpha * soft + (1 - self.alpha) * hard, soft.detach(), hard.detach()


criterion = DistillationLoss()
opt = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
for epoch in range(5):
    student.train()
    sums = torch.zeros(3)
    for xb, yb in train_loader:
        with torch.no_grad():
            t_logits = frozen(xb)
        loss, soft, hard = criterion(student(xb), t_logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sums += torch.stack([loss.detach(), soft, hard]) * len(xb)
    avg = sums / len(X_train)
    print(f"student epoch {epoch} loss {avg[0]:.4f} soft {avg[1]:.4f} hard {avg[2]:.4f}")

student.eval()
with torch.inference_mode():
    s_pred = student(X_test).argmax(dim=1)
    t_pred = frozen(X_test).argmax(1)
    kl_each = F.kl_div(F.log_softmax(student(X_test), 1), F.log_softmax(frozen(X_test), 1),
                       reduction="none", log_target=True).sum(dim=1)
print("inference tensor:", s_pred.is_inference(), s_pred.requires_grad)
print(f"teacher acc {(t_pred == y_test).float().mean():.4f} student acc {(s_pred == y_test).float().mean():.4f}")
print("agreement", (s_pred == t_pred).sum().item(), "/", len(y_test))
print("mean KL", round(kl_each.mean().item(), 4), "max KL at", kl_each.argmax().item())

n = 10
cm = torch.bincount(y_test * n + s_pred, minlength=n * n).reshape(n, n)
print(cm)
tp = cm.diag()
precision = tp / cm.sum(dim=0).clamp(min=1)
recall = tp.float() / cm.sum(1)
print("precision", [round(v, 3) for v in precision.tolist()])
print("recall", recall.numpy().round(3))
f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall), torch.zeros(()))
print(f"macro F1 {f1.mean().item():.4f}", "worst class", f1.argmin().item())
off = cm.fill_diagonal_(0).flatten()
values, order = torch.sort(off, descending=True, stable=True)
print([(i // n, i % n, c) for i, c in zip(order[:3].tolist(), values[:3].tolist())])
print("errors", off.sum().item(), "distinct confusions", off.count_nonzero().item())
