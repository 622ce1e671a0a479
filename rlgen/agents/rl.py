"""``kind: rl`` — plain SB3 algorithms on any registered Gymnasium env (the baseline for every agent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rlgen.evaluation import EvalOptions, EvalResult
from rlgen.runs import RunDir
from rlgen.sb3.config import SB3RunConfig

SEED_KEY = "env.seed"


@dataclass(frozen=True, kw_only=True)
class Config(SB3RunConfig):
    """A plain reinforcement-learning run: one SB3 algorithm on one environment."""

    kind: Literal["rl"] = "rl"
    """Experiment type."""


def validate(config: Config) -> None:
    config.check_runtime()


def train(config: Config, run: RunDir) -> None:
    from rlgen.sb3.trainer import SB3Trainer

    SB3Trainer(run=run, env=config.env, algo=config.algo, train=config.train).train()


def evaluate(config: Config, run: RunDir, options: EvalOptions) -> EvalResult:
    from rlgen.sb3.evaluate import evaluate_run

    return evaluate_run(config, run, options)
