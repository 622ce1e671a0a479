"""The callback that makes an SB3 ``learn`` call safe to stop: signals, NaN guard, checkpoints, evals."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from rlgen.stop import StopRequest


class TrainingGuard(BaseCallback):
    """Stops on a signal or a non-finite reward/loss; triggers periodic checkpoints and evaluations.

    Args:
        stop: the signal flag.
        checkpoint_every: environment steps between checkpoints (0: never).
        on_checkpoint: called with the current step to write a checkpoint.
        eval_every: environment steps between evaluations (0: never).
        on_eval: called with the current step to evaluate.
    """

    def __init__(
        self,
        *,
        stop: StopRequest,
        checkpoint_every: int,
        on_checkpoint: Callable[[int], None],
        eval_every: int,
        on_eval: Callable[[int], None],
    ):
        super().__init__()
        self.stop = stop
        self.checkpoint_every, self.on_checkpoint = checkpoint_every, on_checkpoint
        self.eval_every, self.on_eval = eval_every, on_eval
        self.diverged: tuple[str, float, int] | None = None
        self._next_checkpoint = self._next_eval = math.inf

    def _on_training_start(self) -> None:
        self._next_checkpoint = _next_multiple(self.num_timesteps, self.checkpoint_every)
        self._next_eval = _next_multiple(self.num_timesteps, self.eval_every)

    def _on_rollout_start(self) -> None:
        self._check_metrics()

    def _on_rollout_end(self) -> None:
        self._check_metrics()

    def _on_step(self) -> bool:
        if self.stop.signum is not None or self.diverged is not None:
            return False
        rewards = self.locals.get("rewards")
        if rewards is not None and not np.isfinite(rewards).all():
            bad = float(np.asarray(rewards)[~np.isfinite(rewards)][0])
            self.diverged = ("env reward", bad, self.num_timesteps)
            return False
        if self.num_timesteps >= self._next_eval:
            self.on_eval(self.num_timesteps)
            self._next_eval = _next_multiple(self.num_timesteps, self.eval_every)
        if self.num_timesteps >= self._next_checkpoint:
            self.on_checkpoint(self.num_timesteps)
            self._next_checkpoint = _next_multiple(self.num_timesteps, self.checkpoint_every)
        return self.diverged is None

    def _check_metrics(self) -> None:
        for key, value in self.logger.name_to_value.items():
            if isinstance(value, float | int | np.floating) and not math.isfinite(value):
                self.diverged = (key, float(value), self.model.num_timesteps)
                return


def _next_multiple(step: int, every: int) -> float:
    return math.inf if every <= 0 else (step // every + 1) * every
