"""The "Neural Networks" part of the 60-minute blitz with linear layers: list the parameters
and their sizes, backprop a random gradient, an MSELoss against a target reshaped with
view(1, -1), then the hand-written rule f.data.sub_(f.grad.data * learning_rate) and finally
optim.SGD."""
# corpus: trains
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(16 * 2 * 2, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)

    def num_flat_features(self, x):
        size = x.size()[1:]
        num_features = 1
        for s in size:
            num_features *= s
        return num_features


torch.manual_seed(0)
net = Net()
params = list(net.parameters())
print(len(params))
print(params[0].size())

input = torch.randn(1, 16, 2, 2)
out = net(input)
print(out.shape)
net.zero_grad()
out.backward(torch.randn(1, 10))

target = torch.randn(10).view(1, -1)
criterion = nn.MSELoss()
learning_rate = 0.01
for step in range(5):
    net.zero_grad()
    loss = criterion(net(input), target)
    loss.backward()
    print("step", step, "loss", round(loss.item(), 5))
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)

optimizer = optim.SGD(net.parameters(), lr=0.01)
for step in range(5):
    optimizer.zero_grad()
    loss = criterion(net(input), target)
    loss.backward()
    optimizer.step()
print("final loss", round(loss.item(), 5))
