"""torch.utils.data as the data-loading tutorial and forum answers use it: a TensorDataset
subclass adding deterministic noise in __getitem__, a Dataset with a batched __getitems__
(torch 2's fast path) under a Subset, samples as namedtuples and nested dicts through
default_collate, an IterableDataset streaming rows, WeightedRandomSampler for an imbalanced
set (class counts per batch), BatchSampler with drop_last, a collate_fn padding sequences,
then a small classifier trained on the weighted batches."""
# corpus: same-numbers
import collections

import numpy as np
import torch
from torch import nn
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    Subset,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
)

rng = np.random.default_rng(3)
X = torch.tensor(rng.normal(size=(40, 3)), dtype=torch.float32)
y = torch.tensor((np.arange(40) % 10 == 0).astype(np.int64))  # 4 positives, 36 negatives


class NoisyTensorDataset(TensorDataset):
    """Adds a fixed, index-dependent jitter to the features."""
    def __getitem__(self, index):
        features, label = super().__getitem__(index)
        return features + 0.01 * index, label


noisy = NoisyTensorDataset(X, y)
first = next(iter(DataLoader(noisy, batch_size=4)))
print(first[0][:, 0], first[1])


class SquaresDataset(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, idx):
        return {'x': idx, 'x2': idx ** 2}

    def __getitems__(self, indices):  # one call per batch
        print('  __getitems__', indices)
        return [{'x': i, 'x2': i ** 2} for i in indices]


for batch in DataLoader(Subset(SquaresDataset(10), [9, 1, 4, 7, 0]), batch_size=2):
    print(batch)

Sample = collections.namedtuple('Sample', ['features', 'label', 'meta'])
samples = [Sample(np.full(2, i, dtype=np.float32), i % 2, {'id': i, 'w': 0.5 * i})
           for i in range(3)]
batch = default_collate(samples)
print(type(batch).__name__, batch.features, batch.label, batch.meta['id'], batch.meta['w'])
print(default_collate([(1, 'a', True), (2, 'b', False)]))


class RowStream(IterableDataset):
    def __init__(self, array, start, end):
        super().__init__()
        self.array, self.start, self.end = array, start, end

    def __iter__(self):
        for row in self.array[self.start:self.end]:
            yield torch.from_numpy(row), float(row.sum())


stream = RowStream(rng.integers(0, 5, size=(7, 2)).astype(np.float64), 1, 7)
for xb, total in DataLoader(stream, batch_size=4):
    print(xb.dtype, xb.tolist(), total)
print([len(b[0]) for b in DataLoader(stream, batch_size=4, drop_last=True)])

class_counts = torch.bincount(y)
class_weights = 1.0 / class_counts.float()
sample_weights = class_weights[y]
print(class_counts, class_weights, sample_weights[:3])
torch.manual_seed(0)
sampler = WeightedRandomSampler(sample_weights, num_samples=len(sample_weights),
                                replacement=True)
loader = DataLoader(noisy, batch_size=8, sampler=sampler)
for xb, yb in loader:
    print('positives in batch:', int(yb.sum()), yb.tolist())
g = torch.Generator().manual_seed(11)
print(list(WeightedRandomSampler([1, 0, 3, 1, 5], 3, replacement=False, generator=g)))
print(list(BatchSampler(SequentialSampler(range(10)), batch_size=4, drop_last=True)))


def pad_collate(batch):
    lengths = torch.tensor([len(seq) for seq, _ in batch])
    padded = torch.zeros(len(batch), int(lengths.max()))
    for i, (seq, _) in enumerate(batch):
        padded[i, :len(seq)] = torch.tensor(seq)
    return padded, lengths, torch.tensor([label for _, label in batch])


sequences = [([1.0, 2.0], 0), ([3.0], 1), ([4.0, 5.0, 6.0], 1), ([7.0], 0), ([8.0, 9.0], 1)]
for padded, lengths, labels in DataLoader(sequences, batch_size=2, collate_fn=pad_collate):
    print(padded, lengths, labels)

model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(np.sin(np.arange(p.numel())).reshape(p.shape) * 0.5))
optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
criterion = nn.CrossEntropyLoss()
for epoch in range(5):
    total, seen = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
        seen += len(yb)
    with torch.no_grad():
        recall = (model(X).argmax(1)[y == 1] == 1).float().mean()
    print(f'epoch {epoch}: loss {total / seen:.4f}, positive recall {recall:.2f}')
