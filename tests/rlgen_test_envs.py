"""Tiny environments and wrappers for tests (imported by dotted path from configs)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class NanRewardAfter(gym.Wrapper):
    """Returns a NaN reward from environment step ``after`` on (to test the divergence guard)."""

    def __init__(self, env: gym.Env, after: int = 100):
        super().__init__(env)
        self.after, self.count = after, 0

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.count += 1
        return obs, (float("nan") if self.count >= self.after else reward), terminated, truncated, info


class TinyImageEnv(gym.Env):
    """36x36x3 uint8 observations (the smallest NatureCNN accepts), 2 discrete actions, 10-step episodes."""

    observation_space = gym.spaces.Box(0, 255, (36, 36, 3), np.uint8)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action: int):
        self.t += 1
        return self.observation_space.sample(), float(action), False, self.t >= 10, {"is_success": action == 1}
