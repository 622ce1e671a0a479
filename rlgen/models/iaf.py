"""Diagonal-Gaussian and inverse-autoregressive-flow (IAF) posteriors q(z | x) for the VAE.

IAF (Kingma et al. 2016, arXiv 1606.04934, Section 3 and Algorithm 1): the encoder gives (mu, sigma, h);
z_0 = mu + sigma * eps with eps ~ N(0, I), then T steps of an autoregressive network (MADE, conditioned on
the context h) producing (m_t, s_t) from z_{t-1}, with the numerically stable gated update of Section 4:
    sigma_t = sigmoid(s_t),   z_t = sigma_t * z_{t-1} + (1 - sigma_t) * m_t,
so that log q(z_T | x) = -sum_i [ 0.5 eps_i^2 + 0.5 log(2 pi) + log sigma_i + sum_t log sigma_{t,i} ]
(Eq. 10 with the Jacobian of each step being triangular with diagonal sigma_t). The ordering of the
variables is reversed between steps. Following Section 4 ("initialised so s_t is sufficiently positive"),
sigmoid(s_t + 2) starts each step close to the identity.

Both posteriors return (z, per-dimension log q terms) so the KL can be split into groups for free bits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rlgen.models.masked import MADE


class DiagonalPosterior(nn.Module):
    """q(z | x) = N(mu, sigma^2) with (mu, log sigma) from the encoder features."""

    def __init__(self, features: int, latent_dim: int):
        super().__init__()
        self.params = nn.Linear(features, 2 * latent_dim)

    def base(self, features: Tensor) -> tuple[Tensor, Tensor]:
        mean, log_std = self.params(features).chunk(2, dim=1)
        return mean, log_std.clamp(-10, 5)

    def sample(self, features: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(z, log q(z|x) per dimension), z reparameterised; ``eps`` may be given (else drawn)."""
        mean, log_std = self.base(features)
        eps = torch.randn_like(mean) if eps is None else eps
        log_q = -0.5 * eps**2 - 0.5 * math.log(2 * math.pi) - log_std
        return mean + torch.exp(log_std) * eps, log_q


class IAFPosterior(DiagonalPosterior):
    """The diagonal posterior followed by ``steps`` IAF steps conditioned on a context vector h."""

    def __init__(self, features: int, latent_dim: int, steps: int = 2, hidden: Sequence[int] = (64, 64),
                 context_dim: int = 32):  # fmt: skip
        super().__init__(features, latent_dim)
        self.context = nn.Linear(features, context_dim)
        self.steps = nn.ModuleList(
            MADE(latent_dim, hidden, out_per_dim=2, ordering="natural" if t % 2 == 0 else "reversed",
                 context_dim=context_dim)
            for t in range(steps)
        )  # fmt: skip

    def sample(self, features: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor]:
        z, log_q = super().sample(features, eps)
        h = torch.relu(self.context(features))
        for made in self.steps:
            m, s = made(z, h).unbind(1)
            gate = torch.sigmoid(s + 2.0)
            z = gate * z + (1 - gate) * m
            log_q = log_q - torch.log(gate)
        return z, log_q


def make_posterior(kind: str, features: int, latent_dim: int, iaf_steps: int = 2,
                   iaf_hidden: Sequence[int] = (64, 64)) -> DiagonalPosterior:  # fmt: skip
    """q(z | x) of ``kind`` ``diagonal`` or ``iaf`` reading ``features``-sized inputs."""
    if kind == "iaf":
        return IAFPosterior(features, latent_dim, iaf_steps, iaf_hidden)
    if kind == "diagonal":
        return DiagonalPosterior(features, latent_dim)
    raise ValueError(f"posterior must be 'diagonal' or 'iaf', got {kind!r}")
