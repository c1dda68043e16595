"""A bag-of-words text classifier: nn.Embedding, mean over the tokens, a linear head,
CrossEntropyLoss and Adam; token ids and weights from NumPy's seeded generator."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(23)
vocab, dim, classes, length = 30, 8, 3, 6
tokens = torch.tensor(rng.integers(1, vocab, (90, length)))
labels = tokens[:, 0] % classes


class BagOfWords(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
        self.fc = nn.Linear(dim, classes)

    def forward(self, ids):
        return self.fc(self.embedding(ids).mean(dim=1))


model = BagOfWords()
model.load_state_dict({
    "embedding.weight": torch.tensor(rng.standard_normal((vocab, dim)) * 0.3, dtype=torch.float32),
    "fc.weight": torch.tensor(rng.uniform(-0.3, 0.3, (classes, dim)), dtype=torch.float32),
    "fc.bias": torch.zeros(classes),
})
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
for epoch in range(30):
    optimizer.zero_grad()
    loss = criterion(model(tokens), labels)
    loss.backward()
    optimizer.step()
    if epoch % 10 == 9:
        correct = (model(tokens).argmax(1) == labels).sum().item()
        print(f"epoch {epoch + 1} loss {loss.item():.5f} correct {correct}/{len(labels)}")
