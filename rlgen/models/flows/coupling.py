"""Coupling layers (affine and additive; channel halves or checkerboard) and their networks, optionally
one network shared by all the steps of a level.

Affine coupling (Kingma & Dhariwal 2018, Glow, Table 1 and the released code): split x into (x_a, x_b);
(shift, h) = NN(x_a); scale = sigmoid(h + 2); y_b = (x_b + shift) * scale; log|det| = sum log scale.
The sigmoid keeps scale in (0, 1) and starts it near 0.88, which trains more stably than RealNVP's
exp(tanh(.)) (Dinh et al. 2017, Eq. 7-8); we use it for RealNVP's couplings too and say so in
``multiscale.py``. The network's last layer is zero-initialised (Glow, Section 3.3), so every coupling
starts as (almost) the identity. Additive coupling (NICE; Glow's "additive" variant): y_b = x_b + NN(x_a).

Shared coupling (``SharedCouplingNet``): one network serves all K steps of a level; each step adds its own
learned embedding as extra input channels (cf. NanoFlow, Lee et al. 2020, arXiv 2006.06280, Section 3.2,
"flow indication embedding"), cutting the coupling parameters ~K-fold. With ``step_heads`` each step also
keeps its own output layer, a zero-initialised 1x1 convolution on the shared features (NanoFlow keeps the
small per-flow projection layers separate and shares the large body); it costs hidden x out parameters per
step and gives the steps a handle on their own (shift, scale) that an input embedding alone lacks.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def zero_conv(in_channels: int, out_channels: int, kernel: int = 3) -> nn.Conv2d:
    conv = nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class CouplingNet(nn.Module):
    """Glow's NN(): conv3x3 -> ReLU -> conv1x1 -> ReLU -> zero-initialised conv3x3."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int, embed_channels: int = 0, head: bool = True):
        super().__init__()
        body = [nn.Conv2d(in_channels + embed_channels, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, hidden, 1)]
        self.net = nn.Sequential(*body, nn.ReLU(), *([zero_conv(hidden, out_channels)] if head else []))

    def forward(self, x: Tensor, step: int = 0) -> Tensor:
        return self.net(x)


class SharedCouplingNet(CouplingNet):
    """One ``CouplingNet`` for ``n_steps`` flow steps; step k concatenates its embedding e_k to the input and,
    with ``step_heads``, ends in its own zero-initialised 1x1 output layer instead of the shared one."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int, n_steps: int, embed_channels: int = 4,
                 step_heads: bool = False):  # fmt: skip
        super().__init__(in_channels, out_channels, hidden, embed_channels, head=not step_heads)
        self.embeddings = nn.Parameter(torch.randn(n_steps, embed_channels) * 0.1)
        heads = [zero_conv(hidden, out_channels, kernel=1) for _ in range(n_steps)] if step_heads else []
        self.heads = nn.ModuleList(heads)

    def forward(self, x: Tensor, step: int = 0) -> Tensor:
        b, _, h, w = x.shape
        embedding = self.embeddings[step].view(1, -1, 1, 1).expand(b, -1, h, w)
        features = self.net(torch.cat([x, embedding], dim=1))
        return self.heads[step](features) if len(self.heads) else features


def split_channels(channels: int) -> tuple[int, int]:
    """Sizes of (x_a, x_b): x_a conditions, x_b is transformed."""
    return channels // 2, channels - channels // 2


class ChannelCoupling(nn.Module):
    """Coupling on channel halves; ``affine`` (sigmoid scale) or additive. ``flip`` swaps the halves'
    roles (RealNVP alternates them; Glow's 1x1 convolutions make that unnecessary)."""

    def __init__(self, channels: int, net: nn.Module, step: int = 0, affine: bool = True, flip: bool = False):
        super().__init__()
        self.net, self.step, self.affine, self.flip = net, step, affine, flip
        self.sizes = split_channels(channels)
        if flip:
            self.sizes = self.sizes[::-1]

    @staticmethod
    def net_channels(channels: int, affine: bool) -> tuple[int, int]:
        """(input, output) channels the coupling network needs (the same with or without ``flip``)."""
        a, b = split_channels(channels)
        if a != b:
            raise ValueError(f"channel coupling needs an even number of channels, got {channels}")
        return a, 2 * b if affine else b

    def _halves(self, x: Tensor) -> tuple[Tensor, Tensor]:
        first, second = x.split(self.sizes, dim=1)
        return (second, first) if self.flip else (first, second)

    def _join(self, xa: Tensor, xb: Tensor) -> Tensor:
        return torch.cat([xb, xa] if self.flip else [xa, xb], dim=1)

    def _shift_scale(self, xa: Tensor) -> tuple[Tensor, Tensor | None]:
        h = self.net(xa, self.step)
        if not self.affine:
            return h, None
        shift, raw = h[:, 0::2], h[:, 1::2]
        return shift, torch.sigmoid(raw + 2.0)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        xa, xb = self._halves(x)
        shift, scale = self._shift_scale(xa)
        if scale is None:
            return self._join(xa, xb + shift), x.new_zeros(x.shape[0])
        return self._join(xa, (xb + shift) * scale), torch.log(scale).flatten(1).sum(1)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        ya, yb = self._halves(y)
        shift, scale = self._shift_scale(ya)
        if scale is None:
            return self._join(ya, yb - shift), y.new_zeros(y.shape[0])
        return self._join(ya, yb / scale - shift), -torch.log(scale).flatten(1).sum(1)


def checkerboard(height: int, width: int, parity: int) -> Tensor:
    """1 where (i + j + parity) is even: the pixels that condition (Dinh et al. 2017, Figure 3)."""
    i, j = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return ((i + j + parity) % 2 == 0).float().view(1, 1, height, width)


class CheckerboardCoupling(nn.Module):
    """RealNVP's spatial coupling (Dinh et al. 2017, Eq. 9): y = b*x + (1-b)*((x + shift) * scale) with
    (shift, scale) computed from b*x, b a checkerboard; log|det| sums log scale over the (1-b) pixels."""

    def __init__(self, channels: int, height: int, width: int, net: nn.Module, parity: int, step: int = 0):
        super().__init__()
        self.net, self.step = net, step
        self.register_buffer("mask", checkerboard(height, width, parity))

    @staticmethod
    def net_channels(channels: int) -> tuple[int, int]:
        return channels, 2 * channels

    def _shift_scale(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.net(x * self.mask, self.step)
        shift, raw = h[:, 0::2], h[:, 1::2]
        return shift, torch.sigmoid(raw + 2.0)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        shift, scale = self._shift_scale(x)
        keep = 1 - self.mask
        y = self.mask * x + keep * ((x + shift) * scale)
        return y, (keep * torch.log(scale)).flatten(1).sum(1)

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        shift, scale = self._shift_scale(y)
        keep = 1 - self.mask
        x = self.mask * y + keep * (y / scale - shift)
        return x, -(keep * torch.log(scale)).flatten(1).sum(1)
