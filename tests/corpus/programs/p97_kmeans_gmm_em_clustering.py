"""Clustering with tensors, as the "k-means / GMM in PyTorch" blog posts write it: k-means++
seeding with torch.multinomial on squared distances, Lloyd iterations with torch.cdist, argmin
and index_add_ / bincount centroid updates until torch.allclose says they stopped; then a
Gaussian mixture fitted by EM: responsibilities from MultivariateNormal(means, covs) batched
log_prob and torch.logsumexp, covariances from einsum with a jitter on the diagonal, the
log-likelihood printed per step; sampling from the fitted mixture with Categorical and
MultivariateNormal(scale_tril=...), the silhouette score by hand checked against sklearn.
Points from scikit-learn's make_blobs; draws from torch.manual_seed."""
# corpus: same-numbers
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, silhouette_score
from torch.distributions import Categorical, MultivariateNormal

torch.manual_seed(2024)
X_np, y_np = make_blobs(n_samples=300, centers=[[-2, 0], [2, 1], [0, 3]], cluster_std=[0.6, 0.8, 0.5],
                        random_state=97)
X = torch.from_numpy(X_np)  # float64
K = 3


def kmeans_pp(X, k):
    centers = [X[torch.randint(len(X), (1,)).item()]]
    for _ in range(1, k):
        d2 = torch.cdist(X, torch.stack(centers)).min(dim=1).values ** 2
        idx = torch.multinomial(d2 / d2.sum(), 1).item()
        centers.append(X[idx])
    return torch.stack(centers)


def kmeans(X, k, iters=20):
    centers = kmeans_pp(X, k)
    for it in range(iters):
        labels = torch.cdist(X, centers).argmin(dim=1)
        sums = torch.zeros_like(centers).index_add_(0, labels, X)
        counts = torch.bincount(labels, minlength=k).unsqueeze(1)
        new_centers = sums / counts.clamp(min=1)
        inertia = ((X - new_centers[labels]) ** 2).sum()
        if torch.allclose(new_centers, centers):
            return new_centers, labels, it, inertia
        centers = new_centers
    return centers, labels, iters, inertia


centers, labels, n_iter, inertia = kmeans(X, K)
order = centers[:, 0].argsort()
print("k-means converged after", n_iter, "iterations, inertia", round(inertia.item(), 6))
print("centers\n", centers[order])
print("sizes", torch.bincount(labels).sort().values.tolist(),
      "ARI", round(adjusted_rand_score(y_np, labels.numpy()), 6))

# Gaussian mixture by EM, started from k-means.
means = centers.clone()
covs = torch.stack([torch.eye(2, dtype=torch.float64)] * K)
weights = torch.full((K,), 1.0 / K, dtype=torch.float64)
prev = -float("inf")
for step in range(30):
    comp = MultivariateNormal(means, covariance_matrix=covs)
    log_p = comp.log_prob(X.unsqueeze(1)) + weights.log()  # [N, K]
    log_lik = torch.logsumexp(log_p, dim=1)
    resp = (log_p - log_lik.unsqueeze(1)).exp()
    Nk = resp.sum(0)
    weights = Nk / len(X)
    means = (resp.T @ X) / Nk.unsqueeze(1)
    diff = X.unsqueeze(1) - means  # [N, K, 2]
    covs = torch.einsum("nk,nki,nkj->kij", resp, diff, diff) / Nk[:, None, None]
    covs = covs + 1e-6 * torch.eye(2, dtype=torch.float64)
    ll = log_lik.mean().item()
    if step % 5 == 0:
        print(f"EM step {step}: mean log-likelihood {ll:.8f}")
    if ll - prev < 1e-9:
        break
    prev = ll
order = means[:, 0].argsort()
print("stopped at step", step)
print("weights", weights[order], "\nmeans", means[order], "\ncovariances", covs[order])
gmm_labels = resp.argmax(1)
print("GMM ARI", round(adjusted_rand_score(y_np, gmm_labels.numpy()), 6))
print("entropy of responsibilities", Categorical(probs=resp).entropy().mean().item())

# Sampling from the fitted mixture.
scale_tril = torch.linalg.cholesky(covs)
mix = Categorical(probs=weights)
z = mix.sample((500,))
samples = MultivariateNormal(means[z], scale_tril=scale_tril[z]).sample()
print("sample mean", samples.mean(0), "data mean", X.mean(0))
print("sample counts", torch.bincount(z, minlength=K)[order])
print("log_prob of the first samples", MultivariateNormal(means, scale_tril=scale_tril)
      .log_prob(samples[:3].unsqueeze(1)))


def silhouette(X, labels):
    D = torch.cdist(X, X)
    same = labels[:, None] == labels[None, :]
    a = (D * same).sum(1) / (same.sum(1) - 1)
    b = torch.full((len(X),), float("inf"), dtype=X.dtype)
    for k in labels.unique():
        in_k = labels == k
        mean_to_k = D[:, in_k].mean(1)
        b = torch.where(in_k, b, torch.minimum(b, mean_to_k))
    return ((b - a) / torch.maximum(a, b)).mean()


print("silhouette by hand", round(silhouette(X, labels).item(), 6),
      "sklearn", round(float(silhouette_score(X_np, labels.numpy())), 6))
