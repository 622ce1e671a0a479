"""``kind: vae`` — a VAE with a diagonal or IAF posterior and a conv or PixelCNN decoder (``rlgen.models.vae``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rlgen.generative import common
from rlgen.generative.config import GenerativeRunConfig

SEED_KEY = common.SEED_KEY


@dataclass(frozen=True)
class VAEModelConfig:
    """The VAE's latent space, posterior, decoder and likelihood."""

    latent_dim: int = 32
    """Size of z."""
    features: int = 256
    """Encoder output features (input of the posterior)."""
    posterior: Literal["diagonal", "iaf"] = "diagonal"
    """diagonal Gaussian, or IAF (Kingma et al. 2016)."""
    iaf_steps: int = 2
    """IAF steps (ordering reversed between steps)."""
    iaf_hidden: tuple[int, ...] = (128, 128)
    """Hidden layers of each IAF step's MADE."""
    likelihood: Literal["logistic", "gaussian", "l2", "categorical", "logistic_mixture"] = "logistic"
    """p(x|z) per pixel, discretised to the dataset's levels."""
    decoder: Literal["conv", "pixelcnn"] = "conv"
    """conv (factorised p(x|z)) or a small PixelCNN conditioned on z (local receptive field)."""
    pixelcnn_channels: int = 32
    """Feature maps of the PixelCNN decoder."""
    pixelcnn_layers: int = 2
    """Gated layers of the PixelCNN decoder (few: z must carry the global content)."""
    aux_weight: float = 0.0
    """PixelCNN decoder only: weight of an auxiliary factorised (``l2``) decoder r(x|z) whose output also
    conditions the PixelCNN, so z cannot be left unused (AGAVE, Lucas & Verbeek 2018); 0: off."""
    kl_min: float = 0.0
    """Free bits: minimum KL in nats per latent group, averaged over the minibatch (0: off)."""
    kl_groups: int = 1
    """Number of latent groups for free bits (must divide latent_dim; per layer with stochastic_layers > 1)."""
    iw_samples: int = 100
    """Samples for the importance-weighted NLL in metrics.json (0: skip)."""
    stochastic_layers: int = 1
    """Layers of latents (each of latent_dim): 1 is the plain VAE; 2 or more a ResNet/ladder VAE with
    bidirectional inference (Kingma et al. 2016, Appendix C; rlgen.models.ladder_vae), conv decoder only."""

    def __post_init__(self) -> None:
        if self.stochastic_layers < 1:
            raise ValueError(f"'stochastic_layers' must be >= 1, got {self.stochastic_layers}")
        if self.stochastic_layers > 1 and self.decoder != "conv":
            raise ValueError("'stochastic_layers' > 1 needs decoder: conv (the ladder has no PixelCNN decoder)")
        if self.latent_dim < 1 or self.kl_groups < 1 or self.latent_dim % self.kl_groups:
            raise ValueError(f"'kl_groups' ({self.kl_groups}) must divide 'latent_dim' ({self.latent_dim})")
        if self.kl_min < 0 or self.iw_samples < 0 or self.aux_weight < 0:
            raise ValueError("'kl_min', 'iw_samples' and 'aux_weight' must be >= 0")
        if self.aux_weight > 0 and self.decoder != "pixelcnn":
            raise ValueError("'aux_weight' needs decoder: pixelcnn (a conv decoder is already factorised)")


@dataclass(frozen=True, kw_only=True)
class Config(GenerativeRunConfig):
    """A variational autoencoder trained on the ELBO (with optional free bits)."""

    kind: Literal["vae"] = "vae"
    """Experiment type."""
    model: VAEModelConfig = field(default_factory=VAEModelConfig)
    """The VAE."""


def build_model(config: Config, image_shape, levels: int):  # noqa: ANN201 - VAE
    from rlgen.models.ladder_vae import LadderVAE
    from rlgen.models.vae import VAE

    m = config.model
    if m.stochastic_layers > 1:
        return LadderVAE(image_shape, levels, stochastic_layers=m.stochastic_layers, latent_dim=m.latent_dim,
                         features=m.features, likelihood=m.likelihood, posterior=m.posterior, iaf_steps=m.iaf_steps,
                         iaf_hidden=m.iaf_hidden, kl_min=m.kl_min, kl_groups=m.kl_groups)  # fmt: skip
    return VAE(image_shape, levels, latent_dim=m.latent_dim, features=m.features, likelihood=m.likelihood,
               posterior=m.posterior, iaf_steps=m.iaf_steps, iaf_hidden=m.iaf_hidden, kl_min=m.kl_min,
               kl_groups=m.kl_groups, decoder=m.decoder, pixelcnn_channels=m.pixelcnn_channels,
               pixelcnn_layers=m.pixelcnn_layers, aux_weight=m.aux_weight)  # fmt: skip


def final_metrics(model, config: Config, test_images) -> dict[str, float]:  # noqa: ANN001
    """IW-NLL in bits/dim (Burda et al. 2016), the number of active latent units and (conv decoders) the
    reconstruction's mean squared error per pixel on [0, 1] (the World Models VAE's loss, per pixel) on the
    test set."""
    import math

    import torch

    out: dict[str, float] = {"active_units": model.active_units(test_images)}
    # a PixelCNN decoder would have to sample every pixel in turn; with r(x|z), the reconstruction is r's
    key = "test_reconstruction_mse" if model.pixelcnn is None else "test_aux_reconstruction_mse"
    if model.pixelcnn is None or model.aux_head is not None:
        error = [reconstruction_mse(model, test_images[i : i + 256]) for i in range(0, len(test_images), 256)]
        out[key] = float(torch.cat(error).mean())
    k = config.model.iw_samples
    if k:
        nll = torch.cat([model.iw_nll(test_images[i : i + 256], k) for i in range(0, len(test_images), 256)])
        out[f"test_iw_nll_bits_per_dim_k{k}"] = float(nll.mean()) / (model.dims * math.log(2.0))
    return out


def reconstruction_mse(model, x):  # noqa: ANN001, ANN201 - VAE, Tensor -> Tensor
    """Per image: the mean squared error between x and its noise-free reconstruction, pixels on [0, 1]."""
    error = (model.reconstruct(x, typical=True) - x).float() / (model.levels - 1)
    return error.pow(2).flatten(1).mean(1)


def extra_images(model, data, run, levels: int, samples: int) -> None:  # noqa: ANN001
    """reconstructions.png: test images (odd rows) above their reconstructions (even rows): draws from p(x|z),
    or with an auxiliary decoder r(x|z) its noise-free location (what z carries). Only a PixelCNN decoder
    without r has to sample pixel by pixel; with ``samples`` 0 it is skipped."""
    import torch

    from rlgen.plots import save_image_grid

    typical = model.aux_head is not None
    if model.pixelcnn is not None and not typical and not samples:
        return
    x = data.test_head(32)[0]
    rows = [t for i in range(0, 32, 8) for t in (x[i : i + 8], model.reconstruct(x[i : i + 8], typical=typical))]
    save_image_grid(torch.cat(rows), levels, run / "reconstructions.png")


def validate(config: Config) -> None:
    common.validate_data(config)


train, evaluate, sample = common.kind_functions(__name__)
