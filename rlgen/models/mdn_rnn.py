"""MDN-RNN: the World Models memory M (Ha & Schmidhuber 2018, Section 2.2; Graves 2013 for the mixture
density output; Bishop 1994 for mixture density networks).

An LSTM reads (z_t, a_t) and models P(z_{t+1} | a_t, z_t, h_t) as a mixture of ``mixtures`` Gaussians per
latent dimension (diagonal, independent across dimensions, as in the paper's code), plus optional reward and
done heads so a controller can be trained inside the dream (Section 4.5 / Doom experiment).

- Likelihood: log p(z') = sum_d log sum_k pi_dk N(z'_d; mu_dk, sigma_dk), computed with log-sum-exp.
  sigma = sigma_floor + softplus(raw): the floor keeps the density bounded when a component collapses onto
  a single training value (the paper's code clamps nothing; a floor is the usual remedy).
- Temperature tau (Section 4.5, and hardmaru's ``get_pi_idx`` / ``sample_sequence``): the mixture logits are
  divided by tau and the Gaussian noise scaled by sqrt(tau); tau -> 0 picks the most likely component's mean
  (deterministic), tau > 1 makes the dream harder to exploit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class MDNOutput:
    """One step (or sequence) of M's predictions; mixture tensors are (..., latent_dim, mixtures)."""

    logits: Tensor
    mu: Tensor
    sigma: Tensor
    reward: Tensor | None
    done_logit: Tensor | None


def mixture_log_prob(logits: Tensor, mu: Tensor, sigma: Tensor, target: Tensor) -> Tensor:
    """log sum_k pi_k N(target; mu_k, sigma_k) per latent dimension (target (..., D); others (..., D, K))."""
    log_pi = F.log_softmax(logits, dim=-1)
    z = (target.unsqueeze(-1) - mu) / sigma
    log_normal = -0.5 * z**2 - torch.log(sigma) - LOG_SQRT_2PI
    return torch.logsumexp(log_pi + log_normal, dim=-1)


def sample_mixture(logits: Tensor, mu: Tensor, sigma: Tensor, tau: float, generator: torch.Generator | None = None):
    """z' ~ the mixture at temperature tau: pi = softmax(logits / tau), z' = mu_k + sigma_k sqrt(tau) eps.
    ``tau == 0`` is the limit: the most likely component's mean, no noise."""
    if tau < 0:
        raise ValueError(f"temperature must be >= 0, got {tau}")
    if tau == 0:
        index = logits.argmax(dim=-1, keepdim=True)
        return mu.gather(-1, index).squeeze(-1)
    probs = F.softmax(logits / tau, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    index = torch.multinomial(flat, 1, generator=generator).view(*probs.shape[:-1], 1)
    eps = torch.randn(mu.shape[:-1], generator=generator, dtype=mu.dtype, device=mu.device)
    return mu.gather(-1, index).squeeze(-1) + sigma.gather(-1, index).squeeze(-1) * math.sqrt(tau) * eps


class MDNRNN(nn.Module):
    """LSTM over [z_t, a_t] with a mixture-density head for z_{t+1} (and optional reward / done heads)."""

    def __init__(
        self,
        latent_dim: int,
        action_dim: int,
        *,
        hidden: int = 256,
        mixtures: int = 5,
        reward_head: bool = False,
        done_head: bool = False,
        sigma_floor: float = 1e-3,
    ):
        super().__init__()
        self.latent_dim, self.action_dim, self.hidden, self.mixtures = latent_dim, action_dim, hidden, mixtures
        self.sigma_floor = sigma_floor
        self.lstm = nn.LSTM(latent_dim + action_dim, hidden, batch_first=True)
        self.mdn = nn.Linear(hidden, 3 * latent_dim * mixtures)
        self.reward = nn.Linear(hidden, 1) if reward_head else None
        self.done = nn.Linear(hidden, 1) if done_head else None

    def initial_state(self, batch: int) -> tuple[Tensor, Tensor]:
        zeros = torch.zeros(1, batch, self.hidden, device=self.mdn.weight.device)
        return zeros, zeros.clone()

    def forward(self, z: Tensor, a: Tensor, state: tuple[Tensor, Tensor] | None = None):
        """z (B, T, D), a (B, T, A) -> (MDNOutput over the T steps, h (B, T, H), final LSTM state)."""
        h, state = self.lstm(torch.cat([z, a], dim=-1), state)
        return self.heads(h), h, state

    def heads(self, h: Tensor) -> MDNOutput:
        shape = (*h.shape[:-1], self.latent_dim, self.mixtures)
        logits, mu, raw_sigma = self.mdn(h).view(*shape[:-2], 3, *shape[-2:]).unbind(-3)
        sigma = self.sigma_floor + F.softplus(raw_sigma)
        reward = self.reward(h).squeeze(-1) if self.reward is not None else None
        done_logit = self.done(h).squeeze(-1) if self.done is not None else None
        return MDNOutput(logits, mu, sigma, reward, done_logit)

    def loss(
        self,
        z: Tensor,
        actions: Tensor,
        rewards: Tensor,
        dones: Tensor,
        mask: Tensor,
        *,
        reward_weight: float = 1.0,
        done_weight: float = 1.0,
    ) -> tuple[Tensor, dict[str, float]]:
        """Negative log-likelihood of z_{1..T} given z_{0..T-1}, a_{0..T-1} (per latent dimension, as in the
        paper's code) plus the reward MSE and the done cross-entropy where the heads exist.

        z (B, T+1, D); actions (B, T, A); rewards, dones, mask (B, T) with mask 0 on padding."""
        out, _, _ = self(z[:, :-1], actions)
        weights = mask / mask.sum().clamp_min(1)
        nll = -(mixture_log_prob(out.logits, out.mu, out.sigma, z[:, 1:]).mean(-1) * weights).sum()
        total, metrics = nll, {"z_nll": float(nll.detach())}
        if out.reward is not None:
            mse = (((out.reward - rewards) ** 2) * weights).sum()
            total = total + reward_weight * mse
            metrics["reward_mse"] = float(mse.detach())
        if out.done_logit is not None:
            bce = (F.binary_cross_entropy_with_logits(out.done_logit, dones, reduction="none") * weights).sum()
            total = total + done_weight * bce
            metrics["done_bce"] = float(bce.detach())
        metrics["loss"] = float(total.detach())
        return total, metrics
