"""How much a classifier's predicted label tells about its input, from its class probabilities alone."""

from __future__ import annotations

from torch import Tensor


def label_information(probs: Tensor) -> Tensor:
    """E_x KL(p(y|x) || p(y)) for rows of class probabilities p(y|x), with p(y) their mean: the mutual
    information between label and input under p, H(p(y)) - E_x H(p(y|x)), in nats (0 to log k). Its exp is
    the Inception score (Salimans et al. 2016, Section 4); on InfoGAN's Q it is the information-maximisation
    clustering criterion (Bridle et al. 1992; Krause et al. 2010)."""
    log_marginal = probs.mean(0).clamp_min(1e-12).log()
    return (probs * (probs.clamp_min(1e-12).log() - log_marginal)).sum(1).mean()
