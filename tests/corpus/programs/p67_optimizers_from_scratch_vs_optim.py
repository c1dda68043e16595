"""d2l's optimisation chapter: momentum, AdaGrad, RMSProp, Adadelta and Adam written from
scratch with state tensors updated through slice assignment (s[:] = ...) and p[:] -= ...
under torch.no_grad(), each checked against torch.optim on the same model; then options the
recipes mention (RMSprop centered+momentum, Adagrad lr_decay, SGD dampening, maximize=True,
Rprop, ASGD, NAdam/RAdam with decoupled weight decay, optimizer.add_param_group)."""
# corpus: same-numbers
import numpy as np
import torch

rs = np.random.RandomState(9)
X = torch.from_numpy(rs.normal(size=(48, 5)).astype(np.float32))
y = (X @ torch.tensor([[1.0], [-1.0], [2.0], [0.0], [0.5]]) + 0.3).squeeze(1)
init = [rs.normal(0, 0.5, (6, 5)).astype(np.float32), rs.normal(0, 0.5, (6,)).astype(np.float32),
        rs.normal(0, 0.5, (1, 6)).astype(np.float32), np.zeros(1, np.float32)]


def make_params():
    return [torch.tensor(a, requires_grad=True) for a in init]


def forward(params, X):
    W1, b1, W2, b2 = params
    return (torch.tanh(X @ W1.T + b1) @ W2.T + b2).squeeze(1)


def loss_fn(params, i):
    xb, yb = X[i * 12:(i + 1) * 12], y[i * 12:(i + 1) * 12]
    return ((forward(params, xb) - yb) ** 2).mean()


def init_momentum_states(params):
    return [torch.zeros_like(p) for p in params]


def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        with torch.no_grad():
            v[:] = hyperparams['momentum'] * v + p.grad
            p[:] -= hyperparams['lr'] * v
        p.grad.data.zero_()


def init_adagrad_states(params):
    return [torch.zeros_like(p) for p in params]


def adagrad(params, states, hyperparams):
    eps = 1e-10
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] += torch.square(p.grad)
            p[:] -= hyperparams['lr'] * p.grad / (torch.sqrt(s) + eps)
        p.grad.data.zero_()


def init_rmsprop_states(params):
    return [torch.zeros_like(p) for p in params]


def rmsprop(params, states, hyperparams):
    gamma, eps = hyperparams['gamma'], 1e-8
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] = gamma * s + (1 - gamma) * torch.square(p.grad)
            p[:] -= hyperparams['lr'] * p.grad / torch.sqrt(s + eps)
        p.grad.data.zero_()


def init_adadelta_states(params):
    return [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]


def adadelta(params, states, hyperparams):
    rho, eps = hyperparams['rho'], 1e-6
    for p, (s, delta) in zip(params, states):
        with torch.no_grad():
            s[:] = rho * s + (1 - rho) * torch.square(p.grad)
            g = (torch.sqrt(delta + eps) / torch.sqrt(s + eps)) * p.grad
            p[:] -= g
            delta[:] = rho * delta + (1 - rho) * g * g
        p.grad.data.zero_()


def init_adam_states(params):
    return [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]


def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
            v_bias_corr = v / (1 - beta1 ** hyperparams['t'])
            s_bias_corr = s / (1 - beta2 ** hyperparams['t'])
            p[:] -= hyperparams['lr'] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        p.grad.data.zero_()
    hyperparams['t'] += 1


def train_scratch(trainer_fn, states, hyperparams, epochs=5):
    params = make_params()
    st = states(params)
    hist = []
    for epoch in range(epochs):
        for i in range(4):
            l = loss_fn(params, i)
            l.backward()
            trainer_fn(params, st, hyperparams)
        with torch.no_grad():
            hist.append(round(((forward(params, X) - y) ** 2).mean().item(), 5))
    return hist, params


