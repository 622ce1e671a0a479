"""``kind: gail`` — Generative Adversarial Imitation Learning with any SB3 on-policy generator.

Ho & Ermon 2016, "Generative Adversarial Imitation Learning" (arXiv 1606.03476), Algorithm 1: alternate
(1) a generator rollout with the current policy, (2) discriminator updates telling expert state-actions
from the policy's, (3) a policy step (TRPO in the paper; PPO, A2C or TRPO here) on the reward the
discriminator gives. Composed, not subclassed (as in HumanCompatibleAI's ``imitation``): the shared SB3
trainer holds the generator algorithm, and a plug-in holds the discriminator and relabels each rollout's
rewards. The env's own reward is never seen by the policy; ``rollout/ep_rew_mean`` (SB3's monitor) stays
the true return, which is what imitation is judged by.

Variable-length episodes are fine (no padding). With ``gail.absorbing: true`` terminations are handled
as in DAC (Kostrikov et al. 2019, Section 4.2): the discriminator also sees an "absorbing state", and a
terminating step is paid gamma / (1 - gamma) times the absorbing state's reward, the discounted value of
staying there forever. Leave them off (the paper's set-up) where living longer is the task, as on the
MuJoCo locomotion envs: there the positive reward's survival bias helps, and absorbing states can make
ending an episode pay while the discriminator still rates the absorbing state above the policy's living
states (measured on Hopper in docs/benchmarks.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rlgen.errors import ConfigError
from rlgen.evaluation import EvalOptions, EvalResult
from rlgen.runs import RunDir
from rlgen.sb3.config import SB3RunConfig

SEED_KEY = "env.seed"
DEMOS_META_FILE = "demos_meta.json"


@dataclass(frozen=True)
class DemosConfig:
    """Which expert demonstrations to imitate (made with ``rlgen collect``)."""

    path: str
    """The demos ``.npz`` (its ``.json`` sidecar next to it)."""
    episodes: int | None = None
    """Use only the first this-many expert episodes (the paper's 4/11/18/25 on MuJoCo); null: all."""
    subsample: int = 1
    """Keep every this-many-th transition of each expert episode, from a random offset (paper: 20)."""

    def __post_init__(self) -> None:
        if self.episodes is not None and self.episodes < 1:
            raise ValueError(f"'episodes' must be >= 1 (or null for all), got {self.episodes}")
        if self.subsample < 1:
            raise ValueError(f"'subsample' must be >= 1, got {self.subsample}")


@dataclass(frozen=True)
class DiscriminatorConfig:
    """The discriminator network and how it is trained each round."""

    hidden: tuple[int, ...] = (100, 100)
    """Hidden layer sizes (tanh)."""
    use_next_obs: bool = False
    """Discriminate (s, a, s') instead of (s, a)."""
    learning_rate: float = 3e-4
    """Adam learning rate."""
    updates_per_round: int = 10
    """Discriminator updates after each generator rollout."""
    batch_size: int = 256
    """Expert and policy samples per update (each)."""
    gradient_penalty: float = 0.0
    """Weight of the gradient penalty at expert-policy interpolates, on the standardised inputs (DAC uses 10;
    it keeps D's reward informative where D alone saturates, see docs/benchmarks.md); 0 disables."""
    entropy_coef: float = 0.0
    """Bonus on the entropy of D's output (keeps D from becoming over-confident); 0 disables."""
    replay_size: int = 0
    """Policy transitions kept for discriminator training (a FIFO of recent rollouts); 0: the last rollout only."""

    def __post_init__(self) -> None:
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"'hidden' must list positive layer sizes, got {self.hidden}")
        if self.learning_rate <= 0 or self.batch_size < 1 or self.updates_per_round < 0 or self.replay_size < 0:
            raise ValueError("'learning_rate' and 'batch_size' must be > 0, 'updates_per_round' and 'replay_size' >= 0")
        if self.gradient_penalty < 0 or self.entropy_coef < 0:
            raise ValueError("'gradient_penalty' and 'entropy_coef' must be >= 0")


