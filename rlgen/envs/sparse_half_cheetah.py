"""SparseHalfCheetah: HalfCheetah that is paid only once its torso is more than 5 m forward.

VIME (Houthooft et al. 2016, Section 3) and its code (openai/vime ``envs/half_cheetah_env_x.py``):

- reward 1.0 on every step with torso x > 5.0, else 0.0 (no control cost, no velocity reward);
- never terminates; time limit 500 steps (the original's max path length);
- ``info["is_success"]`` is True on steps with torso x > 5.

Differences from the original: Gymnasium's HalfCheetah-v5 physics instead of rllab's, and the
observation is v5's with the torso x position kept (``exclude_current_positions_from_observation=False``,
18 values) so the reward is a function of the observation; the original appended the torso's centre of
mass instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv


class SparseHalfCheetahEnv(HalfCheetahEnv):
    def __init__(self, goal_x: float = 5.0, **kwargs: Any):
        kwargs.setdefault("exclude_current_positions_from_observation", False)
        super().__init__(**kwargs)
        self.goal_x = goal_x

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, _, terminated, truncated, info = super().step(action)
        success = bool(self.data.qpos[0] > self.goal_x)
        return obs, float(success), terminated, truncated, dict(info, is_success=success)
