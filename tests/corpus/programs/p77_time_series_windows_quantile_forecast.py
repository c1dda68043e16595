"""Time-series forecasting with an MLP, as the "forecasting with PyTorch" blog posts write it:
a seasonal series from NumPy, min-max scaling, sliding windows cut with Tensor.unfold,
a Dataset returning (window, horizon) pairs, a LambdaLR warmup, huber_loss(delta=...) and a
quantile (pinball) loss with quantiles held in a buffer; then recursive multi-step forecasting
(torch.cat of the window's tail and the prediction, torch.roll), MAE/RMSE/sMAPE against naive
and seasonal-naive baselines, and the coverage of the 10%-90% interval."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

rng = np.random.default_rng(12)
t_np = np.arange(400)
series_np = 10 + 0.02 * t_np + 3 * np.sin(2 * np.pi * t_np / 24) + rng.normal(0, 0.5, 400)
series = torch.tensor(series_np, dtype=torch.float32)
train_raw, test_raw = series[:320], series[320:]
lo, hi = train_raw.min(), train_raw.max()
scale = lambda s: (s - lo) / (hi - lo)  # noqa: E731
unscale = lambda s: s * (hi - lo) + lo  # noqa: E731
LOOKBACK, HORIZON = 48, 6


class WindowDataset(Dataset):
    def __init__(self, series, lookback, horizon):
        windows = series.unfold(0, lookback + horizon, 1)
        self.x, self.y = windows[:, :lookback], windows[:, lookback:]

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


train_ds = WindowDataset(scale(train_raw), LOOKBACK, HORIZON)
print(len(train_ds), train_ds.x.shape, train_ds.y.shape, train_ds.x.is_contiguous())
print(torch.equal(train_ds.x[1, :-1], train_ds.x[0, 1:]))
loader = DataLoader(train_ds, batch_size=32, shuffle=False, drop_last=False)


class Forecaster(nn.Module):
    def __init__(self, quantiles=(0.1, 0.5, 0.9)):
        super().__init__()
        self.register_buffer("quantiles", torch.tensor(quantiles))
        self.body = nn.Sequential(nn.Linear(LOOKBACK, 64), nn.ReLU(), nn.Linear(64, HORIZON * len(quantiles)))

    def forward(self, x):
        return self.body(x).view(x.shape[0], HORIZON, -1)


def pinball_loss(pred, target, quantiles):
    errors = target.unsqueeze(-1) - pred
    return torch.max((quantiles - 1) * errors, quantiles * errors).mean()


model = Forecaster()
with torch.no_grad():
    for layer in model.body:
        if isinstance(layer, nn.Linear):
            layer.weight.copy_(torch.from_numpy(rng.normal(0, 1 / np.sqrt(layer.in_features), tuple(layer.weight.shape))))
            layer.bias.zero_()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
warmup = 20
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lambda step: min(1.0, (step + 1) / warmup))
for epoch in range(25):
    epoch_loss, epoch_huber = 0.0, 0.0
    for xb, yb in loader:
        out = model(xb)
        loss = pinball_loss(out, yb, model.quantiles)
        huber = F.huber_loss(out[..., 1], yb, delta=0.1)
        optimizer.zero_grad()
        (loss + huber).backward()
        optimizer.step()
        scheduler.step()
        epoch_loss += loss.item() * len(xb)
        epoch_huber += huber.item() * len(xb)
    if epoch % 5 == 4:
        print(f"epoch {epoch + 1} pinball loss {epoch_loss / len(train_ds):.5f} "
              f"huber {epoch_huber / len(train_ds):.6f} lr {optimizer.param_groups[0]['lr']:.4f}")


@torch.no_grad()
def forecast(history, steps):
    model.eval()
    window = scale(history[-LOOKBACK:]).clone()
    preds = []
    while len(preds) * HORIZON < steps:
        q = model(window.unsqueeze(0))[0]
        preds.append(q)
        window = torch.cat([window[HORIZON:], q[:, 1]])
    return unscale(torch.cat(preds)[:steps])


pred_q = forecast(train_raw, len(test_raw))
median = pred_q[:, 1]
naive = train_raw[-1].expand_as(test_raw)
seasonal = torch.roll(train_raw[-24:], shifts=0).repeat(len(test_raw) // 24 + 1)[:len(test_raw)]


def report(name, pred):
    err = pred - test_raw
    smape = (2 * err.abs() / (pred.abs() + test_raw.abs())).mean() * 100
    print(f"{name:>15}: MAE {err.abs().mean():.3f} RMSE {err.pow(2).mean().sqrt():.3f} sMAPE {smape:.2f}%")


report("mlp median", median)
report("naive", naive)
report("seasonal naive", seasonal)
inside = (test_raw >= pred_q[:, 0]) & (test_raw <= pred_q[:, 2])
print(f"80% interval coverage {inside.float().mean():.3f}, mean width {(pred_q[:, 2] - pred_q[:, 0]).mean():.3f}")
print("crossing quantiles", (pred_q[:, 0] > pred_q[:, 2]).sum().item())
print(pred_q[:4])
print(model.state_dict()["quantiles"], [k for k in model.state_dict()][:2])
