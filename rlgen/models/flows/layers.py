"""Volume-changing and reshaping flow layers: squeeze, invertible 1x1 convolution (plain and LU)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Squeeze(nn.Module):
    """(B, C, H, W) -> (B, 4C, H/2, W/2), each 2x2 block to channels (Dinh et al. 2017, Section 3.6); det 1."""

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        b, c, h, w = x.shape
        if h % 2 or w % 2:
            raise ValueError(f"squeeze needs even height and width, got {h}x{w}")
        y = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h // 2, w // 2)
        return y, x.new_zeros(b)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        b, c4, h, w = y.shape
        c = c4 // 4
        x = y.view(b, c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(b, c, 2 * h, 2 * w)
        return x, y.new_zeros(b)


class InvConv1x1(nn.Module):
    """Invertible 1x1 convolution y = W x per pixel (Kingma & Dhariwal 2018, Section 3.2):
    log|det| = H * W * log|det W|; W starts as a random rotation.

    With ``lu=True`` (Section 3.2, "LU decomposition"), W = P L (U + diag(sign(s) * exp(log|s|))) with P
    fixed, L unit lower-triangular and U strictly upper-triangular, so log|det W| = sum(log|s|): O(C)
    instead of O(C^3).
    """

    def __init__(self, channels: int, lu: bool = False):
        super().__init__()
        self.lu = lu
        q = torch.linalg.qr(torch.randn(channels, channels))[0]
        if not lu:
            self.weight = nn.Parameter(q)
            return
        p, lower, upper = torch.linalg.lu(q)
        s = torch.diagonal(upper)
        self.register_buffer("p", p)
        self.register_buffer("sign_s", torch.sign(s))
        self.register_buffer("lower_mask", torch.tril(torch.ones(channels, channels), -1))
        self.register_buffer("eye", torch.eye(channels))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(torch.abs(s)))

    def _weight_and_logdet(self) -> tuple[Tensor, Tensor]:
        if not self.lu:
            return self.weight, torch.linalg.slogdet(self.weight)[1]
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * torch.exp(self.log_s))
        return self.p @ lower @ upper, self.log_s.sum()

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        weight, log_det = self._weight_and_logdet()
        pixels = x.shape[2] * x.shape[3]
        return F.conv2d(x, weight[:, :, None, None]), (log_det * pixels).expand(x.shape[0])

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        weight, log_det = self._weight_and_logdet()
        pixels = y.shape[2] * y.shape[3]
        return F.conv2d(y, torch.linalg.inv(weight)[:, :, None, None]), (-log_det * pixels).expand(y.shape[0])
