"""GAIL's discriminator D(s, a) and the rewards a policy can take from it.

Ho & Ermon 2016, "Generative Adversarial Imitation Learning" (arXiv 1606.03476), Algorithm 1: D is
trained to tell expert state-actions from the policy's. Convention here (as in HumanCompatibleAI's
``imitation``): the network outputs a logit, D = sigmoid(logit) is the probability that the input is
the expert's, and it is trained by binary cross-entropy with expert = 1, policy = 0. (The paper's
Algorithm 1 writes it the other way round, D -> 1 on the policy, with cost log D.)

Torch-only; the agent in ``rlgen.agents.gail`` builds inputs from transitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rlgen.models.standardizer import RunningStandardizer

RewardForm = Literal["positive", "negative", "logit"]


class Discriminator(nn.Module):
    """MLP logit(x) on standardised inputs x = [s, a] (or [s, a, s'], plus an absorbing indicator).

    Args:
        in_dim: input size.
        hidden: hidden layer sizes (tanh, as in the paper's 100-100 networks).
    """

    def __init__(self, in_dim: int, hidden: Sequence[int] = (100, 100)):
        super().__init__()
        layers: list[nn.Module] = []
        size = in_dim
        for width in hidden:
            layers += [nn.Linear(size, width), nn.Tanh()]
            size = width
        layers.append(nn.Linear(size, 1))
        self.net = nn.Sequential(*layers)
        self.input_stats = RunningStandardizer(in_dim)

    def forward(self, x: Tensor) -> Tensor:
        """The logit of D(x) = P(x comes from the expert), shape (N,)."""
        return self.net(self.input_stats(x)).squeeze(-1)


def discriminator_loss(
    logits_expert: Tensor, logits_policy: Tensor, *, expert_label: float = 1.0, entropy_coef: float = 0.0
) -> Tensor:
    """Binary cross-entropy, expert = 1 and policy = 0 (Ho & Ermon 2016, Algorithm 1, step 4), minus an
    optional bonus on the entropy of D's Bernoulli output (discourages over-confident discriminators)."""
    logits = torch.cat([logits_expert, logits_policy])
    labels = torch.cat([torch.full_like(logits_expert, expert_label), torch.zeros_like(logits_policy)])
    bce = F.binary_cross_entropy_with_logits(logits, labels)
    if entropy_coef == 0.0:
        return bce
    p = torch.sigmoid(logits)
    entropy = -(p * F.logsigmoid(logits) + (1 - p) * F.logsigmoid(-logits)).mean()
    return bce - entropy_coef * entropy


def gradient_penalty(disc: Discriminator, x_expert: Tensor, x_policy: Tensor) -> Tensor:
    """E[(||grad_z logit(z_hat)|| - 1)^2] at random interpolates z_hat (Gulrajani et al. 2017, Eq. 3),
    the penalty DAC (Kostrikov et al. 2019, Section 4.3) adds to GAIL's discriminator.

    Taken with respect to the *standardised* inputs z (what the MLP sees), not the raw ones: in raw units
    a unit gradient norm means a different thing for every observation dimension (a joint angle of
    +-0.1 rad against a velocity of +-10 m/s), and a constant column (the unused absorbing indicator,
    standardised by sqrt(0 + eps)) would dominate the norm. The standardisation is affine and the
    interpolation weights sum to 1, so the interpolates are the same points either way."""
    z_expert, z_policy = disc.input_stats(x_expert), disc.input_stats(x_policy)
    alpha = torch.rand(x_expert.shape[0], 1, device=x_expert.device)
    mixed = (alpha * z_expert + (1 - alpha) * z_policy).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(disc.net(mixed).sum(), mixed, create_graph=True)
    return (grad.norm(dim=1) - 1).pow(2).mean()


def reward_from_logits(logits: Tensor, form: RewardForm) -> Tensor:
    """The policy's reward from D's logit l (D = sigmoid(l)).

    - ``positive``: -log(1 - D) = softplus(l) > 0, the usual GAIL reward; a survival bonus, so it favours
      long episodes.
    - ``negative``: log D = -softplus(-l) < 0; a per-step cost, so it favours ending episodes early.
    - ``logit``: log D - log(1 - D) = l, AIRL-style (Fu et al. 2018), no built-in sign bias.
    """
    if form == "positive":
        return F.softplus(logits)
    if form == "negative":
        return -F.softplus(-logits)
    if form == "logit":
        return logits
    raise ValueError(f"unknown reward form {form!r}: use positive, negative or logit")
