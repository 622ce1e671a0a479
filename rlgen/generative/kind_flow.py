"""``kind: flow`` — RealNVP or Glow on an image dataset (``rlgen.models.flows``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rlgen.data.image_sides import IMAGE_SIDES
from rlgen.errors import ConfigError
from rlgen.generative import common
from rlgen.generative.config import GenerativeRunConfig

SEED_KEY = common.SEED_KEY


@dataclass(frozen=True)
class FlowModelConfig:
    """The flow's architecture."""

    arch: Literal["glow", "realnvp"] = "glow"
    """glow (Kingma & Dhariwal 2018) or realnvp (Dinh et al. 2017)."""
    n_levels: int = 2
    """Glow levels / RealNVP scales (each halves the image side)."""
    steps: int = 8
    """Glow: flow steps per level (RealNVP's layout is fixed by the paper)."""
    hidden: int = 128
    """Channels of the coupling networks."""
    coupling: Literal["affine", "additive"] = "affine"
    """Glow's coupling: affine (sigmoid scale) or additive."""
    lu: bool = True
    """Glow: LU-decomposed 1x1 convolutions."""
    share_coupling: bool = False
    """One coupling network per level shared by its steps, with a per-step embedding (NanoFlow-style)."""
    embed_channels: int = 4
    """Size of each step's embedding when sharing coupling networks."""
    step_heads: bool = False
    """When sharing: each step keeps its own zero-initialised 1x1 output layer on the shared features
    (NanoFlow's per-flow projection; hidden x 2 x channels/2 parameters per step)."""
    sample_temperature: float = 0.8
    """Temperature of the final samples.png (rlgen sample --temperature overrides)."""

    def __post_init__(self) -> None:
        if self.n_levels < 1 or self.steps < 1 or self.hidden < 1 or self.embed_channels < 1:
            raise ValueError("'n_levels', 'steps', 'hidden' and 'embed_channels' must be >= 1")


@dataclass(frozen=True, kw_only=True)
class Config(GenerativeRunConfig):
    """A normalising flow trained by maximum likelihood on dequantised images."""

    kind: Literal["flow"] = "flow"
    """Experiment type."""
    model: FlowModelConfig = field(default_factory=FlowModelConfig)
    """The flow."""


def validate(config: Config) -> None:
    common.validate_data(config)
    side = IMAGE_SIDES[config.data.dataset]
    if side % (2**config.model.n_levels):
        raise ConfigError(
            f"model.n_levels {config.model.n_levels} needs an image side divisible by {2**config.model.n_levels}; "
            f"{config.data.dataset} images are {side}x{side}"
        )


def build_model(config: Config, image_shape, levels: int):  # noqa: ANN201 - MultiScaleFlow
    from rlgen.models.flows.multiscale import glow, realnvp

    m = config.model
    if m.arch == "realnvp":
        return realnvp(image_shape, levels, n_scales=m.n_levels, hidden=m.hidden,
                       share_coupling=m.share_coupling, embed_channels=m.embed_channels,
                       step_heads=m.step_heads)  # fmt: skip
    return glow(image_shape, levels, n_levels=m.n_levels, steps=m.steps, hidden=m.hidden,
                affine=m.coupling == "affine", lu=m.lu, share_coupling=m.share_coupling,
                embed_channels=m.embed_channels, step_heads=m.step_heads)  # fmt: skip


train, evaluate, sample = common.kind_functions(__name__)
