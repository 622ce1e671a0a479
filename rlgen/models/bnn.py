"""Bayesian neural network dynamics model with a fully factorised Gaussian weight posterior.

Houthooft et al. 2016, "VIME: Variational Information Maximizing Exploration" (arXiv 1605.09674),
Section 2.3: q(theta; phi) = prod_i N(theta_i; mu_i, sigma_i^2) with sigma_i = log(1 + exp(rho_i)),
trained by maximising the ELBO (Eq. 6) with Bayes by backprop and the local reparameterisation trick
(Kingma et al. 2015): each pre-activation is sampled as N(x mu^T, x^2 sigma^2{}^T).

Differences from the original code (openai/vime, ``dynamics/bnn.py``), on purpose:

- the noise of the local reparameterisation is drawn independently for every sample of a batch (the
  original draws one vector per layer and shares it across the batch, which correlates the gradient
  noise of a minibatch); noise can also be passed in, so per-transition computations are reproducible;
- weight means start at N(0, 1/fan_in) instead of N(0, 1), which keeps pre-activations O(1) for any width
  (sigma starts at the prior sd as in the original).

Everything here is torch-only; parameters live in a flat ``{name: tensor}`` dict view so the
information gain (``rlgen.models.info_gain``) can take per-transition gradients with ``torch.func``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def softplus_inverse(value: float) -> float:
    """rho such that log(1 + exp(rho)) = value."""
    return math.log(math.expm1(value))


class BayesianLinear(nn.Module):
    """The variational parameters of one linear layer: weights and biases ~ N(mu, softplus(rho)^2).

    The sampled forward pass is :func:`bnn_forward` (functional, so ``torch.func`` can transform it).
    """

    def __init__(self, in_features: int, out_features: int, *, prior_sd: float):
        super().__init__()
        self.weight_mu = nn.Parameter(torch.randn(out_features, in_features) / math.sqrt(in_features))
        self.weight_rho = nn.Parameter(torch.full((out_features, in_features), softplus_inverse(prior_sd)))
        self.bias_mu = nn.Parameter(torch.zeros(out_features))
        self.bias_rho = nn.Parameter(torch.full((out_features,), softplus_inverse(prior_sd)))


@dataclass(frozen=True)
class ELBOTerms:
    """The pieces of the (negative) ELBO of one minibatch."""

    loss: Tensor
    log_likelihood: Tensor
    kl: Tensor
    mse: Tensor


class BNN(nn.Module):
    """Bayesian MLP p(y | x, theta) = N(y; f_theta(x), likelihood_sd^2 I) with a factorised Gaussian q(theta).

    Args:
        in_dim: input size (for dynamics: obs_dim + act_dim).
        out_dim: output size (obs_dim).
        hidden: hidden layer sizes (ReLU); VIME's original default is one layer of 32.
        prior_sd: standard deviation of the zero-mean Gaussian prior p(theta) (VIME: 0.5).
        likelihood_sd: standard deviation of the Gaussian likelihood on (standardised) targets (VIME: 5.0).
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        hidden: Sequence[int] = (32,),
        prior_sd: float = 0.5,
        likelihood_sd: float = 5.0,
    ):
        super().__init__()
        sizes = [in_dim, *hidden, out_dim]
        self.layers = nn.ModuleList(
            BayesianLinear(a, b, prior_sd=prior_sd) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.prior_sd = prior_sd
        self.likelihood_sd = likelihood_sd

    @property
    def noise_sizes(self) -> list[int]:
        """Output width of each layer (the shape of the noise each layer consumes per sample)."""
        return [layer.bias_mu.shape[0] for layer in self.layers]

    def sample_noise(self, n_samples: int, batch: int, generator: torch.Generator | None = None) -> list[Tensor]:
        """Standard-normal noise for ``n_samples`` Monte-Carlo passes over a batch: one (S, B, width) per layer."""
        device = self.layers[0].weight_mu.device
        return [torch.randn(n_samples, batch, w, generator=generator, device=device) for w in self.noise_sizes]

    def params(self) -> dict[str, Tensor]:
        """The variational parameters phi as a flat dict (the form ``torch.func`` transforms take)."""
        return dict(self.named_parameters())

    def forward(self, x: Tensor, noise: Sequence[Tensor] | None = None) -> Tensor:
        """One sampled prediction per input row (and per leading noise sample, when noise is given)."""
        return bnn_forward(self.params(), x, noise, n_layers=len(self.layers))

    def log_likelihood(self, x: Tensor, y: Tensor, noise: Sequence[Tensor]) -> Tensor:
        """log p(y | x, theta) per row, averaged over the Monte-Carlo samples in ``noise`` (shape (B,))."""
        return bnn_log_likelihood(self.params(), x, y, noise, n_layers=len(self.layers), sd=self.likelihood_sd)

    def kl_to_prior(self) -> Tensor:
        """KL[q(theta; phi) || p(theta)], closed form for factorised Gaussians (VIME Eq. 6, second term)."""
        mus, sds = posterior_mean_sd(self.params())
        return sum(gaussian_kl(mus[k], sds[k], torch.zeros_like(mus[k]), self.prior_sd).sum() for k in mus)

    def elbo(self, x: Tensor, y: Tensor, *, n_samples: int, kl_weight: float) -> ELBOTerms:
        """Negative ELBO of a minibatch: kl_weight * KL[q || prior] - sum_i E_q[log p(y_i | x_i, theta)].

        VIME Eq. 6 (the ELBO over the whole pool D) estimated on a minibatch B: with kl_weight = |B| / |D|
        this is an unbiased estimate of |B| / |D| times the full negative ELBO.
        """
        noise = self.sample_noise(n_samples, x.shape[0])
        pred = bnn_forward(self.params(), x.unsqueeze(0), noise, n_layers=len(self.layers))  # (S, B, out)
        log_lik = gaussian_log_prob(y.unsqueeze(0), pred, self.likelihood_sd).sum(-1).mean(0)
        kl = self.kl_to_prior()
        mse = (pred.detach().mean(0) - y).pow(2).mean()
        return ELBOTerms(loss=kl_weight * kl - log_lik.sum(), log_likelihood=log_lik.mean(), kl=kl, mse=mse)

    @torch.no_grad()
    def predict_mean(self, x: Tensor) -> Tensor:
        """The prediction with every weight at its posterior mean."""
        zero = [torch.zeros(*x.shape[:-1], w, device=x.device) for w in self.noise_sizes]
        return self.forward(x, zero)


# --------------------------------------------------------------------------- functional form


def bnn_forward(params: dict[str, Tensor], x: Tensor, noise: Sequence[Tensor] | None, *, n_layers: int) -> Tensor:
    """The BNN's sampled forward pass from a parameter dict (ReLU between layers)."""
    for i in range(n_layers):
        p = f"layers.{i}."
        mean = F.linear(x, params[p + "weight_mu"], params[p + "bias_mu"])
        var = F.linear(x.pow(2), F.softplus(params[p + "weight_rho"]).pow(2), F.softplus(params[p + "bias_rho"]).pow(2))
        eps = torch.randn_like(mean) if noise is None else noise[i]
        x = mean + torch.sqrt(var + 1e-16) * eps  # local reparameterisation trick
        if i < n_layers - 1:
            x = F.relu(x)
    return x


def bnn_log_likelihood(
    params: dict[str, Tensor], x: Tensor, y: Tensor, noise: Sequence[Tensor], *, n_layers: int, sd: float
) -> Tensor:
    """Monte-Carlo estimate of E_q[log p(y | x, theta)] per row; noise has a leading sample axis."""
    pred = bnn_forward(params, x.unsqueeze(0), noise, n_layers=n_layers)  # (S, ..., out)
    return gaussian_log_prob(y.unsqueeze(0), pred, sd).sum(-1).mean(0)


def posterior_mean_sd(params: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Split a parameter dict into {name: mu} and {name: sigma = softplus(rho)} keyed by the mu names."""
    mus = {k: v for k, v in params.items() if k.endswith("_mu")}
    sds = {k: F.softplus(params[k[: -len("_mu")] + "_rho"]) for k in mus}
    return mus, sds


def gaussian_log_prob(y: Tensor, mean: Tensor, sd: float) -> Tensor:
    """Element-wise log N(y; mean, sd^2)."""
    return -0.5 * ((y - mean) / sd).pow(2) - math.log(sd) - 0.5 * math.log(2 * math.pi)


def gaussian_kl(mu_q: Tensor, sd_q: Tensor, mu_p: Tensor, sd_p: Tensor | float) -> Tensor:
    """Element-wise KL[N(mu_q, sd_q^2) || N(mu_p, sd_p^2)]."""
    sd_p = torch.as_tensor(sd_p, dtype=sd_q.dtype, device=sd_q.device)
    return torch.log(sd_p / sd_q) + (sd_q.pow(2) + (mu_q - mu_p).pow(2)) / (2 * sd_p.pow(2)) - 0.5
