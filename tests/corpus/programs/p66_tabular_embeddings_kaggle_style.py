"""A Kaggle-style tabular network: categorical columns label-encoded with pandas, one
nn.Embedding per column in an nn.ModuleList with the min(50, (n+1)//2) size rule, embeddings
concatenated with BatchNorm'd continuous columns, Dropout, BCEWithLogitsLoss, AdamW, a shuffled
DataLoader with a seeded generator, default initialisation under torch.manual_seed, ROC-AUC
from sklearn on .numpy() predictions."""
# corpus: trains
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(42)
rs = np.random.RandomState(42)
n = 1200
df = pd.DataFrame({
    "city": rs.choice(["paris", "lyon", "nice", "lille", "brest"], n),
    "plan": rs.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
    "device": rs.choice(["ios", "android", "web", "desktop"], n),
    "age": rs.randint(18, 70, n).astype(float),
    "sessions": rs.poisson(5, n).astype(float),
    "spend": rs.gamma(2.0, 30.0, n),
})
logit = (0.8 * (df["plan"] != "free") + 0.03 * (df["sessions"] - 5) - 0.02 * (df["age"] - 40)
         + 0.5 * (df["device"] == "ios") + 0.004 * (df["spend"] - 60) - 0.5)
df["churn"] = (rs.rand(n) < 1 / (1 + np.exp(-logit))).astype(np.float32)
cat_cols, cont_cols = ["city", "plan", "device"], ["age", "sessions", "spend"]
for c in cat_cols:
    df[c] = df[c].astype("category").cat.codes
df[cont_cols] = (df[cont_cols] - df[cont_cols].mean()) / df[cont_cols].std()
cat_szs = [int(df[c].max()) + 1 for c in cat_cols]
emb_szs = [(c, min(50, (c + 1) // 2)) for c in cat_szs]
print(emb_szs, df["churn"].mean().round(3))


class TabularDataset(Dataset):
    def __init__(self, frame):
        self.cats = torch.tensor(frame[cat_cols].values, dtype=torch.long)
        self.conts = torch.tensor(frame[cont_cols].values, dtype=torch.float32)
        self.y = torch.tensor(frame["churn"].values, dtype=torch.float32).unsqueeze(1)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.cats[i], self.conts[i], self.y[i]


class TabularModel(nn.Module):
    def __init__(self, emb_szs, n_cont, out_sz, layers, p=0.4):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(ni, nf) for ni, nf in emb_szs])
        self.emb_drop = nn.Dropout(p)
        self.bn_cont = nn.BatchNorm1d(n_cont)
        layerlist = []
        n_emb = sum(nf for ni, nf in emb_szs)
        n_in = n_emb + n_cont
        for i in layers:
            layerlist.append(nn.Linear(n_in, i))
            layerlist.append(nn.ReLU(inplace=True))
            layerlist.append(nn.BatchNorm1d(i))
            layerlist.append(nn.Dropout(p))
            n_in = i
        layerlist.append(nn.Linear(layers[-1], out_sz))
        self.layers = nn.Sequential(*layerlist)

    def forward(self, x_cat, x_cont):
        embeddings = []
        for i, e in enumerate(self.embeds):
            embeddings.append(e(x_cat[:, i]))
        x = torch.cat(embeddings, 1)
        x = self.emb_drop(x)
        x_cont = self.bn_cont(x_cont)
        x = torch.cat([x, x_cont], 1)
        return self.layers(x)


train_df, valid_df = df.iloc[:1000], df.iloc[1000:]
train_dl = DataLoader(TabularDataset(train_df), batch_size=64, shuffle=True,
                      generator=torch.Generator().manual_seed(0))
valid_dl = DataLoader(TabularDataset(valid_df), batch_size=256)
model = TabularModel(emb_szs, len(cont_cols), 1, [64, 32], p=0.2)
print(model)
print("params", sum(p.numel() for p in model.parameters()))
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
for epoch in range(8):
    model.train()
    total = 0.0
    for cats, conts, yb in train_dl:
        optimizer.zero_grad()
        loss = criterion(model(cats, conts), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
    model.eval()
    preds, targets = [], []
    with torch.no_grad():
        for cats, conts, yb in valid_dl:
            preds.append(torch.sigmoid(model(cats, conts)))
            targets.append(yb)
    preds, targets = torch.cat(preds).squeeze(1), torch.cat(targets).squeeze(1)
    auc = roc_auc_score(targets.numpy(), preds.numpy())
    acc = ((preds > 0.5).float() == targets).float().mean()
    print(f"epoch {epoch + 1}: train loss {total / len(train_df):.4f} valid auc {auc:.3f} acc {acc:.3f}")
print(model.bn_cont.running_mean.shape, model.bn_cont.num_batches_tracked.item())
