"""Config sections shared by the generative kinds (``vae``, ``flow``, ``pixelcnn``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rlgen.config import RunSection


@dataclass(frozen=True)
class DataConfig:
    """Which images to model."""

    dataset: Literal["digits", "mnist", "cifar10", "frames"] = "digits"
    """digits (scikit-learn's bundled 8x8, 17 levels), mnist (IDX files), cifar10 (python batches) or frames
    (shards from ``rlgen collect --frames``, 256 levels, streamed from disk; every 10th episode is test)."""
    path: str = ""
    """Folder with the MNIST, CIFAR-10 or frame-shard files (not needed for digits; nothing is downloaded)."""
    limit: int = 0
    """Train on the first N training images (per epoch, for frames) only (0: all)."""
    validation: float = 0.0
    """Fraction of the training images (training episodes, for frames) held out as a validation split, the
    same split for every seed. When > 0, the validation bits/dim is computed with the test bits/dim and the
    run keeps the weights with the best one as its model (model selection without looking at the test set;
    likelihood models only: vae, flow, pixelcnn). 0: no split, the final weights are kept."""

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError(f"'limit' must be >= 0 (0: all), got {self.limit}")
        if not 0.0 <= self.validation <= 0.5:
            raise ValueError(f"'validation' must be a fraction in [0, 0.5] (e.g. 0.1), got {self.validation}")


@dataclass(frozen=True)
class TrainSection:
    """Optimisation, evaluation and checkpointing."""

    epochs: int = 100
    """Passes over the training images."""
    batch_size: int = 64
    """Images per gradient step."""
    learning_rate: float = 1e-3
    """Adam's step size."""
    grad_clip: float = 100.0
    """Clip the gradient norm to this (0: no clipping)."""
    seed: int = 0
    """Seed for initialisation, batch order and sampling."""
    eval_every: int = 10
    """Compute the test bits/dim every this many epochs (and at the end)."""
    checkpoint_every: int = 10
    """Write a resumable checkpoint every this many epochs (and at the end and on Ctrl-C)."""
    samples: int = 64
    """Images in the final ``samples.png`` grid (0: no samples and no reconstructions, e.g. for a PixelCNN
    decoder on 64x64 frames, whose sampling takes minutes on a CPU)."""
    progress_bar: bool = True
    """Show a progress bar (only when the output is a terminal)."""

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"'{name}' must be >= 1, got {getattr(self, name)}")
        if self.samples < 0:
            raise ValueError(f"'samples' must be >= 0, got {self.samples}")
        if self.learning_rate <= 0 or self.grad_clip < 0:
            raise ValueError("'learning_rate' must be > 0 and 'grad_clip' >= 0")


@dataclass(frozen=True, kw_only=True)
class GenerativeRunConfig:
    """Sections every generative kind has; each kind adds its ``model`` section."""

    kind: str
    """Experiment type."""
    run: RunSection = field(default_factory=RunSection)
    """Run name and output folder."""
    data: DataConfig = field(default_factory=DataConfig)
    """The image dataset."""
    train: TrainSection = field(default_factory=TrainSection)
    """Optimisation, evaluation and checkpoints."""
