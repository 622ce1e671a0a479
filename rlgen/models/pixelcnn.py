"""Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders").

Two stacks per layer (Section 2.1): the vertical stack sees every pixel in the rows above, the horizontal
stack the pixels to the left in the current row and, through a 1x1 link, the vertical stack; together
they cover the whole causal context, so there is no blind spot. We build the stacks with PixelCNN++'s
shifted convolutions (Salimans et al. 2017, Section 2.5) instead of masked n x n kernels: the same
receptive field with no wasted (masked) weights. Gated activation (Eq. 2):
y = tanh(W_f * x + V_f c) * sigmoid(W_g * x + V_g c), conditioned (Section 2.3, Eq. 4-5) on a vector c (a
class embedding or a latent z: V c is added everywhere) and/or a spatial map s (a 1x1 conv V * s is added
per position); the horizontal stack has a residual connection (Figure 2).

The output head is any of ``rlgen.models.likelihoods``: a categorical softmax over the levels (the paper)
or a discretised logistic mixture (PixelCNN++). The channels of one pixel are predicted together from the
previous pixels; only the mixture head couples them (linearly, as PixelCNN++).

A small PixelCNN with few layers has a local receptive field (``receptive_field``): as the decoder of a
VAE (PixelVAE, Gulrajani et al. 2017; VLAE, Chen et al. 2017) it can model texture but not the global
layout, so the latent z has to carry it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rlgen.models.likelihoods import bits_per_dim, make_head, to_unit
from rlgen.models.masked import DownRightShiftedConv2d, DownShiftedConv2d, down_shift, right_shift


def gate(x: Tensor) -> Tensor:
    """tanh(first half) * sigmoid(second half) over channels (Eq. 2)."""
    f, g = x.chunk(2, dim=1)
    return torch.tanh(f) * torch.sigmoid(g)


class GatedLayer(nn.Module):
    """One gated layer with vertical and horizontal stacks and optional vector/spatial conditioning."""

    def __init__(self, channels: int, kernel: int = 3, cond_dim: int = 0, spatial_channels: int = 0):
        super().__init__()
        self.vertical = DownShiftedConv2d(channels, 2 * channels, (kernel // 2 + 1, kernel))
        self.horizontal = DownRightShiftedConv2d(channels, 2 * channels, (1, kernel // 2 + 1))
        self.link = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.residual = nn.Conv2d(channels, channels, 1)
        self.cond = nn.Linear(cond_dim, 4 * channels, bias=False) if cond_dim else None
        self.spatial = nn.Conv2d(spatial_channels, 4 * channels, 1, bias=False) if spatial_channels else None

    def forward(self, v: Tensor, h: Tensor, cond: Tensor | None, spatial: Tensor | None) -> tuple[Tensor, Tensor]:
        v_pre = self.vertical(v)  # v sees rows above only, so v_pre may feed the current row directly
        h_pre = self.horizontal(h) + self.link(v_pre)
        extra = 0.0
        if self.cond is not None:
            extra = extra + self.cond(cond)[:, :, None, None]
        if self.spatial is not None:
            extra = extra + self.spatial(spatial)
        if not isinstance(extra, float):
            v_extra, h_extra = extra.chunk(2, dim=1)
            v_pre, h_pre = v_pre + v_extra, h_pre + h_extra
        return gate(v_pre), h + self.residual(gate(h_pre))


class PixelCNN(nn.Module):
    """p(x | c) = prod_i p(x_i | x_<i, c) over pixels in raster order, for integer images of ``levels``."""

    def __init__(
        self,
        image_shape: Sequence[int],
        levels: int,
        *,
        channels: int = 64,
        n_layers: int = 8,
        kernel: int = 3,
        likelihood: str = "categorical",
        components: int = 5,
        cond_dim: int = 0,
        n_classes: int = 0,
        spatial_channels: int = 0,
    ):
        super().__init__()
        self.image_shape, self.levels = tuple(image_shape), levels
        in_ch = image_shape[0]
        kwargs = {"components": components} if likelihood == "logistic_mixture" else {}
        self.head = make_head(likelihood, levels, **kwargs)
        self.class_embedding = nn.Embedding(n_classes, cond_dim or channels) if n_classes else None
        total_cond = (cond_dim or channels) if n_classes else cond_dim
        self.first_v = DownShiftedConv2d(in_ch, channels, (kernel // 2 + 1, kernel))
        self.first_h = DownRightShiftedConv2d(in_ch, channels, (1, kernel // 2 + 1))
        self.layers = nn.ModuleList(GatedLayer(channels, kernel, total_cond, spatial_channels) for _ in range(n_layers))
        self.out = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
            nn.Conv2d(channels, self.head.param_channels(in_ch), 1),
        )  # fmt: skip
        self.kernel, self.n_layers = kernel, n_layers

    @property
    def dims(self) -> int:
        return math.prod(self.image_shape)

    @property
    def receptive_field(self) -> tuple[int, int]:
        """(rows above, columns either side) the vertical stack can see at the last layer: each of the n_layers
        + 1 vertical convolutions reaches kernel // 2 rows further up, and the down-shift one more row."""
        reach = (self.kernel // 2) * (self.n_layers + 1)
        return reach + 1, reach

    def _condition(self, cond: Tensor | None, labels: Tensor | None) -> Tensor | None:
        if self.class_embedding is None:
            return cond
        if labels is None:
            raise ValueError("this PixelCNN is class-conditional; pass labels")
        embedded = self.class_embedding(labels)
        return embedded if cond is None else torch.cat([cond, embedded], dim=1)

    def params(
        self, x: Tensor, cond: Tensor | None = None, labels: Tensor | None = None, spatial: Tensor | None = None
    ) -> Tensor:
        """The likelihood head's parameters at every pixel, from the integer image x (teacher forcing)."""
        unit = to_unit(x, self.levels)
        v, h = down_shift(self.first_v(unit)), right_shift(self.first_h(unit))
        c = self._condition(cond, labels)
        for layer in self.layers:
            v, h = layer(v, h, c, spatial)
        return self.out(h)

    def log_prob(self, x: Tensor, cond=None, labels=None, spatial=None) -> Tensor:
        """log p(x | conditioning) in nats, shape (B,)."""
        return self.head.log_prob(self.params(x, cond, labels, spatial), x)

    def loss(self, x: Tensor, labels: Tensor | None = None) -> tuple[Tensor, dict[str, float]]:
        bpd = bits_per_dim(-self.log_prob(x, labels=labels), self.dims).mean()
        return bpd, {"bits_per_dim": float(bpd.detach())}

    def row_params(self, x: Tensor, row: int, cond=None, labels=None, spatial=None) -> Tensor:
        """``params(x)[:, :, row : row + 1]`` computed from only the rows that can reach ``row`` (the
        receptive field): the same values, at a fraction of the cost on tall images."""
        top = max(0, row - self.receptive_field[0])
        window = spatial[:, :, top : row + 1] if spatial is not None else None
        return self.params(x[:, :, top : row + 1], cond, labels, window)[:, :, -1:]

    @torch.no_grad()
    def sample(self, n: int, cond=None, labels=None, spatial=None) -> Tensor:
        """n images, one pixel at a time (H * W forward passes, each over the rows that can reach the pixel)."""
        c, height, width = self.image_shape
        device = next(self.parameters()).device
        x = torch.zeros(n, c, height, width, dtype=torch.long, device=device)
        for i in range(height):
            for j in range(width):
                params = self.row_params(x, i, cond, labels, spatial)[:, :, :, j : j + 1]
                x[:, :, i : i + 1, j : j + 1] = self.head.sample(params, c)
        return x
