"""A Kaggle-style tabular regression script on scikit-learn's bundled diabetes data: a pandas
DataFrame with a derived column, train_test_split, StandardScaler fitted on the training rows,
torch.tensor(df.values, dtype=torch.float32), a shuffled DataLoader under torch.manual_seed,
an MLP with default initialisation, early stopping on the validation loss with
best_state = {k: v.clone() ...} and patience, model.eval() + torch.inference_mode() for the
predictions, R² by hand and by sklearn; then the regression losses compared on the same
predictions (MSE, L1, Huber, SmoothL1, PoissonNLL, GaussianNLL, a quantile loss) and one
model trained per loss."""
# corpus: same-numbers
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

SEED = 42
torch.manual_seed(SEED)
np.random.seed(SEED)

data = load_diabetes(as_frame=True)
df = data.frame.copy()
df["bmi_bp"] = df["bmi"] * df["bp"]
target = "target"
features = [c for c in df.columns if c != target]
print(df.shape, df[target].describe()[["mean", "std", "min", "max"]].round(2).tolist())

train_df, valid_df = train_test_split(df, test_size=0.2, random_state=SEED)
scaler = StandardScaler()
X_train = scaler.fit_transform(train_df[features])
X_valid = scaler.transform(valid_df[features])
y_mean, y_std = train_df[target].mean(), train_df[target].std()
y_train = ((train_df[target] - y_mean) / y_std).values
y_valid = ((valid_df[target] - y_mean) / y_std).values

X_train_t = torch.tensor(X_train, dtype=torch.float32)
y_train_t = torch.tensor(y_train, dtype=torch.float32).view(-1, 1)
X_valid_t = torch.tensor(X_valid, dtype=torch.float32)
y_valid_t = torch.tensor(y_valid, dtype=torch.float32).unsqueeze(1)
train_loader = DataLoader(TensorDataset(X_train_t, y_train_t), batch_size=32, shuffle=True)
print("batches per epoch", len(train_loader), "features", X_train_t.shape[1])


def make_model():
    return nn.Sequential(nn.Linear(len(features), 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(),
                         nn.Linear(16, 1))


def fit(model, criterion, epochs=30, patience=4, verbose=False):
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    best_loss, best_state, wait = float("inf"), None, 0
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * xb.size(0)
        model.eval()
        with torch.no_grad():
            val_loss = nn.functional.mse_loss(model(X_valid_t), y_valid_t).item()
        if verbose and epoch % 4 == 0:
            print(f"epoch {epoch:2d} train loss {running / len(train_loader.dataset):.4f} "
                  f"val mse {val_loss:.4f}")
        if val_loss < best_loss - 1e-4:
            best_loss, wait = val_loss, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            wait += 1
            if wait >= patience:
                if verbose:
                    print(f"early stopping at epoch {epoch}, best val mse {best_loss:.4f}")
                break
    model.load_state_dict(best_state)
    return best_loss, epoch


model = make_model()
best, stopped = fit(model, nn.MSELoss(), verbose=True)
model.eval()
with torch.inference_mode():
    pred = model(X_valid_t).squeeze(1) * y_std + y_mean
print("inference tensor", pred.is_inference(), pred.requires_grad, pred.dtype)
truth = torch.tensor(valid_df[target].values, dtype=torch.float32)
ss_res = ((truth - pred) ** 2).sum()
ss_tot = ((truth - truth.mean()) ** 2).sum()
print(f"R2 by hand {1 - (ss_res / ss_tot).item():.4f} sklearn {r2_score(truth, pred.numpy()):.4f}")
print(f"MAE {mean_absolute_error(truth.numpy(), pred.numpy()):.3f}")
out = pd.DataFrame({"id": valid_df.index, "prediction": pred.numpy()})
print(out.head(4).round(2).to_string(index=False))

# The losses on the same (standardised) predictions.
with torch.no_grad():
    p = model(X_valid_t)
t = y_valid_t
log_var = torch.full_like(p, -0.5)
rate_in = torch.exp(p)
counts = torch.round(torch.exp(t))
losses = {
    "mse": nn.MSELoss()(p, t), "l1": nn.L1Loss()(p, t),
    "huber(0.5)": nn.HuberLoss(delta=0.5)(p, t), "smoothl1(0.5)": nn.SmoothL1Loss(beta=0.5)(p, t),
    "smoothl1 sum": nn.SmoothL1Loss(reduction="sum")(p, t),
    "poisson log": nn.PoissonNLLLoss()(p, counts),
    "poisson full": nn.PoissonNLLLoss(log_input=False, full=True)(rate_in, counts),
    "gaussian": nn.GaussianNLLLoss()(p, t, log_var.exp()),
    "gaussian full": nn.GaussianNLLLoss(full=True, eps=1e-3)(p, t, torch.full((len(p),), 0.4)),
    "gaussian none": nn.GaussianNLLLoss(reduction="none")(p, t, log_var.exp()).mean(),
}
for name, value in losses.items():
    print(f"{name:>14s} {value.item():.5f}")


def quantile_loss(pred, target, q):
    diff = target - pred
    return torch.max(q * diff, (q - 1) * diff).mean()


for q in (0.1, 0.5, 0.9):
    print(f"pinball q={q} {quantile_loss(p, t, q).item():.5f}")

criteria = {"huber": nn.HuberLoss(delta=1.0), "pinball 0.5": lambda a, b: quantile_loss(a, b, 0.5)}
for name, criterion in criteria.items():
    torch.manual_seed(SEED)
    m = make_model()
    best, stopped = fit(m, criterion, epochs=8)
    print(f"trained on {name}: best val mse {best:.4f} after {stopped + 1} epochs")
