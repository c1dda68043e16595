"""Deep Q-learning as the official reinforcement-learning tutorial writes it, on a tiny
"chain walk" environment instead of gym: a namedtuple Transition and a deque ReplayMemory
sampled with Python's random, epsilon-greedy actions with math.exp decay, policy and target
networks, batch = Transition(*zip(*transitions)), a non_final_mask of the next states,
gather(1, action_batch), max(1).values under no_grad, SmoothL1Loss, in-place gradient clipping
with clip_grad_value_, AdamW(amsgrad=True) and a soft update of the target's state_dict."""
# corpus: same-numbers
import math
import random
from collections import deque, namedtuple

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

random.seed(0)
rng = np.random.default_rng(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
N_STATES, N_ACTIONS = 6, 2


class ChainWalk:
    """States 0..5; action 1 moves right, 0 left; reaching 5 pays 1 and ends, 0 pays 0.1."""

    def reset(self):
        self.pos = 2
        return self.observe()

    def observe(self):
        obs = np.zeros(N_STATES, dtype=np.float32)
        obs[self.pos] = 1.0
        return obs

    def step(self, action):
        self.pos = max(0, min(N_STATES - 1, self.pos + (1 if action == 1 else -1)))
        reward = 1.0 if self.pos == N_STATES - 1 else (0.1 if self.pos == 0 else 0.0)
        return self.observe(), reward, self.pos in (0, N_STATES - 1)


Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))


class ReplayMemory:
    def __init__(self, capacity):
        self.memory = deque([], maxlen=capacity)

    def push(self, *args):
        self.memory.append(Transition(*args))

    def sample(self, batch_size):
        return random.sample(self.memory, batch_size)

    def __len__(self):
        return len(self.memory)


class DQN(nn.Module):
    def __init__(self, n_observations, n_actions):
        super(DQN, self).__init__()
        self.layer1 = nn.Linear(n_observations, 32)
        self.layer2 = nn.Linear(32, 32)
        self.layer3 = nn.Linear(32, n_actions)

    def forward(self, x):
        x = torch.relu(self.layer1(x))
        x = torch.relu(self.layer2(x))
        return self.layer3(x)


BATCH_SIZE, GAMMA, EPS_START, EPS_END, EPS_DECAY, TAU, LR = 16, 0.9, 0.9, 0.05, 100, 0.05, 3e-3
policy_net = DQN(N_STATES, N_ACTIONS).to(device)
init = {k: torch.from_numpy(rng.normal(0, 0.3, tuple(v.shape)).astype(np.float32))
        for k, v in policy_net.state_dict().items()}
policy_net.load_state_dict(init)
target_net = DQN(N_STATES, N_ACTIONS).to(device)
target_net.load_state_dict(policy_net.state_dict())
optimizer = optim.AdamW(policy_net.parameters(), lr=LR, amsgrad=True)
memory = ReplayMemory(500)
steps_done = 0


def select_action(state):
    global steps_done
    sample = random.random()
    eps_threshold = EPS_END + (EPS_START - EPS_END) * math.exp(-1. * steps_done / EPS_DECAY)
    steps_done += 1
    if sample > eps_threshold:
        with torch.no_grad():
            return policy_net(state).max(1).indices.view(1, 1)
    return torch.tensor([[random.randrange(N_ACTIONS)]], device=device, dtype=torch.long)


def optimize_model():
    if len(memory) < BATCH_SIZE:
        return None
    batch = Transition(*zip(*memory.sample(BATCH_SIZE)))
    non_final_mask = torch.tensor(tuple(map(lambda s: s is not None, batch.next_state)),
                                  device=device, dtype=torch.bool)
    non_final_next_states = torch.cat([s for s in batch.next_state if s is not None])
    state_batch = torch.cat(batch.state)
    action_batch = torch.cat(batch.action)
    reward_batch = torch.cat(batch.reward)
    state_action_values = policy_net(state_batch).gather(1, action_batch)
    next_state_values = torch.zeros(BATCH_SIZE, device=device)
    with torch.no_grad():
        next_state_values[non_final_mask] = target_net(non_final_next_states).max(1).values
    expected_state_action_values = (next_state_values * GAMMA) + reward_batch
    criterion = nn.SmoothL1Loss()
    loss = criterion(state_action_values, expected_state_action_values.unsqueeze(1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
    optimizer.step()
    return loss.item()


env = ChainWalk()
episode_durations, losses = [], []
for i_episode in range(40):
    state = torch.tensor(env.reset(), dtype=torch.float32, device=device).unsqueeze(0)
    for t in range(30):
        action = select_action(state)
        observation, reward, terminated = env.step(action.item())
        reward = torch.tensor([reward], device=device)
        next_state = None if terminated else torch.tensor(observation, device=device).unsqueeze(0)
        memory.push(state, action, next_state, reward)
        state = next_state
        loss = optimize_model()
        if loss is not None:
            losses.append(loss)
        target_net_state_dict = target_net.state_dict()
        policy_net_state_dict = policy_net.state_dict()
        for key in policy_net_state_dict:
            target_net_state_dict[key] = policy_net_state_dict[key] * TAU + target_net_state_dict[key] * (1 - TAU)
        target_net.load_state_dict(target_net_state_dict)
        if terminated:
            episode_durations.append(t + 1)
            break
    else:
        episode_durations.append(30)
    if i_episode % 8 == 7:
        recent = losses[-20:]
        print(f"episode {i_episode + 1}: mean duration {np.mean(episode_durations[-8:]):.2f} "
              f"loss {sum(recent) / max(len(recent), 1):.5f} steps {steps_done}")

with torch.no_grad():
    q = policy_net(torch.eye(N_STATES))
print(q)
print("greedy actions", q.argmax(dim=1).tolist(), "values", q.max(dim=1)[0].numpy().round(3))
durations_t = torch.tensor(episode_durations, dtype=torch.float)
means = durations_t.unfold(0, 10, 1).mean(1).view(-1)
print("running mean of durations", means[::5].tolist())
print(torch.allclose(target_net.layer3.bias, policy_net.layer3.bias, atol=0.5), len(memory))
