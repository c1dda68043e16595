"""An nn.Sequential autoencoder for anomaly detection, as the blog posts write it: train on
"normal" digits only, reconstruction errors per sample from MSELoss(reduction='none').mean(dim=1),
a threshold from torch.quantile of training errors, precision/recall of flagged samples,
torch.topk for the worst reconstructions, the bottleneck codes and nn.Unflatten reshaping."""
# corpus: same-numbers
import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target)
normal_mask = y != 9
X_normal, X_anom = X[normal_mask], X[~normal_mask]
train = X_normal[:600]
test = torch.cat([X_normal[600:800], X_anom[:40]])
test_is_anom = torch.cat([torch.zeros(200, dtype=torch.bool), torch.ones(40, dtype=torch.bool)])
print(train.shape, test.shape, test_is_anom.sum().item())

autoencoder = nn.Sequential(
    nn.Flatten(),
    nn.Linear(64, 32), nn.ReLU(),
    nn.Linear(32, 8), nn.ReLU(),
    nn.Linear(8, 32), nn.ReLU(),
    nn.Linear(32, 64), nn.Sigmoid(),
    nn.Unflatten(1, (8, 8)),
)
rs = np.random.RandomState(12)
with torch.no_grad():
    for name, p in autoencoder.named_parameters():
        if name.endswith("weight"):
            bound = 1 / np.sqrt(p.shape[1])
            p.copy_(torch.from_numpy(rs.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)) * np.sqrt(3))
        else:
            p.zero_()
print(autoencoder)
encoder = autoencoder[:5]
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(autoencoder.parameters(), lr=1e-2)
images = train.view(-1, 8, 8)
for epoch in range(25):
    epoch_loss = 0.0
    for i in range(0, len(images), 100):
        batch = images[i:i + 100]
        recon = autoencoder(batch)
        loss = criterion(recon, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * batch.size(0)
    if epoch % 5 == 0 or epoch == 24:
        print(f"Epoch [{epoch + 1}/25], Loss: {epoch_loss / len(images):.6f}")

autoencoder.eval()
per_sample = nn.MSELoss(reduction="none")
with torch.no_grad():
    train_err = per_sample(autoencoder(images), images).mean(dim=(1, 2))
    test_imgs = test.view(-1, 8, 8)
    test_err = per_sample(autoencoder(test_imgs), test_imgs).view(len(test), -1).mean(dim=1)
    threshold = torch.quantile(train_err, 0.95)
    print(f"threshold {threshold.item():.6f}, train err mean {train_err.mean().item():.6f} max {train_err.max().item():.6f}")
    flagged = test_err > threshold
    tp = (flagged & test_is_anom).sum().item()
    fp = (flagged & ~test_is_anom).sum().item()
    fn = (~flagged & test_is_anom).sum().item()
    print(f"flagged {flagged.sum().item()}, precision {tp / max(tp + fp, 1):.4f}, recall {tp / (tp + fn):.4f}")
    worst = torch.topk(test_err, k=5)
    print(worst.values, worst.indices, test_is_anom[worst.indices])
    print(test_err[test_is_anom].mean() / test_err[~test_is_anom].mean())
    codes = encoder(test_imgs)
    print(codes.shape, (codes == 0).float().mean().item(), codes[:2])
    print(torch.round(autoencoder(test_imgs[:1])[0, :2] * 100) / 100)
