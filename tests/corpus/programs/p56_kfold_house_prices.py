"""The d2l Kaggle house-prices recipe on synthetic data: pandas standardisation with
apply(lambda x: (x - x.mean()) / x.std()), fillna(0), get_dummies, tensors from .values,
log_rmse with torch.clamp(net(features), 1, float('inf')), get_k_fold_data slicing with
torch.cat, Adam with weight_decay, averaged k-fold train/valid log-rmse."""
# corpus: same-numbers
import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils import data

rs = np.random.RandomState(3)
n = 160
df = pd.DataFrame({
    "LotArea": rs.gamma(5.0, 2000.0, n),
    "YearBuilt": rs.randint(1900, 2010, n).astype(float),
    "Rooms": rs.randint(2, 10, n).astype(float),
    "Zone": rs.choice(["RL", "RM", "FV"], n),
})
df.loc[rs.rand(n) < 0.1, "LotArea"] = np.nan
price = (50000 + 3.0 * df["LotArea"].fillna(8000) + 400 * (df["YearBuilt"] - 1900)
         + 9000 * df["Rooms"] + rs.normal(0, 10000, n))
all_features = df.copy()
numeric_features = all_features.select_dtypes(include='number').columns
all_features[numeric_features] = all_features[numeric_features].apply(
    lambda x: (x - x.mean()) / (x.std()))
all_features[numeric_features] = all_features[numeric_features].fillna(0)
all_features = pd.get_dummies(all_features, dummy_na=True)
print(all_features.shape)
n_train = 120
train_features = torch.tensor(all_features[:n_train].values.astype(np.float32), dtype=torch.float32)
test_features = torch.tensor(all_features[n_train:].values.astype(np.float32), dtype=torch.float32)
train_labels = torch.tensor(price[:n_train].values.reshape(-1, 1), dtype=torch.float32)
print(train_features.dtype, train_labels.dtype, train_features.shape, train_labels[:3].squeeze())

loss = nn.MSELoss()
in_features = train_features.shape[1]
init_rs = np.random.RandomState(7)


def get_net():
    net = nn.Sequential(nn.Linear(in_features, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(init_rs.normal(0, 0.1, (1, in_features))))
        net[0].bias.zero_()
    return net


def log_rmse(net, features, labels):
    clipped_preds = torch.clamp(net(features), 1, float('inf'))
    rmse = torch.sqrt(loss(torch.log(clipped_preds), torch.log(labels)))
    return rmse.item()


def load_array(data_arrays, batch_size, is_train=True):
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def train(net, train_features, train_labels, test_features, test_labels,
          num_epochs, learning_rate, weight_decay, batch_size):
    train_ls, test_ls = [], []
    train_iter = load_array((train_features, train_labels), batch_size, is_train=False)
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            optimizer.zero_grad()
            l = loss(net(X), y)
            l.backward()
            optimizer.step()
        train_ls.append(log_rmse(net, train_features, train_labels))
        if test_labels is not None:
            test_ls.append(log_rmse(net, test_features, test_labels))
    return train_ls, test_ls


def get_k_fold_data(k, i, X, y):
    assert k > 1
    fold_size = X.shape[0] // k
    X_train, y_train = None, None
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        X_part, y_part = X[idx, :], y[idx]
        if j == i:
            X_valid, y_valid = X_part, y_part
        elif X_train is None:
            X_train, y_train = X_part, y_part
        else:
            X_train = torch.cat([X_train, X_part], 0)
            y_train = torch.cat([y_train, y_part], 0)
    return X_train, y_train, X_valid, y_valid


def k_fold(k, X_train, y_train, num_epochs, learning_rate, weight_decay, batch_size):
    train_l_sum, valid_l_sum = 0, 0
    for i in range(k):
        data = get_k_fold_data(k, i, X_train, y_train)
        net = get_net()
        train_ls, valid_ls = train(net, *data, num_epochs, learning_rate, weight_decay, batch_size)
        train_l_sum += train_ls[-1]
        valid_l_sum += valid_ls[-1]
        print(f'fold {i + 1}, train log rmse {float(train_ls[-1]):f}, '
              f'valid log rmse {float(valid_ls[-1]):f}, first {train_ls[0]:.5f}')
    return train_l_sum / k, valid_l_sum / k


k, num_epochs, lr, weight_decay, batch_size = 4, 40, 5, 0, 16
train_l, valid_l = k_fold(k, train_features, train_labels, num_epochs, lr, weight_decay, batch_size)
print(f'{k}-fold validation: avg train log rmse: {float(train_l):f}, avg valid log rmse: {float(valid_l):f}')

net = get_net()
train_ls, _ = train(net, train_features, train_labels, None, None, num_epochs, lr, 0.01, batch_size)
print(f'train log rmse: {float(train_ls[-1]):f}')
preds = net(test_features).detach().numpy()
submission = pd.DataFrame({"Id": np.arange(n_train, n), "SalePrice": pd.Series(preds.reshape(1, -1)[0])})
print(submission.head().round(1).to_string())
print(preds.dtype, preds.shape)
