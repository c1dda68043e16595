"""Linear regression three ways, as introductory tutorials compare them: the normal equations
(torch.linalg.inv, solve, cholesky), least squares (lstsq, pinv) and a Linear layer trained
by gradient descent; then PCA by eigh and by SVD (explained variance, reconstruction), ridge
regression's solution path, and a Mahalanobis distance with a Cholesky factor."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(50)
n, d = 200, 5
mixing = torch.from_numpy(rng.standard_normal((d, d)))
X = torch.from_numpy(rng.standard_normal((n, d))) @ mixing * 0.5
true_w = torch.tensor([1.5, -2.0, 0.0, 0.7, 3.0])
y = X @ true_w + 0.3 + 0.1 * torch.from_numpy(rng.standard_normal(n))
Xb = torch.cat([X, torch.ones(n, 1)], dim=1)

w_inv = torch.linalg.inv(Xb.T @ Xb) @ Xb.T @ y
w_solve = torch.linalg.solve(Xb.T @ Xb, Xb.T @ y)
L = torch.linalg.cholesky(Xb.T @ Xb)
w_chol = torch.cholesky_solve((Xb.T @ y).unsqueeze(1), L).squeeze(1)
w_lstsq = torch.linalg.lstsq(Xb, y.unsqueeze(1)).solution.squeeze(1)
w_pinv = torch.linalg.pinv(Xb) @ y
print("normal equations:", [round(v, 6) for v in w_solve.tolist()])
for name, w in (("inv", w_inv), ("cholesky", w_chol), ("lstsq", w_lstsq), ("pinv", w_pinv)):
    print(f"{name} agrees to 1e-9: {(w - w_solve).abs().max().item() < 1e-9}")
print("rank:", torch.linalg.matrix_rank(Xb).item(), "condition:",
      round(torch.linalg.cond(Xb).item(), 4))
print("det of the Gram matrix:", round(torch.linalg.slogdet(Xb.T @ Xb).logabsdet.item(), 6))

model = nn.Linear(d, 1)
with torch.no_grad():
    model.weight.zero_()
    model.bias.zero_()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
for epoch in range(300):
    optimizer.zero_grad()
    loss = ((model(X).squeeze(1) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    if epoch % 100 == 0:
        print(f"epoch {epoch}: loss {loss.item():.6f}")
gap = torch.cat([model.weight.squeeze(0), model.bias]) - w_solve
print("gradient descent vs closed form:", round(gap.norm().item(), 5))

centred = X - X.mean(0)
covariance = centred.T @ centred / (n - 1)
values, vectors = torch.linalg.eigh(covariance)
explained = values.flip(0) / values.sum()
print("explained variance:", [round(v, 6) for v in explained.tolist()])
S = torch.linalg.svdvals(centred)
print("svd agrees:", torch.allclose(S ** 2 / (n - 1), values.flip(0)))
top = vectors[:, -2:]
reconstruction = centred @ top @ top.T
print("rank-2 reconstruction error:", round((centred - reconstruction).norm().item(), 6))
print("Frobenius and nuclear norms:", round(torch.linalg.matrix_norm(centred).item(), 6),
      round(torch.linalg.matrix_norm(centred, "nuc").item(), 6))

for lam in (0.1, 10.0, 1000.0):
    ridge = torch.linalg.solve(Xb.T @ Xb + lam * torch.eye(d + 1), Xb.T @ y)
    print(f"ridge {lam}: norm {ridge.norm().item():.6f}")

L = torch.linalg.cholesky(covariance)
z = torch.linalg.solve_triangular(L, centred[:5].T, upper=False)
print("Mahalanobis distances:", [round(v, 6) for v in z.norm(dim=0).tolist()])
print("matrix exp trace:", round(torch.linalg.matrix_exp(covariance * 0.1).trace().item(), 6),
      "power:", round(torch.linalg.matrix_power(covariance, 3).trace().item(), 4))
