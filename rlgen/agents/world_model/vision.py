"""Stage 2, V: the image model of ``rlgen.models.vae`` trained on the collected frames by the generative
trainer (progress bar, checkpoints, resume, reconstructions, bits/dim and active units), in ``RUN/vision``;
and the encoder the later stages use: a frame -> the posterior's (mu, log sigma)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rlgen.agents.world_model.config import Config
from rlgen.errors import RlgenError
from rlgen.runs import RunDir

VISION_DIR = "vision"


def vae_config(config: Config, frames: Path):  # noqa: ANN201 - rlgen.generative.kind_vae.Config
    """The ``kind: vae`` config of V: a diagonal posterior (M reads its mu and sigma), conv or PixelCNN decoder."""
    from rlgen.generative.config import DataConfig, TrainSection
    from rlgen.generative.kind_vae import Config as VAERunConfig
    from rlgen.generative.kind_vae import VAEModelConfig

    v = config.vision
    model = VAEModelConfig(
        latent_dim=v.latent_dim, likelihood=v.head, kl_min=v.kl_min, kl_groups=1, iw_samples=0,
        decoder="pixelcnn" if v.encoder == "pixelcnn" else "conv", pixelcnn_channels=v.pixelcnn_channels,
        pixelcnn_layers=v.pixelcnn_layers, aux_weight=v.auxiliary_weight,
    )  # fmt: skip
    train = TrainSection(epochs=v.epochs, batch_size=v.batch_size, learning_rate=v.learning_rate,
                         seed=config.env.seed, eval_every=v.epochs, checkpoint_every=1,
                         samples=0 if v.encoder == "pixelcnn" else 16)  # fmt: skip
    return VAERunConfig(data=DataConfig(dataset="frames", path=str(frames), limit=v.frames_per_epoch),
                        train=train, model=model)  # fmt: skip


def train_vision(config: Config, run: RunDir, frames: Path) -> None:
    from rlgen.generative import kind_vae
    from rlgen.generative.trainer import GenerativeTrainer

    (run / VISION_DIR).mkdir(exist_ok=True)
    GenerativeTrainer(vae_config(config, frames), RunDir(run / VISION_DIR), kind_vae).train()


def load_vision(config: Config, run: RunDir, frame_shape: tuple[int, int, int]) -> torch.nn.Module:
    """V with its final weights, in eval mode."""
    from rlgen.generative import kind_vae

    model = kind_vae.build_model(vae_config(config, Path()), frame_shape, 256)
    path = run / VISION_DIR / "model.pt"
    try:
        model.load_state_dict(torch.load(path, weights_only=True))
    except (OSError, RuntimeError) as err:
        raise RlgenError(f"cannot load V from {path}: {str(err).splitlines()[0]}") from None
    return model.eval()


@torch.no_grad()
def encode(vision: torch.nn.Module, frames: np.ndarray, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """uint8 frames (N, C, H, W) -> the posterior's mu and log sigma, float32 (N, latent_dim) each."""
    means, log_stds = [], []
    for start in range(0, len(frames), batch):
        x = torch.from_numpy(frames[start : start + batch]).long()
        mean, log_std = vision.posterior_params(x)
        means.append(mean.numpy())
        log_stds.append(log_std.numpy())
    return np.concatenate(means).astype(np.float32), np.concatenate(log_stds).astype(np.float32)
