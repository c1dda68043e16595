"""The official text-classification tutorial's shape on a synthetic corpus, with the
torch.utils.data tools around it: an IterableDataset of (label, text) pairs (get_worker_info()
is None in the main process), a vocabulary built from a Counter, collate_batch making
(label_list, text_list, offsets) with cumsum for nn.EmbeddingBag(mode="mean"), a custom
Sampler bucketing indices by length inside a BatchSampler, DataLoader(batch_sampler=...),
default_collate of dicts, namedtuples and NumPy arrays, batch_size=None, SequentialSampler,
ChainDataset and random_split lengths; trained with SGD, clip_grad_norm_ and StepLR."""
# corpus: same-numbers
from collections import Counter, namedtuple

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import (
    BatchSampler,
    ChainDataset,
    DataLoader,
    IterableDataset,
    Sampler,
    SequentialSampler,
    default_collate,
    get_worker_info,
    random_split,
)

rng = np.random.default_rng(2)
topics = {0: ["goal", "match", "team", "score", "league"], 1: ["stock", "market", "price", "bank", "trade"],
          2: ["cpu", "code", "chip", "software", "data"]}
filler = ["the", "a", "of", "and", "to", "in", "new", "on"]


def make_text(label):
    n = int(rng.integers(4, 12))
    words = [rng.choice(topics[label]) if rng.random() < 0.45 else rng.choice(filler) for _ in range(n)]
    return " ".join(words)


class NewsStream(IterableDataset):
    def __init__(self, n, seed):
        self.n, self.seed = n, seed

    def __iter__(self):
        info = get_worker_info()
        assert info is None
        local = np.random.default_rng(self.seed)
        for _ in range(self.n):
            label = int(local.integers(0, 3))
            yield label, make_text(label)


train_iter = NewsStream(240, 0)
data = list(train_iter)
print(len(data), data[0], sum(1 for _ in ChainDataset([NewsStream(3, 1), NewsStream(2, 2)])))
counter = Counter(w for _, text in data for w in text.split())
vocab = {w: i + 1 for i, (w, _) in enumerate(counter.most_common())}  # 0 is <unk>
text_pipeline = lambda x: [vocab.get(w, 0) for w in x.split()]  # noqa: E731
print(len(vocab), text_pipeline("the market and the goal xyz"))


def collate_batch(batch):
    label_list, text_list, offsets = [], [], [0]
    for _label, _text in batch:
        label_list.append(_label)
        processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
        text_list.append(processed_text)
        offsets.append(processed_text.size(0))
    label_list = torch.tensor(label_list, dtype=torch.int64)
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    return label_list, torch.cat(text_list), offsets


class BucketSampler(Sampler):
    """Indices sorted by text length within buckets of 40, so batches hold similar lengths."""

    def __init__(self, lengths, bucket=40):
        self.lengths, self.bucket = lengths, bucket

    def __iter__(self):
        order = []
        for start in range(0, len(self.lengths), self.bucket):
            chunk = list(range(start, min(start + self.bucket, len(self.lengths))))
            order += sorted(chunk, key=lambda i: self.lengths[i])
        return iter(order)

    def __len__(self):
        return len(self.lengths)


train_data, valid_data = data[:192], data[192:]
sampler = BatchSampler(BucketSampler([len(t.split()) for _, t in train_data]), batch_size=16, drop_last=False)
print(len(sampler), [len(b) for b in sampler][-2:], list(BatchSampler(SequentialSampler(range(5)), 2, False)))
train_loader = DataLoader(train_data, batch_sampler=sampler, collate_fn=collate_batch)
valid_loader = DataLoader(valid_data, batch_size=16, shuffle=False, collate_fn=collate_batch)
labels, text, offsets = next(iter(train_loader))
print(labels, text.shape, offsets)


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super(TextClassificationModel, self).__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, mode="mean")
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data = torch.from_numpy(rng.uniform(-initrange, initrange, tuple(self.embedding.weight.shape)).astype(np.float32))
        self.fc.weight.data = torch.from_numpy(rng.uniform(-initrange, initrange, tuple(self.fc.weight.shape)).astype(np.float32))
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


model = TextClassificationModel(len(vocab) + 1, 8, 3)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=5)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.5)
for epoch in range(1, 5):
    model.train()
    total_acc, total_count = 0, 0
    for idx, (label, text, offsets) in enumerate(train_loader):
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        total_acc += (predicted_label.argmax(1) == label).sum().item()
        total_count += label.size(0)
    model.eval()
    with torch.no_grad():
        val = [(model(t, o).argmax(1) == lab).sum().item() for lab, t, o in valid_loader]
    scheduler.step()
    print(f"| epoch {epoch:3d} | loss {loss.item():8.4f} | train accuracy {total_acc / total_count:8.3f} "
          f"| valid accuracy {sum(val) / len(valid_data):8.3f} | lr {scheduler.get_last_lr()[0]}")

news_label = {0: "Sports", 1: "Business", 2: "Sci/Tec"}
with torch.no_grad():
    ids = torch.tensor(text_pipeline("the new chip and code in the data"))
    print("prediction:", news_label[model(ids, torch.tensor([0])).argmax(1).item() if ids.numel() else 0])

Pair = namedtuple("Pair", ["x", "y"])
batch = default_collate([{"x": np.array([1.0, 2.0]), "n": 3, "tag": "a", "p": Pair(1.5, [1, 2])},
                         {"x": np.array([3.0, 4.0]), "n": 4, "tag": "b", "p": Pair(2.5, [3, 4])}])
print(batch["x"], batch["x"].dtype, batch["n"], batch["tag"], batch["p"].x, batch["p"].y)
single = DataLoader([np.arange(3), np.arange(3, 6)], batch_size=None)
print([b for b in single], len(single))
parts = random_split(range(10), [0.7, 0.3])
print([len(p) for p in parts], len(train_loader), len(valid_loader.dataset))
