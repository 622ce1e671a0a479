"""``kind: vime`` — curiosity from a Bayesian dynamics model, on any SB3 on-policy algorithm.

Houthooft et al. 2016, "VIME: Variational Information Maximizing Exploration" (arXiv 1605.09674).
The agent is paid r'(s, a, s') = r(s, a) + eta * KL[q(theta; phi') || q(theta; phi)] (Eq. 5): the
information a transition gives about the weights of a BNN dynamics model (``rlgen.models.bnn``),
approximated per transition (Section 2.4, ``rlgen.models.info_gain``) and normalised by the median of
previous batches (Section 2.5).

It composes with PPO, A2C or TRPO without forking them: a vec-env wrapper records raw (s, a, s')
(terminal observations included), and a callback, at the end of each rollout, computes the bonus for the
whole rollout in one batched call, adds it to the rollout buffer's rewards, recomputes returns and
advantages, then trains the BNN on a replay pool. The order follows the original code (openai/vime):
the bonus uses the BNN from before this rollout's update. The env's own reward stays what ``Monitor``
reports (``rollout/ep_rew_mean`` is the extrinsic return); VIME's numbers are logged under ``vime/``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rlgen.errors import ConfigError
from rlgen.evaluation import EvalOptions, EvalResult
from rlgen.runs import RunDir
from rlgen.sb3.config import SB3RunConfig

SEED_KEY = "env.seed"


@dataclass(frozen=True)
class BNNConfig:
    """The Bayesian dynamics model (defaults from the original code, openai/vime ``bnn.py``)."""

    hidden: tuple[int, ...] = (32,)
    """Hidden layer sizes (ReLU)."""
    prior_sd: float = 0.5
    """Standard deviation of the Gaussian weight prior; the posterior sd starts here too."""
    likelihood_sd: float = 5.0
    """Standard deviation of the Gaussian likelihood on standardised targets."""
    predict_delta: bool = False
    """Predict s' - s instead of s'."""
    n_samples: int = 10
    """Monte-Carlo samples of the weights per ELBO and per information-gain evaluation."""
    learning_rate: float = 1e-4
    """Adam learning rate of the BNN (the original experiments' value)."""
    kl_weight: float | None = None
    """Weight of KL[q || prior] per minibatch. None: minibatch size / pool size, the paper's ELBO (Eq. 6)
    on a minibatch. The original code uses a fixed 1/5, under which (with likelihood sd 5 on standardised
    targets) the posterior stays at the prior and the BNN learns no dynamics (MSE ~1.0 on Mountain Car
    transitions vs 0.15 with the paper's weighting; see docs/benchmarks.md)."""

    def __post_init__(self) -> None:
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"'hidden' must list positive layer sizes, got {self.hidden}")
        for name in ("prior_sd", "likelihood_sd", "learning_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"'{name}' must be > 0, got {getattr(self, name)}")
        if self.n_samples < 1:
            raise ValueError(f"'n_samples' must be >= 1, got {self.n_samples}")
        if self.kl_weight is not None and self.kl_weight < 0:
            raise ValueError(f"'kl_weight' must be >= 0 (or null), got {self.kl_weight}")


@dataclass(frozen=True)
class VimeConfig:
    """The curiosity bonus and the BNN's replay pool."""

    eta: float = 1e-4
    """Bonus coefficient: reward + eta * normalised information gain (original default 1e-4)."""
    step_size: float = 0.01
    """lambda, the step size of the per-transition Newton step on the ELBO."""
    info_gain: Literal["second_order", "exact"] = "second_order"
    """second_order: the paper's approximation (Eq. 16-17); exact: take the step, closed-form KL."""
    max_kl: float = 1000.0
    """Clip each information gain to [0, max_kl] (as the original)."""
    normalize_window: int = 10
    """Divide the KLs by the mean of the medians of the last this-many batches (0: no normalisation)."""
    pool_size: int = 100_000
    """Replay pool capacity (transitions)."""
    min_pool_size: int = 500
    """Train the BNN only once the pool holds this many transitions."""
    updates_per_iteration: int = 100
    """BNN minibatch updates after each rollout. The original makes 500 updates of 10 transitions; 100 of
    50 use the same 5,000 samples per iteration at a fifth of the Python overhead."""
    batch_size: int = 50
    """BNN minibatch size."""

    def __post_init__(self) -> None:
        if self.eta < 0 or self.step_size <= 0 or self.max_kl <= 0:
            raise ValueError("'eta' must be >= 0, 'step_size' and 'max_kl' > 0")
        for name in ("pool_size", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"'{name}' must be >= 1, got {getattr(self, name)}")
        for name in ("normalize_window", "min_pool_size", "updates_per_iteration"):
            if getattr(self, name) < 0:
                raise ValueError(f"'{name}' must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True, kw_only=True)
class Config(SB3RunConfig):
    """An on-policy SB3 algorithm (ppo, a2c, trpo) whose rewards carry VIME's information-gain bonus."""

    kind: Literal["vime"] = "vime"
    """Experiment type."""
    vime: VimeConfig = field(default_factory=VimeConfig)
    """The bonus and the replay pool."""
    bnn: BNNConfig = field(default_factory=BNNConfig)
    """The Bayesian dynamics model."""


class MedianNormalizer:
    """Divides a batch of KLs by the mean of the medians of the last ``window`` batches (Section 2.5).

    As in the original code (openai/vime ``process_samples``), the current batch's median is part of
    that mean: the KLs of an untrained BNN are orders of magnitude smaller than later ones, and leaving
    the current batch out makes the first normalised bonuses explode.
    """

    def __init__(self, window: int):
        self.window = window
        self.medians: deque[float] = deque(maxlen=max(window, 1))

    def __call__(self, kl: np.ndarray) -> np.ndarray:
        if self.window == 0:
            return kl
        self.medians.append(float(np.median(kl)))
        scale = float(np.mean(self.medians))
        return kl / scale if scale > 0 else kl


def validate(config: Config) -> None:
    from rlgen.sb3.algos import is_on_policy

    config.check_runtime()
    if not is_on_policy(config.algo.name):
        raise ConfigError(f"VIME plugs into on-policy algorithms (ppo, a2c, trpo); 'algo.name' is {config.algo.name!r}")


def train(config: Config, run: RunDir) -> None:
    from rlgen.agents.vime_plugin import VimePlugin
    from rlgen.sb3.trainer import SB3Trainer

    validate(config)
    plugin = VimePlugin(config.vime, config.bnn, seed=config.env.seed)
    SB3Trainer(run=run, env=config.env, algo=config.algo, train=config.train, plugins=[plugin]).train()


def evaluate(config: Config, run: RunDir, options: EvalOptions) -> EvalResult:
    """The policy alone on the env's own reward (the bonus plays no part in evaluation)."""
    from rlgen.sb3.evaluate import evaluate_run

    return evaluate_run(config, run, options)
