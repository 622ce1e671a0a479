"""Multi-scale flows for images of discrete levels: Glow and RealNVP, with dequantisation and bits/dim.

Architecture (Dinh et al. 2017, Section 3.6; Kingma & Dhariwal 2018, Figure 2): stages of invertible
layers, each but the last ending in a split that factors out half the channels. Glow: per level, squeeze
then K x [ActNorm, invertible 1x1 conv, coupling], split with a learned conditional prior N(z2; mu(z1),
sigma(z1)) (Glow's released code, ``split2d``), learned top prior. RealNVP: per scale, 3 checkerboard
couplings, squeeze, 3 channel couplings (alternating halves), split to N(0, I); last scale 4 checkerboard
couplings. Where RealNVP used batch normalisation we use ActNorm: batch statistics make a density depend
on the batch it is evaluated in, and ActNorm is Glow's drop-in replacement.

Dequantisation (Dinh et al. 2017, Section 4.1; Theis et al. 2016): integer levels x become
y = (x + u) / L - 1/2 with u ~ U[0, 1)^D; then log P(x) >= E_u[log p(y)] - D log L, so
bits/dim = (-log p(y) + D log L) / (D ln 2) is an upper bound on the discrete model's bits/dim.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rlgen.models.data_init import ActNorm
from rlgen.models.flows.coupling import (
    ChannelCoupling,
    CheckerboardCoupling,
    CouplingNet,
    SharedCouplingNet,
    split_channels,
    zero_conv,
)
from rlgen.models.flows.layers import InvConv1x1, Squeeze
from rlgen.models.likelihoods import gaussian_log_density


def gaussian_log_prob(z: Tensor, mean: Tensor, log_scale: Tensor) -> Tensor:
    """Sum over all but the batch dimension of log N(z; mean, exp(log_scale)^2)."""
    return gaussian_log_density(z, mean, log_scale).flatten(1).sum(1)


class Split(nn.Module):
    """Factor out the second half of the channels, z = (z1, z2); log p(z2 | z1) is the layer's "log det"
    term. ``learned``: N(mu(z1), sigma(z1)) from a zero-initialised conv (Glow); else N(0, I) (RealNVP)."""

    def __init__(self, channels: int, learned: bool = True):
        super().__init__()
        self.keep, self.factor = split_channels(channels)
        self.prior = zero_conv(self.keep, 2 * self.factor) if learned else None

    def prior_params(self, z1: Tensor) -> tuple[Tensor, Tensor]:
        if self.prior is None:
            zeros = z1.new_zeros(z1.shape[0], self.factor, *z1.shape[2:])
            return zeros, zeros
        h = self.prior(z1)
        return h[:, 0::2], h[:, 1::2]

    def forward(self, x: Tensor) -> tuple[tuple[Tensor, Tensor], Tensor]:
        z1, z2 = x.split([self.keep, self.factor], dim=1)
        mean, log_scale = self.prior_params(z1)
        return (z1, z2), gaussian_log_prob(z2, mean, log_scale)

    def inverse(self, z1: Tensor, z2: Tensor | None = None, temperature: float = 1.0) -> Tensor:
        if z2 is None:
            mean, log_scale = self.prior_params(z1)
            z2 = mean + temperature * torch.exp(log_scale) * torch.randn_like(mean)
        return torch.cat([z1, z2], dim=1)


class MultiScaleFlow(nn.Module):
    """Stages of invertible layers with splits between them; density on dequantised images of ``levels``."""

    def __init__(
        self,
        image_shape: Sequence[int],
        levels: int,
        stages: Sequence[Sequence[nn.Module]],
        splits: Sequence[Split | None],
        top_shape: Sequence[int],
    ):
        super().__init__()
        self.image_shape, self.levels, self.top_shape = tuple(image_shape), levels, tuple(top_shape)
        self.stages = nn.ModuleList(nn.ModuleList(layers) for layers in stages)
        self.splits = nn.ModuleList(split if split is not None else nn.Identity() for split in splits)
        self.top_mean = nn.Parameter(torch.zeros(1, *top_shape))
        self.top_log_scale = nn.Parameter(torch.zeros(1, *top_shape))

    @property
    def dims(self) -> int:
        return math.prod(self.image_shape)

    # ---------------------------------------------------------------- continuous density

    def encode(self, y: Tensor) -> tuple[Tensor, list[Tensor], Tensor]:
        """(top latent, factored-out latents, log p(y)) for a continuous input y."""
        log_p = y.new_zeros(y.shape[0])
        factored = []
        h = y
        for layers, split in zip(self.stages, self.splits, strict=True):
            for layer in layers:
                h, log_det = layer(h)
                log_p = log_p + log_det
            if isinstance(split, Split):
                (h, z2), log_prior = split(h)
                log_p = log_p + log_prior
                factored.append(z2)
        log_p = log_p + gaussian_log_prob(h, self.top_mean, self.top_log_scale)
        return h, factored, log_p

    def decode(self, top: Tensor, factored: Sequence[Tensor | None] | None = None, temperature: float = 1.0) -> Tensor:
        """The inverse of ``encode``; missing factored latents are sampled from their priors."""
        n_splits = sum(isinstance(split, Split) for split in self.splits)
        factored = list(factored) if factored is not None else [None] * n_splits
        h = top
        for layers, split in zip(reversed(self.stages), reversed(self.splits), strict=True):
            if isinstance(split, Split):
                h = split.inverse(h, factored.pop(), temperature)
            for layer in reversed(layers):
                h, _ = layer.inverse(h)
        return h

    # ---------------------------------------------------------------- discrete images

    def dequantise(self, x: Tensor) -> Tensor:
        return (x.float() + torch.rand_like(x, dtype=torch.float32)) / self.levels - 0.5

    def log_prob(self, x: Tensor) -> Tensor:
        """A one-sample lower bound on log P(x) in nats for integer levels x (module docstring)."""
        _, _, log_p = self.encode(self.dequantise(x))
        return log_p - self.dims * math.log(self.levels)

    def loss(self, x: Tensor, labels: Tensor | None = None) -> tuple[Tensor, dict[str, float]]:
        nll = -self.log_prob(x)
        bpd = nll.mean() / (self.dims * math.log(2.0))
        return bpd, {"bits_per_dim": float(bpd.detach())}

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0) -> Tensor:
        """n images of integer levels; ``temperature`` scales every prior's standard deviation (Glow, 5.3)."""
        std = torch.exp(self.top_log_scale).expand(n, *self.top_shape)
        top = self.top_mean + temperature * std * torch.randn(n, *self.top_shape, device=std.device)
        y = self.decode(top, temperature=temperature)
        return torch.floor((y + 0.5) * self.levels).clamp(0, self.levels - 1).long()


