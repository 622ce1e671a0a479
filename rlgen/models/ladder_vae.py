"""A VAE with several stochastic layers and bidirectional inference (Kingma et al. 2016, arXiv 1606.04934,
Appendix C, the ResNet VAE "with bidirectional inference" and its figure; cf. the ladder VAE, Sønderby et
al. 2016, whose inference also merges a bottom-up and a top-down pass).

Generative model, top (layer L) to bottom (layer 1):
    p(z_L) = N(0, I),   p(z_l | z_>l) = N(mu_l(d_l), sigma_l(d_l)),   p(x | z_1, d_1),
with the top-down state d_l = ReLU(W_l [z_{l+1}, d_{l+1}]) (d_L empty).

Inference shares the top-down pass with the generative model (the "bidirectional" part): a bottom-up pass
h_1 = encoder(x), h_{l+1} = ReLU(U_l h_l) first; then, top to bottom, q(z_L | x) reads h_L and
q(z_l | x, z_>l) reads [h_l, d_l], so every posterior sees both the data and the latents above it. Each
posterior is a diagonal Gaussian, optionally followed by IAF steps with that same input as the context
(the paper puts IAF in every stochastic layer).

KL term (Eq. 2 applied per layer): the single-sample estimate sum_l [log q(z_l | .) - log p(z_l | z_>l)] per latent
dimension; free bits (Appendix C.8) apply to ``kl_groups`` groups in every layer, as the paper does.

The paper's model is convolutional (latent feature maps in ResNet blocks, for CIFAR-10); ours keeps the
latents as vectors on top of the shared conv encoder/decoder, enough for 8x8-28x28 images and the same
inference structure. Differences are deliberate and small: no ResNet skip inside the top-down path, and the
decoder reads [z_1, d_1] through one linear layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rlgen.models.conv_stacks import ConvDecoder, ConvEncoder
from rlgen.models.iaf import make_posterior
from rlgen.models.likelihoods import gaussian_log_density, make_head, standard_normal_log_prob
from rlgen.models.vae import VAE


class LadderVAE(VAE):
    """``stochastic_layers`` layers of ``latent_dim`` latents each (module docstring); the VAE's loss, free
    bits, IW-NLL and sampling helpers apply unchanged (``draw`` supplies the per-dimension terms)."""

    def __init__(
        self,
        image_shape: Sequence[int],
        levels: int,
        *,
        stochastic_layers: int = 2,
        latent_dim: int = 16,
        features: int = 256,
        likelihood: str = "logistic",
        posterior: str = "diagonal",
        iaf_steps: int = 2,
        iaf_hidden: Sequence[int] = (64, 64),
        kl_min: float = 0.0,
        kl_groups: int = 1,
    ):
        nn.Module.__init__(self)
        if stochastic_layers < 2:
            raise ValueError(f"a ladder needs stochastic_layers >= 2, got {stochastic_layers} (1: use VAE)")
        if latent_dim % kl_groups:
            raise ValueError(f"latent_dim {latent_dim} is not divisible by kl_groups {kl_groups}")
        self.image_shape, self.levels = tuple(image_shape), levels
        self.layers, self.layer_dim = stochastic_layers, latent_dim
        self.latent_dim = stochastic_layers * latent_dim
        self.kl_min, self.kl_groups = kl_min, stochastic_layers * kl_groups  # kl_groups groups in each layer
        f, d = features, latent_dim

        self.encoder = ConvEncoder(image_shape, f)
        self.up = nn.ModuleList(nn.Linear(f, f) for _ in range(stochastic_layers - 1))
        # list index i is layer i + 1 of the docstring; the top layer's posterior reads h_L alone
        self.posteriors = nn.ModuleList(
            make_posterior(posterior, f if layer == stochastic_layers - 1 else 2 * f, d, iaf_steps, iaf_hidden)
            for layer in range(stochastic_layers)
        )
        self.down = nn.ModuleList(nn.Linear(d + (f if layer < stochastic_layers - 2 else 0), f)
                                  for layer in range(stochastic_layers - 1))  # fmt: skip
        self.priors = nn.ModuleList(nn.Linear(f, 2 * d) for _ in range(stochastic_layers - 1))
        self.pixelcnn, self.aux_head = None, None
        self.head = make_head(likelihood, levels)
        self.to_decoder = nn.Linear(d + f, f)
        self.decoder = ConvDecoder(f, image_shape, self.head.param_channels(image_shape[0]))

    def features(self, x: Tensor) -> list[Tensor]:
        """The bottom-up pass h_1 ... h_L."""
        h = [super().features(x)]
        for up in self.up:
            h.append(torch.relu(up(h[-1])))
        return h

    def _top_down_state(self, layer: int, z: Tensor, state: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        """d_l from the layer above, and the prior (mean, log sigma) of z_l it gives."""
        state = torch.relu(self.down[layer](z if state is None else torch.cat([z, state], 1)))
        mean, log_std = self.priors[layer](state).chunk(2, dim=1)
        return state, mean, log_std.clamp(-10, 5)

    def _decoder_input(self, z: Tensor, state: Tensor) -> Tensor:
        return torch.relu(self.to_decoder(torch.cat([z, state], 1)))

    def infer(self, h: list[Tensor]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """One top-down pass with z_l ~ q(z_l | x, z_>l): (decoder input, log q and log p per latent
        dimension, [mean, log sigma] of every layer's base Gaussian, top layer first)."""
        z = state = None
        log_q, log_p, means = [], [], []
        for layer in reversed(range(self.layers)):
            if layer == self.layers - 1:
                context = h[layer]
            else:
                state, prior_mean, prior_log_std = self._top_down_state(layer, z, state)
                context = torch.cat([h[layer], state], 1)
            means.append(torch.cat(self.posteriors[layer].base(context), 1))
            z, lq = self.posteriors[layer].sample(context)
            lp = standard_normal_log_prob(z) if state is None else gaussian_log_density(z, prior_mean, prior_log_std)
            log_q.append(lq)
            log_p.append(lp)
        return self._decoder_input(z, state), torch.cat(log_q, 1), torch.cat(log_p, 1), torch.cat(means, 1)

    def draw(self, x: Tensor, features=None) -> tuple[Tensor, Tensor, Tensor]:  # noqa: ANN001 - list of Tensor
        decoder_input, log_q, log_p, _ = self.infer(self.features(x) if features is None else features)
        return self.log_likelihood(x, decoder_input), log_q, log_p

    def posterior_params(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(mean, log sigma) of every layer's base Gaussian, top layer first; the lower layers' along one
        sampled top-down pass (they depend on the z above)."""
        params = self.infer(self.features(x))[3].view(len(x), self.layers, 2, self.layer_dim)
        return params[:, :, 0].flatten(1), params[:, :, 1].flatten(1)

    @torch.no_grad()
    def prior_decoder_input(self, n: int, temperature: float = 1.0) -> Tensor:
        """Ancestral sampling of z_L ... z_1 from the priors, top to bottom; ``temperature`` scales every
        prior's standard deviation (0: the chain of prior means). Returns the decoder's input."""
        device = next(self.parameters()).device
        z = temperature * torch.randn(n, self.layer_dim, device=device)
        state = None
        for layer in reversed(range(self.layers - 1)):
            state, mean, log_std = self._top_down_state(layer, z, state)
            z = mean + temperature * torch.exp(log_std) * torch.randn_like(mean)
        return self._decoder_input(z, state)

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0) -> Tensor:
        return self.decode_sample(self.prior_decoder_input(n, temperature))

    @torch.no_grad()
    def reconstruct(self, x: Tensor, typical: bool = False) -> Tensor:
        decoder_input = self.infer(self.features(x))[0]
        return self.decode_typical(decoder_input) if typical else self.decode_sample(decoder_input)

    @torch.no_grad()
    def active_units(self, x: Tensor, threshold: float = 0.01) -> int:
        """Active units over all layers (Burda et al. 2016, Section 5.2); the lower layers' means are taken
        along one sampled top-down pass."""
        means, _ = self.posterior_params(x)
        return int((means.var(dim=0) > threshold).sum())
