"""The ``world_model`` run config: env, then one section per pipeline stage (collect -> vision -> memory ->
controller). Defaults follow Ha & Schmidhuber 2018 (and hardmaru/WorldModelsExperiments where the paper is
silent) unless a field's docstring says otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rlgen.config import RunSection
from rlgen.envs.config import EnvConfig


@dataclass(frozen=True)
class CollectSection:
    """Stage 1: random-policy frames (shards on disk, streamed by the later stages)."""

    episodes: int = 1000
    """Episodes to collect (the paper: 10,000 for CarRacing; ~1.5 h per 1,000 here with 2 workers)."""
    policy: str = "brownian"
    """random, brownian (a smooth random walk; reaches further along the track), or an SB3 zip / rl run dir."""
    path: str = ""
    """Use frames already collected with ``rlgen collect --frames`` from this folder instead of collecting;
    several folders joined with ``:`` (``os.pathsep``; ``;`` on Windows) are used as one collection, e.g.
    random frames plus frames played by a trained controller (the paper's iterative training, Section 5)."""
    size: int = 64
    """Frame height and width (the paper: 64)."""
    max_steps: int | None = None
    """Cap collected episodes at this many steps (None: the env's time limit)."""
    workers: int = 2
    """Parallel collection workers."""

    def __post_init__(self) -> None:
        if self.episodes < 2 or self.size < 8 or self.workers < 1:
            raise ValueError("'episodes' must be >= 2 (one is held out), 'size' >= 8 and 'workers' >= 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"'max_steps' must be >= 1, got {self.max_steps}")


@dataclass(frozen=True)
class VisionSection:
    """Stage 2: V, the VAE (``encoder: vae``) or the same encoder with a small PixelCNN decoder on z."""

    encoder: Literal["vae", "pixelcnn"] = "vae"
    """vae: conv decoder (the paper); pixelcnn: a local autoregressive decoder conditioned on z, so z keeps
    only the global content (VLAE, Chen et al. 2016)."""
    latent_dim: int = 32
    """Size of z (the paper: 32 for CarRacing)."""
    likelihood: Literal["auto", "l2", "logistic", "gaussian", "categorical", "logistic_mixture"] = "auto"
    """p(x|z) per pixel, discretised to 256 levels. auto: ``l2`` for the conv decoder (the paper's code: a
    squared error, i.e. a Gaussian of fixed variance), ``logistic`` for the PixelCNN decoder. A learned-scale
    head on the conv decoder explains the frames as noise early on and leaves z nearly unused
    (docs/benchmarks.md, "World Models": posterior means 20x less spread than with ``l2``)."""
    kl_min: float = 16.0
    """KL tolerance: the KL term is max(kl_min, KL) in nats (the paper's code: 0.5 nats x 32 dims)."""
    pixelcnn_channels: int = 32
    """Feature maps of the PixelCNN decoder."""
    pixelcnn_layers: int = 2
    """Gated layers of the PixelCNN decoder (few: a local receptive field)."""
    aux_weight: float | None = None
    """PixelCNN encoder only: weight of the auxiliary ``l2`` decoder r(x|z) that also conditions the
    PixelCNN (AGAVE, Lucas & Verbeek 2018), so that z has to carry the frame's layout. Without it the local
    decoder modelled the frames alone (1 of 32 units active). The PixelCNN's term is ~50,000 nats a frame
    and r's squared error ~170, so at weight 1 the PixelCNN still shaped z and C drove blind; at 100 the two
    are on one scale, z moves more across an episode than the ``l2`` V's, and C drives (docs/benchmarks.md,
    "World Models", PixelCNN encoder). None: 100 for ``encoder: pixelcnn``; 0 turns it off."""
    epochs: int = 10
    """Passes over the collected frames (the paper's code: 10)."""
    batch_size: int = 100
    """Frames per step (the paper's code: 100)."""
    learning_rate: float = 1e-4
    """Adam's step size (the paper's code: 1e-4)."""
    frames_per_epoch: int = 0
    """Train on this many frames per epoch only (0: all)."""

    @property
    def head(self) -> str:
        """The likelihood head ``auto`` resolves to."""
        if self.likelihood != "auto":
            return self.likelihood
        return "logistic" if self.encoder == "pixelcnn" else "l2"

    @property
    def auxiliary_weight(self) -> float:
        """The auxiliary decoder's weight ``aux_weight: null`` resolves to."""
        if self.aux_weight is not None:
            return self.aux_weight
        return 100.0 if self.encoder == "pixelcnn" else 0.0

    def __post_init__(self) -> None:
        if self.latent_dim < 1 or self.epochs < 1 or self.batch_size < 1 or self.frames_per_epoch < 0:
            raise ValueError("'latent_dim', 'epochs' and 'batch_size' must be >= 1, 'frames_per_epoch' >= 0")
        if self.kl_min < 0 or self.learning_rate <= 0:
            raise ValueError("'kl_min' must be >= 0 and 'learning_rate' > 0")
        if self.aux_weight is not None and (self.aux_weight < 0 or (self.aux_weight and self.encoder != "pixelcnn")):
            raise ValueError("'aux_weight' must be >= 0 and applies to encoder: pixelcnn only (remove it for vae)")


@dataclass(frozen=True)
class MemorySection:
    """Stage 3: M, the MDN-RNN over z sequences (re-sampled from the stored mu, sigma every batch)."""

    hidden: int = 256
    """LSTM units (the paper: 256)."""
    mixtures: int = 5
    """Gaussians per latent dimension (the paper: 5)."""
    sigma_floor: float = 1e-3
    """Smallest mixture standard deviation (keeps the likelihood bounded)."""
    reward_head: bool = False
    """Predict the reward too (needed to train the controller in the dream)."""
    done_head: bool = False
    """Predict episode termination too (needed to train the controller in the dream)."""
    seq_len: int = 100
    """Transitions per training sequence (the paper's code: whole 1,000-step episodes; shorter windows give
    more varied batches at the same cost on a CPU)."""
    batch_size: int = 100
    """Sequences per step (the paper's code: 100)."""
    epochs: int = 20
    """Passes over the transitions (the paper: 20, on 10,000 episodes)."""
    min_updates: int = 1000
    """Train at least this many optimiser steps, adding epochs when ``epochs`` gives fewer (0: off). On small
    data an epoch is a few steps (24 episodes: 3), and 20 epochs leave M untrained: a done head that fires at
    the first step of every dream. The released code trains a fixed 4,000 steps whatever the data size
    (hardmaru/WorldModelsExperiments, carracing/rnn_train.py, ``num_steps``); 1,000 steps of 100-step windows
    take ~3 min on a laptop CPU."""
    learning_rate: float = 1e-3
    """Adam's step size (the paper's code: 1e-3)."""
    grad_clip: float = 1.0
    """Clip the gradient norm to this (the paper's code: 1.0)."""
    reward_weight: float = 1.0
    """Weight of the reward MSE in the loss."""
    done_weight: float = 1.0
    """Weight of the done cross-entropy in the loss."""

    def __post_init__(self) -> None:
        for name in ("hidden", "mixtures", "seq_len", "batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"'{name}' must be >= 1, got {getattr(self, name)}")
        if self.min_updates < 0:
            raise ValueError(f"'min_updates' must be >= 0 (0: off), got {self.min_updates}")
        if self.sigma_floor <= 0 or self.learning_rate <= 0 or self.grad_clip < 0:
            raise ValueError("'sigma_floor' and 'learning_rate' must be > 0, 'grad_clip' >= 0")


@dataclass(frozen=True)
class ControllerSection:
    """Stage 4: C, trained by CMA-ES (``cma`` package) in the real env or inside M (the dream)."""

    inputs: Literal["z_h", "z"] = "z_h"
    """Features of C: [z, h] (the paper's full model) or z alone (the paper's V-only ablation)."""
    hidden: int = 0
    """0: linear controller (the paper); > 0: one tanh hidden layer of this size."""
    train_in: Literal["real", "dream"] = "real"
    """Evaluate candidates in the real env, or in M's dream (needs memory.reward_head; Section 4.5)."""
    generations: int = 300
    """CMA-ES generations."""
    population: int = 64
    """Candidates per generation (the paper: 64)."""
    rollouts: int = 16
    """Episodes per candidate, averaged (the paper: 16); all candidates of a generation share the seeds."""
    sigma0: float = 0.1
    """Initial CMA-ES step size (the paper's code: 0.1)."""
    weight_decay: float = 0.01
    """Fitness penalty weight_decay * mean(theta^2) (the paper's code: 0.01)."""
    negative_stop: int = 0
    """End a training episode after this many consecutive negative rewards (0: never; e.g. 100 for CarRacing,
    where standing still or leaving the track costs 0.1 a frame)."""
    max_steps: int | None = None
    """Cap training episodes at this many steps (None: the env's time limit)."""
    dream_temperature: float = 1.15
    """tau of the dream (Section 4.5: tau > 1 keeps C from exploiting M's mistakes)."""
    dream_max_steps: int = 1000
    """Length cap of a dream episode."""
    executor: Literal["process", "ray"] = "process"
    """Where candidates are evaluated and stage 1's episodes played: local worker processes, or Ray (needs
    ``pip install 'rlgen[ray]'``)."""
    workers: int = 2
    """Worker processes (or Ray actors)."""
    address: str = ""
    """Ray cluster address for ``executor: ray`` (empty: start a local Ray with ``workers`` CPUs)."""
    eval_every: int = 10
    """Every this many generations, play the CMA-ES mean in the real env on ``eval_episodes`` held-out seeds."""
    eval_episodes: int = 16
    """Episodes of those evaluations."""

    def __post_init__(self) -> None:
        for name in ("generations", "population", "rollouts", "dream_max_steps", "workers", "eval_every",
                     "eval_episodes"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"'{name}' must be >= 1, got {getattr(self, name)}")
        if self.population < 2:
            raise ValueError(f"'population' must be >= 2 for CMA-ES, got {self.population}")
        if self.hidden < 0 or self.negative_stop < 0 or self.sigma0 <= 0 or self.weight_decay < 0:
            raise ValueError("'hidden' and 'negative_stop' must be >= 0, 'sigma0' > 0, 'weight_decay' >= 0")
        if self.dream_temperature < 0:
            raise ValueError(f"'dream_temperature' must be >= 0, got {self.dream_temperature}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"'max_steps' must be >= 1, got {self.max_steps}")


@dataclass(frozen=True, kw_only=True)
class Config:
    """A World Models agent (Ha & Schmidhuber 2018): V compresses frames, M predicts the next z, C acts."""

    kind: Literal["world_model"] = "world_model"
    """Experiment type."""
    run: RunSection = field(default_factory=RunSection)
    """Run name and output folder."""
    env: EnvConfig = field(default_factory=lambda: EnvConfig(id="CarRacing-v3"))
    """The environment (its seed is the run's master seed; the vectorisation fields are not used)."""
    collect: CollectSection = field(default_factory=CollectSection)
    """Stage 1: frames."""
    vision: VisionSection = field(default_factory=VisionSection)
    """Stage 2: V."""
    memory: MemorySection = field(default_factory=MemorySection)
    """Stage 3: M."""
    controller: ControllerSection = field(default_factory=ControllerSection)
    """Stage 4: C."""

    def __post_init__(self) -> None:
        if self.controller.train_in == "dream" and not self.memory.reward_head:
            raise ValueError("controller.train_in: dream needs memory.reward_head: true (the dream's reward)")
