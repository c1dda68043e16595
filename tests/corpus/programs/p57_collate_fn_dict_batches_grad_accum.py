"""Variable-length sequences in a Dataset returning dicts; a custom collate_fn padding with
nn.utils.rnn.pad_sequence and building an attention mask; masked mean pooling; gradient
accumulation (loss / accumulation_steps, step every N batches); clip_grad_value_."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Dataset

rs = np.random.RandomState(11)
VOCAB, PAD = 30, 0


class ReviewDataset(Dataset):
    def __init__(self, n):
        self.samples = []
        for i in range(n):
            length = rs.randint(3, 12)
            label = i % 2
            low, high = (1, 18) if label == 0 else (12, VOCAB)
            tokens = rs.randint(low, high, size=length).tolist()
            self.samples.append({"input_ids": tokens, "label": label, "id": i})

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, idx):
        s = self.samples[idx]
        return {"input_ids": torch.tensor(s["input_ids"], dtype=torch.long),
                "label": torch.tensor(s["label"], dtype=torch.float32), "id": s["id"]}


def collate_fn(batch):
    ids = [item["input_ids"] for item in batch]
    lengths = torch.tensor([len(x) for x in ids])
    padded = pad_sequence(ids, batch_first=True, padding_value=PAD)
    mask = (padded != PAD).long()
    labels = torch.stack([item["label"] for item in batch])
    return {"input_ids": padded, "attention_mask": mask, "lengths": lengths,
            "labels": labels, "ids": [item["id"] for item in batch]}


class MeanPoolClassifier(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=PAD)
        self.fc = nn.Linear(dim, 16)
        self.out = nn.Linear(16, 1)

    def forward(self, input_ids, attention_mask):
        e = self.emb(input_ids)  # B, T, D
        m = attention_mask.unsqueeze(-1).float()
        pooled = (e * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
        return self.out(F.relu(self.fc(pooled))).squeeze(-1)


ds = ReviewDataset(96)
loader = DataLoader(ds, batch_size=8, shuffle=False, collate_fn=collate_fn)
first = next(iter(loader))
print({k: (tuple(v.shape) if torch.is_tensor(v) else v) for k, v in first.items()})
print(first["input_ids"][:3])
print(first["attention_mask"].sum(1), first["lengths"], first["labels"])

model = MeanPoolClassifier(VOCAB, 8)
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rs.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
    model.emb.weight[PAD].fill_(0)
print(model.emb.weight[PAD], model.emb.padding_idx)

criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
accumulation_steps = 3
for epoch in range(6):
    model.train()
    running, correct = 0.0, 0
    optimizer.zero_grad()
    for i, batch in enumerate(loader):
        logits = model(batch["input_ids"], batch["attention_mask"])
        loss = criterion(logits, batch["labels"]) / accumulation_steps
        loss.backward()
        running += loss.item() * accumulation_steps
        correct += ((logits > 0).float() == batch["labels"]).sum().item()
        if (i + 1) % accumulation_steps == 0:
            torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
            optimizer.step()
            optimizer.zero_grad()
    print(f"epoch {epoch}: loss {running / len(loader):.5f} acc {correct / len(ds):.4f} "
          f"grad-is-none {model.fc.weight.grad is None}")

criterion(model(first["input_ids"], first["attention_mask"]), first["labels"]).backward()
print(model.emb.weight.grad[PAD].abs().sum(), model.emb.weight.grad.abs().sum())
model.eval()
with torch.no_grad():
    batch = collate_fn([ds[0], ds[1], ds[2]])
    probs = torch.sigmoid(model(batch["input_ids"], batch["attention_mask"]))
print(probs, batch["ids"])
print(torch.nn.utils.clip_grad_value_([p for p in model.parameters()], 0.01))
