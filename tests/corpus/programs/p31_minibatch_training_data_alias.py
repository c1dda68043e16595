"""Mini-batch training as a popular Chinese tutorial writes it: `import torch.utils.data as
Data`, Data.TensorDataset and Data.DataLoader(dataset=..., batch_size=..., shuffle=True,
num_workers=2), a step loop printing the batch, then a small regression net trained on the
batches."""
# corpus: trains
import torch
import torch.utils.data as Data

torch.manual_seed(1)
BATCH_SIZE = 5
x = torch.linspace(1, 10, 10)
y = torch.linspace(10, 1, 10)
torch_dataset = Data.TensorDataset(x, y)
loader = Data.DataLoader(dataset=torch_dataset, batch_size=BATCH_SIZE, shuffle=True,
                         num_workers=2)
for epoch in range(2):
    for step, (batch_x, batch_y) in enumerate(loader):
        print("Epoch: ", epoch, "| Step: ", step, "| batch sizes: ", len(batch_x), len(batch_y))

features = torch.unsqueeze(torch.linspace(-1, 1, 200), dim=1)
targets = features.pow(3) + 0.1 * torch.normal(torch.zeros(*features.size()))
loader = Data.DataLoader(Data.TensorDataset(features, targets), batch_size=20, shuffle=True)
net = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
loss_func = torch.nn.MSELoss()
for epoch in range(6):
    for step, (b_x, b_y) in enumerate(loader):
        loss = loss_func(net(b_x), b_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        print("epoch", epoch, "full loss", round(loss_func(net(features), targets).item(), 4))
