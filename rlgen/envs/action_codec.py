"""Actions as vectors for models that output or read them (the world model's controller and MDN-RNN).

- ``to_env(u)``: a controller output u in [-1, 1]^dim becomes an env action. Box: rescaled onto [low, high]
  per dimension (for CarRacing: steering u_0, gas (u_1 + 1) / 2, brake (u_2 + 1) / 2; the World Models code
  clips brake at 0 instead, which keeps the car from braking half the time at u = 0). Discrete: argmax.
- ``features(actions)``: env actions as float32 (N, dim) inputs (Box: as they are; Discrete: one-hot).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlgen.errors import RlgenError


class ActionCodec:
    def __init__(self, space: gym.Space):
        if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
            self.dim = int(space.shape[0])
            finite = np.isfinite(space.low) & np.isfinite(space.high)
            self.low = np.where(finite, space.low, -1.0).astype(np.float64)
            self.high = np.where(finite, space.high, 1.0).astype(np.float64)
        elif isinstance(space, gym.spaces.Discrete):
            self.dim = int(space.n)
        else:
            raise RlgenError(f"the world model needs a 1-D Box or a Discrete action space, not {space}")
        self.space = space

    def to_env(self, u: np.ndarray):  # noqa: ANN201 - np.ndarray or int
        if isinstance(self.space, gym.spaces.Discrete):
            return int(np.argmax(u))
        return (self.low + (np.asarray(u, np.float64) + 1.0) / 2.0 * (self.high - self.low)).astype(self.space.dtype)

    def features(self, actions: np.ndarray) -> np.ndarray:
        if isinstance(self.space, gym.spaces.Discrete):
            return np.eye(self.dim, dtype=np.float32)[np.asarray(actions, np.int64).reshape(-1)]
        return np.asarray(actions, np.float32).reshape(-1, self.dim)
