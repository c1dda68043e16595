"""A GAN learning a 1-D Gaussian mixture with the DCGAN tutorial's training loop: a
weights_init(m) applied with netG.apply that looks at m.__class__.__name__ (the Linear before
BatchNorm1d has bias=False, as DCGAN's layers), labels made with
torch.full((b_size,), real_label, dtype=torch.float) and label.fill_(fake_label), the
discriminator stepped on real and fake.detach(), the generator stepped through netD(fake),
D(x) / D(G(z)) printed from output.mean().item(), Adam with betas=(0.5, 0.999); then a WGAN
critic with RMSprop and weight clipping by p.data.clamp_; checkpoints saved to a temporary
folder with torch.save and loaded with map_location. Noise comes from NumPy."""
# corpus: same-numbers
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

rng = np.random.default_rng(21)
nz, batch_size = 4, 64
real_label, fake_label = 1., 0.


def real_batch(n):
    centers = rng.choice([-2.0, 2.0], size=(n, 1))
    return torch.from_numpy(centers + 0.4 * rng.standard_normal((n, 1))).float()


def noise(n):
    return torch.tensor(rng.standard_normal((n, nz)), dtype=torch.float32)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Linear') != -1:
        m.weight.data = torch.from_numpy(rng.normal(0.0, 0.3, size=tuple(m.weight.shape))).float()
        if m.bias is not None:
            m.bias.data.fill_(0)
    elif classname.find('BatchNorm') != -1:
        m.weight.data.fill_(1.0)
        m.bias.data.fill_(0)


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(nn.Linear(nz, 32, bias=False), nn.BatchNorm1d(32), nn.ReLU(True),
                                  nn.Linear(32, 32), nn.ReLU(True), nn.Linear(32, 1))

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, sigmoid=True):
        super(Discriminator, self).__init__()
        layers = [nn.Linear(1, 32), nn.LeakyReLU(0.2, inplace=True), nn.Linear(32, 1)]
        self.main = nn.Sequential(*layers, *([nn.Sigmoid()] if sigmoid else []))

    def forward(self, input):
        return self.main(input)


netG, netD = Generator(), Discriminator()
netG.apply(weights_init)
netD.apply(weights_init)
print(netG)
criterion = nn.BCELoss()
optimizerD = optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
G_losses, D_losses = [], []
for iters in range(150):
    netD.zero_grad()
    real_cpu = real_batch(batch_size)
    b_size = real_cpu.size(0)
    label = torch.full((b_size,), real_label, dtype=torch.float)
    output = netD(real_cpu).view(-1)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    fake = netG(noise(b_size))
    label.fill_(fake_label)
    output = netD(fake.detach()).view(-1)
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()

    netG.zero_grad()
    label.fill_(real_label)
    output = netD(fake).view(-1)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    G_losses.append(errG.item())
    D_losses.append(errD.item())
    if iters % 30 == 0:
        print('[%d/150]\tLoss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f\tD(G(z)): %.4f / %.4f'
              % (iters, errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))

netG.eval()
with torch.no_grad():
    samples = netG(noise(1000)).squeeze()
print(f"samples mean {samples.mean():.3f} std {samples.std():.3f} "
      f"share > 0 {(samples > 0).float().mean():.3f}")
hist = torch.histc(samples, bins=8, min=-4, max=4)
print(hist.int().tolist(), np.mean(D_losses[-20:]).round(4), np.mean(G_losses[-20:]).round(4))

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "gan.pt")
    torch.save({"netG": netG.state_dict(), "netD": netD.state_dict(),
                "optimizerG": optimizerG.state_dict(), "iters": iters}, path)
    ckpt = torch.load(path, map_location=torch.device("cpu"))
    netG2 = Generator()
    netG2.load_state_dict(ckpt["netG"])
    netG2.eval()
    print(ckpt["iters"], sorted(ckpt.keys()), ckpt["optimizerG"]["param_groups"][0]["betas"])
    z = noise(5)
    print(torch.equal(netG2(z), netG(z)), netG2.main[1].running_mean[:3])

# WGAN: a critic without sigmoid, RMSprop, weights clipped after each critic step
critic = Discriminator(sigmoid=False)
critic.apply(weights_init)
opt_c = optim.RMSprop(critic.parameters(), lr=5e-3)
for it in range(40):
    real, fake = real_batch(64), netG(noise(64)).detach()
    loss_c = critic(fake).mean() - critic(real).mean()
    opt_c.zero_grad()
    loss_c.backward()
    opt_c.step()
    for p in critic.parameters():
        p.data.clamp_(-0.1, 0.1)
    if it % 10 == 0:
        print(f"critic {it}: wasserstein estimate {-loss_c.item():.4f}")
print(max(p.abs().max().item() for p in critic.parameters()) <= 0.1)
