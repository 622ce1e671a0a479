"""``kind: pixelcnn`` — a gated PixelCNN, optionally class-conditional (``rlgen.models.pixelcnn``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rlgen.generative import common
from rlgen.generative.config import GenerativeRunConfig

SEED_KEY = common.SEED_KEY


@dataclass(frozen=True)
class PixelCNNModelConfig:
    """The PixelCNN's size and output distribution."""

    channels: int = 64
    """Feature maps per stack."""
    n_layers: int = 8
    """Gated layers (the receptive field grows with them)."""
    kernel: int = 3
    """Kernel width of the vertical stack (odd)."""
    likelihood: Literal["categorical", "logistic_mixture"] = "categorical"
    """Softmax over the levels (the paper) or a discretised logistic mixture (PixelCNN++)."""
    components: int = 5
    """Mixture components for logistic_mixture."""
    class_conditional: bool = False
    """Condition on the image's class label (samples.png then cycles through the classes)."""

    def __post_init__(self) -> None:
        if self.channels < 1 or self.n_layers < 1 or self.components < 1:
            raise ValueError("'channels', 'n_layers' and 'components' must be >= 1")
        if self.kernel < 3 or self.kernel % 2 == 0:
            raise ValueError(f"'kernel' must be odd and >= 3, got {self.kernel}")


@dataclass(frozen=True, kw_only=True)
class Config(GenerativeRunConfig):
    """An autoregressive image model trained by maximum likelihood (exact bits/dim)."""

    kind: Literal["pixelcnn"] = "pixelcnn"
    """Experiment type."""
    model: PixelCNNModelConfig = field(default_factory=PixelCNNModelConfig)
    """The PixelCNN."""


def build_model(config: Config, image_shape, levels: int):  # noqa: ANN201 - PixelCNN
    from rlgen.models.pixelcnn import PixelCNN

    m = config.model
    return PixelCNN(image_shape, levels, channels=m.channels, n_layers=m.n_layers, kernel=m.kernel,
                    likelihood=m.likelihood, components=m.components,
                    n_classes=10 if m.class_conditional else 0)  # fmt: skip


def validate(config: Config) -> None:
    common.validate_data(config)


train, evaluate, sample = common.kind_functions(__name__)
