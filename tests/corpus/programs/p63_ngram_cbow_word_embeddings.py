"""The official "Word Embeddings: Encoding Lexical Semantics" tutorial: an N-gram language
model (nn.Embedding, embeds(inputs).view((1, -1)), F.log_softmax, nn.NLLLoss, SGD, a list of
total losses), then the CBOW exercise, nearest neighbours by cosine similarity with topk and
greedy generation. Vocabulary built with sorted(set(...)); weights from NumPy."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

CONTEXT_SIZE = 2
EMBEDDING_DIM = 10
test_sentence = """When forty winters shall besiege thy brow,
And dig deep trenches in thy beauty's field,
Thy youth's proud livery so gazed on now,
Will be a totter'd weed of small worth held:
Then being asked, where all thy beauty lies,
Where all the treasure of thy lusty days;
To say, within thine own deep sunken eyes,
Were an all-eating shame, and thriftless praise.""".split()
ngrams = [
    ([test_sentence[i - j - 1] for j in range(CONTEXT_SIZE)], test_sentence[i])
    for i in range(CONTEXT_SIZE, len(test_sentence))
]
print(ngrams[:3])
vocab = sorted(set(test_sentence))
word_to_ix = {word: i for i, word in enumerate(vocab)}
ix_to_word = {i: w for w, i in word_to_ix.items()}
print(len(vocab), len(ngrams))
rs = np.random.RandomState(8)


def np_init(model, scale=0.1):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rs.normal(0, scale, tuple(p.shape)).astype(np.float32)))


class NGramLanguageModeler(nn.Module):
    def __init__(self, vocab_size, embedding_dim, context_size):
        super(NGramLanguageModeler, self).__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.linear1 = nn.Linear(context_size * embedding_dim, 128)
        self.linear2 = nn.Linear(128, vocab_size)

    def forward(self, inputs):
        embeds = self.embeddings(inputs).view((1, -1))
        out = F.relu(self.linear1(embeds))
        out = self.linear2(out)
        log_probs = F.log_softmax(out, dim=1)
        return log_probs


losses = []
loss_function = nn.NLLLoss()
model = NGramLanguageModeler(len(vocab), EMBEDDING_DIM, CONTEXT_SIZE)
np_init(model)
optimizer = optim.SGD(model.parameters(), lr=0.05)

for epoch in range(10):
    total_loss = 0
    for context, target in ngrams:
        context_idxs = torch.tensor([word_to_ix[w] for w in context], dtype=torch.long)
        model.zero_grad()
        log_probs = model(context_idxs)
        loss = loss_function(log_probs, torch.tensor([word_to_ix[target]], dtype=torch.long))
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
    losses.append(total_loss)
print(losses)
print(model.embeddings.weight[word_to_ix["beauty"]])

# CBOW
CONTEXT_SIZE = 2
raw_text = """We are about to study the idea of a computational process.
Computational processes are abstract beings that inhabit computers.
As they evolve, processes manipulate other abstract things called data.
The evolution of a process is directed by a pattern of rules
called a program. People create programs to direct processes. In effect,
we conjure the spirits of the computer with our spells.""".split()
vocab = sorted(set(raw_text))
vocab_size = len(vocab)
word_to_ix = {word: i for i, word in enumerate(vocab)}
ix_to_word = {i: w for w, i in word_to_ix.items()}
data = []
for i in range(CONTEXT_SIZE, len(raw_text) - CONTEXT_SIZE):
    context = (
        [raw_text[i - j - 1] for j in range(CONTEXT_SIZE)]
        + [raw_text[i + j + 1] for j in range(CONTEXT_SIZE)]
    )
    target = raw_text[i]
    data.append((context, target))
print(data[:2])


class CBOW(nn.Module):
    def __init__(self, vocab_size, embedding_dim):
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.proj = nn.Linear(embedding_dim, vocab_size)

    def forward(self, inputs):
        embeds = self.embeddings(inputs).sum(dim=-2)
        return F.log_softmax(self.proj(embeds), dim=-1)


def make_context_vector(context, word_to_ix):
    idxs = [word_to_ix[w] for w in context]
    return torch.tensor(idxs, dtype=torch.long)


print(make_context_vector(data[0][0], word_to_ix))
cbow = CBOW(vocab_size, 16)
np_init(cbow, 0.3)
opt = optim.Adam(cbow.parameters(), lr=0.01)
ctx = torch.stack([make_context_vector(c, word_to_ix) for c, _ in data])
tgt = torch.tensor([word_to_ix[t] for _, t in data])
for epoch in range(40):
    opt.zero_grad()
    log_probs = cbow(ctx)
    loss = F.nll_loss(log_probs, tgt)
    loss.backward()
    opt.step()
    if epoch % 10 == 9:
        acc = (log_probs.argmax(-1) == tgt).float().mean()
        print(f"cbow epoch {epoch + 1} loss {loss.item():.5f} acc {acc.item():.4f}")

with torch.no_grad():
    E = F.normalize(cbow.embeddings.weight, dim=1)
    q = E[word_to_ix["processes"]]
    sims = E @ q
    top = torch.topk(sims, 4)
    print([ix_to_word[i] for i in top.indices.tolist()], top.values)
    pred = cbow(make_context_vector(["are", "We", "to", "study"], word_to_ix))
    print(ix_to_word[pred.argmax().item()], pred.exp().max().item())
    print(torch.exp(pred).sum(), pred.shape)