def train_optim(opt_cls, epochs=5, **kwargs):
    params = make_params()
    opt = opt_cls(params, **kwargs)
    hist = []
    for epoch in range(epochs):
        for i in range(4):
            opt.zero_grad()
            l = loss_fn(params, i)
            l.backward()
            opt.step()
        with torch.no_grad():
            hist.append(round(((forward(params, X) - y) ** 2).mean().item(), 5))
    return hist, params, opt


pairs = [
    ("momentum", (sgd_momentum, init_momentum_states, {'lr': 0.02, 'momentum': 0.5}),
     (torch.optim.SGD, dict(lr=0.02, momentum=0.5))),
    ("adagrad", (adagrad, init_adagrad_states, {'lr': 0.1}), (torch.optim.Adagrad, dict(lr=0.1, eps=1e-10))),
    ("rmsprop", (rmsprop, init_rmsprop_states, {'lr': 0.01, 'gamma': 0.9}),
     (torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-8))),
    ("adadelta", (adadelta, init_adadelta_states, {'rho': 0.9}), (torch.optim.Adadelta, dict(lr=1.0, rho=0.9, eps=1e-6))),
    ("adam", (adam, init_adam_states, {'lr': 0.01, 't': 1}), (torch.optim.Adam, dict(lr=0.01))),
]
for name, (fn, st, hp), (cls, kw) in pairs:
    h1, p1 = train_scratch(fn, st, hp)
    h2, p2, _ = train_optim(cls, **kw)
    print(f"{name:9s} scratch {h1}")
    print(f"{name:9s} optim   {h2}  max|dW| {max((a - b).abs().max().item() for a, b in zip(p1, p2)):.2e}")

variants = [
    ("rmsprop centered momentum", torch.optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01)),
    ("adagrad lr_decay", torch.optim.Adagrad, dict(lr=0.2, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.001)),
    ("sgd dampening", torch.optim.SGD, dict(lr=0.03, momentum=0.9, dampening=0.5, weight_decay=1e-3)),
    ("adam maximize neg", torch.optim.Adam, dict(lr=0.01, maximize=False, amsgrad=True, weight_decay=0.01)),
    ("rprop", torch.optim.Rprop, dict(lr=0.01, etas=(0.4, 1.3), step_sizes=(1e-5, 1.0))),
    ("asgd", torch.optim.ASGD, dict(lr=0.05, t0=4, lambd=1e-3)),
    ("nadam decoupled", torch.optim.NAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.004)),
    ("radam decoupled", torch.optim.RAdam, dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True)),
    ("adamax", torch.optim.Adamax, dict(lr=0.02, weight_decay=0.01)),
    ("adamw amsgrad", torch.optim.AdamW, dict(lr=0.02, amsgrad=True, betas=(0.8, 0.9))),
]
for name, cls, kw in variants:
    h, p, opt = train_optim(cls, epochs=6, **kw)
    print(f"{name:26s} {h}")

# maximize=True on the negated loss equals minimising the loss
params = make_params()
opt = torch.optim.SGD(params, lr=0.05, momentum=0.9, maximize=True)
for step in range(8):
    opt.zero_grad()
    (-loss_fn(params, step % 4)).backward()
    opt.step()
print("maximize", round(loss_fn(params, 0).item(), 5))

# add_param_group: start with the first layer, add the second later
params = make_params()
opt = torch.optim.Adam(params[:2], lr=0.01)
for step in range(12):
    if step == 4:
        opt.add_param_group({"params": params[2:], "lr": 0.05})
    opt.zero_grad()
    l = loss_fn(params, step % 4)
    l.backward()
    opt.step()
print("add_param_group", round(l.item(), 5), len(opt.param_groups), [g["lr"] for g in opt.param_groups],
      opt.param_groups[1]["betas"], len(opt.state))
sd = opt.state_dict()
print(sorted(sd["state"].keys()), [g["params"] for g in sd["param_groups"]])
