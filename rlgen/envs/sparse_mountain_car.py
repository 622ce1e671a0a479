"""SparseMountainCar: continuous-action Mountain Car whose only reward is reaching the goal.

VIME (Houthooft et al. 2016, Section 3 and Appendix) uses a Mountain Car "with a reward of 1 when
the car escapes the valley on the right side, 0 otherwise". This version keeps Gymnasium's
``MountainCarContinuous-v0`` physics (the original ran on rllab's physics) and changes the reward:

- reward 1.0 on the step where position >= goal_position (0.45, with velocity >= goal_velocity = 0),
  0.0 on every other step (no action cost);
- the episode terminates at the goal; the registered time limit is 500 steps;
- ``info["is_success"]`` is True exactly on the goal step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.envs.classic_control.continuous_mountain_car import Continuous_MountainCarEnv


class SparseMountainCarEnv(Continuous_MountainCarEnv):
    """Gymnasium's continuous Mountain Car with the sparse goal reward of VIME's task."""

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, _, terminated, truncated, info = super().step(action)
        info = dict(info, is_success=bool(terminated))
        return obs, float(terminated), terminated, truncated, info
