"""Data-dependent initialisation, one mechanism for ActNorm and weight normalisation.

A :class:`DataDependentInit` module sets some parameters from the first batch it sees in training mode
(``initialize``) and records that in a buffer, so a loaded checkpoint is never re-initialised.
- ActNorm (Kingma & Dhariwal 2018, Glow, Section 3.1): per-channel scale and bias such that the first
  batch's activations have zero mean and unit variance per channel.
- Weight normalisation (Salimans & Kingma 2016, Section 2 for w = g v / ||v||, Section 3 for the
  initialisation): g and b such that the first batch's pre-activations have zero mean and unit variance.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class DataDependentInit(nn.Module):
    """Calls ``initialize(x)`` (under no_grad) on the first training-mode forward, then never again."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("initialized", torch.tensor(False))

    def initialize(self, x: Tensor) -> None:
        raise NotImplementedError

    def maybe_initialize(self, x: Tensor) -> None:
        if self.training and not bool(self.initialized):
            with torch.no_grad():
                self.initialize(x)
            self.initialized.fill_(True)


class ActNorm(DataDependentInit):
    """y = (x + bias) * exp(log_scale) per channel of (B, C, H, W); log|det| = H * W * sum(log_scale)."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def initialize(self, x: Tensor) -> None:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        std = x.std(dim=(0, 2, 3), keepdim=True, unbiased=False)
        self.bias.copy_(-mean)
        self.log_scale.copy_(-torch.log(std + 1e-6))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        self.maybe_initialize(x)
        log_det = self.log_scale.sum() * x.shape[2] * x.shape[3]
        return (x + self.bias) * torch.exp(self.log_scale), log_det.expand(x.shape[0])

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        log_det = self.log_scale.sum() * y.shape[2] * y.shape[3]
        return y * torch.exp(-self.log_scale) - self.bias, -log_det.expand(y.shape[0])


class _WeightNorm(DataDependentInit):
    """w = g * v / ||v|| (norm over all but the output dimension), plus bias; data-dependent g and b.

    ``train_scale=False`` freezes g after the data-dependent initialisation (a buffer, not a parameter), as
    the hidden layers of the original improved-GAN code do (``nn.DenseLayer(train_scale=False)``): the layer
    can then not grow its activations to drown the noise layers that follow it."""

    def __init__(self, weight_shape: tuple[int, ...], train_scale: bool = True):
        super().__init__()
        self.v = nn.Parameter(torch.randn(weight_shape) * 0.05)
        if train_scale:
            self.g = nn.Parameter(torch.ones(weight_shape[0]))
        else:
            self.register_buffer("g", torch.ones(weight_shape[0]))
        self.bias = nn.Parameter(torch.zeros(weight_shape[0]))

    def weight(self) -> Tensor:
        norm = self.v.flatten(1).norm(dim=1).clamp_min(1e-12)
        return self.v * (self.g / norm).view(-1, *([1] * (self.v.dim() - 1)))

    def apply_weight(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        raise NotImplementedError

    def initialize(self, x: Tensor) -> None:
        self.g.fill_(1.0)
        t = self.apply_weight(x, self.weight(), None)
        dims = [d for d in range(t.dim()) if d != 1]
        mean, std = t.mean(dim=dims), t.std(dim=dims, unbiased=False) + 1e-6
        self.g.copy_(1.0 / std)
        self.bias.copy_(-mean / std)

    def forward(self, x: Tensor) -> Tensor:
        self.maybe_initialize(x)
        return self.apply_weight(x, self.weight(), self.bias)


class WNLinear(_WeightNorm):
    """Weight-normalised linear layer."""

    def __init__(self, in_features: int, out_features: int, train_scale: bool = True):
        super().__init__((out_features, in_features), train_scale)

    def apply_weight(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        return F.linear(x, weight, bias)


class WNConv2d(_WeightNorm):
    """Weight-normalised 2-d convolution (``padding`` as in ``nn.Conv2d``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 train_scale: bool = True):  # fmt: skip
        super().__init__((out_channels, in_channels, kernel_size, kernel_size), train_scale)
        self.stride, self.padding = stride, padding

    def apply_weight(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        return F.conv2d(x, weight, bias, stride=self.stride, padding=self.padding)
