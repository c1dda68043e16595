"""d2l's recurrent chapters from scratch: a Counter-built Vocab, seq_data_iter_sequential
minibatches, a hand-written GRU (F.one_hot(X.T, vocab_size), sigmoid/tanh gates, torch.cat of
the outputs) with torch.randn(...) * 0.01 parameters, state.detach_() across batches,
grad_clipping by param.grad[:] *= theta / norm, perplexity by math.exp, greedy predict_ch8."""
# corpus: same-numbers
import collections
import math

import torch
from torch import nn
from torch.nn import functional as F

text = ("the time traveller for so it will be convenient to speak of him was expounding "
        "a recondite matter to us his grey eyes shone and twinkled and his usually pale "
        "face was flushed and animated the fire burned brightly ") * 4
tokens = list(text)


class Vocab:
    """Vocabulary for text."""
    def __init__(self, tokens):
        counter = collections.Counter(tokens)
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = ['<unk>'] + [token for token, _ in self._token_freqs]
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, 0)
        return [self.__getitem__(token) for token in tokens]


vocab = Vocab(tokens)
corpus = [vocab[token] for token in tokens]
print(len(vocab), vocab._token_freqs[:3], corpus[:10])


def seq_data_iter_sequential(corpus, batch_size, num_steps, offset=3):
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        yield Xs[:, i: i + num_steps], Ys[:, i: i + num_steps]


def get_params(vocab_size, num_hiddens):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape) * 0.01

    def three():
        return (normal((num_inputs, num_hiddens)), normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens))

    W_xz, W_hz, b_z = three()  # update gate
    W_xr, W_hr, b_r = three()  # reset gate
    W_xh, W_hh, b_h = three()  # candidate hidden state
    W_hq, b_q = normal((num_hiddens, num_outputs)), torch.zeros(num_outputs)
    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_gru_state(batch_size, num_hiddens):
    return (torch.zeros((batch_size, num_hiddens)), )


def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    """A RNN model implemented from scratch."""
    def __init__(self, vocab_size, num_hiddens, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size):
        return self.init_state(batch_size, self.num_hiddens)


def predict_ch8(prefix, num_preds, net, vocab):
    state = net.begin_state(batch_size=1)
    outputs = [vocab[prefix[0]]]
    get_input = lambda: torch.tensor([outputs[-1]]).reshape((1, 1))  # noqa: E731
    for y in prefix[1:]:
        _, state = net(get_input(), state)
        outputs.append(vocab[y])
    for _ in range(num_preds):
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return ''.join([vocab.idx_to_token[i] for i in outputs])


def grad_clipping(net, theta):
    params = net.params
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
    return norm


torch.manual_seed(0)
num_hiddens, batch_size, num_steps, lr = 32, 4, 10, 2.0
net = RNNModelScratch(len(vocab), num_hiddens, get_params, init_gru_state, gru)
X, Y = next(seq_data_iter_sequential(list(range(35)), batch_size=2, num_steps=5))
Y, new_state = net(X, net.begin_state(X.shape[0]))
print('X:', X, Y.shape, len(new_state), new_state[0].shape)
updater = torch.optim.SGD(net.params, lr)
loss = nn.CrossEntropyLoss()
for epoch in range(8):
    state, metric = None, [0.0, 0]
    for X, Y in seq_data_iter_sequential(corpus, batch_size, num_steps, offset=epoch % 3):
        if state is None:
            state = net.begin_state(batch_size=X.shape[0])
        else:
            for s in state:
                s.detach_()
        y = Y.T.reshape(-1)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        updater.zero_grad()
        l.backward()
        norm = grad_clipping(net, 1)
        updater.step()
        metric[0] += float(l * y.numel())
        metric[1] += y.numel()
    print(f'epoch {epoch + 1}: perplexity {math.exp(metric[0] / metric[1]):.3f}, '
          f'last grad norm {float(norm):.4f}')
print(predict_ch8('the time ', 20, net, vocab))
