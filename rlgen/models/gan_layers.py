"""Layers from "Improved Techniques for Training GANs" (Salimans et al. 2016, arXiv 1606.03498) and its
relatives: Gaussian-noise layers, minibatch discrimination, minibatch standard deviation, virtual batch
normalisation. Each works on dense (N, F) and conv (N, C, H, W) activations unless its docstring says not.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class GaussianNoise(nn.Module):
    """Add N(0, sigma^2) noise in training mode (the semi-supervised discriminator of Section 5 / the
    original MNIST code: sigma 0.3 on the input, 0.5 after every hidden layer)."""

    def __init__(self, sigma: float):
        super().__init__()
        self.sigma = sigma

    def forward(self, x: Tensor) -> Tensor:
        if self.training and self.sigma > 0:
            return x + self.sigma * torch.randn_like(x)
        return x


class MinibatchDiscrimination(nn.Module):
    """Section 3.2: M_i = f(x_i) T reshaped to (B, C) for a learned tensor T of shape (A, B, C);
    c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_L1); o(x_i)_b = sum_{j != i} c_b(x_i, x_j); the layer returns
    [f(x_i), o(x_i)] (A + B features). Self-pairs are excluded, as the original code does by adding 1e6 to
    the diagonal distances. o is large when a sample has close neighbours in its batch (a collapsed batch),
    which lets the discriminator see the whole minibatch."""

    def __init__(self, in_features: int, kernels: int = 100, kernel_dim: int = 5):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(0.05 * torch.randn(in_features, kernels * kernel_dim))
        self.bias = nn.Parameter(torch.full((kernels,), -1.0))  # the original's init of b

    def closeness(self, f: Tensor) -> Tensor:
        m = (f @ self.T).view(-1, self.kernels, self.kernel_dim)
        l1 = (m[:, None] - m[None]).abs().sum(-1)  # (N, N, B)
        self_pairs = torch.eye(len(f), dtype=torch.bool, device=f.device)[..., None]
        return torch.exp(-l1).masked_fill(self_pairs, 0.0).sum(1)  # (N, B)

    def forward(self, f: Tensor) -> Tensor:
        return torch.cat([f, self.closeness(f) + self.bias], dim=1)


class MinibatchStdDev(nn.Module):
    """Karras et al. 2018 (ProGAN, Section 3): the standard deviation of every feature across the batch,
    averaged into one number, appended as one constant feature (dense) or feature map (conv)."""

    def forward(self, x: Tensor) -> Tensor:
        std = torch.sqrt(x.var(dim=0, unbiased=False) + 1e-8).mean()
        extra = std.expand(x.shape[0], 1, *x.shape[2:])
        return torch.cat([x, extra], dim=1)


class VirtualBatchNorm(nn.Module):
    """Section 3.4: normalise each example with statistics of a fixed reference batch combined with the
    example itself (weight 1/(n+1) for the example, n/(n+1) for the n reference examples).

    The input holds the reference batch's activations in its first ``n_ref`` rows (the network feeds the
    fixed reference inputs through with every batch, as the original code does); those rows are normalised
    with the reference statistics alone. Every other row depends only on itself and the reference rows,
    never on the other examples of its batch."""

    def __init__(self, features: int, n_ref: int, eps: float = 1e-5):
        super().__init__()
        self.n_ref, self.eps = n_ref, eps
        self.gamma = nn.Parameter(torch.ones(features))
        self.beta = nn.Parameter(torch.zeros(features))

    def _shape(self, t: Tensor, x: Tensor) -> Tensor:
        return t.view(*t.shape[:2], *([1] * (x.dim() - 2)))

    def forward(self, x: Tensor) -> Tensor:
        spatial = tuple(range(2, x.dim()))
        # per-example first and second moments (over the spatial positions of conv maps)
        mean1 = x.mean(dim=spatial) if spatial else x
        mean2 = (x * x).mean(dim=spatial) if spatial else x * x
        ref1, ref2 = mean1[: self.n_ref].mean(0, keepdim=True), mean2[: self.n_ref].mean(0, keepdim=True)
        own = 1.0 / (self.n_ref + 1)
        m1 = torch.cat([ref1.expand(self.n_ref, -1), (1 - own) * ref1 + own * mean1[self.n_ref :]])
        m2 = torch.cat([ref2.expand(self.n_ref, -1), (1 - own) * ref2 + own * mean2[self.n_ref :]])
        var = (m2 - m1 * m1).clamp_min(0.0)
        normed = (x - self._shape(m1, x)) / torch.sqrt(self._shape(var, x) + self.eps)
        return normed * self._shape(self.gamma[None], x) + self._shape(self.beta[None], x)
