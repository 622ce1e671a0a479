"""Running mean/variance standardisation of model inputs and targets, saved in the module's state dict."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RunningStandardizer(nn.Module):
    """Tracks the mean and variance of everything passed to :meth:`update` (Chan et al. parallel update)
    and maps x to (x - mean) / sqrt(var + eps). Statistics are buffers, so they travel with ``state_dict``.
    """

    def __init__(self, dim: int, eps: float = 1e-8):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim, dtype=torch.float64))
        self.register_buffer("var", torch.ones(dim, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.eps = eps

    @torch.no_grad()
    def update(self, batch: Tensor) -> None:
        batch = batch.reshape(-1, self.mean.shape[0]).to(torch.float64)
        n = batch.shape[0]
        if n == 0:
            return
        batch_mean, batch_var = batch.mean(0), batch.var(0, unbiased=False)
        total = self.count + n
        delta = batch_mean - self.mean
        m2 = self.var * self.count + batch_var * n + delta.pow(2) * self.count * n / total
        self.mean.add_(delta * n / total)
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def forward(self, x: Tensor) -> Tensor:
        return ((x - self.mean.to(x.dtype)) / torch.sqrt(self.var.to(x.dtype) + self.eps)).to(x.dtype)

    def inverse(self, z: Tensor) -> Tensor:
        return z * torch.sqrt(self.var.to(z.dtype) + self.eps) + self.mean.to(z.dtype)
