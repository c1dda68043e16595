"""Policy gradients as the official REINFORCE / actor-critic examples write them, on a tiny
hand-written "line world" instead of gym: a Policy whose forward returns F.softmax(scores,
dim=1), Categorical(probs) sampled with m.sample() and m.log_prob(action) saved in
policy.saved_log_probs, discounted returns built backwards with returns.insert(0, R),
normalised by (returns - returns.mean()) / (returns.std() + eps), policy_loss as torch.cat(...)
.sum(); then an actor-critic with a shared body, a value head, SavedAction namedtuples,
F.smooth_l1_loss on the values and an entropy bonus; last a Gaussian policy (Normal(mu, std)
with a learned log_std) on a continuous target. Weights from torch.manual_seed."""
# corpus: same-numbers
from collections import namedtuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical, Normal

torch.manual_seed(543)
gamma = 0.99
eps = np.finfo(np.float32).eps.item()


class LineWorld:
    """Positions 0..6, start at 3; action 0 steps left, 1 stays, 2 steps right; 6 pays +1 and
    ends, 0 pays -1 and ends; every step costs 0.01; at most 20 steps."""

    def reset(self):
        self.pos, self.t = 3, 0
        return self.obs()

    def obs(self):
        return np.array([self.pos / 6.0, 1.0 - self.pos / 6.0, self.t / 20.0], dtype=np.float32)

    def step(self, action):
        self.pos += action - 1
        self.t += 1
        done = self.pos in (0, 6) or self.t >= 20
        reward = 1.0 if self.pos == 6 else (-1.0 if self.pos == 0 else -0.01)
        return self.obs(), reward, done


class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(3, 32)
        self.affine2 = nn.Linear(32, 3)
        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1)


policy = Policy()
optimizer = optim.Adam(policy.parameters(), lr=1e-2)
env = LineWorld()


def select_action(state):
    state = torch.from_numpy(state).float().unsqueeze(0)
    probs = policy(state)
    m = Categorical(probs)
    action = m.sample()
    policy.saved_log_probs.append(m.log_prob(action))
    return action.item()


def finish_episode():
    R, returns = 0, []
    for r in policy.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    policy_loss = [-log_prob * R for log_prob, R in zip(policy.saved_log_probs, returns)]
    optimizer.zero_grad()
    policy_loss = torch.cat(policy_loss).sum()
    policy_loss.backward()
    optimizer.step()
    del policy.rewards[:]
    del policy.saved_log_probs[:]
    return policy_loss.item()


running_reward = 0.0
for i_episode in range(1, 31):
    state, ep_reward = env.reset(), 0.0
    for t in range(1, 21):
        action = select_action(state)
        state, reward, done = env.step(action)
        policy.rewards.append(reward)
        ep_reward += reward
        if done:
            break
    running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
    loss = finish_episode()
    if i_episode % 5 == 0:
        print(f"Episode {i_episode}\tLast reward: {ep_reward:.2f}\tAverage reward: "
              f"{running_reward:.4f}\tsteps {t}\tloss {loss:.4f}")

SavedAction = namedtuple("SavedAction", ["log_prob", "value"])


class ActorCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine1 = nn.Linear(3, 32)
        self.action_head = nn.Linear(32, 3)
        self.value_head = nn.Linear(32, 1)
        self.saved_actions, self.rewards = [], []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        return F.softmax(self.action_head(x), dim=-1), self.value_head(x)


model = ActorCritic()
ac_opt = optim.Adam(model.parameters(), lr=3e-2)
for episode in range(1, 21):
    state, entropies = env.reset(), []
    for t in range(20):
        probs, state_value = model(torch.from_numpy(state).float())
        m = Categorical(probs)
        action = m.sample()
        entropies.append(m.entropy())
        model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
        state, reward, done = env.step(action.item())
        model.rewards.append(reward)
        if done:
            break
    R, returns = 0, []
    for r in model.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    policy_losses, value_losses = [], []
    for (log_prob, value), R in zip(model.saved_actions, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
    entropy = torch.stack(entropies).mean()
    ac_opt.zero_grad()
    loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum() - 0.01 * entropy
    loss.backward()
    ac_opt.step()
    if episode % 5 == 0:
        print(f"AC episode {episode}: steps {len(model.rewards)} return {sum(model.rewards):.3f} "
              f"entropy {entropy.item():.4f} loss {loss.item():.4f}")
    del model.rewards[:]
    del model.saved_actions[:]

# A Gaussian policy for a continuous action: reward -(a - 2 * s)^2 (a bandit per state).
mu_net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
log_std = nn.Parameter(torch.zeros(1))
g_opt = optim.SGD(list(mu_net.parameters()) + [log_std], lr=0.02, momentum=0.9)
baseline = 0.0
for it in range(60):
    s = torch.rand(32, 1) * 2 - 1
    dist = Normal(mu_net(s), log_std.exp())
    a = dist.sample()
    reward = -(a - 2 * s).pow(2)
    baseline = 0.9 * baseline + 0.1 * reward.mean().item()
    loss = -(dist.log_prob(a) * (reward - baseline)).mean() - 1e-3 * dist.entropy().mean()
    g_opt.zero_grad()
    loss.backward()
    g_opt.step()
    if it % 15 == 14:
        print(f"gaussian it {it}: reward {reward.mean().item():.4f} std {log_std.exp().item():.4f}"
              f" loss {loss.item():.4f}")
with torch.no_grad():
    s = torch.linspace(-1, 1, 5).unsqueeze(1)
    print("mu(s)", mu_net(s).squeeze(1))
    print("cdf at the target", Normal(mu_net(s), log_std.exp()).cdf(2 * s).squeeze(1))
