"""Change an on-policy rollout's rewards after it is collected, then recompute returns and advantages.

VIME adds a curiosity bonus, GAIL replaces the env's reward by the discriminator's: both plug into any
SB3 on-policy algorithm (PPO, A2C, TRPO) through this callback instead of forking the algorithm. SB3 has
already added gamma * V(s_T) to the rewards of time-limit truncations; changes are applied as a delta on
top of the buffer's rewards so that bootstrap term is kept.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from rlgen.sb3.transition_recorder import RolloutBatch, TransitionRecorder

# (rollout) -> (reward delta of shape (steps, n_envs), metrics to log)
RewardDelta = Callable[[RolloutBatch], tuple[np.ndarray, dict[str, float]]]


class RolloutRewardCallback(BaseCallback):
    """At each rollout end: ``delta = compute(rollout)``; rewards += delta; returns/advantages recomputed.

    Args:
        recorder: the vec-env wrapper that recorded the rollout's transitions.
        compute: the agent's reward change (it may also train its own model on the rollout).
        prefix: logger namespace for the metrics ``compute`` returns.
    """

    def __init__(self, recorder: TransitionRecorder, compute: RewardDelta, prefix: str):
        super().__init__()
        self.recorder, self.compute, self.prefix = recorder, compute, prefix

    def _on_rollout_start(self) -> None:
        self.recorder.clear()

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        batch = self.recorder.take()
        buffer = self.model.rollout_buffer
        if batch.shape[0] != buffer.buffer_size:  # a partial rollout: training is stopping
            return
        delta, metrics = self.compute(batch)
        buffer.rewards += delta.astype(buffer.rewards.dtype)
        buffer.compute_returns_and_advantage(last_values=self.locals["values"], dones=self.locals["dones"])
        for key, value in metrics.items():
            self.logger.record(f"{self.prefix}/{key}", value)
