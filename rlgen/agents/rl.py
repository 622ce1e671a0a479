"""``kind: rl`` — plain SB3 algorithms on any registered Gymnasium env (the baseline for every agent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rlgen.config import RunSection
from rlgen.envs.config import EnvConfig
from rlgen.evaluation import EvalOptions, EvalResult
from rlgen.runs import RunDir
from rlgen.sb3.config import AlgoConfig, TrainConfig

SEED_KEY = "env.seed"


@dataclass(frozen=True, kw_only=True)
class Config:
    """A plain reinforcement-learning run: one SB3 algorithm on one environment."""

    kind: Literal["rl"] = "rl"
    """Experiment type."""
    run: RunSection = field(default_factory=RunSection)
    """Run name and output folder."""
    env: EnvConfig
    """The environment, its wrappers and normalisation."""
    algo: AlgoConfig
    """The SB3 algorithm and its hyperparameters."""
    train: TrainConfig
    """Budget, evaluation and checkpoint schedule."""


def validate(config: Config) -> None:
    """Checks that need the env registry or SB3, run before a run directory is created."""
    from rlgen.envs.make import check_env_id
    from rlgen.sb3.trainer import check_algo

    check_env_id(config.env.id)
    check_algo(config.algo)


def train(config: Config, run: RunDir) -> None:
    from rlgen.sb3.trainer import SB3Trainer

    SB3Trainer(run=run, env=config.env, algo=config.algo, train=config.train).train()


def evaluate(config: Config, run: RunDir, options: EvalOptions) -> EvalResult:
    from rlgen.sb3.evaluate import evaluate_zip, run_policy_files

    policy, stats = run_policy_files(run, options.checkpoint)
    return evaluate_zip(policy, config.env, options, stats_path=stats)
