"""The ``algo`` and ``train`` sections shared by every SB3-based kind (rl, vime, gail)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from rlgen.config import RunSection
from rlgen.envs.config import EnvConfig


@dataclass(frozen=True)
class AlgoConfig:
    """Which Stable-Baselines3 algorithm to run, and its constructor arguments."""

    name: Literal["ppo", "a2c", "trpo", "sac", "td3", "ddpg", "dqn", "tqc"]
    """Algorithm: ppo, a2c, sac, td3, ddpg, dqn (SB3) or trpo, tqc (sb3-contrib)."""
    policy: str = "MlpPolicy"
    """Policy alias: MlpPolicy, CnnPolicy (image observations) or MultiInputPolicy (dict observations)."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Constructor keyword arguments of the algorithm, e.g. ``n_steps``, ``learning_rate`` (a number or
    ``lin_3e-4`` for a linear decay to 0), ``policy_kwargs`` (``activation_fn: relu|tanh|elu|leaky_relu``,
    ``net_arch``, ``log_std_init``...). Checked against the algorithm's signature."""


@dataclass(frozen=True)
class TrainConfig:
    """How long to train and how often to evaluate and checkpoint."""

    total_timesteps: int
    """Environment steps to train for (summed over the env copies)."""
    eval_freq: int = 10_000
    """Evaluate every this many environment steps on a separate env (0 disables periodic evaluation)."""
    eval_episodes: int = 5
    """Episodes per periodic evaluation."""
    eval_deterministic: bool = True
    """Use the policy's mean/greedy action when evaluating."""
    checkpoint_freq: int = 10_000
    """Write a resumable checkpoint every this many environment steps (and on SIGINT/SIGTERM)."""
    keep_checkpoints: int = 2
    """How many periodic checkpoints to keep (the best one is always kept)."""
    log_interval: int = 1
    """Write metrics every this many iterations (on-policy) or episodes (off-policy)."""
    device: str = "auto"
    """Torch device: auto, cpu or cuda."""
    progress_bar: bool = True
    """Show a progress bar (only when the output is a terminal)."""
    torch_threads: int = 0
    """CPU threads for torch; 0 = auto: 1 for MLP policies (small networks train fastest single-threaded,
    2.6x faster than 2 threads on GAIL-PPO Pendulum here), torch's default for CNN policies."""

    def __post_init__(self) -> None:
        if self.total_timesteps <= 0:
            raise ValueError(f"'total_timesteps' must be > 0, got {self.total_timesteps}")
        for name in ("eval_freq", "checkpoint_freq"):
            if getattr(self, name) < 0:
                raise ValueError(f"'{name}' must be >= 0 (0 disables it), got {getattr(self, name)}")
        if self.eval_episodes < 1:
            raise ValueError(f"'eval_episodes' must be >= 1, got {self.eval_episodes}")
        if self.keep_checkpoints < 1:
            raise ValueError(f"'keep_checkpoints' must be >= 1, got {self.keep_checkpoints}")
        if self.torch_threads < 0:
            raise ValueError(f"'torch_threads' must be >= 0 (0 = auto), got {self.torch_threads}")
        if self.log_interval < 1:
            raise ValueError(f"'log_interval' must be >= 1, got {self.log_interval}")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"'device' must be auto, cpu or cuda[:N], got {self.device!r}")


@dataclass(frozen=True, kw_only=True)
class SB3RunConfig:
    """The sections every SB3-based kind shares; a kind subclasses it, fixes ``kind`` and adds its own."""

    kind: str
    """Experiment type."""
    run: RunSection = field(default_factory=RunSection)
    """Run name and output folder."""
    env: EnvConfig
    """The environment, its wrappers and normalisation."""
    algo: AlgoConfig
    """The SB3 algorithm and its hyperparameters."""
    train: TrainConfig
    """Budget, evaluation and checkpoint schedule."""

    def check_runtime(self) -> None:
        """Checks that need the env registry or SB3 (run before a run directory is created)."""
        from rlgen.envs.make import check_env_id
        from rlgen.sb3.algos import check_algo

        check_env_id(self.env.id)
        check_algo(self.algo)