@dataclass(frozen=True)
class Sharing:
    """How the steps of a level share coupling networks (``SharedCouplingNet``); ``enabled`` False: one each.
    ``glow`` and ``realnvp`` take these as ``share_coupling``, ``embed_channels`` and ``step_heads``."""

    enabled: bool = False
    embed_channels: int = 4
    step_heads: bool = False


def _coupling_nets(count: int, in_ch: int, out_ch: int, hidden: int, sharing: Sharing) -> list[nn.Module]:
    if sharing.enabled:
        net = SharedCouplingNet(in_ch, out_ch, hidden, count, sharing.embed_channels, sharing.step_heads)
        return [net] * count
    return [CouplingNet(in_ch, out_ch, hidden) for _ in range(count)]


def glow(
    image_shape: Sequence[int],
    levels: int,
    *,
    n_levels: int = 2,
    steps: int = 8,
    hidden: int = 64,
    affine: bool = True,
    lu: bool = True,
    share_coupling: bool = False,
    embed_channels: int = 4,
    step_heads: bool = False,
) -> MultiScaleFlow:
    """Glow (Kingma & Dhariwal 2018): ``n_levels`` levels of squeeze + ``steps`` flow steps, splits between."""
    c, h, w = image_shape
    stages, splits = [], []
    sharing = Sharing(share_coupling, embed_channels, step_heads)
    for level in range(n_levels):
        c, h, w = 4 * c, h // 2, w // 2
        layers: list[nn.Module] = [Squeeze()]
        in_ch, out_ch = ChannelCoupling.net_channels(c, affine)
        for k, net in enumerate(_coupling_nets(steps, in_ch, out_ch, hidden, sharing)):
            layers += [ActNorm(c), InvConv1x1(c, lu=lu), ChannelCoupling(c, net, step=k, affine=affine)]
        stages.append(layers)
        if level < n_levels - 1:
            splits.append(Split(c, learned=True))
            c = splits[-1].keep
        else:
            splits.append(None)
    return MultiScaleFlow(image_shape, levels, stages, splits, (c, h, w))


def realnvp(
    image_shape: Sequence[int],
    levels: int,
    *,
    n_scales: int = 2,
    hidden: int = 64,
    share_coupling: bool = False,
    embed_channels: int = 4,
    step_heads: bool = False,
) -> MultiScaleFlow:
    """RealNVP (Dinh et al. 2017, Section 3.6) with ActNorm after each coupling (module docstring)."""
    c, h, w = image_shape
    stages, splits = [], []
    sharing = Sharing(share_coupling, embed_channels, step_heads)

    def checkerboards(count: int) -> list[nn.Module]:
        in_ch, out_ch = CheckerboardCoupling.net_channels(c)
        layers: list[nn.Module] = []
        for k, net in enumerate(_coupling_nets(count, in_ch, out_ch, hidden, sharing)):
            layers += [CheckerboardCoupling(c, h, w, net, parity=k % 2, step=k), ActNorm(c)]
        return layers

    for _ in range(n_scales - 1):
        layers = checkerboards(3)
        c, h, w = 4 * c, h // 2, w // 2
        layers.append(Squeeze())
        in_ch, out_ch = ChannelCoupling.net_channels(c, affine=True)
        for k, net in enumerate(_coupling_nets(3, in_ch, out_ch, hidden, sharing)):
            layers += [ChannelCoupling(c, net, step=k, flip=bool(k % 2)), ActNorm(c)]
        stages.append(layers)
        splits.append(Split(c, learned=False))
        c = splits[-1].keep
    stages.append(checkerboards(4))
    splits.append(None)
    return MultiScaleFlow(image_shape, levels, stages, splits, (c, h, w))