@dataclass(frozen=True)
class GailConfig:
    """How the policy's reward is made from the discriminator, and the optional BC warm start."""

    reward: Literal["positive", "negative", "logit"] = "positive"
    """positive: -log(1 - D) (paper's default, biased towards surviving); negative: log D (biased towards
    ending episodes); logit: log D - log(1 - D) (AIRL-style, unbiased)."""
    absorbing: bool = False
    """Treat terminations with an absorbing state (DAC) instead of cutting the return."""
    normalize_reward: bool = False
    """Divide the learned reward by its running standard deviation."""
    bc_epochs: int = 0
    """Behaviour-cloning epochs on the demos before GAIL starts (0: no warm start)."""
    bc_batch_size: int = 256
    """Behaviour-cloning minibatch size."""

    def __post_init__(self) -> None:
        if self.bc_epochs < 0 or self.bc_batch_size < 1:
            raise ValueError("'bc_epochs' must be >= 0 and 'bc_batch_size' >= 1")


@dataclass(frozen=True, kw_only=True)
class Config(SB3RunConfig):
    """Imitate the demos with an SB3 on-policy generator and a discriminator reward."""

    kind: Literal["gail"] = "gail"
    """Experiment type."""
    demos: DemosConfig
    """The expert demonstrations."""
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    """The discriminator."""
    gail: GailConfig = field(default_factory=GailConfig)
    """Reward form, absorbing states, warm start."""


def load_demos(config: Config):  # noqa: ANN201 - rlgen.data.demonstrations.Demonstrations
    """The configured demos, checked against the env and cut to the configured episodes."""
    from rlgen.data.demonstrations import Demonstrations
    from rlgen.envs.make import make_env

    demos = Demonstrations.load(config.demos.path)
    env = make_env(config.env)
    try:
        demos.check_env(env, config.env.id, f"demos {config.demos.path}")
    finally:
        env.close()
    return demos.first_episodes(config.demos.episodes) if config.demos.episodes else demos


def validate(config: Config) -> None:
    from rlgen.sb3.algos import is_on_policy

    config.check_runtime()
    if not is_on_policy(config.algo.name):
        raise ConfigError(f"GAIL's generator must be on-policy (ppo, a2c, trpo); 'algo.name' is {config.algo.name!r}")
    if config.env.normalize_reward:
        raise ConfigError(
            "env.normalize_reward would rescale the env's reward, which GAIL replaces; "
            "use gail.normalize_reward: true instead"
        )
    load_demos(config)


def train(config: Config, run: RunDir) -> None:
    from rlgen.agents.gail_plugin import GailPlugin
    from rlgen.runs import atomic_write_text
    from rlgen.sb3.trainer import SB3Trainer

    demos = load_demos(config)
    atomic_write_text(run / DEMOS_META_FILE, json.dumps(demos.meta, indent=2))
    gamma = float(config.algo.kwargs.get("gamma", 0.99))
    plugin = GailPlugin(
        config.discriminator, config.gail, demos, config.demos.subsample, gamma=gamma, seed=config.env.seed
    )
    SB3Trainer(run=run, env=config.env, algo=config.algo, train=config.train, plugins=[plugin]).train()


def evaluate(config: Config, run: RunDir, options: EvalOptions) -> EvalResult:
    """True return of the policy, plus its fraction of the expert's and the normalised score."""
    from dataclasses import replace

    from rlgen.sb3.evaluate import evaluate_run

    result = evaluate_run(config, run, options)
    meta_file = Path(run.path) / DEMOS_META_FILE
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    return replace(result, extras=expert_scores(result.mean_return, meta))


def expert_scores(mean_return: float, meta: dict) -> dict[str, float]:
    """normalized_score = (R - R_random) / (R_expert - R_random); fraction_of_expert = R / R_expert, given
    only when the expert's return is positive (a ratio of negative returns, as on Pendulum, means nothing)."""
    out = {}
    expert, random = meta.get("expert_return_mean"), meta.get("random_return_mean")
    if expert is not None and expert > 0:
        out["fraction_of_expert"] = mean_return / expert
    if expert is not None and random is not None and expert != random:
        out["normalized_score"] = (mean_return - random) / (expert - random)
    return out
