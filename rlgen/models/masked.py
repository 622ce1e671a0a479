"""Autoregressive building blocks: MADE (masked dense), masked convolutions and shifted convolutions.

- MADE: Germain et al. 2015, "MADE: Masked Autoencoder for Distribution Estimation", Section 4: each unit
  gets a degree; a weight from unit d to unit k is kept when deg(k) >= deg(d) (hidden layers) or
  deg(k) > deg(d) (output layer), so output i depends only on inputs that come before i in the ordering.
- Masked convolution: van den Oord et al. 2016 ("Pixel Recurrent Neural Networks", Section 3.4), mask A
  (first layer, excludes the centre) and mask B (later layers). Stacks of these have a blind spot.
- Shifted convolutions: the padding trick of PixelCNN++ (Salimans et al. 2017, Section 2.5) that gives the
  gated PixelCNN's vertical and horizontal stacks (van den Oord et al. 2016, "Conditional Image Generation
  with PixelCNN Decoders", Section 2.1) without a blind spot.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 mask of the same shape."""

    def __init__(self, in_features: int, out_features: int, mask: Tensor):
        super().__init__(in_features, out_features)
        self.register_buffer("mask", mask.float())

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


def made_ordering(dim: int, ordering: str | Sequence[int], seed: int = 0) -> np.ndarray:
    """Input degrees 1..dim: ``natural``, ``reversed``, ``random`` (seeded) or an explicit permutation."""
    if isinstance(ordering, str):
        if ordering == "natural":
            return np.arange(1, dim + 1)
        if ordering == "reversed":
            return np.arange(dim, 0, -1)
        if ordering == "random":
            return np.random.default_rng(seed).permutation(dim) + 1
        raise ValueError(f"unknown MADE ordering {ordering!r}; use natural, reversed, random or a permutation")
    order = np.asarray(ordering)
    if sorted(order.tolist()) != list(range(dim)):
        raise ValueError(f"a MADE ordering must be a permutation of 0..{dim - 1}, got {list(order)}")
    return order + 1


class MADE(nn.Module):
    """Masked autoencoder: ``forward(x, context) -> (B, out_per_dim, dim)`` where output [:, :, i] depends
    only on inputs that precede i in ``ordering`` (and on ``context``, which feeds the first hidden layer
    unmasked, as the IAF paper's context h, Kingma et al. 2016, Section 4)."""

    def __init__(
        self,
        dim: int,
        hidden: Sequence[int],
        out_per_dim: int = 1,
        ordering: str | Sequence[int] = "natural",
        context_dim: int = 0,
        seed: int = 0,
    ):
        super().__init__()
        if not hidden:
            raise ValueError("MADE needs at least one hidden layer")
        self.dim, self.out_per_dim = dim, out_per_dim
        degrees = [made_ordering(dim, ordering, seed)]
        self.register_buffer("input_degrees", torch.as_tensor(degrees[0]))
        for width in hidden:
            # Hidden degrees cycle through 1..dim-1 (deterministic, so every degree is represented).
            degrees.append(np.arange(width) % max(dim - 1, 1) + 1)
        layers = []
        for d_in, d_out in zip(degrees[:-1], degrees[1:], strict=True):
            mask = torch.as_tensor(d_out[:, None] >= d_in[None, :])
            layers.append(MaskedLinear(len(d_in), len(d_out), mask))
        self.hidden_layers = nn.ModuleList(layers)
        out_mask = torch.as_tensor(degrees[0][:, None] > degrees[-1][None, :]).repeat(out_per_dim, 1)
        self.output = MaskedLinear(len(degrees[-1]), dim * out_per_dim, out_mask)
        self.context = nn.Linear(context_dim, hidden[0]) if context_dim else None
        # The first input in the ordering has no masked inputs at all; a direct path lets it see the context.
        self.context_out = nn.Linear(context_dim, dim * out_per_dim, bias=False) if context_dim else None

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        h = self.hidden_layers[0](x)
        if self.context is not None:
            if context is None:
                raise ValueError("this MADE was built with a context; pass context=")
            h = h + self.context(context)
        h = F.elu(h)
        for layer in self.hidden_layers[1:]:
            h = F.elu(layer(h))
        out = self.output(h)
        if self.context_out is not None:
            out = out + self.context_out(context)
        return out.view(x.shape[0], self.out_per_dim, self.dim)


class MaskedConv2d(nn.Conv2d):
    """PixelCNN's masked convolution: mask ``A`` hides the centre pixel and everything after it in raster
    order; mask ``B`` keeps the centre. (Channel groups of RGB are not split here: all channels of the
    centre pixel are hidden by A and visible to B.)"""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str):
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        mask = torch.ones_like(self.weight)
        centre = kernel_size // 2
        mask[:, :, centre, centre + (mask_type == "B") :] = 0
        mask[:, :, centre + 1 :] = 0
        self.register_buffer("mask", mask)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def down_shift(x: Tensor) -> Tensor:
    """Move every row down by one (row 0 becomes zeros): position (i, j) then sees row i-1."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


def right_shift(x: Tensor) -> Tensor:
    """Move every column right by one (column 0 becomes zeros)."""
    return F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]


class DownShiftedConv2d(nn.Module):
    """Output (i, j) sees rows i-kh+1..i and columns j-(kw-1)/2..j+(kw-1)/2 (the vertical stack's kernel)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int] = (2, 3)):
        super().__init__()
        kh, kw = kernel_size
        if kw % 2 == 0:
            raise ValueError(f"the vertical stack's kernel width must be odd, got {kw}")
        self.pad = (kw // 2, kw // 2, kh - 1, 0)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.pad(x, self.pad))


class DownRightShiftedConv2d(nn.Module):
    """Output (i, j) sees rows i-kh+1..i and columns j-kw+1..j (the horizontal stack's kernel for kh = 1)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int] = (1, 2)):
        super().__init__()
        kh, kw = kernel_size
        self.pad = (kw - 1, 0, kh - 1, 0)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.pad(x, self.pad))
