"""GAN losses as plain functions: the standard discriminator loss with one-sided label smoothing and label
noise, the non-saturating generator loss, feature matching, historical averaging, and the semi-supervised
K+1 classifier's losses (Salimans et al. 2016, arXiv 1606.03498)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def discriminator_targets(n_real: int, n_fake: int, *, real_target: float = 1.0, flip: float = 0.0,
                          generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Targets for the real and the fake half of a discriminator batch.

    One-sided label smoothing (Section 3.4): real examples get ``real_target`` (alpha, e.g. 0.9), fake ones
    keep 0 -- smoothing the fake side too would reinforce the generator's current mistakes. Label noise
    flips a fraction ``flip`` of the labels (a real example is then labelled fake, target 0, and a fake one
    real, target alpha) before smoothing."""
    labels = torch.cat([torch.ones(n_real), torch.zeros(n_fake)])
    if flip > 0:
        flipped = torch.rand(len(labels), generator=generator) < flip
        labels = torch.where(flipped, 1 - labels, labels)
    targets = labels * real_target
    return targets[:n_real], targets[n_real:]


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor, real_targets: Tensor, fake_targets: Tensor) -> Tensor:
    """Binary cross-entropy of D(x) = sigmoid(logit) against the targets, averaged over both halves."""
    loss_real = F.binary_cross_entropy_with_logits(real_logits.squeeze(-1), real_targets.to(real_logits))
    loss_fake = F.binary_cross_entropy_with_logits(fake_logits.squeeze(-1), fake_targets.to(fake_logits))
    return 0.5 * (loss_real + loss_fake)


def generator_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating loss (Goodfellow et al. 2014, Section 3): maximise log D(G(z)), i.e. softplus(-logit)."""
    return F.softplus(-fake_logits).mean()


def feature_matching_loss(real_features: Tensor, fake_features: Tensor, norm: str = "l2") -> Tensor:
    """Section 3.1: || E f(x) - E f(G(z)) ||_2^2 over an intermediate discriminator layer f (real side
    detached). ``l1``: the mean absolute difference, as the original CIFAR-10 code used."""
    diff = real_features.detach().mean(0) - fake_features.mean(0)
    return diff.abs().mean() if norm == "l1" else (diff * diff).sum()


class HistoricalAverage(nn.Module):
    """Section 3.3: the penalty || theta - (1/t) sum_{i<=t} theta_i ||^2 over a module's parameters, with the
    running mean kept as buffers (so it is checkpointed). ``update()`` adds the current parameters."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.params = [p for p in module.parameters()]
        self.register_buffer("count", torch.ones(()))  # the initial parameters are the first entry
        for i, p in enumerate(self.params):
            self.register_buffer(f"mean_{i}", p.detach().clone())

    def means(self) -> list[Tensor]:
        return [getattr(self, f"mean_{i}") for i in range(len(self.params))]

    def penalty(self) -> Tensor:
        return sum(((p - m) ** 2).sum() for p, m in zip(self.params, self.means(), strict=True))

    @torch.no_grad()
    def update(self) -> None:
        self.count += 1
        for p, m in zip(self.params, self.means(), strict=True):
            m.add_((p - m) / self.count)


# ---------------------------------------------------------------- semi-supervised K+1 classifier (Section 5)


def semisupervised_supervised_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """-E log p(y | x, y < K+1) on labelled data: softmax cross-entropy over the K real classes."""
    return F.cross_entropy(logits, labels)


def semisupervised_unsupervised_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-E_data log D(x) - E_G log(1 - D(G(z))) with the fake class's logit fixed at 0, so that
    D(x) = Z(x) / (Z(x) + 1), Z(x) = sum_k exp(l_k(x)). With s = logsumexp(l):
    log D = s - softplus(s), log(1 - D) = -softplus(s) (the original code's form, numerically stable)."""
    s_real, s_fake = torch.logsumexp(real_logits, 1), torch.logsumexp(fake_logits, 1)
    return -(s_real - F.softplus(s_real)).mean() + F.softplus(s_fake).mean()


def real_probability(logits: Tensor) -> Tensor:
    """D(x) = Z / (Z + 1) of the K+1 classifier."""
    return torch.sigmoid(torch.logsumexp(logits, 1))
