"""Variational autoencoder for integer images (Kingma & Welling 2014) with a diagonal or IAF posterior,
free bits, an importance-weighted NLL, and a conv or a small-PixelCNN decoder.

- ELBO (Kingma & Welling 2014, Eq. 3): log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z)); with an IAF
  posterior the KL has no closed form, so it is the single-sample estimate log q(z|x) - log p(z)
  (Kingma et al. 2016, Eq. 2), per latent dimension.
- Free bits (Kingma et al. 2016, Appendix C.8, "free bits"): the latents are split into ``kl_groups``
  groups and each group's KL, averaged over the minibatch, is replaced by max(kl_min, KL_group), so the
  optimiser does not collapse the posterior onto the prior early on. Reported ELBOs use the true KL.
- Importance-weighted NLL (Burda et al. 2016, Eq. 8): -log (1/k sum_k p(x, z_k) / q(z_k | x)).
- ``decoder: pixelcnn``: p(x | z) is a gated PixelCNN with few layers (a local receptive field) conditioned
  on z as a vector and on a spatial map decoded from z (PixelVAE, Gulrajani et al. 2017; VLAE, Chen et al.
  2017), so z must carry the global structure the PixelCNN cannot see.
- ``aux_weight`` > 0 (PixelCNN decoder only): the auxiliary decoder of AGAVE (Lucas & Verbeek 2018, "Auxiliary
  Guided Autoregressive Variational Autoencoders", arXiv 1711.11479, Section 3): a factorised decoder r(x | z)
  (here the ``l2`` head, the World Models loss) whose location is also the PixelCNN's spatial conditioning
  map, read with the gradient stopped so that r learns from its own term only; the objective adds -aux_weight
  * log r(x | z) to the negative ELBO. A local PixelCNN on smooth frames can model them without z (posterior
  collapse); r(x | z) sees no pixels, so z must carry the image's layout. The weight sits on r's term, so the
  rest stays the ELBO; reported ELBOs and bits/dim use p(x | z) alone.
- Active units (Burda et al. 2016, Section 5.2): dimensions u with Cov_x(E_q[z_u]) > 0.01.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rlgen.models.conv_stacks import ConvDecoder, ConvEncoder
from rlgen.models.iaf import make_posterior
from rlgen.models.likelihoods import bits_per_dim, make_head, standard_normal_log_prob, to_unit
from rlgen.models.pixelcnn import PixelCNN


class VAE(nn.Module):
    def __init__(
        self,
        image_shape: Sequence[int],
        levels: int,
        *,
        latent_dim: int = 32,
        features: int = 256,
        likelihood: str = "logistic",
        posterior: str = "diagonal",
        iaf_steps: int = 2,
        iaf_hidden: Sequence[int] = (64, 64),
        kl_min: float = 0.0,
        kl_groups: int = 1,
        decoder: str = "conv",
        pixelcnn_channels: int = 32,
        pixelcnn_layers: int = 2,
        spatial_channels: int = 4,
        aux_weight: float = 0.0,
    ):
        super().__init__()
        if decoder not in ("conv", "pixelcnn"):
            raise ValueError(f"decoder must be 'conv' or 'pixelcnn', got {decoder!r}")
        if latent_dim % kl_groups:
            raise ValueError(f"latent_dim {latent_dim} is not divisible by kl_groups {kl_groups}")
        if aux_weight < 0 or (aux_weight > 0 and decoder != "pixelcnn"):
            raise ValueError(f"aux_weight must be >= 0 and needs decoder 'pixelcnn', got {aux_weight} with {decoder!r}")
        self.image_shape, self.levels, self.latent_dim = tuple(image_shape), levels, latent_dim
        self.kl_min, self.kl_groups, self.aux_weight = kl_min, kl_groups, aux_weight
        self.encoder = ConvEncoder(image_shape, features)
        self.posterior = make_posterior(posterior, features, latent_dim, iaf_steps, iaf_hidden)
        channels = image_shape[0]
        self.aux_head = make_head("l2", levels) if aux_weight > 0 else None
        if self.aux_head is not None:  # the spatial map is r(x | z)'s location
            spatial_channels = self.aux_head.param_channels(channels)
        if decoder == "pixelcnn":
            self.pixelcnn = PixelCNN(
                image_shape, levels, channels=pixelcnn_channels, n_layers=pixelcnn_layers,
                likelihood=likelihood, cond_dim=latent_dim, spatial_channels=spatial_channels,
            )  # fmt: skip
            self.head = self.pixelcnn.head
            self.decoder = ConvDecoder(latent_dim, image_shape, spatial_channels)
        else:
            self.pixelcnn = None
            self.head = make_head(likelihood, levels)
            self.decoder = ConvDecoder(latent_dim, image_shape, self.head.param_channels(channels))

    @property
    def dims(self) -> int:
        return math.prod(self.image_shape)

    def features(self, x: Tensor) -> Tensor:
        return torch.relu(self.encoder(to_unit(x, self.levels)))

    def posterior_params(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The base Gaussian of q(z | x): (mean, log sigma) per latent dimension (before any IAF steps)."""
        return self.posterior.base(self.features(x))

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x | z) per example."""
        return self.log_likelihoods(x, z)[0]

    def log_likelihoods(self, x: Tensor, z: Tensor) -> tuple[Tensor, Tensor | None]:
        """log p(x | z) and, with an auxiliary decoder, log r(x | z) (module docstring) per example."""
        if self.pixelcnn is None:
            return self.head.log_prob(self.decoder(z), x), None
        spatial = self.decoder(z)
        if self.aux_head is None:
            return self.pixelcnn.log_prob(x, cond=z, spatial=spatial), None
        # r(x | z) learns from its own term only: the PixelCNN's far larger term would otherwise turn r's
        # output into a feature map of its own (docs/benchmarks.md, "World Models", PixelCNN encoder)
        return self.pixelcnn.log_prob(x, cond=z, spatial=spatial.detach()), self.aux_head.log_prob(spatial, x)

    def draw(self, x: Tensor, features=None) -> tuple[Tensor, Tensor, Tensor]:  # noqa: ANN001 - model-specific
        """For one z ~ q(z|x): (log p(x|z) per example, log q(z|x) and log p(z) per latent dimension).
        ``features`` (from ``self.features(x)``) can be passed in to draw many z for the same x."""
        z, log_q = self.posterior.sample(self.features(x) if features is None else features)
        return self.log_likelihood(x, z), log_q, standard_normal_log_prob(z)

    def terms(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(log p(x|z), per-dimension KL estimate log q(z_i|x) - log p(z_i)) for one z ~ q(z|x)."""
        log_lik, log_q, log_p = self.draw(x)
        return log_lik, log_q - log_p

    def loss_terms(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        """``terms`` and, with an auxiliary decoder, log r(x | z) for the same z."""
        if self.aux_head is None:
            return (*self.terms(x), None)
        z, log_q = self.posterior.sample(self.features(x))
        log_lik, aux = self.log_likelihoods(x, z)
        return log_lik, log_q - standard_normal_log_prob(z), aux

    def loss(self, x: Tensor, labels: Tensor | None = None) -> tuple[Tensor, dict[str, float]]:
        """Negative ELBO with free bits (and the auxiliary decoder's term), in bits/dim; metrics hold the true
        ELBO's bits/dim and its parts."""
        log_lik, kl_dims, aux = self.loss_terms(x)
        kl = kl_dims.sum(1)
        groups = kl_dims.view(len(x), self.kl_groups, -1).sum(2).mean(0)  # minibatch-average KL per group
        kl_term = torch.clamp(groups, min=self.kl_min).sum() if self.kl_min > 0 else kl.mean()
        aux_term = -self.aux_weight * aux.mean() if aux is not None else 0.0  # AGAVE's auxiliary term
        objective = (-log_lik.mean() + aux_term + kl_term) / (self.dims * math.log(2.0))
        elbo_bpd = bits_per_dim(-(log_lik - kl), self.dims).mean()
        metrics = {
            "bits_per_dim": float(elbo_bpd.detach()),
            "kl_nats": float(kl.mean().detach()),
            "recon_nats": float(-log_lik.mean().detach()),
        }
        if aux is not None:
            metrics["aux_recon_nats"] = float(-aux.mean().detach())
        return objective, metrics

    @torch.no_grad()
    def iw_nll(self, x: Tensor, k: int = 100) -> Tensor:
        """Importance-weighted NLL estimate in nats per example with k samples (module docstring)."""
        features = self.features(x)
        weights = []
        for _ in range(k):
            log_lik, log_q, log_p = self.draw(x, features)
            weights.append(log_lik + log_p.sum(1) - log_q.sum(1))
        return -(torch.logsumexp(torch.stack(weights), dim=0) - math.log(k))

    @torch.no_grad()
    def decode_sample(self, z: Tensor) -> Tensor:
        """Integer images from latents (a draw from p(x | z))."""
        if self.pixelcnn is not None:
            return self.pixelcnn.sample(len(z), cond=z, spatial=self.decoder(z))
        return self.head.sample(self.decoder(z), self.image_shape[0])

    @torch.no_grad()
    def decode_typical(self, z: Tensor) -> Tensor:
        """Noise-free integer images from latents (for videos): the conv decoder's location; with a PixelCNN
        decoder the auxiliary decoder's location (what z carries), else a PixelCNN draw (slow)."""
        if self.aux_head is not None:
            return self.aux_head.typical(self.decoder(z), self.image_shape[0])
        if self.pixelcnn is not None:
            return self.decode_sample(z)
        return self.head.typical(self.decoder(z), self.image_shape[0])

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0) -> Tensor:
        device = next(self.parameters()).device
        return self.decode_sample(temperature * torch.randn(n, self.latent_dim, device=device))

    @torch.no_grad()
    def reconstruct(self, x: Tensor, typical: bool = False) -> Tensor:
        """Decode a posterior draw of z: a draw from p(x | z), or with ``typical`` its noise-free location."""
        z, _ = self.posterior.sample(self.features(x))
        return self.decode_typical(z) if typical else self.decode_sample(z)

    @torch.no_grad()
    def active_units(self, x: Tensor, threshold: float = 0.01) -> int:
        """Latent dimensions whose posterior mean varies across x (Burda et al. 2016, Section 5.2)."""
        mean, _ = self.posterior_params(x)
        return int((mean.var(dim=0) > threshold).sum())
